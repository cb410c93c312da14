import type { TokenCounts } from '../metrics/index.js';
import type { SlotBatch, Store } from '../store/index.js';
import { USAGE_TTL } from '../store/index.js';
import type { Logger } from '../util/log.js';
import { batchIds } from './recorder.js';

/**
 * The deployment's recent history in Redis, for the admin API and the web panel without
 * Prometheus: per minute (48 h) and per hour (90 d), deployment-wide and per node. Each worker
 * folds its requests in memory and writes them every few seconds, so no request waits on it; a
 * write is one Lua call per slot (the minute's deployment and node hashes share a hash tag) and
 * goes in exactly once even when retried, like the usage batches.
 */

/** Request latency buckets of the rollup, in ms (p50/p95 are read from them). */
export const LATENCY_BUCKETS_MS = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000];

const MINUTE = 60_000;
const HOUR = 3_600_000;

export interface HistorySample {
  atMs: number;
  error: boolean;
  durationMs: number;
  /** The upstream's time to first byte, when it answered (the alert engine's p95 reads it). */
  ttfbMs?: number | null;
  tokens: TokenCounts | undefined;
  costPico: number;
}

export interface MinuteHistory {
  add(s: HistorySample): void;
  /** Writes what is folded so far (and the in-flight peak). */
  flush(): Promise<void>;
  /** Stops the timer and writes the rest. */
  stop(): Promise<void>;
}

class Rollup {
  readonly fields = new Map<string, number>();
  add(field: string, by: number) {
    if (by !== 0) this.fields.set(field, (this.fields.get(field) ?? 0) + by);
  }
  fold(s: HistorySample) {
    this.add('requests', 1);
    if (s.error) this.add('errors', 1);
    const t = s.tokens;
    if (t) {
      this.add('inputTokens', t.input);
      this.add('outputTokens', t.output);
      this.add('cacheReadTokens', t.cacheRead);
      this.add('cacheCreate5mTokens', t.cacheWrite5m);
      this.add('cacheCreate1hTokens', t.cacheWrite1h);
    }
    this.add('costPico', s.costPico);
    this.add('durationMsSum', Math.round(s.durationMs));
    this.add(`lat:${latencyBucket(s.durationMs)}`, 1);
    if (s.ttfbMs !== undefined && s.ttfbMs !== null) this.add(`ttfb:${latencyBucket(s.ttfbMs)}`, 1);
  }
}

