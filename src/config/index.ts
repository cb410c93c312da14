import os from 'node:os';
import path from 'node:path';
import {
  ConfigError,
  type HostPort,
  parseBoolean,
  parseDuration,
  parseEnum,
  parseHostList,
  parseInteger,
  parseSize,
  parseTimezone,
} from './parse.js';

export { ConfigError } from './parse.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where Redis lives. `embedded`: the primary starts a private redis-server in DATA_DIR. */
export type RedisTarget =
  | { kind: 'embedded' }
  | { kind: 'url'; url: string }
  | { kind: 'cluster'; nodes: HostPort[]; password: string | undefined };

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly workers: number;
  readonly redis: RedisTarget;
  readonly redisKeyPrefix: string;
  readonly redisServerBin: string;
  readonly dataDir: string;
  /** Undefined until the primary has loaded or generated it (see primary/bootstrap.ts). */
  readonly encryptionKey: string | undefined;
  readonly adminUsername: string;
  readonly adminPassword: string | undefined;
  readonly logLevel: LogLevel;
  readonly bodyLimitBytes: number;
  readonly drainTimeoutMs: number;
  readonly upstreamConnectTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  readonly statsTimezone: string;
  readonly usageRecordsKept: number;
  readonly adminSessionTtlMs: number;
  readonly trustProxy: boolean;
  readonly cacheTtlMs: number;
}

/**
 * Every setting: its environment variable, its default, and what it means. The README's
 * configuration table is written from this list; a test keeps the two in step.
 */
export const SETTINGS = {
  PORT: { default: '3000', doc: 'TCP port every worker listens on (shared through SO_REUSEPORT).' },
  HOST: { default: '0.0.0.0', doc: 'Address to bind.' },
  WORKERS: { default: 'number of cores', doc: 'Worker processes the primary forks.' },
  REDIS_URL: { default: '(embedded)', doc: 'redis://[user:pass@]host:port[/db] or unix:///path/to/redis.sock of a standalone Redis.' },
  REDIS_CLUSTER_NODES: { default: '', doc: 'Comma list of host:port seeds; switches to Redis Cluster mode.' },
  REDIS_PASSWORD: { default: '', doc: 'Password for REDIS_CLUSTER_NODES (REDIS_URL carries its own).' },
  REDIS_KEY_PREFIX: { default: '', doc: 'Prefix for every Redis key and channel, to share one Redis between deployments.' },
  REDIS_SERVER_BIN: { default: 'redis-server', doc: 'redis-server binary used for the embedded Redis.' },
  DATA_DIR: { default: './data', doc: 'Embedded Redis data (AOF), generated encryption key.' },
  ENCRYPTION_KEY: { default: '(generated into DATA_DIR)', doc: 'Secret (32+ chars) for credential encryption and key hashing. Changing it orphans stored secrets and keys.' },
  ADMIN_USERNAME: { default: 'admin', doc: 'Initial admin user name (used when no admin exists yet).' },
  ADMIN_PASSWORD: { default: '(generated, printed once)', doc: 'Initial admin password (used when no admin exists yet).' },
  LOG_LEVEL: { default: 'info', doc: 'debug, info, warn or error.' },
  BODY_LIMIT: { default: '32mb', doc: 'Largest request body accepted (Claude Code sends 100+ KB prompts and images).' },
  DRAIN_TIMEOUT: { default: '30s', doc: 'On SIGTERM, how long in-flight requests and streams may take to finish.' },
  UPSTREAM_CONNECT_TIMEOUT: { default: '10s', doc: 'Connecting to an upstream.' },
  UPSTREAM_TIMEOUT: { default: '10m', doc: 'Waiting for upstream headers, and the longest silence inside a stream.' },
  STATS_TIMEZONE: { default: 'UTC', doc: 'IANA time zone of the hourly/daily/monthly usage buckets.' },
  USAGE_RECORDS_KEPT: { default: '200', doc: 'Recent usage records kept per key.' },
  ADMIN_SESSION_TTL: { default: '24h', doc: 'Admin login token lifetime.' },
  TRUST_PROXY: { default: 'false', doc: 'Take the client address from X-Forwarded-For (behind Nginx/Caddy).' },
  CACHE_TTL: { default: '60s', doc: 'Safety-net TTL of cached key and account records (changes are pushed by pub/sub).' },
} as const;

