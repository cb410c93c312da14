import type { RedisClient } from '../store/index.js';

/**
 * Admission of one request for one API key, atomically (one Lua call in the key's slot): budgets,
 * the rate window, then a concurrency lease. Nothing is counted for a refused request.
 *
 * KEYS: leases zset, window hash, daily usage, weekly usage, total usage
 * ARGV: now, leaseId, leaseMs, concurrencyLimit, windowMs, windowRequests, windowTokens,
 *       windowCostPico, dailyPico, weeklyPico, weeklyField, totalPico
 * Returns { verdict, resetAt }: verdict 'ok' or the limit that refused.
 */
const ADMIT = `
local now = tonumber(ARGV[1])
local function reached(key, field, limit)
  if limit <= 0 then return false end
  return tonumber(redis.call('HGET', key, field) or '0') >= limit
end
if reached(KEYS[5], 'costPico', tonumber(ARGV[12])) then return {'total', 0} end
if reached(KEYS[3], 'costPico', tonumber(ARGV[9])) then return {'daily', 0} end
if reached(KEYS[4], ARGV[11], tonumber(ARGV[10])) then return {'weekly', 0} end
local windowMs = tonumber(ARGV[5])
if windowMs > 0 then
  local start = tonumber(redis.call('HGET', KEYS[2], 'start') or '0')
  if start == 0 or now - start >= windowMs or now < start then
    redis.call('DEL', KEYS[2])
    redis.call('HSET', KEYS[2], 'start', now)
    start = now
  end
  local resetAt = start + windowMs
  if reached(KEYS[2], 'requests', tonumber(ARGV[6])) then return {'window_requests', resetAt} end
  if reached(KEYS[2], 'tokens', tonumber(ARGV[7])) then return {'window_tokens', resetAt} end
  if reached(KEYS[2], 'costPico', tonumber(ARGV[8])) then return {'window_cost', resetAt} end
end
local limit = tonumber(ARGV[4])
if limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= limit then return {'concurrency', 0} end
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 4)
end
if windowMs > 0 then
  redis.call('HINCRBY', KEYS[2], 'requests', 1)
  redis.call('PEXPIRE', KEYS[2], windowMs * 2 + 60000)
end
return {'ok', 0}
`;

/**
 * A lease on an upstream account with a concurrency cap: refused when the account already has
 * `cap` requests in flight across all nodes. KEYS: leases zset. ARGV: now, leaseId, leaseMs, cap.
 */
const ACCOUNT_LEASE = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local cap = tonumber(ARGV[4])
if cap > 0 and redis.call('ZCARD', KEYS[1]) >= cap then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 4)
return 1
`;

/** Extends leases still held (ZADD XX: a lease already released is not brought back). */
const RENEW = `
local n = 0
for i = 2, #ARGV do n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[1], ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], 120000)
return n
`;

export type Verdict = 'ok' | 'total' | 'daily' | 'weekly' | 'window_requests' | 'window_tokens' | 'window_cost' | 'concurrency';

export interface LimitScripts {
  admit(keys: [string, string, string, string, string], args: (string | number)[]): Promise<{ verdict: Verdict; resetAt: number }>;
  accountLease(leases: string, now: number, leaseId: string, leaseMs: number, cap: number): Promise<boolean>;
  renew(leases: string, expiresAt: number, ids: string[]): Promise<void>;
}

interface Commands {
  crsAdmit(...args: (string | number)[]): Promise<[string, number]>;
  crsAccountLease(...args: (string | number)[]): Promise<number>;
  crsRenewLeases(...args: (string | number)[]): Promise<number>;
}

export function defineLimitScripts(redis: RedisClient): LimitScripts {
  redis.defineCommand('crsAdmit', { numberOfKeys: 5, lua: ADMIT });
  redis.defineCommand('crsAccountLease', { numberOfKeys: 1, lua: ACCOUNT_LEASE });
  redis.defineCommand('crsRenewLeases', { numberOfKeys: 1, lua: RENEW });
  const c = redis as unknown as Commands;
  return {
    async admit(keys, args) {
      const [verdict, resetAt] = await c.crsAdmit(...keys, ...args);
      return { verdict: verdict as Verdict, resetAt: Number(resetAt) };
    },
    async accountLease(leases, now, leaseId, leaseMs, cap) {
      return (await c.crsAccountLease(leases, now, leaseId, leaseMs, cap)) === 1;
    },
    async renew(leases, expiresAt, ids) {
      if (ids.length > 0) await c.crsRenewLeases(leases, expiresAt, ...ids);
    },
  };
}
