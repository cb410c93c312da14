import type { Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';
import { hashPassword, randomSecret, verifyPassword, type Secrets } from '../util/secrets.js';

/** Failed logins allowed per client address inside the window before logins are refused. */
export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60;

export type LoginResult =
  | { ok: true; token: string; expiresAt: number }
  | { ok: false; reason: 'bad_credentials' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

export interface AdminAuth {
  login(username: string, password: string, clientAddress: string): Promise<LoginResult>;
  /** The admin's name for a valid session token, else null. */
  verify(token: string | undefined): Promise<string | null>;
  logout(token: string): Promise<void>;
  /** Sets the admin's name and password (CLI, password change) and ends every open session. */
  setCredentials(username: string, password: string): Promise<void>;
  /** Creates the admin when none exists yet. Returns true when it did. */
  ensureAdmin(username: string, password: string): Promise<boolean>;
  /** Checks the admin's password (a password change), throttled per address like logins. */
  checkPassword(password: string, clientAddress: string): Promise<PasswordCheck>;
}

export type PasswordCheck = { ok: true } | Exclude<LoginResult, { ok: true }>;

interface StoredSession {
  username: string;
  createdAt: number;
  /** Credentials epoch at login; a password change bumps it and so ends older sessions. */
  epoch: number;
}

export function createAdminAuth(deps: {
  store: Store;
  secrets: Secrets;
  clock: Clock;
  sessionTtlMs: number;
}): AdminAuth {
  const { redis, keys } = deps.store;

  const matches = async (stored: Record<string, string>, password: string) =>
    !!stored.passwordHash && (await verifyPassword(password, stored.passwordHash));

  /**
   * Runs one password guess from `clientAddress`, counted before it is checked (atomically, so
   * parallel guesses cannot all slip in while the slow check runs): past LOGIN_MAX_FAILURES
   * failures in the window, guesses are refused unchecked. A right guess clears the count.
   */
  const throttled = async (clientAddress: string, guess: () => Promise<boolean>): Promise<PasswordCheck> => {
    const failuresKey = keys.adminLoginFailures(clientAddress || 'unknown');
    const [, attempts] =
      (await redis.multi().set(failuresKey, '0', 'EX', LOGIN_FAILURE_WINDOW_SECONDS, 'NX').incr(failuresKey).exec()) ??
      [];
    if (Number(attempts?.[1] ?? 0) > LOGIN_MAX_FAILURES) {
      const ttl = await redis.ttl(failuresKey);
      return { ok: false, reason: 'throttled', retryAfterSeconds: Math.max(1, ttl) };
    }
    if (!(await guess())) return { ok: false, reason: 'bad_credentials' };
    await redis.del(failuresKey);
    return { ok: true };
  };

  return {
    async login(username, password, clientAddress) {
      const stored = await redis.hgetall(keys.adminCredentials());
      const check = await throttled(
        clientAddress,
        async () => stored.username === username && (await matches(stored, password)),
      );
      if (!check.ok) return check;
      const token = `crsa_${randomSecret(32)}`;
      const expiresAt = deps.clock.now() + deps.sessionTtlMs;
      const session: StoredSession = { username, createdAt: deps.clock.now(), epoch: Number(stored.epoch ?? 0) };
      await redis.set(
        keys.adminSession(deps.secrets.hashToken(token)),
        JSON.stringify(session),
        'PX',
        deps.sessionTtlMs,
      );
      return { ok: true, token, expiresAt };
    },

    async verify(token) {
      if (!token || !token.startsWith('crsa_')) return null;
      const [raw, epoch] = await Promise.all([
        redis.get(keys.adminSession(deps.secrets.hashToken(token))),
        redis.hget(keys.adminCredentials(), 'epoch'),
      ]);
      if (!raw) return null;
      const session = JSON.parse(raw) as StoredSession;
      return session.epoch === Number(epoch ?? 0) ? session.username : null;
    },

    async logout(token) {
      await redis.del(keys.adminSession(deps.secrets.hashToken(token)));
    },

    async setCredentials(username, password) {
      await redis.hset(keys.adminCredentials(), {
        username,
        passwordHash: await hashPassword(password),
        updatedAt: String(deps.clock.now()),
      });
      await redis.hincrby(keys.adminCredentials(), 'epoch', 1);
    },

    async ensureAdmin(username, password) {
      const created = await redis.hsetnx(keys.adminCredentials(), 'username', username);
      if (created === 0) return false;
      await redis.hset(keys.adminCredentials(), {
        passwordHash: await hashPassword(password),
        updatedAt: String(deps.clock.now()),
      });
      return true;
    },

    async checkPassword(password, clientAddress) {
      const stored = await redis.hgetall(keys.adminCredentials());
      return throttled(clientAddress, () => matches(stored, password));
    },
  };
}
