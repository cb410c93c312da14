import cluster, { type Worker } from 'node:cluster';
import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Registry,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';

/**
 * One scrape per node. The primary asks each worker for its registry over the cluster IPC channel
 * and sums the answers with its own families (workers, restarts, the machine). A worker that has
 * exited leaves its last counters and histograms behind in `retired`, so the node's counters never
 * go backwards while the primary runs (docs/OBSERVABILITY.md, "Counters across worker restarts").
 */

const GET = 'crs:metrics-get';
const SNAPSHOT = 'crs:metrics';
const SCRAPE = 'crs:metrics-scrape';
const TEXT = 'crs:metrics-text';

type Snapshot = MetricObjectWithValues<MetricValue<string>>[];
interface SnapshotMessage {
  id: number;
  metrics: Snapshot;
}

export interface NodeMetrics {
  readonly contentType: string;
  /** The node's scrape: every live worker, the retired ones, and the primary. */
  scrape(): Promise<string>;
  workerRestarted(): void;
  /** The worker is gone: what it counted stays in the sum. */
  workerExited(workerId: number): void;
  heartbeat(atMs: number): void;
  /** What the alert engine reads of this node's workers (written into the heartbeat). */
  vitals(): Promise<WorkerVitals>;
}

export interface WorkerVitals {
  /** The slowest worker's p99 event-loop lag. */
  eventLoopLagP99Ms: number;
  /** Requests in flight for more than 300 s without a first byte, over all workers. */
  hanging: number;
  /** Usage writes that failed, since the primary started (exited workers' counts kept). */
  usageWriteFailures: number;
}

const valuesOf = (snapshot: Snapshot, name: string) => snapshot.find((m) => m.name === name)?.values ?? [];
const total = (snapshot: Snapshot, name: string) => valuesOf(snapshot, name).reduce((a, v) => a + Number(v.value), 0);

export function createNodeMetrics(opts: {
  node: string;
  version: string;
  dataDir: string;
  configuredWorkers: number;
  workers(): readonly Worker[];
  /** How long a scrape waits for a worker before using its last answer. */
  timeoutMs?: number;
}): NodeMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const timeoutMs = opts.timeoutMs ?? 2_000;
  const latest = new Map<number, Snapshot>();
  let retired: Snapshot = [];
  let retiring = Promise.resolve();
  let nextRequest = 0;
  const waiting = new Map<number, { workers: Set<number>; done: () => void }>();

  new Gauge({
    name: 'relay_build_info',
    help: 'The running version (always 1).',
    labelNames: ['version', 'node', 'nodejs'],
    registers,
    collect() {
      this.set({ version: opts.version, node: opts.node, nodejs: process.version }, 1);
    },
  });
  new Gauge({
    name: 'relay_workers',
    help: 'Workers configured, and alive now.',
    labelNames: ['state'],
    registers,
    collect() {
      this.set({ state: 'configured' }, opts.configuredWorkers);
      this.set({ state: 'alive' }, opts.workers().filter((w) => !w.isDead()).length);
    },
  });
  const restarts = new Counter({
    name: 'relay_worker_restarts_total',
    help: 'Workers restarted after they exited unasked.',
    registers,
  });
  new Counter({
    name: 'relay_node_cpu_seconds_total',
    help: "The machine's CPU time over all cores, by mode.",
    labelNames: ['mode'],
    registers,
    collect() {
      const t = { user: 0, system: 0, idle: 0, other: 0 };
      for (const cpu of os.cpus()) {
        t.user += cpu.times.user;
        t.system += cpu.times.sys;
        t.idle += cpu.times.idle;
        t.other += cpu.times.nice + cpu.times.irq;
      }
      this.reset();
      for (const [mode, ms] of Object.entries(t)) this.inc({ mode }, ms / 1000);
    },
  });
  new Gauge({
    name: 'relay_node_memory_bytes',
    help: "The machine's memory: total, and available to new processes.",
    labelNames: ['kind'],
    registers,
    collect() {
      this.set({ kind: 'total' }, os.totalmem());
      this.set({ kind: 'available' }, availableMemory());
    },
  });
  new Gauge({
    name: 'relay_node_load1',
    help: "The machine's load average over one minute.",
    registers,
    collect() {
      this.set(os.loadavg()[0] ?? 0);
    },
  });
  const diskFree = new Gauge({
    name: 'relay_data_dir_free_bytes',
    help: 'Free bytes on the file system under DATA_DIR.',
    registers,
  });
  new Gauge({
    name: 'relay_data_dir_size_bytes',
    help: 'Size of the file system under DATA_DIR.',
    registers,
    collect() {
      try {
        const s = statfsSync(opts.dataDir);
        this.set(s.blocks * s.bsize);
        diskFree.set(s.bavail * s.bsize);
      } catch {
        // DATA_DIR not created yet (no embedded Redis): nothing to report
      }
    },
  });
  const heartbeat = new Gauge({
    name: 'relay_heartbeat_timestamp_seconds',
    help: "When this node's primary last wrote its heartbeat to Redis.",
    registers,
  });

  cluster.on('message', (worker: Worker, msg: unknown) => {
    if (isMessage<SnapshotMessage>(msg, SNAPSHOT)) {
      latest.set(worker.id, msg.metrics);
      const request = waiting.get(msg.id);
      if (request?.workers.delete(worker.id) && request.workers.size === 0) request.done();
    } else if (isMessage<{ id: number }>(msg, SCRAPE)) {
      // A worker serving GET /metrics on the main port (METRICS_TOKEN) asks for the node's scrape.
      void scrape().then(
        (text) => reply(worker, { type: TEXT, id: msg.id, text }),
        () => reply(worker, { type: TEXT, id: msg.id, text: null }),
      );
    }
  });

  /** Asks every connected worker for its numbers; resolves when all answered or the time is up. */
  const ask = (workers: readonly Worker[]) =>
    new Promise<void>((resolve) => {
      const id = nextRequest++;
      const pending = new Set<number>();
      for (const w of workers) {
        if (!w.isConnected()) continue;
        pending.add(w.id);
        // A worker gone meanwhile does not answer: its last snapshot stands in.
        reply(w, { type: GET, id }, () => {
          if (pending.delete(w.id) && pending.size === 0) waiting.get(id)?.done();
        });
      }
      if (pending.size === 0) return resolve();
      const finish = () => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      waiting.set(id, { workers: pending, done: finish });
    });

  const scrape = async () => {
    const workers = opts.workers();
    await ask(workers);
    await retiring;
    const live = workers.flatMap((w) => {
      const snapshot = latest.get(w.id);
      return snapshot ? [snapshot] : [];
    });
    return AggregatorRegistry.aggregate([await registry.getMetricsAsJSON(), retired, ...live]).metrics();
  };

  const vitals = async (): Promise<WorkerVitals> => {
    const workers = opts.workers();
    await ask(workers);
    const live = workers.map((w) => latest.get(w.id)).filter((x): x is Snapshot => x !== undefined);
    let lag = 0;
    for (const snapshot of live)
      lag = Math.max(lag, ...valuesOf(snapshot, 'nodejs_eventloop_lag_p99_seconds').map((v) => Number(v.value)));
    return {
      eventLoopLagP99Ms: lag * 1000,
      hanging: live.reduce((a, snapshot) => a + total(snapshot, 'relay_requests_hanging'), 0),
      usageWriteFailures: [retired, ...live].reduce(
        (a, snapshot) => a + total(snapshot, 'relay_usage_write_failures_total'),
        0,
      ),
    };
  };

  return {
    contentType: registry.contentType,
    scrape,
    vitals,
    workerRestarted: () => restarts.inc(),
    workerExited(workerId) {
      const last = latest.get(workerId);
      latest.delete(workerId);
      if (!last) return;
      // Gauges describe the present: only what a worker counted outlives it.
      const kept = last.filter((m) => ['counter', 'histogram'].includes(String(m.type)));
      retiring = retiring.then(async () => {
        retired = await AggregatorRegistry.aggregate([retired, kept]).getMetricsAsJSON();
      });
    },
    heartbeat: (atMs) => heartbeat.set(atMs / 1000),
  };
}

