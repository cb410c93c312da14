import { LRUCache } from 'lru-cache';
import type { Subnet } from '../config/index.js';
import type { Store } from '../store/index.js';
import { subnetMatcher } from '../util/subnets.js';

/**
 * Throttles relay-key guessing per client address, across every worker and node: refused keys
 * (malformed or unknown) are counted in Redis per address and window; past the limit the address
 * is refused outright (429, before its key is looked up) until the window ends. Every worker
 * learns of a blocked address from the invalidation bus, so the check on the hot path is a map
 * lookup, never a Redis call.
 *
 * The addresses in TRUSTED_PROXIES (loopback by default) are never blocked: they are the proxies
 * in front, or this machine. Behind a proxy without TRUST_PROXY every client looks like the proxy,
 * and one client's mistakes must not lock everybody out.
 */
export interface KeyGuard {
  /** Seconds until `address` may try again, or 0 if it is not blocked. Memory only. */
  blockedFor(address: string): number;
  /** Counts one refused key from `address`; returns the seconds it is now blocked for, or 0. */
  refused(address: string): Promise<number>;
}

export interface KeyGuardOptions {
  /** Refused keys per address and window before it is blocked; 0 = never. */
  limit: number;
  windowMs: number;
  /** Never blocked (the proxies in front; loopback by default). */
  exempt: readonly Subnet[];
  now?: () => number;
}

/** The most blocked addresses one worker remembers (a flood of junk addresses cannot grow it further). */
const MAX_BLOCKED = 10_000;
const BUS_KIND = 'key-guard';

export function createKeyGuard(store: Store, opts: KeyGuardOptions): KeyGuard {
  const now = opts.now ?? Date.now;
  const isExempt = subnetMatcher(opts.exempt);
  /** address → blocked until (epoch ms). */
  const blocked = new LRUCache<string, number>({ max: MAX_BLOCKED });
  const block = (address: string, until: number) => {
    if (until > now()) blocked.set(address, until, { ttl: until - now() });
  };
  // `<until>|<address>`: an IPv6 address has colons, the bus splits at the first one.
  store.bus.on(BUS_KIND, (message) => {
    const sep = message.indexOf('|');
    if (sep > 0) block(message.slice(sep + 1), Number(message.slice(0, sep)));
  });
  const windowSeconds = Math.max(1, Math.ceil(opts.windowMs / 1000));

  return {
    blockedFor(address) {
      const until = blocked.get(address);
      return until === undefined ? 0 : Math.max(1, Math.ceil((until - now()) / 1000));
    },
    async refused(address) {
      if (opts.limit <= 0 || !address || isExempt(address)) return 0;
      const key = store.keys.apiKeyFailures(address);
      const replies = await store.redis.multi().set(key, '0', 'EX', windowSeconds, 'NX').incr(key).pttl(key).exec();
      const count = Number(replies?.[1]?.[1] ?? 0);
      if (count <= opts.limit) return 0;
      const ttl = Number(replies?.[2]?.[1] ?? -1);
      const until = now() + (ttl > 0 ? ttl : opts.windowMs);
      block(address, until);
      // The one that crossed the limit tells every worker; later ones only refresh their own.
      if (count === opts.limit + 1) await store.bus.publish(BUS_KIND, `${until}|${address}`);
      return Math.max(1, Math.ceil((until - now()) / 1000));
    },
  };
}
