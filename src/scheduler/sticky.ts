import type { AccountId, ApiKeyId } from '../ids.js';
import { createRecordCache, type Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';

/**
 * Session → account mappings, per API key, in Redis with a TTL. The value carries its own expiry
 * (`<accountId>|<expiresAt>`), read against the injected clock; the Redis TTL only collects garbage.
 * Every worker caches mappings; a change (a new, moved or renewed mapping) is published, so the
 * hot path reads Redis only for a conversation this worker has not seen.
 */
export interface StickySessions {
  get(keyId: ApiKeyId, session: string): Promise<{ accountId: AccountId; expiresAt: number } | null>;
  /** Points the session at an account (new mapping, moved mapping, or renewal). */
  set(keyId: ApiKeyId, session: string, accountId: AccountId): Promise<void>;
  /** True when a mapping this close to expiry should be renewed. */
  needsRenewal(expiresAt: number): boolean;
}

export function createStickySessions(deps: {
  store: Store;
  clock: Clock;
  ttlMs: number;
  renewBelowMs: number;
  cacheTtlMs: number;
}): StickySessions {
  const { store, clock } = deps;
  const redisKey = (id: string) => {
    const [keyId, session] = id.split('|') as [ApiKeyId, string];
    return store.keys.sticky(keyId, session);
  };
  const cache = createRecordCache<{ value: string }>({
    max: 100_000,
    ttlMs: deps.cacheTtlMs,
    load: async (id) => {
      const value = await store.redis.get(redisKey(id));
      return value ? { value } : null;
    },
  });
  store.bus.on('sticky', (id) => cache.invalidate(id));
  store.bus.onReset(() => cache.clear());

  return {
    async get(keyId, session) {
      const raw = (await cache.get(`${keyId}|${session}`))?.value;
      if (!raw) return null;
      const [accountId, expiresAt] = raw.split('|');
      const until = Number(expiresAt);
      if (!accountId || !(until > clock.now())) return null;
      return { accountId: accountId as AccountId, expiresAt: until };
    },
    async set(keyId, session, accountId) {
      const id = `${keyId}|${session}`;
      await store.redis.set(redisKey(id), `${accountId}|${clock.now() + deps.ttlMs}`, 'PX', deps.ttlMs);
      await store.bus.publish('sticky', id);
    },
    needsRenewal(expiresAt) {
      return expiresAt - clock.now() < deps.renewBelowMs;
    },
  };
}
