import { LRUCache } from 'lru-cache';
import type { RedisClient } from './redis.js';
import type { Logger } from '../util/log.js';

/**
 * A read-through LRU in front of Redis. `null` is a cached "does not exist" (so unknown API keys do
 * not cost a Redis round trip each). Entries carry a TTL as a safety net; the real freshness comes
 * from invalidations published by whoever changed the record.
 *
 * A load racing an invalidation must not put the stale value back: every key has a generation,
 * bumped on invalidation, and a load only stores its result if the generation did not move.
 */
export interface RecordCache<V extends object> {
  get(id: string): Promise<V | null>;
  /** Drops one entry (or all with '*'). Local only: use the bus to reach other workers. */
  invalidate(id: string): void;
  clear(): void;
  readonly size: number;
}

/** Lookups answered from memory, and those that went to Redis. */
export interface CacheStats {
  hits: number;
  misses: number;
}

export interface CacheOptions<V> {
  /** Counts this cache's hits and misses (the metrics read them). */
  stats?: CacheStats;
  max: number;
  ttlMs: number;
  /** Shorter TTL for "not found" entries. */
  missTtlMs?: number;
  load(id: string): Promise<V | null>;
}

const MISSING = Symbol('missing');
type Slot<V> = V | typeof MISSING;

export function createRecordCache<V extends object>(opts: CacheOptions<V>): RecordCache<V> {
  const lru = new LRUCache<string, Slot<V>>({ max: opts.max, ttl: opts.ttlMs });
  const generations = new Map<string, number>();
  let epoch = 0;
  const inflight = new Map<string, Promise<V | null>>();

  const load = async (id: string): Promise<V | null> => {
    const gen = generations.get(id) ?? 0;
    const startEpoch = epoch;
    try {
      const value = await opts.load(id);
      if ((generations.get(id) ?? 0) === gen && epoch === startEpoch) {
        if (value === null) lru.set(id, MISSING, { ttl: opts.missTtlMs ?? opts.ttlMs });
        else lru.set(id, value);
      }
      return value;
    } finally {
      inflight.delete(id);
    }
  };

  return {
    async get(id) {
      const hit = lru.get(id);
      if (hit !== undefined) {
        if (opts.stats) opts.stats.hits++;
        return hit === MISSING ? null : hit;
      }
      if (opts.stats) opts.stats.misses++;
      let pending = inflight.get(id);
      if (!pending) {
        pending = load(id);
        inflight.set(id, pending);
      }
      return pending;
    },
    invalidate(id) {
      if (id === '*') return this.clear();
      generations.set(id, (generations.get(id) ?? 0) + 1);
      lru.delete(id);
      inflight.delete(id);
      if (generations.size > 100_000) generations.clear();
    },
    clear() {
      epoch++;
      generations.clear();
      lru.clear();
      inflight.clear();
    },
    get size() {
      return lru.size;
    },
  };
}

/**
 * Carries "this record changed" messages between workers and nodes over Redis pub/sub. Writers
 * change Redis first, then publish; every subscriber (including the writer's own worker) drops its
 * cached copy. If the subscription drops and comes back, messages may have been missed, so every
 * cache is cleared.
 */
export interface InvalidationBus {
  /** Publishes `kind:id` to every worker of every node. */
  publish(kind: string, id: string): Promise<void>;
  /** Registers a handler for one kind of record; '*' ids mean "everything of this kind". */
  on(kind: string, handler: (id: string) => void): void;
  /** Called with no argument when every cache must be cleared (subscriber reconnected). */
  onReset(handler: () => void): void;
  /** Times the subscriber came back after losing its connection. */
  readonly reconnects: number;
  close(): Promise<void>;
}

export async function createInvalidationBus(opts: {
  publisher: RedisClient;
  subscriber: RedisClient;
  channel: string;
  log: Logger;
}): Promise<InvalidationBus> {
  const { publisher, subscriber, channel, log } = opts;
  const handlers = new Map<string, ((id: string) => void)[]>();
  const resets: (() => void)[] = [];
  let readyOnce = false;
  let reconnects = 0;

  const dispatch = (message: string) => {
    const sep = message.indexOf(':');
    if (sep <= 0) return;
    const kind = message.slice(0, sep);
    const id = message.slice(sep + 1);
    for (const h of handlers.get(kind) ?? []) h(id);
  };

  subscriber.on('message', (ch: string, message: string) => {
    if (ch === channel) dispatch(message);
  });
  subscriber.on('ready', () => {
    if (readyOnce) {
      reconnects++;
      log.warn('invalidation subscriber reconnected; clearing caches');
      for (const r of resets) r();
    }
    readyOnce = true;
  });
  await subscriber.subscribe(channel);
  readyOnce = true;

  return {
    async publish(kind, id) {
      // Drop our own copy at once: the message comes back to us too, but a read in between
      // must not see the old record.
      dispatch(`${kind}:${id}`);
      await publisher.publish(channel, `${kind}:${id}`);
    },
    on(kind, handler) {
      const list = handlers.get(kind) ?? [];
      list.push(handler);
      handlers.set(kind, list);
    },
    onReset(handler) {
      resets.push(handler);
    },
    get reconnects() {
      return reconnects;
    },
    async close() {
      // Closing anyway: do not wait on a Redis that is gone.
      await Promise.race([
        subscriber.unsubscribe(channel).catch(() => {}),
        new Promise((r) => setTimeout(r, 500).unref()),
      ]);
    },
  };
}

/**
 * A whole collection cached as one value (all accounts, all groups: small, read on every pick):
 * loaded on first use and after `ttlMs`, dropped at once when the bus says `kind` changed. A load
 * that fails is not kept.
 */
export function createSnapshot<T>(opts: {
  bus: InvalidationBus;
  kind: string;
  ttlMs: number;
  now: () => number;
  load: () => Promise<T>;
  stats?: CacheStats;
}): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | null = null;
  const drop = () => {
    cached = null;
  };
  opts.bus.on(opts.kind, drop);
  opts.bus.onReset(drop);
  return () => {
    const now = opts.now();
    const fresh = cached !== null && now - cached.at <= opts.ttlMs;
    if (opts.stats) opts.stats[fresh ? 'hits' : 'misses']++;
    if (!cached || !fresh) {
      const entry = { at: now, value: opts.load() };
      entry.value.catch(() => {
        if (cached === entry) cached = null;
      });
      cached = entry;
    }
    return cached.value;
  };
}
