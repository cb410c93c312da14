import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { AccountId, ApiKeyId } from '../ids.js';
import type { SlotBatch, Store } from '../store/index.js';
import { USAGE_TTL } from '../store/index.js';
import type { RelayMetrics } from '../metrics/index.js';
import type { Logger } from '../util/log.js';
import { modelFamily } from '../util/models.js';
import { bucketer } from './buckets.js';
import type { PriceSource, TokenUsage } from './pricing.js';

/** One upstream call's booking: who, which account, what model, what it consumed and cost. */
export interface UsageEvent {
  requestId: string;
  keyId: ApiKeyId;
  accountId: AccountId;
  platform: string;
  /** Model as the upstream reported it (or as requested when it said nothing). */
  model: string;
  endpoint: string;
  stream: boolean;
  status: number;
  /**
   * ok: finished; cut: the upstream's stream broke; timeout: the upstream went silent (or never
   * answered); client_abort: the client left; shutdown: the relay stopped before the answer did
   * (DRAIN_TIMEOUT); error: an upstream error status.
   */
  outcome: 'ok' | 'cut' | 'timeout' | 'client_abort' | 'shutdown' | 'error';
  usage: TokenUsage;
  costPico: number;
  pricedAs: string;
  priceSource: PriceSource;
  startedAt: number;
  durationMs: number;
  ttfbMs: number | null;
  /** The prompt estimate reserved in the key's token window at admission, released by this booking. */
  reservedTokens?: number;
}

/** The counter fields every usage bucket carries. */
export const COUNTER_FIELDS = [
  'requests',
  'errors',
  'inputTokens',
  'outputTokens',
  'cacheCreateTokens',
  'cacheCreate5mTokens',
  'cacheCreate1hTokens',
  'cacheReadTokens',
  'webSearchRequests',
  'costPico',
  'fallbackPriced',
] as const;
export type CounterField = (typeof COUNTER_FIELDS)[number];

/**
 * The weekly bucket's cost field for a model family (`costPico:opus`), or for every model when
 * the family is empty: what the booking writes and the weekly budget reads, named here once.
 */
export const weeklyCostField = (family: string): string => (family ? `costPico:${family.toLowerCase()}` : 'costPico');

/** An increment applied only to a hash that exists (see the recorder's `keyBumps`). */
export interface Bump {
  key: string;
  field: string;
  by: number;
}

/** One event's counters, in COUNTER_FIELDS order (computed once, added to every bucket). */
function countersOf(e: UsageEvent): number[] {
  const u = e.usage;
  return [
    1,
    e.outcome === 'error' || (e.outcome === 'timeout' && e.status >= 400) ? 1 : 0,
    u.inputTokens,
    u.outputTokens,
    u.cacheCreate5mTokens + u.cacheCreate1hTokens,
    u.cacheCreate5mTokens,
    u.cacheCreate1hTokens,
    u.cacheReadTokens,
    u.webSearchRequests,
    e.costPico,
    e.priceSource === 'fallback' && e.costPico > 0 ? 1 : 0,
  ];
}

/** Model names become parts of Redis keys: keep them printable and bounded. */
export function safeModel(model: string): string {
  return (model || 'unknown').replace(/[^\w.\-:@/[\]]/g, '_').slice(0, 128);
}

/** Accumulates the writes for one slot (one key or one account) until the batch is flushed. */
class SlotAccumulator {
  /** Bucket key → summed counters (COUNTER_FIELDS order) and extra named fields. */
  readonly counters = new Map<string, { ttl: number; vec: number[]; extra: Map<string, number> | undefined }>();
  readonly sets = new Map<string, { ttl: number; members: Set<string> }>();
  readonly lists = new Map<string, { keep: number; ttl: number; items: string[] }>();
  readonly touches = new Map<string, { field: string; value: string }>();
  readonly bumps = new Map<string, Map<string, number>>();
  readonly waiters: (() => void)[] = [];

