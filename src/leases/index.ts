import type { AccountId, ApiKeyId } from '../ids.js';
import type { Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { defineLeaseScripts } from './scripts.js';

export { LEASE_LUA } from './scripts.js';

/**
 * Concurrency leases, for keys (their concurrency limit) and accounts (their cap), correct across
 * workers and nodes. A lease is an entry in a Redis sorted set (member: request id, score:
 * expiry). A held lease is renewed while its request runs, so a long stream keeps its slot; if
 * the worker dies, its leases simply expire. One timer per worker renews every lease it holds,
 * one call per set. This module is the only one that knows the sets' layout (the key admission
 * script takes its lease through LEASE_LUA).
 */
export interface Lease {
  readonly id: string;
  release(): Promise<void>;
}

export interface Leases {
  readonly leaseMs: number;
  /** A lease on an account with a concurrency cap; null when `cap` requests already hold one. */
  acquireAccount(id: AccountId, requestId: string, cap: number): Promise<Lease | null>;
  /** Starts renewing the key lease the admission script has just taken. */
  holdKey(id: ApiKeyId, requestId: string): Lease;
  /** Leases held now, across every node. */
  keyInFlight(id: ApiKeyId): Promise<number>;
  accountInFlight(id: AccountId): Promise<number>;
  /** Leases this worker holds. */
  readonly held: number;
  stop(): void;
}

export function createLeases(deps: { store: Store; clock: Clock; log: Logger; leaseMs?: number }): Leases {
  const { store, clock, log } = deps;
  const leaseMs = deps.leaseMs ?? 30_000;
  const scripts = defineLeaseScripts(store.redis);
  const held = new Map<string, Set<string>>();
  let count = 0;

  const renewAll = () => {
    const expiresAt = clock.now() + leaseMs;
    for (const [set, ids] of held) {
      if (ids.size === 0) continue;
      scripts.renew(set, expiresAt, [...ids]).catch((err: unknown) => log.warn('lease renewal failed', { set, err }));
    }
  };
  const timer = setInterval(renewAll, Math.max(100, Math.floor(leaseMs / 3)));
  timer.unref();

  const hold = (set: string, id: string): Lease => {
    let ids = held.get(set);
    if (!ids) {
      ids = new Set();
      held.set(set, ids);
    }
    ids.add(id);
    count++;
    let released = false;
    return {
      id,
      async release() {
        if (released) return;
        released = true;
        count--;
        const s = held.get(set);
        s?.delete(id);
        if (s && s.size === 0) held.delete(set);
        await store.redis
          .zrem(set, id)
          .catch((err: unknown) => log.warn('lease release failed; it will expire', { set, err }));
      },
    };
  };
  const inFlight = (set: string) => store.redis.zcount(set, clock.now(), '+inf');

  return {
    leaseMs,
    async acquireAccount(id, requestId, cap) {
      const set = store.keys.accountLeases(id);
      if (!(await scripts.acquire(set, clock.now(), requestId, leaseMs, cap))) return null;
      return hold(set, requestId);
    },
    holdKey: (id, requestId) => hold(store.keys.keyLeases(id), requestId),
    keyInFlight: (id) => inFlight(store.keys.keyLeases(id)),
    accountInFlight: (id) => inFlight(store.keys.accountLeases(id)),
    get held() {
      return count;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
