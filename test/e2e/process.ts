import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/**
 * The real relay as a child process (`node --import tsx src/main.ts`), for tests of what only a
 * process shows: cluster workers, signals, exit codes, the embedded Redis, what is printed.
 */

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RelayProcess {
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Everything printed so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Settles when the primary has exited. */
  readonly exited: Promise<ExitResult>;
  readonly exitResult: ExitResult | undefined;
  /** Resolves the exit, or throws (with the output) if the primary is still running after `timeoutMs`. */
  waitExit(timeoutMs?: number): Promise<ExitResult>;
  /** Sends `signal` to the primary only and resolves its exit (SIGKILLs the group after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitResult>;
  /** Last resort: SIGKILL the whole process group (primary and workers). Never throws. */
  killGroup(): void;
}

/** A TCP port nobody listens on right now (the relay binds it moments later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs}ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a connection of its own (no agent, `connection: close`), so SO_REUSEPORT spreads them. */
export function freshRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: opts.method ?? 'GET', agent: false, headers: { connection: 'close', ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 5_000, () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Whether a TCP connection to 127.0.0.1:port is accepted, refused, or neither within the timeout. */
export function probeConnect(port: number, timeoutMs = 1_000): Promise<'accepted' | 'refused' | 'timeout'> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const done = (r: 'accepted' | 'refused' | 'timeout') => {
      sock.destroy();
      resolve(r);
    };
    sock.setTimeout(timeoutMs, () => done('timeout'));
    sock.once('connect', () => done('accepted'));
    sock.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'timeout'));
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The environment a relay child gets: only what it needs from ours, plus `env`. */
function childEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const v = process.env[name];
    if (v !== undefined) base[name] = v;
  }
  return { ...base, ...env };
}

/**
 * Spawns the relay in a process group of its own. With `waitHealthy` (default), resolves once
 * `GET /health` answers 200 on `env.PORT`; throws with the output if it exits or times out first.
 */
export async function spawnRelay(
  env: Record<string, string>,
  opts: { waitHealthy?: boolean; startTimeoutMs?: number } = {},
): Promise<RelayProcess> {
  // PORT=0: the primary picks the port and says which in its start banner.
  let port = Number(env.PORT);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn the relay');
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let exitResult: ExitResult | undefined;
  // 'close' (not 'exit'): all output has been read by then.
  const exited = new Promise<ExitResult>((resolve) => {
    child.once('close', (code, signal) => {
      exitResult = { code, signal };
      resolve(exitResult);
    });
  });

  const killGroup = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };

  const proc: RelayProcess = {
    pid,
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    get exitResult() {
      return exitResult;
    },
    async waitExit(timeoutMs = 20_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`relay ${pid} still running after ${timeoutMs}ms\n--- stderr ---\n${stderr}`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      if (exitResult) return exitResult;
      process.kill(pid, signal);
      const timer = setTimeout(killGroup, timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    killGroup,
  };

  if (opts.waitHealthy ?? true) {
    try {
      await pollUntil(
        `GET /health on port ${port}`,
        async () => {
          if (exitResult) throw new Error(`relay exited early with ${JSON.stringify(exitResult)}`);
          if (port === 0) port = Number(/Relay ready on [^(]*?(?::|port )(\d+) \(/.exec(stdout)?.[1] ?? 0);
          if (port === 0) return undefined;
          const res = await freshRequest(`${proc.url}/health`, { timeoutMs: 1_000 }).catch(() => undefined);
          return res?.status === 200 ? true : undefined;
        },
        opts.startTimeoutMs ?? 30_000,
        100,
      );
    } catch (err) {
      killGroup();
      await exited;
      throw new Error(`${(err as Error).message}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`, {
        cause: err,
      });
    }
  }
  return proc;
}

export interface HealthBody {
  status: string;
  redis: { status: string; mode: string };
  workers: { configured: number; worker: number; pid: number };
  inFlight: number;
}

/** `GET /health` on a fresh connection. */
export async function health(url: string): Promise<{ status: number; body: HealthBody }> {
  const res = await freshRequest(`${url}/health`);
  return { status: res.status, body: JSON.parse(res.body) as HealthBody };
}

/**
 * The relays and data directories one test file starts, all gone after `cleanup()`: the relays'
 * process groups, and the embedded redis-servers, which have a process group of their own.
 */
export function relayScope(dirPrefix: string) {
  const running: RelayProcess[] = [];
  const dirs: string[] = [];
  return {
    async start(env: Record<string, string>, opts?: { waitHealthy?: boolean }): Promise<RelayProcess> {
      const proc = await spawnRelay(env, opts);
      running.push(proc);
      return proc;
    },
    tempDir(): string {
      const dir = mkdtempSync(path.join(os.tmpdir(), dirPrefix));
      dirs.push(dir);
      return dir;
    },
    cleanup(): void {
      for (const proc of running) proc.killGroup();
      for (const dir of dirs) {
        try {
          const pid = Number(readFileSync(path.join(dir, 'redis', 'redis.pid'), 'utf8').trim());
          if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL');
        } catch {
          // no embedded Redis there
        }
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