  count(key: string, ttl: number, vec: readonly number[], extraField?: string, extraValue = 0): void {
    let entry = this.counters.get(key);
    if (!entry) {
      entry = { ttl, vec: [...vec], extra: undefined };
      this.counters.set(key, entry);
    } else {
      for (let i = 0; i < vec.length; i++) entry.vec[i] = (entry.vec[i] ?? 0) + (vec[i] ?? 0);
    }
    if (extraField) {
      entry.extra ??= new Map();
      entry.extra.set(extraField, (entry.extra.get(extraField) ?? 0) + extraValue);
    }
  }
  add(key: string, ttl: number, member: string): void {
    const entry = this.sets.get(key) ?? { ttl, members: new Set<string>() };
    entry.members.add(member);
    this.sets.set(key, entry);
  }
  push(key: string, keep: number, ttl: number, item: string): void {
    const entry = this.lists.get(key) ?? { keep, ttl, items: [] };
    entry.items.push(item);
    this.lists.set(key, entry);
  }
  touch(key: string, field: string, value: string): void {
    this.touches.set(key, { field, value });
  }
  bump(key: string, field: string, by: number): void {
    if (by === 0) return;
    const fields = this.bumps.get(key) ?? new Map<string, number>();
    fields.set(field, (fields.get(field) ?? 0) + by);
    this.bumps.set(key, fields);
  }
  toBatch(marker: string): SlotBatch {
    return {
      marker,
      counters: [...this.counters].map(([key, c]) => {
        const incr = new Map<string, number>();
        COUNTER_FIELDS.forEach((f, i) => {
          const v = c.vec[i] ?? 0;
          if (v !== 0) incr.set(f, v);
        });
        for (const [f, v] of c.extra ?? []) if (v !== 0) incr.set(f, v);
        return { key, ttl: c.ttl, incr };
      }),
      sets: [...this.sets].flatMap(([key, s]) => [...s.members].map((member) => ({ key, ttl: s.ttl, member }))),
      lists: [...this.lists].map(([key, l]) => ({ key, ...l })),
      touches: [...this.touches].map(([key, t]) => ({ key, ...t })),
      bumps: [...this.bumps].flatMap(([key, fields]) => [...fields].map(([field, by]) => ({ key, field, by }))),
    };
  }
}

/**
 * Batch ids: unique per process (random prefix) and per batch (counter); they name the "applied"
 * marker that makes a retried write a no-op.
 */
export function batchIds(): () => string {
  const prefix = randomBytes(6).toString('hex');
  let seq = 0;
  return () => `${prefix}${(seq++).toString(36)}`;
}

export interface UsageRecorder {
  /**
   * Books one event. Resolves once it is written to Redis (group-committed with whatever else was
   * booked in the same tick). If Redis is unreachable it keeps retrying in the background; the
   * promise still resolves after `waitMs` so a response is never held hostage by Redis.
   */
  record(event: UsageEvent): Promise<void>;
  /** Waits until everything booked so far is written (shutdown). Resolves false on timeout. */
  flush(timeoutMs: number): Promise<boolean>;
  /** Events accepted but not yet written. */
  readonly pending: number;
}

