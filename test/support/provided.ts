import type { RedisServers } from './redis-servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Redis the project's tests run against. */
    redisTarget: RedisServers['target'];
  }
}
