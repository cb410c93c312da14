import type { FencedOp } from '../alerts/fence.js';
import type { Store } from '../store/index.js';
import type { Logger } from '../util/log.js';

/**
 * The jobs lease: one primary in the deployment runs the periodic jobs. It is a Redis key
 * holding `<node>|<fencing token>` with a TTL, renewed while the holder lives; when it lapses,
 * any node's primary takes it with a new, higher token.
 *
 * Holding is not believed on the holder's word: every write a job makes goes through `fenced`,
 * a Lua call that first checks the key still holds this holder's token. A node paused past its
 * lease (GC, a stopped VM, a partition) wakes up unable to write, whatever its own clock says.
 */
export interface JobsLease {
  /** Takes the lease if free, renews it if ours: `held`, `taken` (by another node) or `unreachable` (Redis). */
  tick(): Promise<'held' | 'taken' | 'unreachable'>;
  /** Whether the last tick held it and its TTL has not run out locally since. */
  held(): boolean;
  /** `<node>|<token>` of our current hold, or null. */
  holder(): string | null;
  /** Runs Redis writes only if we still hold the lease; false (nothing written) if not. */
  fenced(ops: readonly FencedOp[]): Promise<boolean>;
  /** LMOVE from the head of `from` to the tail of `to` if we still hold the lease (false if not). */
  move(from: string, to: string): Promise<string | null | false>;
  /** Gives the lease up (clean shutdown), so another node takes over at once. */
  release(): Promise<void>;
}

const TAKE = `
local cur = redis.call('GET', KEYS[1])
if cur and ARGV[3] ~= '' and cur == ARGV[3] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return cur
end
if cur then return false end
local token = redis.call('INCR', KEYS[2])
local value = ARGV[1] .. '|' .. token
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value
`;

const FENCED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local ops = cjson.decode(ARGV[2])
for _, op in ipairs(ops) do
  local args = { op[1], KEYS[op[2]] }
  for i = 3, #op do args[#args + 1] = op[i] end
  redis.call(unpack(args))
end
return #ops
`;

const MOVE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local v = redis.call('LMOVE', KEYS[2], KEYS[3], 'LEFT', 'RIGHT')
if v then return v end
return 0
`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

interface LeaseCommands {
  crsJobsTake(lease: string, fence: string, node: string, ttlMs: number, current: string): Promise<string | null>;
  /** Variadic keys: the first argument is how many there are. */
  crsJobsFenced(numberOfKeys: number, ...keysAndArgs: string[]): Promise<number>;
  crsJobsRelease(lease: string, value: string): Promise<number>;
  crsJobsMove(lease: string, from: string, to: string, value: string): Promise<string | number>;
}

export function createJobsLease(deps: { store: Store; node: string; ttlMs: number; log: Logger }): JobsLease {
  const { store, node, ttlMs, log } = deps;
  const redis = store.redis;
  redis.defineCommand('crsJobsTake', { numberOfKeys: 2, lua: TAKE });
  redis.defineCommand('crsJobsRelease', { numberOfKeys: 1, lua: RELEASE });
  redis.defineCommand('crsJobsFenced', { lua: FENCED });
  redis.defineCommand('crsJobsMove', { numberOfKeys: 3, lua: MOVE });
  const commands = redis as unknown as LeaseCommands;
  let value: string | null = null;
  let validUntil = 0;

  const lost = (why: string) => {
    if (value) log.warn('jobs lease lost; periodic jobs stop here', { node, lease: value, why });
    value = null;
    validUntil = 0;
  };

  return {
    async tick() {
      const startedAt = Date.now();
      try {
        const got = await commands.crsJobsTake(
          store.keys.jobsLease(),
          store.keys.jobsFence(),
          node,
          ttlMs,
          value ?? '',
        );
        if (!got) {
          lost('held by another node');
          return 'taken';
        }
        if (got !== value) log.info('jobs lease taken; periodic jobs run here', { node, lease: got });
        value = got;
        // Counted from before the call: the key may have been set at any moment of it.
        validUntil = startedAt + ttlMs;
        return 'held';
      } catch (err) {
        lost(`Redis: ${(err as Error).message}`);
        return 'unreachable';
      }
    },
    held: () => value !== null && Date.now() < validUntil,
    holder: () => value,
    async fenced(ops) {
      if (!value) return false;
      if (ops.length === 0) return true;
      const keys = [store.keys.jobsLease()];
      const index = new Map<string, number>();
      const encoded = ops.map(([command, key, ...args]) => {
        let i = index.get(key);
        if (i === undefined) {
          keys.push(key);
          i = keys.length;
          index.set(key, i);
        }
        return [command, i, ...args.map(String)];
      });
      const done = await commands.crsJobsFenced(keys.length, ...keys, value, JSON.stringify(encoded));
      if (done < 0) {
        lost('fenced write refused');
        return false;
      }
      return true;
    },
    async move(from, to) {
      if (!value) return false;
      const got = await commands.crsJobsMove(store.keys.jobsLease(), from, to, value);
      if (got === -1) {
        lost('fenced move refused');
        return false;
      }
      return got === 0 ? null : String(got);
    },
    async release() {
      if (!value) return;
      const mine = value;
      value = null;
      await commands.crsJobsRelease(store.keys.jobsLease(), mine).catch(() => 0);
    },
  };
}