export function createUsageRecorder(deps: {
  store: Store;
  log: Logger;
  timeZone: string;
  recordsKept: number;
  /** How long record() waits for Redis before letting the response finish anyway. */
  waitMs?: number;
  /**
   * Counters of the key owned elsewhere that each booking also feeds, in the same atomic write
   * (the key's rate window, see limits/window.ts). Applied only to hashes that exist.
   */
  keyBumps?: (e: UsageEvent) => readonly Bump[];
  /** Write latency, failures and retries: a failing write is visible long before it could become a loss. */
  metrics?: Pick<RelayMetrics, 'usageBooked' | 'usageBatch' | 'usageWriteFailed' | 'redisCommand'>;
}): UsageRecorder {
  const { store, log } = deps;
  const k = store.keys;
  const bucketsOf = bucketer(deps.timeZone);
  const waitMs = deps.waitMs ?? 2_000;
  const keyBumps = deps.keyBumps ?? (() => []);
  const metrics = deps.metrics;

  /**
   * Group commit: events booked in the same tick of the event loop are merged per slot and go
   * out as one Lua call per slot. Writes of consecutive ticks may overlap: a request waits for its
   * own tick's write only.
   */
  let open = new Map<string, SlotAccumulator>();
  const nextBatchId = batchIds();
  const inFlight = new Set<Promise<void>>();
  let scheduled = false;
  let pending = 0;

  const slot = (id: string) => {
    let acc = open.get(id);
    if (!acc) {
      acc = new SlotAccumulator();
      open.set(id, acc);
    }
    return acc;
  };

  const stage = (e: UsageEvent): SlotAccumulator[] => {
    const b = bucketsOf(e.startedAt);
    const model = safeModel(e.model);
    const c = countersOf(e);
    const key = slot(`k:${e.keyId}`);
    key.count(k.keyUsageTotal(e.keyId), 0, c);
    key.count(k.keyUsageHourly(e.keyId, b.hour), USAGE_TTL.hourly, c);
    key.count(k.keyUsageDaily(e.keyId, b.day), USAGE_TTL.daily, c);
    key.count(k.keyUsageMonthly(e.keyId, b.month), USAGE_TTL.monthly, c);
    // Weekly cost, also per model family, for weekly (optionally family-scoped) budgets.
    key.count(
      k.keyUsageWeekly(e.keyId, b.week),
      USAGE_TTL.weekly,
      c,
      weeklyCostField(modelFamily(e.model)),
      e.costPico,
    );
    for (const bump of keyBumps(e)) key.bump(bump.key, bump.field, bump.by);
    key.count(k.keyUsageModelDaily(e.keyId, model, b.day), USAGE_TTL.modelDaily, c);
    key.count(k.keyUsageModelTotal(e.keyId, model), 0, c);
    key.add(k.keyUsageModels(e.keyId), 0, model);
    if (deps.recordsKept > 0)
      // The reservation is admission's bookkeeping, not part of the record.
      key.push(
        k.keyUsageRecords(e.keyId),
        deps.recordsKept,
        USAGE_TTL.records,
        JSON.stringify({ ...e, reservedTokens: undefined }),
      );
    key.touch(k.apiKey(e.keyId), 'lastUsedAt', String(e.startedAt + e.durationMs));

    const acct = slot(`a:${e.accountId}`);
    acct.count(k.accountUsageTotal(e.accountId), 0, c);
    acct.count(k.accountUsageHourly(e.accountId, b.hour), USAGE_TTL.hourly, c);
    acct.count(k.accountUsageDaily(e.accountId, b.day), USAGE_TTL.daily, c);
    acct.count(k.accountUsageMonthly(e.accountId, b.month), USAGE_TTL.monthly, c);
    acct.count(k.accountUsageModelDaily(e.accountId, model, b.day), USAGE_TTL.modelDaily, c);
    acct.count(k.accountUsageModelTotal(e.accountId, model), 0, c);
    acct.add(k.accountUsageModels(e.accountId), 0, model);
    acct.touch(k.account(e.accountId), 'lastUsedAt', String(e.startedAt));
    return [key, acct];
  };

  const markerFor = (slotId: string, batchId: string) =>
    slotId.startsWith('k:')
      ? k.keyUsageApplied(slotId.slice(2) as ApiKeyId, batchId)
      : k.accountUsageApplied(slotId.slice(2) as AccountId, batchId);

  /** Writes one slot's batch; retries forever with backoff (the marker makes retries idempotent). */
  const write = async (slotId: string, acc: SlotAccumulator) => {
    const batch = acc.toBatch(markerFor(slotId, nextBatchId()));
    const began = performance.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const sent = performance.now();
        await store.scripts.applyBatch(batch);
        const done = performance.now();
        metrics?.redisCommand('usage_batch', (done - sent) / 1000);
        metrics?.usageBatch((done - began) / 1000, attempt > 0);
        return;
      } catch (err) {
        metrics?.usageWriteFailed();
        const delay = Math.min(100 * 2 ** attempt, 5_000);
        if (attempt === 0 || attempt % 10 === 0)
          log.warn('usage write failed; retrying', { slot: slotId, attempt, err });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };

  const flushOpen = () => {
    scheduled = false;
    const batch = open;
    open = new Map();
    for (const [slotId, acc] of batch) {
      const p = write(slotId, acc).then(() => {
        for (const done of acc.waiters) done();
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
  };

  return {
    record(event) {
      pending++;
      metrics?.usageBooked();
      const slots = stage(event);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flushOpen);
      }
      const done = Promise.all(slots.map((acc) => new Promise<void>((resolve) => acc.waiters.push(resolve)))).then(
        () => {
          pending--;
        },
      );
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
        timer.unref();
      });
      return Promise.race([done, timeout]).finally(() => clearTimeout(timer));
    },
    async flush(timeoutMs) {
      flushOpen();
      const deadline = Date.now() + timeoutMs;
      while (inFlight.size > 0) {
        const left = deadline - Date.now();
        if (left <= 0) return false;
        await Promise.race([Promise.all([...inFlight]), new Promise((r) => setTimeout(r, Math.min(left, 250)))]);
      }
      return pending === 0;
    },
    get pending() {
      return pending;
    },
  };
}