export type SettingName = keyof typeof SETTINGS;
export type Env = Readonly<Partial<Record<string, string>>>;

/** Reads the environment once into a validated, frozen Config. Throws ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): Config {
  const get = (name: SettingName): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const or = (name: SettingName, fallback: string): string => get(name) ?? fallback;

  const encryptionKey = get('ENCRYPTION_KEY');
  if (encryptionKey !== undefined && encryptionKey.length < 32) {
    throw new ConfigError('ENCRYPTION_KEY', 'must be at least 32 characters (e.g. openssl rand -hex 32)');
  }
  const clusterNodes = get('REDIS_CLUSTER_NODES');
  const redisUrl = get('REDIS_URL');
  if (clusterNodes && redisUrl) throw new ConfigError('REDIS_CLUSTER_NODES', 'set either REDIS_URL or REDIS_CLUSTER_NODES, not both');
  if (redisUrl && !/^(rediss?|unix):\/\//.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', `expected redis://, rediss:// or unix://, got "${redisUrl}"`);
  }
  const redis: RedisTarget = clusterNodes
    ? { kind: 'cluster', nodes: parseHostList('REDIS_CLUSTER_NODES', clusterNodes), password: get('REDIS_PASSWORD') }
    : redisUrl
      ? { kind: 'url', url: redisUrl }
      : { kind: 'embedded' };

  const cores = os.availableParallelism();
  const config: Config = {
    port: parseInteger('PORT', or('PORT', '3000'), 0, 65535),
    host: or('HOST', '0.0.0.0'),
    workers: parseInteger('WORKERS', or('WORKERS', String(cores)), 1, 256),
    redis,
    redisKeyPrefix: or('REDIS_KEY_PREFIX', ''),
    redisServerBin: or('REDIS_SERVER_BIN', 'redis-server'),
    dataDir: path.resolve(or('DATA_DIR', './data')),
    encryptionKey,
    adminUsername: or('ADMIN_USERNAME', 'admin'),
    adminPassword: get('ADMIN_PASSWORD'),
    logLevel: parseEnum('LOG_LEVEL', or('LOG_LEVEL', 'info'), ['debug', 'info', 'warn', 'error'] as const),
    bodyLimitBytes: parseSize('BODY_LIMIT', or('BODY_LIMIT', '32mb')),
    drainTimeoutMs: parseDuration('DRAIN_TIMEOUT', or('DRAIN_TIMEOUT', '30s')),
    upstreamConnectTimeoutMs: parseDuration('UPSTREAM_CONNECT_TIMEOUT', or('UPSTREAM_CONNECT_TIMEOUT', '10s'), 100),
    upstreamTimeoutMs: parseDuration('UPSTREAM_TIMEOUT', or('UPSTREAM_TIMEOUT', '10m'), 1000),
    statsTimezone: parseTimezone('STATS_TIMEZONE', or('STATS_TIMEZONE', 'UTC')),
    usageRecordsKept: parseInteger('USAGE_RECORDS_KEPT', or('USAGE_RECORDS_KEPT', '200'), 0, 100_000),
    adminSessionTtlMs: parseDuration('ADMIN_SESSION_TTL', or('ADMIN_SESSION_TTL', '24h'), 60_000),
    trustProxy: parseBoolean('TRUST_PROXY', or('TRUST_PROXY', 'false')),
    cacheTtlMs: parseDuration('CACHE_TTL', or('CACHE_TTL', '60s'), 1000),
  };
  return Object.freeze(config);
}

/** A copy of `config` with some fields replaced, still frozen (the primary fills in resolved values). */
export function withOverrides(config: Config, overrides: Partial<Config>): Config {
  return Object.freeze({ ...config, ...overrides });
}
