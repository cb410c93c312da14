import { randomBytes } from 'node:crypto';
import type { TokenCounts } from '../metrics/index.js';
import type { SlotBatch, Store } from '../store/index.js';
import { USAGE_TTL } from '../store/index.js';
import type { Logger } from '../util/log.js';

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

/** The counters of one rollup hash, in this order (latency buckets `lat:0` … follow). */
export const HISTORY_FIELDS = [
  'requests',
  'errors',
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheCreate5mTokens',
  'cacheCreate1hTokens',
  'costPico',
  'durationMsSum',
] as const;

export interface HistorySample {
  atMs: number;
  error: boolean;
  durationMs: number;
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
  const batchPrefix = randomBytes(6).toString('hex');
  let seq = 0;
  let minutes = new Map<number, Rollup>();
  let peak = new Map<number, number>();

  const sampleInFlight = () => {
    const minute = Math.floor(now() / MINUTE) * MINUTE;
    peak.set(minute, Math.max(peak.get(minute) ?? 0, deps.inFlight()));
  };
  const inFlightTimer = setInterval(sampleInFlight, 1_000);
  inFlightTimer.unref();

  const batchFor = (marker: string, keys: string[], ttl: number, r: Rollup | undefined, touch?: [string, string]) => {
    const incr = new Map(r?.fields ?? []);
    // Makes the node hash exist even in a quiet minute, so its in-flight peak can be written.
    if (touch) incr.set('samples', (incr.get('samples') ?? 0) + 1);
    const batch: SlotBatch = {
      marker,
      counters: keys.map((key, i) => ({ key, ttl, incr: i === 0 ? new Map(r?.fields ?? []) : incr })),
      sets: [],
      lists: [],
      touches: touch ? [{ key: keys[1] as string, field: touch[0], value: touch[1] }] : [],
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
      const id = `${batchPrefix}${(seq++).toString(36)}`;
      const inFlight: [string, string] = [`inFlight:${deps.worker}`, String(peaks.get(minute) ?? 0)];
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
      const id = `${batchPrefix}${(seq++).toString(36)}`;
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
