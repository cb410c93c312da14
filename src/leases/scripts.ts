import type { RedisClient } from '../store/index.js';

/**
 * Takes a lease in a set, unless `cap` leases that have not expired are held already (cap 0: no
 * cap). A Lua function, so that a script that checks other limits first (key admission) takes
 * its lease in the same atomic call.
 */
export const LEASE_LUA = `
local function acquire_lease(set, now, id, ms, cap)
  redis.call('ZREMRANGEBYSCORE', set, '-inf', now)
  if cap > 0 and redis.call('ZCARD', set) >= cap then return false end
  redis.call('ZADD', set, now + ms, id)
  redis.call('PEXPIRE', set, ms * 4)
  return true
end
`;

/** KEYS: leases zset. ARGV: now, leaseId, leaseMs, cap. */
const ACQUIRE = `${LEASE_LUA}
if acquire_lease(KEYS[1], tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])) then return 1 end
return 0
`;

/** Extends leases still held (ZADD XX: a lease already released is not brought back). */
const RENEW = `
local n = 0
for i = 2, #ARGV do n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[1], ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], 120000)
return n
`;

interface Commands {
  crsAcquireLease(...args: (string | number)[]): Promise<number>;
  crsRenewLeases(...args: (string | number)[]): Promise<number>;
}

export function defineLeaseScripts(redis: RedisClient) {
  redis.defineCommand('crsAcquireLease', { numberOfKeys: 1, lua: ACQUIRE });
  redis.defineCommand('crsRenewLeases', { numberOfKeys: 1, lua: RENEW });
  const c = redis as unknown as Commands;
  return {
    async acquire(set: string, now: number, leaseId: string, leaseMs: number, cap: number): Promise<boolean> {
      return (await c.crsAcquireLease(set, now, leaseId, leaseMs, cap)) === 1;
    },
    async renew(set: string, expiresAt: number, ids: string[]): Promise<void> {
      if (ids.length > 0) await c.crsRenewLeases(set, expiresAt, ...ids);
    },
  };
}
