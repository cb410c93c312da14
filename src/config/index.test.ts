import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Env } from './index.js';

const KEY32 = '0123456789abcdef0123456789abcdef';

function configError(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  const config = loadConfig({});

  it('fills every setting from the table of defaults', () => {
    expect(config).toEqual({
      port: 3000,
      host: '0.0.0.0',
      workers: os.availableParallelism(),
      workerMaxRestarts: 10,
      redis: { kind: 'embedded' },
      redisKeyPrefix: '',
      redisServerBin: 'redis-server',
      dataDir: path.resolve('./data'),
      encryptionKey: undefined,
      adminUsername: 'admin',
      adminPassword: undefined,
      logLevel: 'info',
      logFormat: 'json',
      nodeId: os.hostname(),
      metricsListen: { host: '127.0.0.1', port: 9464 },
      metricsToken: undefined,
      metricsKeys: [],
      bodyLimitBytes: 32 * 1024 * 1024,
      drainTimeoutMs: 30_000,
      upstreamConnectTimeoutMs: 10_000,
      upstreamTimeoutMs: 10 * 60_000,
      statsTimezone: 'UTC',
      usageRecordsKept: 200,
      workThreads: Math.max(1, Math.floor(os.availableParallelism() / 2)),
      keyFailureLimit: 50,
      keyFailureWindowMs: 600_000,
      adminSessionTtlMs: 24 * 3_600_000,
      trustProxy: false,
      trustedProxies: [
        { address: '127.0.0.0', prefix: 8, family: 'ipv4' },
        { address: '::1', prefix: 128, family: 'ipv6' },
      ],
      cacheTtlMs: 60_000,
      schedulerStrategy: 'least-recently-used',
      stickyTtlMs: 3_600_000,
      stickyRenewBelowMs: 15 * 60_000,
      lightLoadInFlight: 8,
      maxAttempts: 3,
      rateLimitCooldownMs: 60_000,
      overloadedCooldownMs: 30_000,
      serverErrorCooldownMs: 15_000,
      maxCooldownMs: 24 * 3_600_000,
      breakerErrorPercent: 50,
      breakerVolume: 10,
      breakerResetMs: 30_000,
      breakerWindowMs: 60_000,
      leaseTtlMs: 30_000,
      publicUrl: null,
      alerts: {
        enabled: true,
        rulesFile: path.resolve(import.meta.dirname, '..', '..', 'alerts', 'rules.yml'),
        evalIntervalMs: 15_000,
        jobsLeaseMs: 15_000,
      },
      probes: {
        enabled: true,
        intervalMs: 600_000,
        idleMs: 600_000,
        concurrency: 2,
        timeoutMs: 30_000,
        failuresToDisable: 3,
        successesToEnable: 2,
        passiveErrorPercent: 50,
        passiveMinRequests: 10,
        passiveWindowMs: 300_000,
      },
      google: {
        geminiApiUrl: 'https://generativelanguage.googleapis.com',
        codeAssistUrl: 'https://cloudcode-pa.googleapis.com',
        oauth: {
          authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
          tokenUrl: 'https://oauth2.googleapis.com/token',
          clientId: '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com',
          clientSecret: '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',
          redirectUri: 'https://codeassist.google.com/authcode',
        },
      },
      openai: {
        apiUrl: 'https://api.openai.com',
        chatgptBackendUrl: 'https://chatgpt.com/backend-api/codex',
        oauth: {
          authorizeUrl: 'https://auth.openai.com/oauth/authorize',
          tokenUrl: 'https://auth.openai.com/oauth/token',
          clientId: 'app_EMoamEEZ73f0CkXaXp7hrann',
          redirectUri: 'http://localhost:1455/auth/callback',
        },
      },
      claudeOAuth: {
        authorizeUrl: 'https://claude.ai/oauth/authorize',
        tokenUrl: 'https://platform.claude.com/v1/oauth/token',
        clientId: '9d1c250a-e61b-44d9-88ed-5944d1962f5e',
        redirectUri: 'https://platform.claude.com/oauth/code/callback',
        scopes: [
          'org:create_api_key',
          'user:profile',
          'user:inference',
          'user:sessions:claude_code',
          'user:mcp_servers',
          'user:file_upload',
        ],
      },
    });
  });

  it('treats empty and blank values as unset', () => {
    expect(loadConfig({ PORT: '', WORKERS: '   ', LOG_LEVEL: ' ' })).toMatchObject({
      port: 3000,
      workers: os.availableParallelism(),
      logLevel: 'info',
    });
  });

  it('does not read process.env when given an env object', () => {
    expect(loadConfig({ PORT: '4321' }).port).toBe(4321);
  });
});