export function latencyBucket(ms: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((le) => ms <= le);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

export function createMinuteHistory(deps: {
  store: Store;
  node: string;
  /** Distinguishes this process's in-flight peak from the node's other workers'. */
  worker: string;
  log: Logger;
  inFlight(): number;
  now?: () => number;
  flushEveryMs?: number;
}): MinuteHistory {
  const { store, node } = deps;
  const k = store.keys;
  const now = deps.now ?? Date.now;
  const nextBatchId = batchIds();
  let minutes = new Map<number, Rollup>();
  let peak = new Map<number, number>();

  const sampleInFlight = () => {
    const minute = Math.floor(now() / MINUTE) * MINUTE;
    peak.set(minute, Math.max(peak.get(minute) ?? 0, deps.inFlight()));
  };
  const inFlightTimer = setInterval(sampleInFlight, 1_000);
  inFlightTimer.unref();

  /** One slot's write: the deployment's hash and the node's, with this worker's in-flight peak in both. */
  const batchFor = (
    marker: string,
    keys: string[],
    ttl: number,
    r: Rollup | undefined,
    inFlight?: [string, string],
  ) => {
    const incr = new Map(r?.fields ?? []);
    // Makes the hashes exist even in a quiet minute, so the in-flight peak can be written.
    if (inFlight) incr.set('samples', (incr.get('samples') ?? 0) + 1);
    const batch: SlotBatch = {
      marker,
      counters: keys.map((key) => ({ key, ttl, incr })),
      sets: [],
      lists: [],
      touches: inFlight ? keys.map((key) => ({ key, field: inFlight[0], value: inFlight[1] })) : [],
      bumps: [],
    };
    return batch;
  };

  const write = async (batch: SlotBatch) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await store.scripts.applyBatch(batch);
        return;
      } catch (err) {
        if (attempt === 0) deps.log.warn('metrics history write failed; retrying', { err });
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
    deps.log.warn('metrics history write dropped after retries (the usage books are not affected)');
  };

  const flush = async () => {
    sampleInFlight();
    const folded = minutes;
    const peaks = peak;
    minutes = new Map();
    peak = new Map();
    const hours = new Map<number, Rollup>();
    for (const [minute, r] of folded) {
      const hour = Math.floor(minute / HOUR) * HOUR;
      const h = hours.get(hour) ?? new Rollup();
      for (const [f, v] of r.fields) h.add(f, v);
      hours.set(hour, h);
    }
    const writes: Promise<void>[] = [];
    for (const minute of new Set([...folded.keys(), ...peaks.keys()])) {
      const id = nextBatchId();
      const inFlight: [string, string] = [`inFlight:${node}:${deps.worker}`, String(peaks.get(minute) ?? 0)];
      writes.push(
        write(
          batchFor(
            k.metricsMinuteApplied(minute, id),
            [k.metricsMinute(minute), k.metricsMinute(minute, node)],
            USAGE_TTL.metricsMinute,
            folded.get(minute),
            inFlight,
          ),
        ),
      );
    }
    for (const [hour, r] of hours) {
      const id = nextBatchId();
      writes.push(
        write(
          batchFor(
            k.metricsHourApplied(hour, id),
            [k.metricsHour(hour), k.metricsHour(hour, node)],
            USAGE_TTL.metricsHour,
            r,
          ),
        ),
      );
    }
    await Promise.all(writes);
  };

  const timer = setInterval(() => void flush(), deps.flushEveryMs ?? 5_000);
  timer.unref();

  return {
    add(s) {
      const minute = Math.floor(s.atMs / MINUTE) * MINUTE;
      let r = minutes.get(minute);
      if (!r) {
        r = new Rollup();
        minutes.set(minute, r);
      }
      r.fold(s);
    },
    flush,
    async stop() {
      clearInterval(timer);
      clearInterval(inFlightTimer);
      await flush();
    },
  };
}

/** One point of GET /admin/system/metrics. */
export interface HistoryPoint {
  at: string;
  requests: number;
  errors: number;
  errorRate: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreateTokens: number;
  /** Exact, as an integer string of picodollars, beside the decimal. */
  costPico: string;
  cost: number;
  avgMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  /** The highest number of requests in flight seen in the step (summed over the workers). */
  inFlight: number;
}

export const HISTORY_STEPS = { minute: MINUTE, hour: HOUR } as const;
export type HistoryStep = keyof typeof HISTORY_STEPS;
/** The most points one read returns (48 h of minutes, 90 days of hours). */
export const MAX_POINTS: Record<HistoryStep, number> = { minute: 48 * 60, hour: 90 * 24 };

/** The rollup between `from` and `to` (epoch ms, aligned down to the step), oldest first. */
export async function readHistory(
  store: Store,
  q: { from: number; to: number; step: HistoryStep; node?: string },
): Promise<HistoryPoint[]> {
  const size = HISTORY_STEPS[q.step];
  const first = Math.floor(q.from / size) * size;
  const last = Math.floor(q.to / size) * size;
  const starts: number[] = [];
  for (let t = first; t <= last && starts.length < MAX_POINTS[q.step]; t += size) starts.push(t);
  const keyOf = (t: number) =>
    q.step === 'minute' ? store.keys.metricsMinute(t, q.node) : store.keys.metricsHour(t, q.node);
  const hashes = await Promise.all(starts.map((t) => store.redis.hgetall(keyOf(t))));
  return starts.map((t, i) => pointOf(t, hashes[i] ?? {}));
}

