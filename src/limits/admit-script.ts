import { LEASE_LUA } from '../leases/index.js';
import type { RedisClient } from '../store/index.js';
import { WINDOW_LUA } from './window.js';

/**
 * Admission of one request for one API key, atomically (one Lua call in the key's slot): budgets,
 * the rate window, then a concurrency lease. Nothing is counted for a refused request.
 *
 * KEYS: leases zset, window hash, daily usage, weekly usage, total usage
 * ARGV: now, leaseId, leaseMs, concurrencyLimit, windowMs, windowRequests, windowTokens,
 *       windowCostPico, dailyPico, weeklyPico, weeklyField, totalPico, promptEstimate
 * The prompt estimate (0 when not counted) is checked against the token window with the
 * reservations of requests in flight, and reserved when the request is admitted.
 * Returns { verdict, resetAt }: verdict 'ok' or the limit that refused.
 */
const ADMIT = `${LEASE_LUA}${WINDOW_LUA}
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
  local refused, resetAt = window_check(KEYS[2], now, windowMs, tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[13] or '0'))
  if refused then return {refused, resetAt} end
end
local limit = tonumber(ARGV[4])
if limit > 0 and not acquire_lease(KEYS[1], now, ARGV[2], tonumber(ARGV[3]), limit) then return {'concurrency', 0} end
if windowMs > 0 then window_count(KEYS[2], windowMs, tonumber(ARGV[7]) > 0 and tonumber(ARGV[13] or '0') or 0) end
return {'ok', 0}
`;

export type Verdict =
  | 'ok'
  | 'total'
  | 'daily'
  | 'weekly'
  | 'window_requests'
  | 'window_tokens'
  | 'window_cost'
  | 'prompt_too_large'
  | 'concurrency';

export interface AdmitScript {
  (
    keys: [string, string, string, string, string],
    args: (string | number)[],
  ): Promise<{ verdict: Verdict; resetAt: number }>;
}

interface Commands {
  crsAdmit(...args: (string | number)[]): Promise<[string, number]>;
}

export function defineAdmitScript(redis: RedisClient): AdmitScript {
  redis.defineCommand('crsAdmit', { numberOfKeys: 5, lua: ADMIT });
  const c = redis as unknown as Commands;
  return async (keys, args) => {
    const [verdict, resetAt] = await c.crsAdmit(...keys, ...args);
    return { verdict: verdict as Verdict, resetAt: Number(resetAt) };
  };
}
