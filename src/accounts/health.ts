import type { AccountId } from '../ids.js';
import { createRecordCache, type Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';

/**
 * Shared health state of upstream accounts, kept in Redis so every worker and node agrees:
 *  - cooldowns, each scoped to the whole account (`*`) or to one model family, lasting as long as
 *    the upstream said (retry-after, reset headers) or a short default;
 *  - an `unauthorized` mark (401/403): out of rotation until an admin resets the account;
 *  - the breaker: opened by a worker whose breaker tripped, so others stop sending too until
 *    its reset time; after that the account is "recoverable" until a request succeeds;
 *  - an automatic disable (probes failing in a row, or real traffic failing too often): out of
 *    rotation until probes succeed again. It is not the admin's `active` flag, which nothing
 *    automatic ever changes: an account an admin disabled stays disabled.
 * Every change is published, so cached copies are dropped at once.
 */
export interface Cooldown {
  scope: string;
  until: number;
  reason: CooldownReason;
  status: number;
}

export type CooldownReason = 'rate_limited' | 'overloaded' | 'server_error' | 'unreachable' | 'timeout';

export interface AccountHealth {
  cooldowns: Cooldown[];
  unauthorized: { at: number; status: number; message: string } | null;
  breaker: { openedAt: number; openUntil: number } | null;
  autoDisabled: AutoDisabled | null;
}

/** Who took an account out automatically, when, and why in words free of upstream text. */
export interface AutoDisabled {
  at: number;
  by: 'probe' | 'error_ratio';
  /** e.g. "3 failed probes in a row (HTTP 503)". */
  reason: string;
}

export const HEALTHY: AccountHealth = Object.freeze({
  cooldowns: [],
  unauthorized: null,
  breaker: null,
  autoDisabled: null,
}) as AccountHealth;

/** Why an account cannot take a request now, and until when (null = until an admin acts). */
export interface Blocker {
  reason:
    | CooldownReason
    | 'unauthorized'
    | 'breaker_open'
    | 'auto_disabled'
    | 'inactive'
    | 'unschedulable'
    | 'subscription_expired';
  scope: string;
  until: number | null;
  detail?: string;
}

export interface HealthService {
  get(id: AccountId): Promise<AccountHealth>;
  /** Extends (never shortens) the cooldown of one scope. */
  coolDown(id: AccountId, c: Cooldown): Promise<void>;
  markUnauthorized(id: AccountId, status: number, message: string): Promise<void>;
  breakerOpened(id: AccountId, openUntil: number): Promise<void>;
  /** Takes the account out until `autoEnable`; false when it was out already (the first reason stays). */
  autoDisable(id: AccountId, info: Omit<AutoDisabled, 'at'>): Promise<boolean>;
  /** Clears an automatic disable (never the admin's `active`); false when there was none. */
  autoEnable(id: AccountId): Promise<boolean>;
  /** A request succeeded: the account is healthy again (clears a passed breaker). */
  recovered(id: AccountId): Promise<void>;
  reset(id: AccountId): Promise<void>;
  /** The account has a new credential: its unauthorized mark and its breaker go, cooldowns stay. */
  credentialsRotated(id: AccountId): Promise<void>;
}

/**
 * The bus kind on which every worker is told to close its own breaker of an account (reset,
 * rotated credentials), as the shared breaker state in Redis is cleared.
 */
export const BREAKER_RESET = 'breaker-reset';

/** Keeps whichever deadline is later: a second, shorter cooldown must not cut the first short. */
const EXTEND = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local until_cur = tonumber(string.match(cur, '^(%d+)'))
  if until_cur and until_cur >= tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`;

interface WithExtend {
  crsExtendCooldown(key: string, field: string, until: number, value: string): Promise<number>;
}

function decode(raw: Record<string, string>): AccountHealth {
  const health: AccountHealth = { cooldowns: [], unauthorized: null, breaker: null, autoDisabled: null };
  for (const [field, value] of Object.entries(raw)) {
    if (field.startsWith('cool:')) {
      const [until, reason, status] = value.split('|');
      health.cooldowns.push({
        scope: field.slice(5),
        until: Number(until),
        reason: (reason ?? 'rate_limited') as CooldownReason,
        status: Number(status ?? 0),
      });
    } else if (field === 'unauthorized') {
      health.unauthorized = JSON.parse(value) as AccountHealth['unauthorized'];
    } else if (field === 'breaker') {
      health.breaker = JSON.parse(value) as AccountHealth['breaker'];
    } else if (field === 'auto') {
      health.autoDisabled = JSON.parse(value) as AutoDisabled;
    }
  }
  return health;
}

export function createHealthService(deps: { store: Store; clock: Clock; cacheTtlMs: number }): HealthService {
  const { store, clock } = deps;
  const { redis, keys, bus } = store;
  redis.defineCommand('crsExtendCooldown', { numberOfKeys: 1, lua: EXTEND });
  const extend = redis as unknown as WithExtend;

  const cache = createRecordCache<AccountHealth>({
    max: 10_000,
    ttlMs: deps.cacheTtlMs,
    load: async (id) => decode(await redis.hgetall(keys.accountHealth(id as AccountId))),
  });
  bus.on('health', (id) => cache.invalidate(id));
  bus.onReset(() => cache.clear());

  const changed = (id: AccountId) => bus.publish('health', id);
  const get = async (id: AccountId) => (await cache.get(id)) ?? HEALTHY;

  return {
    get,
    async coolDown(id, c) {
      const updated = await extend.crsExtendCooldown(
        keys.accountHealth(id),
        `cool:${c.scope}`,
        c.until,
        `${c.until}|${c.reason}|${c.status}`,
      );
      if (updated) await changed(id);
    },
    async markUnauthorized(id, status, message) {
      await redis.hset(
        keys.accountHealth(id),
        'unauthorized',
        JSON.stringify({ at: clock.now(), status, message: message.slice(0, 500) }),
      );
      await changed(id);
    },
    async breakerOpened(id, openUntil) {
      await redis.hset(keys.accountHealth(id), 'breaker', JSON.stringify({ openedAt: clock.now(), openUntil }));
      await changed(id);
    },
    async autoDisable(id, info) {
      const mark: AutoDisabled = { at: clock.now(), by: info.by, reason: info.reason.slice(0, 200) };
      const set = await redis.hsetnx(keys.accountHealth(id), 'auto', JSON.stringify(mark));
      if (set) await changed(id);
      return set === 1;
    },
    async autoEnable(id) {
      const removed = await redis.hdel(keys.accountHealth(id), 'auto');
      if (removed) await changed(id);
      return removed > 0;
    },
    async recovered(id) {
      const current = await get(id);
      const expired = current.cooldowns.filter((c) => c.until <= clock.now()).map((c) => `cool:${c.scope}`);
      if (!current.breaker && expired.length === 0) return;
      await redis.hdel(keys.accountHealth(id), ...(current.breaker ? ['breaker'] : []), ...expired);
      await changed(id);
    },
    async reset(id) {
      await redis.del(keys.accountHealth(id));
      // Probes count afresh too: the next failure starts a new run instead of taking it out at once.
      await redis.hset(keys.probeState(id), { failures: 0, successes: 0 });
      await changed(id);
      await bus.publish(BREAKER_RESET, id);
    },
    async credentialsRotated(id) {
      await redis.hdel(keys.accountHealth(id), 'unauthorized', 'breaker');
      await changed(id);
      await bus.publish(BREAKER_RESET, id);
    },
  };
}

/**
 * Whether the account can take a request for `family` now. `recoverable`: its breaker's open
 * period has passed but nothing has succeeded since (the half-open probe tier).
 */
export function assess(
  health: AccountHealth,
  family: string,
  now: number,
): { blockers: Blocker[]; recoverable: boolean } {
  const blockers: Blocker[] = [];
  if (health.unauthorized) {
    blockers.push({
      reason: 'unauthorized',
      scope: '*',
      until: null,
      detail: `HTTP ${health.unauthorized.status}: ${health.unauthorized.message}`,
    });
  }
  for (const c of health.cooldowns) {
    if (c.until > now && (c.scope === '*' || c.scope === family))
      blockers.push({ reason: c.reason, scope: c.scope, until: c.until, detail: `HTTP ${c.status}` });
  }
  if (health.autoDisabled)
    blockers.push({ reason: 'auto_disabled', scope: '*', until: null, detail: health.autoDisabled.reason });
  if (health.breaker && health.breaker.openUntil > now)
    blockers.push({ reason: 'breaker_open', scope: '*', until: health.breaker.openUntil });
  return { blockers, recoverable: !!health.breaker && health.breaker.openUntil <= now };
}
