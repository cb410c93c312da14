import type { AccountId, ApiKeyId } from '../ids.js';
import type { Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';

/**
 * Session → account mappings, per API key, in Redis with a TTL. The value carries its own expiry
 * (`<accountId>|<expiresAt>`), read against the injected clock; the Redis TTL only collects garbage.
 */
export interface StickySessions {
  get(keyId: ApiKeyId, session: string): Promise<{ accountId: AccountId; expiresAt: number } | null>;
  /** Points the session at an account (new mapping, moved mapping, or renewal). */
  set(keyId: ApiKeyId, session: string, accountId: AccountId): Promise<void>;
  /** True when a mapping this close to expiry should be renewed. */
  needsRenewal(expiresAt: number): boolean;
}

export function createStickySessions(deps: { store: Store; clock: Clock; ttlMs: number; renewBelowMs: number }): StickySessions {
  const { store, clock } = deps;
  return {
    async get(keyId, session) {
      const raw = await store.redis.get(store.keys.sticky(keyId, session));
      if (!raw) return null;
      const [accountId, expiresAt] = raw.split('|');
      const until = Number(expiresAt);
      if (!accountId || !(until > clock.now())) return null;
      return { accountId: accountId as AccountId, expiresAt: until };
    },
    async set(keyId, session, accountId) {
      await store.redis.set(store.keys.sticky(keyId, session), `${accountId}|${clock.now() + deps.ttlMs}`, 'PX', deps.ttlMs);
    },
    needsRenewal(expiresAt) {
      return expiresAt - clock.now() < deps.renewBelowMs;
    },
  };
}
