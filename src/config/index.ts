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
  readonly schedulerStrategy: Strategy;
  readonly stickyTtlMs: number;
  readonly stickyRenewBelowMs: number;
  readonly lightLoadInFlight: number;
  readonly maxAttempts: number;
  readonly rateLimitCooldownMs: number;
  readonly overloadedCooldownMs: number;
  readonly serverErrorCooldownMs: number;
  readonly maxCooldownMs: number;
  readonly breakerErrorPercent: number;
  readonly breakerVolume: number;
  readonly breakerResetMs: number;
  readonly breakerWindowMs: number;
  readonly leaseTtlMs: number;
}

/** Scheduling strategies (kept here so config depends on nothing). */
export const STRATEGY_NAMES = ['least-recently-used', 'round-robin', 'weighted-round-robin', 'least-connections', 'fastest'] as const;
export type Strategy = (typeof STRATEGY_NAMES)[number];

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
  SCHEDULER_STRATEGY: { default: 'least-recently-used', doc: 'Default strategy within a priority tier: least-recently-used, round-robin, weighted-round-robin, least-connections, fastest. Groups may override it.' },
  STICKY_TTL: { default: '1h', doc: 'How long a conversation stays on its account; a request renews it when less than STICKY_RENEW_BELOW is left.' },
  STICKY_RENEW_BELOW: { default: '15m', doc: 'A sticky mapping with less than this left is renewed by its next request.' },
  LIGHT_LOAD_IN_FLIGHT: { default: '8', doc: 'An account without a concurrency cap counts as lightly loaded below this many requests in flight.' },
  UPSTREAM_MAX_ATTEMPTS: { default: '3', doc: 'Accounts tried per request (failover on 429, 529, 5xx, 401/403, timeouts, before the first byte).' },
  COOLDOWN_RATE_LIMIT: { default: '60s', doc: 'Cooldown after a 429 whose response carries no reset time.' },
  COOLDOWN_OVERLOADED: { default: '30s', doc: 'Cooldown of a model family on an account after a 529.' },
  COOLDOWN_SERVER_ERROR: { default: '15s', doc: 'Cooldown of an account after a 5xx, a timeout or a connection failure.' },
  COOLDOWN_MAX: { default: '24h', doc: 'The longest cooldown an upstream reset header can ask for.' },
  BREAKER_ERROR_PERCENT: { default: '50', doc: 'Failure percentage that opens an account\'s circuit breaker.' },
  BREAKER_VOLUME: { default: '10', doc: 'Calls in the window before the breaker may open.' },
  BREAKER_RESET: { default: '30s', doc: 'How long an open breaker waits before a half-open probe.' },
  BREAKER_WINDOW: { default: '60s', doc: 'Rolling window of the breaker statistics.' },
  LEASE_TTL: { default: '30s', doc: 'Concurrency leases expire after this unless renewed (a crashed worker frees its slots).' },
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
    schedulerStrategy: parseEnum('SCHEDULER_STRATEGY', or('SCHEDULER_STRATEGY', 'least-recently-used'), STRATEGY_NAMES),
    stickyTtlMs: parseDuration('STICKY_TTL', or('STICKY_TTL', '1h'), 1000),
    stickyRenewBelowMs: parseDuration('STICKY_RENEW_BELOW', or('STICKY_RENEW_BELOW', '15m')),
    lightLoadInFlight: parseInteger('LIGHT_LOAD_IN_FLIGHT', or('LIGHT_LOAD_IN_FLIGHT', '8'), 1, 100_000),
    maxAttempts: parseInteger('UPSTREAM_MAX_ATTEMPTS', or('UPSTREAM_MAX_ATTEMPTS', '3'), 1, 20),
    rateLimitCooldownMs: parseDuration('COOLDOWN_RATE_LIMIT', or('COOLDOWN_RATE_LIMIT', '60s'), 100),
    overloadedCooldownMs: parseDuration('COOLDOWN_OVERLOADED', or('COOLDOWN_OVERLOADED', '30s'), 100),
    serverErrorCooldownMs: parseDuration('COOLDOWN_SERVER_ERROR', or('COOLDOWN_SERVER_ERROR', '15s'), 100),
    maxCooldownMs: parseDuration('COOLDOWN_MAX', or('COOLDOWN_MAX', '24h'), 1000),
    breakerErrorPercent: parseInteger('BREAKER_ERROR_PERCENT', or('BREAKER_ERROR_PERCENT', '50'), 1, 100),
    breakerVolume: parseInteger('BREAKER_VOLUME', or('BREAKER_VOLUME', '10'), 1, 100_000),
    breakerResetMs: parseDuration('BREAKER_RESET', or('BREAKER_RESET', '30s'), 100),
    breakerWindowMs: parseDuration('BREAKER_WINDOW', or('BREAKER_WINDOW', '60s'), 1000),
    leaseTtlMs: parseDuration('LEASE_TTL', or('LEASE_TTL', '30s'), 1000),
  };
  return Object.freeze(config);
}

/** A copy of `config` with some fields replaced, still frozen (the primary fills in resolved values). */
export function withOverrides(config: Config, overrides: Partial<Config>): Config {
  return Object.freeze({ ...config, ...overrides });
}
