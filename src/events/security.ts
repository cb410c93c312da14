import type { ApiKeyId } from '../ids.js';
import type { Store } from '../store/index.js';
import type { Logger } from '../util/log.js';

/**
 * What the security rules read, counted by the workers: refused relay keys and failed admin
 * logins per client address and minute, and the addresses each relay key is used from per hour
 * (HyperLogLog). Counting is in memory; a timer writes it every few seconds, so no request waits
 * on Redis for it.
 */
export interface SecurityCounters {
  badKey(address: string): void;
  adminLoginFailed(address: string): void;
  keyUsed(id: ApiKeyId, address: string): void;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Minute counters live two hours, hour sets a day: longer than any rule looks back. */
const MINUTE_TTL_S = 2 * 3_600;
const HOUR_TTL_S = 26 * 3_600;
/** One address's contribution per minute and map, so a flood of junk addresses cannot grow memory unbounded. */
const MAX_SUBJECTS = 10_000;

export function createSecurityCounters(deps: {
  store: Store;
  log: Logger;
  now?: () => number;
  flushEveryMs?: number;
}): SecurityCounters {
  const { store, log } = deps;
  const now = deps.now ?? Date.now;
  const k = store.keys;
  let badKeys = new Map<string, number>();
  let loginFailures = new Map<string, number>();
  let keyAddresses = new Map<string, Set<string>>();
  let minute = Math.floor(now() / MINUTE) * MINUTE;

  const bump = (m: Map<string, number>, address: string) => {
    if (m.size < MAX_SUBJECTS || m.has(address)) m.set(address || 'unknown', (m.get(address) ?? 0) + 1);
  };

  const flush = async () => {
    const at = minute;
    const [bad, failed, used] = [badKeys, loginFailures, keyAddresses];
    badKeys = new Map();
    loginFailures = new Map();
    keyAddresses = new Map();
    minute = Math.floor(now() / MINUTE) * MINUTE;
    const hour = Math.floor(at / HOUR) * HOUR;
    const writes: Promise<unknown>[] = [];
    const counts = (key: string, m: Map<string, number>) => {
      if (m.size === 0) return;
      const multi = store.redis.multi();
      for (const [address, n] of m) multi.hincrby(key, address, n);
      writes.push(multi.expire(key, MINUTE_TTL_S).exec());
    };
    counts(k.securityBadKeys(at), bad);
    counts(k.securityAdminFailures(at), failed);
    if (used.size > 0) {
      const seen = k.securityKeysSeen(hour);
      writes.push(store.redis.sadd(seen, ...used.keys()), store.redis.expire(seen, HOUR_TTL_S));
      for (const [id, addresses] of used) {
        const key = k.securityKeyAddresses(id as ApiKeyId, hour);
        writes.push(
          store.redis
            .multi()
            .pfadd(key, ...addresses)
            .expire(key, HOUR_TTL_S)
            .exec(),
        );
      }
    }
    const results = await Promise.allSettled(writes);
    const failedWrites = results.filter((r) => r.status === 'rejected').length;
    if (failedWrites > 0) log.warn('security counters not written', { failedWrites });
  };

  const timer = setInterval(() => void flush(), deps.flushEveryMs ?? 5_000);
  timer.unref();
  const rollMinute = () => {
    if (now() - minute >= MINUTE) void flush();
  };

  return {
    badKey(address) {
      rollMinute();
      bump(badKeys, address);
    },
    adminLoginFailed(address) {
      rollMinute();
      bump(loginFailures, address);
    },
    keyUsed(id, address) {
      rollMinute();
      let set = keyAddresses.get(id);
      if (!set) {
        if (keyAddresses.size >= MAX_SUBJECTS) return;
        keyAddresses.set(id, (set = new Set()));
      }
      if (set.size < 64) set.add(address || 'unknown');
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
