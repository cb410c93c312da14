import { availableParallelism } from 'node:os';
import type { TransferListItem } from 'node:worker_threads';
import { Piscina } from 'piscina';

/**
 * A task run off the event loop: a module (its file URL) and the function it exports. The
 * function takes one structured-clonable input and returns (or resolves to) one output.
 */
export interface TaskRef<I, O> {
  readonly file: string;
  readonly name: string;
  /** Phantom types, never read: they tie a call's input and output to the task. */
  readonly types?: (input: I) => O;
}

const FROM_SOURCES = import.meta.url.endsWith('.ts');

/** Names a task: `task<In, Out>(new URL('./aggregate-task.js', import.meta.url), 'aggregate')`. */
export function task<I, O>(url: URL, name: string): TaskRef<I, O> {
  // Under the TypeScript sources the module beside the caller is its .ts file.
  return { file: FROM_SOURCES ? url.href.replace(/\.js$/, '.ts') : url.href, name };
}

export interface WorkPool {
  /** Runs the task on a pool thread; an aborted signal cancels it (queued or running). */
  run<I, O>(ref: TaskRef<I, O>, input: I, opts?: { signal?: AbortSignal; transfer?: TransferListItem[] }): Promise<O>;
  /** Threads the pool may start (it starts none until the first task). */
  readonly maxThreads: number;
  /** Threads running now, and tasks waiting for one. */
  stats(): { threads: number; queued: number; completed: number };
  close(): Promise<void>;
}

/** Default size: half the machine's cores, at least one (the other half serves requests). */
export const defaultThreads = (): number => Math.max(1, Math.floor(availableParallelism() / 2));

/**
 * The process's pool for CPU-heavy work (report aggregation, export serialisation, token counts of
 * large prompts). Lazy: no thread exists before the first task, and idle threads exit after
 * `idleMs`. Pool threads lower their own scheduling priority (see thread.ts), so a long export
 * yields the CPU to the threads that serve requests.
 *
 * Under the TypeScript sources (tests, tsx) the threads load the task modules through tsx.
 * `maxThreads: 0` runs every task on the calling thread instead: only to measure what the pool
 * saves (WORK_THREADS=0).
 */
export function createWorkPool(opts: { maxThreads?: number; idleMs?: number; maxQueue?: number } = {}): WorkPool {
  const maxThreads = opts.maxThreads ?? defaultThreads();
  if (maxThreads === 0) return inlinePool();
  let pool: Piscina | undefined;
  const get = () =>
    (pool ??= new Piscina({
      minThreads: 0,
      maxThreads,
      idleTimeout: opts.idleMs ?? 30_000,
      maxQueue: opts.maxQueue ?? 1_000,
      // One task at a time per thread: the tasks are CPU-bound, more would only interleave them.
      concurrentTasksPerWorker: 1,
      execArgv: FROM_SOURCES ? ['--import', 'tsx'] : [],
    }));
  return {
    maxThreads,
    run<I, O>(ref: TaskRef<I, O>, input: I, o: { signal?: AbortSignal; transfer?: TransferListItem[] } = {}) {
      return get().run(input, {
        filename: ref.file,
        name: ref.name,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.transfer ? { transferList: o.transfer } : {}),
      }) as Promise<O>;
    },
    stats() {
      if (!pool) return { threads: 0, queued: 0, completed: 0 };
      return { threads: pool.threads.length, queued: pool.queueSize, completed: pool.completed };
    },
    async close() {
      const p = pool;
      pool = undefined;
      await p?.close({ force: true });
    },
  };
}

/** Runs tasks on the calling thread (the event loop): the comparison case, never the default. */
function inlinePool(): WorkPool {
  let completed = 0;
  return {
    maxThreads: 0,
    async run<I, O>(ref: TaskRef<I, O>, input: I, o: { signal?: AbortSignal } = {}) {
      o.signal?.throwIfAborted();
      const mod = (await import(ref.file)) as Record<string, (input: I) => O | Promise<O>>;
      const fn = mod[ref.name];
      if (typeof fn !== 'function') throw new Error(`${ref.file} exports no function ${ref.name}`);
      const out = await fn(structuredClone(input));
      completed++;
      return out;
    },
    stats: () => ({ threads: 0, queued: 0, completed }),
    close: () => Promise.resolve(),
  };
}
