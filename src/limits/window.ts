import type { ApiKeyId } from '../ids.js';
import type { KeySpace, Store } from '../store/index.js';
import type { Bump, UsageEvent } from '../usage/recorder.js';

/**
 * A key's rate window: the hash `rate_limit:{id}`, and this module its only reader and writer.
 *  - admission (WINDOW_LUA, inside the admission script) opens a window at the first request
 *    after the last one closed, refuses once a limit is reached, and counts the request;
 *  - booking adds each request's tokens and cost to the window while it is open (windowBumps);
 *  - the admin view reads it (readWindow).
 * Fields: `start` (epoch ms), `requests`, `tokens` (every kind), `costPico`, and `reserved`: the
 * prompt estimates of admitted requests not booked yet (docs/TOKENS.md). A request's estimate is
 * reserved at admission and released by its booking (same batch) or, when nothing is booked, by
 * releaseReserved; it dies with the window at the latest. A stale release into a newer window
 * can only lower `reserved`, which is read as at least 0.
 */
export const WINDOW_LUA = `
local function window_check(key, now, ms, maxRequests, maxTokens, maxCost, estimate)
  local start = tonumber(redis.call('HGET', key, 'start') or '0')
  if start == 0 or now - start >= ms or now < start then
    redis.call('DEL', key)
    redis.call('HSET', key, 'start', now)
    start = now
  end
  local resetAt = start + ms
  local function over(field, limit)
    return limit > 0 and tonumber(redis.call('HGET', key, field) or '0') >= limit
  end
  if over('requests', maxRequests) then return 'window_requests', resetAt end
  if over('tokens', maxTokens) then return 'window_tokens', resetAt end
  if maxTokens > 0 and estimate > 0 then
    if estimate > maxTokens then return 'prompt_too_large', resetAt end
    local used = tonumber(redis.call('HGET', key, 'tokens') or '0')
    local reserved = math.max(0, tonumber(redis.call('HGET', key, 'reserved') or '0'))
    if used + reserved + estimate > maxTokens then return 'window_tokens', resetAt end
  end
  if over('costPico', maxCost) then return 'window_cost', resetAt end
  return nil, resetAt
end
local function window_count(key, ms, reserve)
  redis.call('HINCRBY', key, 'requests', 1)
  if reserve > 0 then
    if tonumber(redis.call('HGET', key, 'reserved') or '0') < 0 then redis.call('HSET', key, 'reserved', 0) end
    redis.call('HINCRBY', key, 'reserved', reserve)
  end
  redis.call('PEXPIRE', key, ms * 2 + 60000)
end
`;

/**
 * What a booking adds to the key's window: every token kind and the cost. Applied only while
 * the window exists (a bump never opens one), in the same atomic write as the key's usage.
 */
export function windowBumps(keys: KeySpace): (e: UsageEvent) => Bump[] {
  return (e) => {
    const u = e.usage;
    const key = keys.keyWindow(e.keyId);
    return [
      {
        key,
        field: 'tokens',
        by: u.inputTokens + u.outputTokens + u.cacheCreate5mTokens + u.cacheCreate1hTokens + u.cacheReadTokens,
      },
      { key, field: 'costPico', by: e.costPico },
      ...(e.reservedTokens ? [{ key, field: 'reserved', by: -e.reservedTokens }] : []),
    ];
  };
}

/** Releases a reservation no booking will release (refused later, no account, client gone, unbooked). */
export const RELEASE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'reserved', -tonumber(ARGV[1])) end
return 0
`;

export interface WindowState {
  /** Null when no window is open (none started, or the last one has ended). */
  startedAt: number | null;
  resetsAt: number | null;
  requests: number;
  tokens: number;
  /** Prompt estimates of admitted requests not booked yet. */
  reserved: number;
  costPico: bigint;
}

/** The key's window as it stands at `now`. */
export async function readWindow(
  store: Pick<Store, 'redis' | 'keys'>,
  id: ApiKeyId,
  windowMs: number,
  now: number,
): Promise<WindowState> {
  const raw = await store.redis.hgetall(store.keys.keyWindow(id));
  const start = Number(raw.start ?? 0);
  if (windowMs <= 0 || start <= 0 || now - start >= windowMs)
    return { startedAt: null, resetsAt: null, requests: 0, tokens: 0, reserved: 0, costPico: 0n };
  return {
    startedAt: start,
    resetsAt: start + windowMs,
    requests: Number(raw.requests ?? 0),
    tokens: Number(raw.tokens ?? 0),
    reserved: Math.max(0, Number(raw.reserved ?? 0)),
    costPico: BigInt(raw.costPico ?? '0'),
  };
}
