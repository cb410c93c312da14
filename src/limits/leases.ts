import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { LimitScripts } from './admit-script.js';

/**
 * Leases are entries in a Redis sorted set (member: request id, score: expiry). A held lease is
 * renewed while its request runs (a long stream keeps its slot); if the worker dies, its leases
 * simply expire. One timer per worker renews every lease it holds, per set in one call.
 */
export interface Lease {
  readonly set: string;
  readonly id: string;
  release(): Promise<void>;
}

export interface LeaseKeeper {
  readonly leaseMs: number;
  /** Starts renewing a lease a script has just acquired. */
  hold(set: string, id: string): Lease;
  readonly held: number;
  stop(): void;
}

export function createLeaseKeeper(deps: {
  scripts: LimitScripts;
  release(set: string, id: string): Promise<unknown>;
  clock: Clock;
  log: Logger;
  leaseMs?: number;
}): LeaseKeeper {
  const leaseMs = deps.leaseMs ?? 30_000;
  const held = new Map<string, Set<string>>();
  let count = 0;

  const renewAll = () => {
    const expiresAt = deps.clock.now() + leaseMs;
    for (const [set, ids] of held) {
      if (ids.size === 0) continue;
      deps.scripts.renew(set, expiresAt, [...ids]).catch((err: unknown) => deps.log.warn('lease renewal failed', { set, err }));
    }
  };
  const timer = setInterval(renewAll, Math.max(100, Math.floor(leaseMs / 3)));
  timer.unref();

  return {
    leaseMs,
    hold(set, id) {
      let ids = held.get(set);
      if (!ids) {
        ids = new Set();
        held.set(set, ids);
      }
      ids.add(id);
      count++;
      let released = false;
      return {
        set,
        id,
        async release() {
          if (released) return;
          released = true;
          count--;
          const s = held.get(set);
          s?.delete(id);
          if (s && s.size === 0) held.delete(set);
          await deps.release(set, id).catch((err: unknown) => deps.log.warn('lease release failed; it will expire', { set, err }));
        },
      };
    },
    get held() {
      return count;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
