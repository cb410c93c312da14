import type { RedisClient } from '../store/redis.js';
import { COUNTER_FIELDS } from '../usage/recorder.js';
import { task, type WorkPool } from '../work/pool.js';
import { sumColumns, type SumInput } from './sum.js';
import type { Sums } from './sums.js';

/** Hashes read per round of commands (auto-pipelined: one pipeline per node of a Cluster). */
const CHUNK = 500;
/** Reports summing more hashes than this do the summing on a pool thread. */
export const POOL_THRESHOLD = 2_000;

const SUM_TASK = task<SumInput, string[][]>(new URL('./sum-task.js', import.meta.url), 'sum');

/**
 * Reads the counter fields of every group's hashes, CHUNK hashes per round (each HMGET names one
 * key, so a Cluster serves it from the key's own slot), into the summing function's input.
 */
export async function readCounters(
  redis: Pick<RedisClient, 'hmget'>,
  groups: readonly (readonly string[])[],
  signal?: AbortSignal,
): Promise<SumInput> {
  const owners: number[] = [];
  const values: (string | null)[] = [];
  let batch: string[] = [];
  const flush = async () => {
    signal?.throwIfAborted();
    const replies = await Promise.all(batch.map((key) => redis.hmget(key, ...COUNTER_FIELDS)));
    for (const r of replies) for (const v of r) values.push(v);
    batch = [];
  };
  for (let g = 0; g < groups.length; g++) {
    for (const key of groups[g] ?? []) {
      owners.push(g);
      batch.push(key);
      if (batch.length >= CHUNK) await flush();
    }
  }
  if (batch.length > 0) await flush();
  return { fields: COUNTER_FIELDS.length, groups: groups.length, owners, values };
}

const toSums = (columns: string[][]): Sums[] =>
  columns.map((col) => Object.fromEntries(COUNTER_FIELDS.map((f, i) => [f, col[i] ?? '0'])) as Sums);

/** Reads and sums each group of usage hashes on this thread (one Sums per group, in order). */
export async function readSums(
  redis: Pick<RedisClient, 'hmget'>,
  groups: readonly (readonly string[])[],
  signal?: AbortSignal,
): Promise<Sums[]> {
  return toSums(sumColumns(await readCounters(redis, groups, signal)));
}

/**
 * Reads and sums groups of usage hashes. The reads go out from this thread in bounded chunks;
 * when there are more than POOL_THRESHOLD hashes the summing runs on a pool thread, so a large
 * report does not hold up the event loop that serves requests. Both paths run `sumColumns`.
 */
export async function sumGroups(
  deps: { redis: Pick<RedisClient, 'hmget'>; work: WorkPool },
  groups: readonly (readonly string[])[],
  signal?: AbortSignal,
): Promise<Sums[]> {
  const input = await readCounters(deps.redis, groups, signal);
  if (input.owners.length <= POOL_THRESHOLD) return toSums(sumColumns(input));
  return toSums(await deps.work.run(SUM_TASK, input, signal ? { signal } : {}));
}
