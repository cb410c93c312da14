import type { RedisClient } from './redis.js';

/**
 * Applies one batch of usage writes inside a single hash slot, exactly once.
 *
 * KEYS[1] is the batch's "applied" marker; the rest are the keys named by the ARGV layout below.
 * If the marker already exists the batch was applied by an earlier attempt (a retry after a
 * timeout) and nothing is written again: money is booked once even when the network is not.
 *
 * ARGV: markerTtl,
 *   nCounters, then per counter hash:  ttl, nFields, field1, incr1, ...
 *   nSets,     then per set:           ttl, member
 *   nLists,    then per list:          keep, ttl, nItems, item1, ...   (LPUSH, LTRIM to keep)
 *   nTouches,  then per hash:          field, value                    (HSET only if the hash exists)
 *   nBumps,    then per hash:          field, incr                     (HINCRBY only if the hash exists)
 */
const APPLY_BATCH = `
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[1])) == false then return 0 end
local a = 2
local k = 2
local n = tonumber(ARGV[a]); a = a + 1
for _ = 1, n do
  local key = KEYS[k]; k = k + 1
  local ttl = tonumber(ARGV[a]); local fields = tonumber(ARGV[a + 1]); a = a + 2
  for _ = 1, fields do
    redis.call('HINCRBY', key, ARGV[a], ARGV[a + 1]); a = a + 2
  end
  if ttl > 0 then redis.call('EXPIRE', key, ttl) end
end
n = tonumber(ARGV[a]); a = a + 1
for _ = 1, n do
  local key = KEYS[k]; k = k + 1
  local ttl = tonumber(ARGV[a]); redis.call('SADD', key, ARGV[a + 1]); a = a + 2
  if ttl > 0 then redis.call('EXPIRE', key, ttl) end
end
n = tonumber(ARGV[a]); a = a + 1
for _ = 1, n do
  local key = KEYS[k]; k = k + 1
  local keep = tonumber(ARGV[a]); local ttl = tonumber(ARGV[a + 1]); local items = tonumber(ARGV[a + 2]); a = a + 3
  for _ = 1, items do redis.call('LPUSH', key, ARGV[a]); a = a + 1 end
  redis.call('LTRIM', key, 0, keep - 1)
  if ttl > 0 then redis.call('EXPIRE', key, ttl) end
end
n = tonumber(ARGV[a]); a = a + 1
for _ = 1, n do
  local key = KEYS[k]; k = k + 1
  if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, ARGV[a], ARGV[a + 1]) end
  a = a + 2
end
n = tonumber(ARGV[a]); a = a + 1
for _ = 1, n do
  local key = KEYS[k]; k = k + 1
  if redis.call('EXISTS', key) == 1 then redis.call('HINCRBY', key, ARGV[a], ARGV[a + 1]) end
  a = a + 2
end
return 1
`;

/** One slot's worth of writes, described as data so it can be merged, retried and tested. */
export interface SlotBatch {
  /** Marker key proving the batch was applied (in the same slot as everything else). */
  marker: string;
  counters: { key: string; ttl: number; incr: Map<string, number> }[];
  sets: { key: string; ttl: number; member: string }[];
  lists: { key: string; keep: number; ttl: number; items: string[] }[];
  touches: { key: string; field: string; value: string }[];
  /** Increments applied only to hashes that exist (a rate window that is still open). */
  bumps: { key: string; field: string; by: number }[];
}

export interface Scripts {
  /** Returns true when applied now, false when an earlier attempt already applied it. */
  applyBatch(batch: SlotBatch): Promise<boolean>;
}

interface WithApplyBatch {
  crsApplyBatch(numKeys: number, ...args: (string | number)[]): Promise<number>;
}

export const MARKER_TTL_SECONDS = 86_400;

export function defineScripts(redis: RedisClient): Scripts {
  redis.defineCommand('crsApplyBatch', { lua: APPLY_BATCH });
  const client = redis as unknown as WithApplyBatch;
  return {
    async applyBatch(batch) {
      const keys: string[] = [batch.marker];
      const args: (string | number)[] = [MARKER_TTL_SECONDS, batch.counters.length];
      for (const c of batch.counters) {
        keys.push(c.key);
        args.push(c.ttl, c.incr.size);
        for (const [field, by] of c.incr) args.push(field, by);
      }
      args.push(batch.sets.length);
      for (const s of batch.sets) {
        keys.push(s.key);
        args.push(s.ttl, s.member);
      }
      args.push(batch.lists.length);
      for (const l of batch.lists) {
        keys.push(l.key);
        args.push(l.keep, l.ttl, l.items.length, ...l.items);
      }
      args.push(batch.touches.length);
      for (const t of batch.touches) {
        keys.push(t.key);
        args.push(t.field, t.value);
      }
      args.push(batch.bumps.length);
      for (const b of batch.bumps) {
        keys.push(b.key);
        args.push(b.field, b.by);
      }
      const applied = await client.crsApplyBatch(keys.length, ...keys, ...args);
      return applied === 1;
    },
  };
}
