import type { RedisTarget } from '../config/index.js';
import type { Logger } from '../util/log.js';
import { createInvalidationBus, type InvalidationBus } from './cache.js';
import { createKeySpace, type KeySpace } from './keys.js';
import { closeRedis, createRedis, memoryInfo, waitReady, type MemoryInfo, type RedisClient } from './redis.js';
import { defineScripts, type Scripts } from './scripts.js';

export type { MemoryInfo, RedisClient } from './redis.js';
export type { KeySpace } from './keys.js';
export type { CacheStats, InvalidationBus, RecordCache } from './cache.js';
export { createRecordCache, createSnapshot } from './cache.js';
export { USAGE_TTL } from './keys.js';
export { isConnectionFailure, pingLatency, pingWithin } from './redis.js';
export type { SlotBatch } from './scripts.js';

/** Everything that talks to Redis, built once per process and passed in. */
export interface Store {
  readonly redis: RedisClient;
  readonly keys: KeySpace;
  readonly scripts: Scripts;
  readonly bus: InvalidationBus;
  /** Whether this is a Redis Cluster (multi-key commands must stay in one slot). */
  readonly cluster: boolean;
  /** Memory use of the Redis server (every master of a Cluster). */
  memoryInfo(): Promise<MemoryInfo[]>;
  close(): Promise<void>;
}

export async function openStore(opts: {
  target: RedisTarget;
  keyPrefix: string;
  log: Logger;
  name?: string;
}): Promise<Store> {
  const name = opts.name ?? 'crs';
  const redis = createRedis(opts.target, { connectionName: name });
  const subscriber = createRedis(opts.target, { connectionName: `${name}-sub`, autoPipelining: false });
  redis.on('error', (err: Error) => opts.log.warn('redis error', { err }));
  subscriber.on('error', (err: Error) => opts.log.warn('redis subscriber error', { err }));
  await Promise.all([waitReady(redis), waitReady(subscriber)]);
  const keys = createKeySpace(opts.keyPrefix);
  const bus = await createInvalidationBus({
    publisher: redis,
    subscriber,
    channel: keys.invalidationChannel(),
    log: opts.log,
  });
  return {
    redis,
    keys,
    scripts: defineScripts(redis),
    bus,
    cluster: opts.target.kind === 'cluster',
    memoryInfo: () => memoryInfo(redis),
    async close() {
      await bus.close();
      await Promise.all([closeRedis(subscriber), closeRedis(redis)]);
    },
  };
}