/**
 * In a worker: answers the primary's requests for this registry's numbers, and sends them one last
 * time before a clean exit (`sendFinal`), so a drained worker's last requests are counted.
 */
export function serveWorkerMetrics(registry: Registry): { sendFinal(): Promise<void> } {
  const send = async (id: number) => {
    const metrics = await registry.getMetricsAsJSON();
    await new Promise<void>((resolve) => {
      if (!process.send) return resolve();
      process.send({ type: SNAPSHOT, id, metrics }, undefined, {}, () => resolve());
    });
  };
  process.on('message', (msg: unknown) => {
    if (isMessage<{ id: number }>(msg, GET)) void send(msg.id).catch(() => {});
  });
  return { sendFinal: () => send(-1).catch(() => {}) };
}

/** In a worker: the node's whole scrape, from the primary (for GET /metrics on the main port). */
export function nodeScrapeFromPrimary(timeoutMs = 5_000): () => Promise<string | null> {
  let next = 0;
  const waiting = new Map<number, (text: string | null) => void>();
  process.on('message', (msg: unknown) => {
    if (!isMessage<{ id: number; text: string | null }>(msg, TEXT)) return;
    waiting.get(msg.id)?.(msg.text);
    waiting.delete(msg.id);
  });
  return () =>
    new Promise((resolve) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve(null);
      }, timeoutMs);
      waiting.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      process.send?.({ type: SCRAPE, id }, undefined, {}, () => {});
    });
}

/** Sends to a worker; a closed channel (the worker just exited) is not an error here. */
function reply(worker: Worker, msg: object, failed: () => void = () => {}): void {
  if (!worker.isConnected()) return failed();
  try {
    worker.send(msg, undefined, (err) => {
      if (err) failed();
    });
  } catch {
    failed();
  }
}

function isMessage<T>(msg: unknown, type: string): msg is T & { type: string } {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === type;
}

function availableMemory(): number {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (match?.[1]) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return os.freemem();
}
