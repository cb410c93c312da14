import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventSink } from '../../events/index.js';
import type { Store } from '../../store/index.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { HealthService } from '../health.js';
import type { Account, AccountService } from '../service.js';

/** What a token endpoint hands back (refresh tokens may rotate). */
export interface TokenSet {
  accessToken: string;
  /** Absent when the endpoint did not rotate it: the old one stays valid. */
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt: number;
  idToken?: string;
  /** Platform-specific values to keep with the credentials (e.g. a ChatGPT account id). */
  extra?: Record<string, string>;
}

/** Exchanges a refresh token for new tokens at the platform's token endpoint. */
export type Refresher = (refreshToken: string, account: Account) => Promise<TokenSet>;

/** The stored form of OAuth credentials: strings, like every credential. */
export function credentialsOf(
  tokens: TokenSet,
  previous: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    ...previous,
    ...tokens.extra,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken ?? previous.refreshToken ?? '',
    expiresAt: String(tokens.expiresAt),
    ...(tokens.idToken ? { idToken: tokens.idToken } : {}),
  };
}

/** The refresh failed for good (revoked or rotated away): the account is out until an admin acts. */
export class CredentialsRejected extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CredentialsRejected';
  }
}

export interface TokenManager {
  /** A valid access token: refreshed first (under the account's lock) when it expires within the skew. */
  accessToken(account: Account, refresh: Refresher): Promise<string>;
  /**
   * After a 401 for `usedToken`: if another worker or node has refreshed since, nothing to do;
   * else refresh under the lock. True when a different token is now stored (worth one retry).
   */
  recover(account: Account, usedToken: string | undefined, refresh: Refresher): Promise<boolean>;
}

/** Releases the lock only if we still hold it (it may have expired and been taken by another). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * OAuth tokens of upstream accounts, refreshed safely across workers and nodes.
 *
 * Rotating refresh tokens must never race: two refreshers using the same refresh token means the
 * second gets `invalid_grant` and, worse, may overwrite the good new tokens with its failure. So a
 * refresh happens only inside a per-account Redis lock, and the credentials are re-read from
 * Redis inside the lock: whoever gets the lock second finds fresh tokens and does nothing. Nothing
 * writes credentials outside the lock, and nothing writes the credentials it started with.
 */
export function createTokenManager(deps: {
  store: Store;
  accounts: AccountService;
  health: HealthService;
  events: EventSink;
  clock: Clock;
  log: Logger;
  /** Refresh when the token expires within this (default 5 minutes). */
  skewMs?: number;
  /** How long the lock is held at most, and how long a waiter waits for it. */
  lockMs?: number;
}): TokenManager {
  const { store, accounts, clock, log } = deps;
  const skewMs = deps.skewMs ?? 5 * 60_000;
  const lockMs = deps.lockMs ?? 30_000;
  store.redis.defineCommand('crsReleaseLock', { numberOfKeys: 1, lua: RELEASE });
  const release = store.redis as unknown as { crsReleaseLock(key: string, token: string): Promise<number> };

  // The last access token the upstream rejected, per account: a caller may still hold an account
  // read before the recovery (the retry after a 401 does), and must not be handed that token again.
  const rejected = new Map<string, string>();
  const fresh = (a: Account) =>
    !!a.credentials.accessToken &&
    a.credentials.accessToken !== rejected.get(a.id) &&
    Number(a.credentials.expiresAt ?? 0) - skewMs > clock.now();

  /**
   * Runs `work` with the account's lock held and the account as stored now. If the lock is taken,
   * waits for it to go and returns the account as the holder left it (without calling `work`).
   */
  const underLock = async (account: Account, work: (current: Account) => Promise<Account>): Promise<Account> => {
    const key = store.keys.oauthLock(account.id);
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + lockMs;
    for (;;) {
      if ((await store.redis.set(key, token, 'PX', lockMs, 'NX')) === 'OK') {
        try {
          const current = await accounts.get(account.id);
          if (!current) throw new CredentialsRejected('the account was deleted');
          return await work(current);
        } finally {
          await release
            .crsReleaseLock(key, token)
            .catch((err: unknown) =>
              log.warn('oauth lock not released; it will expire', { accountId: account.id, err }),
            );
        }
      }
      // Someone else is refreshing: wait for them, then use what they stored.
      while ((await store.redis.exists(key)) === 1) {
        if (Date.now() > deadline) throw new Error(`OAuth refresh of ${account.id} is taking too long`);
        await sleep(50);
      }
      const after = await accounts.get(account.id);
      if (after && fresh(after)) return after;
      if (Date.now() > deadline) throw new Error(`OAuth refresh of ${account.id} is taking too long`);
    }
  };

  const doRefresh = async (current: Account, refresh: Refresher): Promise<Account> => {
    const refreshToken = current.credentials.refreshToken;
    if (!refreshToken) throw new CredentialsRejected('the account has no refresh token');
    let tokens: TokenSet;
    try {
      tokens = await refresh(refreshToken, current);
    } catch (err) {
      // The alert engine's refresh rule reads these (never the error text: it may quote a token).
      deps.events.emit('account.refresh_failed', {
        accountId: current.id,
        accountName: current.name,
        platform: current.platform,
        status: err instanceof CredentialsRejected ? 401 : 0,
        rejected: err instanceof CredentialsRejected,
      });
      if (err instanceof CredentialsRejected) {
        await deps.health.markUnauthorized(current.id, 401, `OAuth refresh rejected: ${err.message}`);
        deps.events.emit('account.unauthorized', {
          accountId: current.id,
          accountName: current.name,
          status: 401,
          message: `OAuth refresh rejected: ${err.message}`,
        });
        log.warn('account out of rotation', {
          accountId: current.id,
          accountName: current.name,
          reason: 'unauthorized',
          detail: 'OAuth refresh rejected',
          until: 'an admin resets it or rotates its credentials',
        });
      }
      throw err;
    }
    const updated = await accounts.update(current.id, { credentials: credentialsOf(tokens, current.credentials) });
    deps.events.emit('account.refreshed', { accountId: current.id, platform: current.platform });
    log.info('oauth tokens refreshed', {
      accountId: current.id,
      expiresAt: new Date(tokens.expiresAt).toISOString(),
      rotated: !!tokens.refreshToken && tokens.refreshToken !== refreshToken,
    });
    return updated ?? current;
  };

  return {
    async accessToken(account, refresh) {
      if (fresh(account)) return account.credentials.accessToken as string;
      const current = await underLock(account, async (stored) => (fresh(stored) ? stored : doRefresh(stored, refresh)));
      return current.credentials.accessToken ?? '';
    },

    async recover(account, usedToken, refresh) {
      if (usedToken) rejected.set(account.id, usedToken);
      const current = await underLock(account, async (stored) => {
        // A worker or node already replaced the token we were rejected with: use theirs.
        if (stored.credentials.accessToken && stored.credentials.accessToken !== usedToken) return stored;
        return doRefresh(stored, refresh);
      });
      return !!current.credentials.accessToken && current.credentials.accessToken !== usedToken;
    },
  };
}
