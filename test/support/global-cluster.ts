import type { TestProject } from 'vitest/node';
import './provided.js';
import { startRedisCluster } from './redis-servers.js';

export default async function setup(project: TestProject) {
  const redis = await startRedisCluster(3);
  project.provide('redisTarget', redis.target);
  return () => redis.stop();
}