describe('loadConfig parses values', () => {
  it.each<[Env, Record<string, unknown>]>([
    [{ PORT: '8080' }, { port: 8080 }],
    [{ PORT: ' 8080 ' }, { port: 8080 }],
    [{ WORKERS: '1' }, { workers: 1 }],
    [{ BODY_LIMIT: '32mb' }, { bodyLimitBytes: 32 * 1024 * 1024 }],
    [{ BODY_LIMIT: '512kb' }, { bodyLimitBytes: 512 * 1024 }],
    [{ BODY_LIMIT: '1MB' }, { bodyLimitBytes: 1024 * 1024 }],
    [{ BODY_LIMIT: '1048576' }, { bodyLimitBytes: 1_048_576 }],
    [{ DRAIN_TIMEOUT: '30s' }, { drainTimeoutMs: 30_000 }],
    [{ DRAIN_TIMEOUT: '250ms' }, { drainTimeoutMs: 250 }],
    [{ DRAIN_TIMEOUT: '0' }, { drainTimeoutMs: 0 }],
    [{ UPSTREAM_TIMEOUT: '10m' }, { upstreamTimeoutMs: 600_000 }],
    [{ ADMIN_SESSION_TTL: '24h' }, { adminSessionTtlMs: 86_400_000 }],
    [{ KEY_FAILURE_LIMIT: '0' }, { keyFailureLimit: 0 }],
    [{ KEY_FAILURE_WINDOW: '1h' }, { keyFailureWindowMs: 3_600_000 }],
    [{ ADMIN_SESSION_TTL: '7d' }, { adminSessionTtlMs: 7 * 86_400_000 }],
    [{ LOG_LEVEL: 'DEBUG' }, { logLevel: 'debug' }],
    [{ STATS_TIMEZONE: 'Asia/Kathmandu' }, { statsTimezone: 'Asia/Kathmandu' }],
    [{ TRUST_PROXY: 'yes' }, { trustProxy: true }],
    [{ TRUST_PROXY: '0' }, { trustProxy: false }],
    [
      { TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7,fd00::/8' },
      {
        trustedProxies: [
          { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
          { address: '192.168.1.7', prefix: 32, family: 'ipv4' },
          { address: 'fd00::', prefix: 8, family: 'ipv6' },
        ],
      },
    ],
    [{ ENCRYPTION_KEY: KEY32 }, { encryptionKey: KEY32 }],
    [{ REDIS_URL: 'redis://:pw@10.0.0.5:6379/2' }, { redis: { kind: 'url', url: 'redis://:pw@10.0.0.5:6379/2' } }],
    [{ REDIS_URL: 'rediss://cache.internal:6380' }, { redis: { kind: 'url', url: 'rediss://cache.internal:6380' } }],
    [{ REDIS_URL: 'unix:///var/run/redis.sock' }, { redis: { kind: 'url', url: 'unix:///var/run/redis.sock' } }],
    [
      { REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001', REDIS_PASSWORD: 'pw' },
      {
        redis: {
          kind: 'cluster',
          nodes: [
            { host: '10.0.0.1', port: 7000 },
            { host: '10.0.0.2', port: 7001 },
          ],
          password: 'pw',
        },
      },
    ],
    [
      { REDIS_CLUSTER_NODES: '[::1]:7000,[fe80::1]:7001,redis-0.redis:6379' },
      {
        redis: {
          kind: 'cluster',
          nodes: [
            { host: '::1', port: 7000 },
            { host: 'fe80::1', port: 7001 },
            { host: 'redis-0.redis', port: 6379 },
          ],
          password: undefined,
        },
      },
    ],
    [{ DATA_DIR: '/srv/crs' }, { dataDir: '/srv/crs' }],
  ])('%j', (env, expected) => {
    expect(loadConfig(env)).toMatchObject(expected);
  });
});

describe('loadConfig rejects bad values, naming the variable', () => {
  it.each<[string, Env]>([
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['PORT', { PORT: '80.5' }],
    ['WORKERS', { WORKERS: '0' }],
    ['WORKERS', { WORKERS: 'many' }],
    ['BODY_LIMIT', { BODY_LIMIT: 'lots' }],
    ['BODY_LIMIT', { BODY_LIMIT: '512' }],
    ['DRAIN_TIMEOUT', { DRAIN_TIMEOUT: '5 minutes' }],
    ['DRAIN_TIMEOUT', { DRAIN_TIMEOUT: '-5s' }],
    ['UPSTREAM_CONNECT_TIMEOUT', { UPSTREAM_CONNECT_TIMEOUT: '50ms' }],
    ['ADMIN_SESSION_TTL', { ADMIN_SESSION_TTL: '30s' }],
    ['KEY_FAILURE_LIMIT', { KEY_FAILURE_LIMIT: '-1' }],
    ['KEY_FAILURE_WINDOW', { KEY_FAILURE_WINDOW: '100ms' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['STATS_TIMEZONE', { STATS_TIMEZONE: 'Mars/Base' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'maybe' }],
    ['TRUSTED_PROXIES', { TRUSTED_PROXIES: '10.0.0.0/33' }],
    ['TRUSTED_PROXIES', { TRUSTED_PROXIES: 'nginx.local' }],
    ['USAGE_RECORDS_KEPT', { USAGE_RECORDS_KEPT: '1e3' }],
    ['ENCRYPTION_KEY', { ENCRYPTION_KEY: 'short-secret' }],
    ['ENCRYPTION_KEY', { ENCRYPTION_KEY: KEY32.slice(1) }],
    ['REDIS_URL', { REDIS_URL: 'http://localhost:6379' }],
    ['CLAUDE_OAUTH_TOKEN_URL', { CLAUDE_OAUTH_TOKEN_URL: 'platform.claude.com/v1/oauth/token' }],
    ['CLAUDE_OAUTH_AUTHORIZE_URL', { CLAUDE_OAUTH_AUTHORIZE_URL: 'ftp://claude.ai/oauth/authorize' }],
    ['REDIS_URL', { REDIS_URL: 'localhost:6379' }],
    ['CODE_ASSIST_URL', { CODE_ASSIST_URL: 'cloudcode-pa.googleapis.com' }],
    ['GOOGLE_OAUTH_TOKEN_URL', { GOOGLE_OAUTH_TOKEN_URL: 'ftp://oauth2.googleapis.com/token' }],
    ['REDIS_CLUSTER_NODES', { REDIS_URL: 'redis://localhost:6379', REDIS_CLUSTER_NODES: '10.0.0.1:7000' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: '10.0.0.1' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: '10.0.0.1:port' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: '10.0.0.1:0' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: '10.0.0.1:70000' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: ':7000' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: '[::1]' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: ' , ' }],
  ])('%s: %j', (variable, env) => {
    const err = configError(env);
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`${variable}:`)).toBe(true);
  });

  it('quotes the bad value in the message', () => {
    expect(configError({ LOG_LEVEL: 'verbose' }).message).toContain('"verbose"');
  });
});

describe('the config is frozen', () => {
  it('cannot be changed after load', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});
