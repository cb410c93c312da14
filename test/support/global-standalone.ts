import type { TestProject } from 'vitest/node';
import './provided.js';
import { startStandaloneRedis } from './redis-servers.js';

export default async function setup(project: TestProject) {
  const redis = await startStandaloneRedis();
  project.provide('redisTarget', redis.target);
  return () => redis.stop();
}