function pointOf(at: number, h: Record<string, string>): HistoryPoint {
  const n = (f: string) => Number(h[f] ?? 0);
  const requests = n('requests');
  const buckets = LATENCY_BUCKETS_MS.map((_, i) => n(`lat:${i}`)).concat(n(`lat:${LATENCY_BUCKETS_MS.length}`));
  let inFlight = 0;
  for (const [f, v] of Object.entries(h)) if (f.startsWith('inFlight:')) inFlight += Number(v);
  const costPico = BigInt(h.costPico ?? '0');
  return {
    at: new Date(at).toISOString(),
    requests,
    errors: n('errors'),
    errorRate: requests > 0 ? n('errors') / requests : 0,
    inputTokens: n('inputTokens'),
    outputTokens: n('outputTokens'),
    cacheReadTokens: n('cacheReadTokens'),
    cacheCreateTokens: n('cacheCreate5mTokens') + n('cacheCreate1hTokens'),
    costPico: costPico.toString(),
    cost: Number(costPico) / 1e12,
    avgMs: requests > 0 ? Math.round(n('durationMsSum') / requests) : null,
    p50Ms: quantile(buckets, 0.5),
    p95Ms: quantile(buckets, 0.95),
    inFlight,
  };
}

/**
 * A quantile of the latency histogram, interpolated inside its bucket (as Prometheus's
 * histogram_quantile does); past the last bound, the last bound.
 */
export function quantile(counts: readonly number[], q: number): number | null {
  const all = counts.reduce((a, b) => a + b, 0);
  if (all === 0) return null;
  const rank = q * all;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (seen + c >= rank && c > 0) {
      const upper = LATENCY_BUCKETS_MS[i];
      if (upper === undefined) return LATENCY_BUCKETS_MS.at(-1) ?? null;
      const lower = i === 0 ? 0 : (LATENCY_BUCKETS_MS[i - 1] ?? 0);
      return Math.round(lower + ((upper - lower) * (rank - seen)) / c);
    }
    seen += c;
  }
  return null;
}

/** A node of the deployment, from its heartbeat record. */
export interface NodeView {
  node: string;
  status: 'up' | 'down';
  version: string;
  pid: number;
  host: string;
  port: number;
  startedAt: string | null;
  heartbeatAt: string | null;
  workers: { configured: number; alive: number; restarts: number };
  redisLatencyMs: number | null;
  lastError: { message: string; at: string } | null;
}

/** Every node that wrote a heartbeat in the last day; `down` once it is silent for `downAfterMs`. */
export async function listNodes(store: Store, now: number, downAfterMs: number): Promise<NodeView[]> {
  const ids = await store.redis.zrange(store.keys.nodeIndex(), 0, -1);
  const records = await Promise.all(ids.map((id) => store.redis.hgetall(store.keys.nodeStatus(id))));
  const iso = (ms: string | undefined) => (ms ? new Date(Number(ms)).toISOString() : null);
  return ids.map((node, i) => {
    const r = records[i] ?? {};
    const beat = Number(r.heartbeatAt ?? 0);
    return {
      node,
      status: beat > 0 && now - beat <= downAfterMs ? 'up' : 'down',
      version: r.version ?? '',
      pid: Number(r.pid ?? 0),
      host: r.host ?? '',
      port: Number(r.port ?? 0),
      startedAt: iso(r.startedAt),
      heartbeatAt: iso(r.heartbeatAt),
      workers: {
        configured: Number(r.workersConfigured ?? 0),
        alive: Number(r.workersAlive ?? 0),
        restarts: Number(r.restarts ?? 0),
      },
      redisLatencyMs: r.redisLatencyMs ? Number(r.redisLatencyMs) : null,
      lastError: r.lastError ? { message: r.lastError, at: iso(r.lastErrorAt) ?? '' } : null,
    };
  });
}
