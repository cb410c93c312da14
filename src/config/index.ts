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
  parseSubnets,
  parseTimezone,
  type Subnet,
} from './parse.js';

export { ConfigError, type Subnet } from './parse.js';

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
  /** Crashes in a row (each within a minute of its start) after which the primary gives up and exits 1. */
  readonly workerMaxRestarts: number;
  readonly redis: RedisTarget;
  readonly redisKeyPrefix: string;
  readonly redisServerBin: string;
  readonly dataDir: string;
  /** Undefined until the primary has loaded or generated it (see primary/bootstrap.ts). */
  readonly encryptionKey: string | undefined;
  readonly adminUsername: string;
  readonly adminPassword: string | undefined;
  readonly logLevel: LogLevel;
  readonly logFormat: 'json' | 'pretty';
  /** This node's name in metrics, logs and `health:status` (several nodes share one Redis). */
  readonly nodeId: string;
  /** The primary's metrics listener; null: none. Port 0: a free one. */
  readonly metricsListen: { host: string; port: number } | null;
  /** GET /metrics on the main port answers to this bearer token; undefined: not served there. */
  readonly metricsToken: string | undefined;
  /** Relay key ids counted under their own label in relay_key_requests_total. */
  readonly metricsKeys: readonly string[];
  readonly bodyLimitBytes: number;
  readonly drainTimeoutMs: number;
  readonly upstreamConnectTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  readonly statsTimezone: string;
  readonly usageRecordsKept: number;
  /** Most threads of the process's pool for CPU-heavy work (src/work/). */
  readonly workThreads: number;
  readonly keyFailureLimit: number;
  readonly keyFailureWindowMs: number;
  readonly adminSessionTtlMs: number;
  readonly trustProxy: boolean;
  /** Proxies whose X-Forwarded-For entries are believed (with trustProxy). */
  readonly trustedProxies: readonly Subnet[];
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
  /** Base URL of the admin panel for links in alert messages (no trailing slash); null: no links. */
  readonly publicUrl: string | null;
  readonly alerts: AlertsConfig;
  readonly probes: ProbesConfig;
  /** Claude (Pro/Max) OAuth: where the PKCE flow and token refreshes go (a fake server in tests). */
  readonly claudeOAuth: ClaudeOAuthConfig;
  /** OpenAI: the API for API-key accounts, the ChatGPT (Codex) backend and its OAuth endpoints. */
  readonly openai: OpenAIConfig;
  /** Google: the Gemini API, Code Assist, and the OAuth flow of Google accounts (fakes in tests). */
  readonly google: GoogleConfig;
}

export interface AlertsConfig {
  readonly enabled: boolean;
  /** The rules file (YAML); the shipped alerts/rules.yml by default. */
  readonly rulesFile: string;
  readonly evalIntervalMs: number;
  /** How long a node holds a job's lease without renewing it (a dead node's jobs move after this). */
  readonly jobsLeaseMs: number;
}

export interface ProbesConfig {
  readonly enabled: boolean;
  /** Default time between two probes of one account (an account may set its own). */
  readonly intervalMs: number;
  /** Only accounts without real traffic for this long are probed (suspect ones always are). */
  readonly idleMs: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** Failed probes in a row that take an account out. */
  readonly failuresToDisable: number;
  /** Successful probes in a row that bring an automatically disabled account back. */
  readonly successesToEnable: number;
  /** Passive: real traffic with at least this error percentage… */
  readonly passiveErrorPercent: number;
  /** …over at least this many requests… */
  readonly passiveMinRequests: number;
  /** …inside this window takes an account out as well. */
  readonly passiveWindowMs: number;
}

export interface GoogleConfig {
  /** Base URL of the Gemini API for API-key accounts without a base URL of their own. */
  readonly geminiApiUrl: string;
  /** Base URL of Code Assist (`/v1internal:…`) for Google OAuth accounts. */
  readonly codeAssistUrl: string;
  readonly oauth: {
    readonly authorizeUrl: string;
    readonly tokenUrl: string;
    readonly clientId: string;
    readonly clientSecret: string;
    readonly redirectUri: string;
  };
}

export interface OpenAIConfig {
  /** Base URL of api-key accounts that keep the default base URL. */
  readonly apiUrl: string;
  /** The ChatGPT backend Codex talks to with a ChatGPT login (`…/backend-api/codex`). */
  readonly chatgptBackendUrl: string;
  readonly oauth: {
    readonly authorizeUrl: string;
    readonly tokenUrl: string;
    readonly clientId: string;
    readonly redirectUri: string;
  };
}

export interface ClaudeOAuthConfig {
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
}

/** Scheduling strategies (kept here so config depends on nothing). */
export const STRATEGY_NAMES = [
  'least-recently-used',
  'round-robin',
  'weighted-round-robin',
  'least-connections',
  'fastest',
] as const;
export type Strategy = (typeof STRATEGY_NAMES)[number];

/**
 * Every setting: its environment variable, its default, and what it means. The README's
 * configuration table is written from this list; a test keeps the two in step.
 */
export const SETTINGS = {
  PORT: {
    default: '3000',
    doc: 'TCP port every worker listens on (shared through SO_REUSEPORT); 0 = a free port, picked once by the primary and printed at start.',
  },
  HOST: {
    default: '0.0.0.0',
    doc: 'Address to bind. Off loopback and without TRUST_PROXY the start warns that the admin API travels over plain HTTP: put Nginx or Caddy with TLS in front, or bind 127.0.0.1.',
  },
  WORKERS: { default: 'number of cores', doc: 'Worker processes the primary forks.' },
  WORKER_MAX_RESTARTS: {
    default: '10',
    doc: 'A crashed worker is restarted with backoff (0.5 s doubling to 30 s); after this many crashes in a row, each within a minute of its start, the primary gives up and exits 1 so that systemd, PM2 or Docker can act.',
  },
  REDIS_URL: {
    default: '(embedded)',
    doc: 'redis://[user:pass@]host:port[/db] or unix:///path/to/redis.sock of a standalone Redis.',
  },
  REDIS_CLUSTER_NODES: { default: '', doc: 'Comma list of host:port seeds; switches to Redis Cluster mode.' },
  REDIS_PASSWORD: { default: '', doc: 'Password for REDIS_CLUSTER_NODES (REDIS_URL carries its own).' },
  REDIS_KEY_PREFIX: {
    default: '',
    doc: 'Prefix for every Redis key and channel, to share one Redis between deployments.',
  },
  REDIS_SERVER_BIN: { default: 'redis-server', doc: 'redis-server binary used for the embedded Redis.' },
  DATA_DIR: { default: './data', doc: 'Embedded Redis data (AOF), generated encryption key.' },
  ENCRYPTION_KEY: {
    default: '(generated into DATA_DIR)',
    doc: 'Secret (32+ chars) for credential encryption and key hashing. Changing it orphans stored secrets and keys.',
  },
  ADMIN_USERNAME: { default: 'admin', doc: 'Initial admin user name (used when no admin exists yet).' },
  ADMIN_PASSWORD: {
    default: '(generated, printed once)',
    doc: 'Initial admin password (used when no admin exists yet).',
  },
  LOG_LEVEL: { default: 'info', doc: 'debug, info, warn or error.' },
  LOG_FORMAT: { default: 'json', doc: 'json (one object per line) or pretty (aligned lines for a terminal).' },
  NODE_ID: {
    default: '(host name)',
    doc: "This node's name in metrics, logs and the node list (GET /admin/system/nodes).",
  },
  METRICS_PORT: {
    default: '9464',
    doc: "Port of the primary's Prometheus listener (one scrape for all of the node's workers); 0 = a free port, off = none. With off and no METRICS_TOKEN nothing is counted.",
  },
  METRICS_HOST: { default: '127.0.0.1', doc: 'Address of the metrics listener: loopback unless you open it.' },
  METRICS_TOKEN: {
    default: '',
    doc: 'When set, GET /metrics on the main port serves the same scrape to Authorization: Bearer <token>.',
  },
  METRICS_KEYS: {
    default: '',
    doc: 'Comma list of up to 20 relay key ids counted under their own label (relay_key_requests_total); all others are "other".',
  },
  BODY_LIMIT: { default: '32mb', doc: 'Largest request body accepted (Claude Code sends 100+ KB prompts and images).' },
  DRAIN_TIMEOUT: { default: '30s', doc: 'On SIGTERM, how long in-flight requests and streams may take to finish.' },
  UPSTREAM_CONNECT_TIMEOUT: { default: '10s', doc: 'Connecting to an upstream.' },
  UPSTREAM_TIMEOUT: { default: '10m', doc: 'Waiting for upstream headers, and the longest silence inside a stream.' },
  STATS_TIMEZONE: { default: 'UTC', doc: 'IANA time zone of the hourly/daily/monthly usage buckets.' },
  USAGE_RECORDS_KEPT: { default: '200', doc: 'Recent usage records kept per key.' },
  WORK_THREADS: {
    default: 'half the cores',
    doc: 'Threads per process for CPU-heavy work (report aggregation, exports, token counts of large prompts), started on first use and stopped when idle; 0 runs that work on the event loop (only to measure the difference).',
  },
  KEY_FAILURE_LIMIT: {
    default: '50',
    doc: 'Invalid relay keys one client address may send per KEY_FAILURE_WINDOW, counted across nodes; past it every request from that address gets 429 until the window ends. Addresses in TRUSTED_PROXIES are never blocked. 0 = no limit.',
  },
  KEY_FAILURE_WINDOW: { default: '10m', doc: 'The window of KEY_FAILURE_LIMIT.' },
  ADMIN_SESSION_TTL: { default: '24h', doc: 'Admin login token lifetime.' },
  TRUST_PROXY: {
    default: 'false',
    doc: 'Behind Nginx/Caddy: take the client address from X-Forwarded-For, as appended by a proxy in TRUSTED_PROXIES.',
  },
  TRUSTED_PROXIES: {
    default: '127.0.0.0/8,::1',
    doc: 'Addresses or CIDR blocks of the proxies in front (with TRUST_PROXY). The client is the rightmost X-Forwarded-For entry that is not one of them; entries further left are written by the client and ignored.',
  },
  CACHE_TTL: {
    default: '60s',
    doc: 'Safety-net TTL of cached key and account records (changes are pushed by pub/sub).',
  },
  SCHEDULER_STRATEGY: {
    default: 'least-recently-used',
    doc: 'Default strategy within a priority tier: least-recently-used, round-robin, weighted-round-robin, least-connections, fastest. Groups may override it.',
  },
  STICKY_TTL: {
    default: '1h',
    doc: 'How long a conversation stays on its account; a request renews it when less than STICKY_RENEW_BELOW is left.',
  },
  STICKY_RENEW_BELOW: {
    default: '15m',
    doc: 'A sticky mapping with less than this left is renewed by its next request.',
  },
  LIGHT_LOAD_IN_FLIGHT: {
    default: '8',
    doc: 'An account without a concurrency cap counts as lightly loaded below this many requests in flight.',
  },
  UPSTREAM_MAX_ATTEMPTS: {
    default: '3',
    doc: 'Accounts tried per request (failover on 429, 529, 5xx, 401/403, timeouts, before the first byte).',
  },
  COOLDOWN_RATE_LIMIT: { default: '60s', doc: 'Cooldown after a 429 whose response carries no reset time.' },
  COOLDOWN_OVERLOADED: { default: '30s', doc: 'Cooldown of a model family on an account after a 529.' },
  COOLDOWN_SERVER_ERROR: {
    default: '15s',
    doc: 'Cooldown of an account after a 5xx, a timeout or a connection failure.',
  },
  COOLDOWN_MAX: { default: '24h', doc: 'The longest cooldown an upstream reset header can ask for.' },
  BREAKER_ERROR_PERCENT: { default: '50', doc: "Failure percentage that opens an account's circuit breaker." },
  BREAKER_VOLUME: { default: '10', doc: 'Calls in the window before the breaker may open.' },
  BREAKER_RESET: { default: '30s', doc: 'How long an open breaker waits before a half-open probe.' },
  BREAKER_WINDOW: { default: '60s', doc: 'Rolling window of the breaker statistics.' },
  PUBLIC_URL: {
    default: '',
    doc: 'Public base URL of the relay (https://relay.example.com): alert messages link to its admin pages.',
  },
  ALERTS: {
    default: 'on',
    doc: 'on: the alert engine evaluates rules and notifies (on the node holding its lease); off: none.',
  },
  ALERT_RULES_FILE: {
    default: '(shipped alerts/rules.yml)',
    doc: 'YAML file of alert rules; changes made through the admin API are kept in Redis on top of it.',
  },
  ALERT_EVAL_INTERVAL: { default: '15s', doc: 'How often the rules are evaluated (account events wake it at once).' },
  JOBS_LEASE_TTL: {
    default: '15s',
    doc: "Lease of the periodic jobs (alerts, probes): a node that stops renewing it loses them after this, and another node's primary takes over.",
  },
  PROBES: {
    default: 'on',
    doc: 'on: idle or suspect accounts get a minimal real request now and then; off: never (accounts can opt out one by one).',
  },
  PROBE_INTERVAL: { default: '10m', doc: 'Default time between two probes of one account.' },
  PROBE_IDLE: {
    default: '10m',
    doc: 'Only accounts without real traffic for this long are probed (suspect ones always).',
  },
  PROBE_CONCURRENCY: { default: '2', doc: 'Probes in flight at once, deployment-wide.' },
  PROBE_TIMEOUT: { default: '30s', doc: 'A probe without an answer in this time failed (transient).' },
  PROBE_FAILURES: { default: '3', doc: 'Failed probes in a row that take an account out of rotation automatically.' },
  PROBE_RECOVERIES: {
    default: '2',
    doc: 'Successful probes in a row that bring an automatically disabled account back (never one an admin disabled).',
  },
  PASSIVE_ERROR_PERCENT: {
    default: '50',
    doc: 'Real traffic: an account with at least this error percentage over PASSIVE_MIN_REQUESTS in PASSIVE_WINDOW is taken out (and probed back).',
  },
  PASSIVE_MIN_REQUESTS: { default: '10', doc: 'Fewest requests in PASSIVE_WINDOW before the error percentage counts.' },
  PASSIVE_WINDOW: {
    default: '5m',
    doc: 'Sliding window of the passive error percentage and time-to-first-byte trend.',
  },
  LEASE_TTL: {
    default: '30s',
    doc: 'Concurrency leases expire after this unless renewed (a crashed worker frees its slots).',
  },
  CLAUDE_OAUTH_AUTHORIZE_URL: {
    default: 'https://claude.ai/oauth/authorize',
    doc: 'Claude OAuth: the authorization page the admin opens (PKCE flow).',
  },
  CLAUDE_OAUTH_TOKEN_URL: {
    default: 'https://platform.claude.com/v1/oauth/token',
    doc: 'Claude OAuth: token endpoint for code exchange and refresh.',
  },
  CLAUDE_OAUTH_CLIENT_ID: {
    default: '9d1c250a-e61b-44d9-88ed-5944d1962f5e',
    doc: "Claude OAuth: client id (Claude Code's public client).",
  },
  CLAUDE_OAUTH_REDIRECT_URI: {
    default: 'https://platform.claude.com/oauth/code/callback',
    doc: 'Claude OAuth: redirect URI; its page shows the code (`code#state`) to paste.',
  },
  CLAUDE_OAUTH_SCOPES: {
    default:
      'org:create_api_key user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload',
    doc: 'Claude OAuth: scopes asked for at authorization (space-separated); refreshes ask for the `user:` ones, as Claude Code does.',
  },
  OPENAI_API_URL: {
    default: 'https://api.openai.com',
    doc: 'OpenAI API for api-key accounts that keep the default base URL.',
  },
  CHATGPT_BACKEND_URL: {
    default: 'https://chatgpt.com/backend-api/codex',
    doc: 'ChatGPT backend for OpenAI OAuth (Codex subscription) accounts; requests go to its `/responses`.',
  },
  OPENAI_OAUTH_AUTHORIZE_URL: {
    default: 'https://auth.openai.com/oauth/authorize',
    doc: 'OpenAI OAuth: the authorization page the admin opens (PKCE flow, as Codex CLI logs in).',
  },
  OPENAI_OAUTH_TOKEN_URL: {
    default: 'https://auth.openai.com/oauth/token',
    doc: 'OpenAI OAuth: token endpoint for code exchange and refresh.',
  },
  OPENAI_OAUTH_CLIENT_ID: {
    default: 'app_EMoamEEZ73f0CkXaXp7hrann',
    doc: "OpenAI OAuth: client id (Codex CLI's public client).",
  },
  OPENAI_OAUTH_REDIRECT_URI: {
    default: 'http://localhost:1455/auth/callback',
    doc: 'OpenAI OAuth: redirect URI; the admin pastes the URL the browser lands on.',
  },
  GEMINI_API_URL: {
    default: 'https://generativelanguage.googleapis.com',
    doc: 'Gemini API base URL for API-key accounts without their own base URL.',
  },
  CODE_ASSIST_URL: {
    default: 'https://cloudcode-pa.googleapis.com',
    doc: 'Code Assist base URL (`/v1internal:…`) for Google OAuth accounts.',
  },
  GOOGLE_OAUTH_AUTHORIZE_URL: {
    default: 'https://accounts.google.com/o/oauth2/v2/auth',
    doc: 'Google OAuth: the authorization page the admin opens (PKCE flow).',
  },
  GOOGLE_OAUTH_TOKEN_URL: {
    default: 'https://oauth2.googleapis.com/token',
    doc: 'Google OAuth: token endpoint for code exchange and refresh.',
  },
  GOOGLE_OAUTH_CLIENT_ID: {
    default: '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com',
    doc: "Google OAuth: client id (Gemini CLI's public installed-app client).",
  },
  GOOGLE_OAUTH_CLIENT_SECRET: {
    default: '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',
    doc: "Google OAuth: that client's secret (public: an installed app cannot keep one).",
  },
  GOOGLE_OAUTH_REDIRECT_URI: {
    default: 'https://codeassist.google.com/authcode',
    doc: "Google OAuth: redirect URI; its page shows the code to paste (Gemini CLI's manual flow).",
  },
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
  /** The variable, or the default the settings table documents. */
  const setting = (name: SettingName): string => get(name) ?? SETTINGS[name].default;
  const url = (name: SettingName): string => httpUrl(name, setting(name));

  const encryptionKey = get('ENCRYPTION_KEY');
  if (encryptionKey !== undefined && encryptionKey.length < 32) {
    throw new ConfigError('ENCRYPTION_KEY', 'must be at least 32 characters (e.g. openssl rand -hex 32)');
  }
  const clusterNodes = get('REDIS_CLUSTER_NODES');
  const redisUrl = get('REDIS_URL');
  if (clusterNodes && redisUrl)
    throw new ConfigError('REDIS_CLUSTER_NODES', 'set either REDIS_URL or REDIS_CLUSTER_NODES, not both');
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
    port: parseInteger('PORT', setting('PORT'), 0, 65535),
    host: setting('HOST'),
    workers: parseInteger('WORKERS', or('WORKERS', String(cores)), 1, 256),
    workerMaxRestarts: parseInteger('WORKER_MAX_RESTARTS', setting('WORKER_MAX_RESTARTS'), 1, 1_000_000),
    redis,
    redisKeyPrefix: setting('REDIS_KEY_PREFIX'),
    redisServerBin: setting('REDIS_SERVER_BIN'),
    dataDir: path.resolve(setting('DATA_DIR')),
    encryptionKey,
    adminUsername: setting('ADMIN_USERNAME'),
    adminPassword: get('ADMIN_PASSWORD'),
    logLevel: parseEnum('LOG_LEVEL', setting('LOG_LEVEL'), ['debug', 'info', 'warn', 'error'] as const),
    logFormat: parseEnum('LOG_FORMAT', setting('LOG_FORMAT'), ['json', 'pretty'] as const),
    nodeId: get('NODE_ID') ?? os.hostname(),
    metricsListen: metricsListen(setting('METRICS_PORT'), setting('METRICS_HOST')),
    metricsToken: metricsToken(get('METRICS_TOKEN')),
    metricsKeys: metricsKeys(setting('METRICS_KEYS')),
    bodyLimitBytes: parseSize('BODY_LIMIT', setting('BODY_LIMIT')),
    drainTimeoutMs: parseDuration('DRAIN_TIMEOUT', setting('DRAIN_TIMEOUT')),
    upstreamConnectTimeoutMs: parseDuration('UPSTREAM_CONNECT_TIMEOUT', setting('UPSTREAM_CONNECT_TIMEOUT'), 100),
    upstreamTimeoutMs: parseDuration('UPSTREAM_TIMEOUT', setting('UPSTREAM_TIMEOUT'), 1000),
    statsTimezone: parseTimezone('STATS_TIMEZONE', setting('STATS_TIMEZONE')),
    usageRecordsKept: parseInteger('USAGE_RECORDS_KEPT', setting('USAGE_RECORDS_KEPT'), 0, 100_000),
    workThreads: parseInteger('WORK_THREADS', or('WORK_THREADS', String(Math.max(1, Math.floor(cores / 2)))), 0, 64),
    keyFailureLimit: parseInteger('KEY_FAILURE_LIMIT', setting('KEY_FAILURE_LIMIT'), 0, 1_000_000),
    keyFailureWindowMs: parseDuration('KEY_FAILURE_WINDOW', setting('KEY_FAILURE_WINDOW'), 1000),
    adminSessionTtlMs: parseDuration('ADMIN_SESSION_TTL', setting('ADMIN_SESSION_TTL'), 60_000),
    trustProxy: parseBoolean('TRUST_PROXY', setting('TRUST_PROXY')),
    trustedProxies: parseSubnets('TRUSTED_PROXIES', setting('TRUSTED_PROXIES')),
    cacheTtlMs: parseDuration('CACHE_TTL', setting('CACHE_TTL'), 1000),
    schedulerStrategy: parseEnum('SCHEDULER_STRATEGY', setting('SCHEDULER_STRATEGY'), STRATEGY_NAMES),
    stickyTtlMs: parseDuration('STICKY_TTL', setting('STICKY_TTL'), 1000),
    stickyRenewBelowMs: parseDuration('STICKY_RENEW_BELOW', setting('STICKY_RENEW_BELOW')),
    lightLoadInFlight: parseInteger('LIGHT_LOAD_IN_FLIGHT', setting('LIGHT_LOAD_IN_FLIGHT'), 1, 100_000),
    maxAttempts: parseInteger('UPSTREAM_MAX_ATTEMPTS', setting('UPSTREAM_MAX_ATTEMPTS'), 1, 20),
    rateLimitCooldownMs: parseDuration('COOLDOWN_RATE_LIMIT', setting('COOLDOWN_RATE_LIMIT'), 100),
    overloadedCooldownMs: parseDuration('COOLDOWN_OVERLOADED', setting('COOLDOWN_OVERLOADED'), 100),
    serverErrorCooldownMs: parseDuration('COOLDOWN_SERVER_ERROR', setting('COOLDOWN_SERVER_ERROR'), 100),
    maxCooldownMs: parseDuration('COOLDOWN_MAX', setting('COOLDOWN_MAX'), 1000),
    breakerErrorPercent: parseInteger('BREAKER_ERROR_PERCENT', setting('BREAKER_ERROR_PERCENT'), 1, 100),
    breakerVolume: parseInteger('BREAKER_VOLUME', setting('BREAKER_VOLUME'), 1, 100_000),
    breakerResetMs: parseDuration('BREAKER_RESET', setting('BREAKER_RESET'), 100),
    breakerWindowMs: parseDuration('BREAKER_WINDOW', setting('BREAKER_WINDOW'), 1000),
    leaseTtlMs: parseDuration('LEASE_TTL', setting('LEASE_TTL'), 1000),
    publicUrl: publicUrl(get('PUBLIC_URL')),
    alerts: {
      enabled: onOff('ALERTS', setting('ALERTS')),
      rulesFile: rulesFile(get('ALERT_RULES_FILE')),
      evalIntervalMs: parseDuration('ALERT_EVAL_INTERVAL', setting('ALERT_EVAL_INTERVAL'), 100),
      jobsLeaseMs: parseDuration('JOBS_LEASE_TTL', setting('JOBS_LEASE_TTL'), 1000),
    },
    probes: {
      enabled: onOff('PROBES', setting('PROBES')),
      intervalMs: parseDuration('PROBE_INTERVAL', setting('PROBE_INTERVAL'), 100),
      idleMs: parseDuration('PROBE_IDLE', setting('PROBE_IDLE')),
      concurrency: parseInteger('PROBE_CONCURRENCY', setting('PROBE_CONCURRENCY'), 1, 100),
      timeoutMs: parseDuration('PROBE_TIMEOUT', setting('PROBE_TIMEOUT'), 100),
      failuresToDisable: parseInteger('PROBE_FAILURES', setting('PROBE_FAILURES'), 1, 100),
      successesToEnable: parseInteger('PROBE_RECOVERIES', setting('PROBE_RECOVERIES'), 1, 100),
      passiveErrorPercent: parseInteger('PASSIVE_ERROR_PERCENT', setting('PASSIVE_ERROR_PERCENT'), 1, 100),
      passiveMinRequests: parseInteger('PASSIVE_MIN_REQUESTS', setting('PASSIVE_MIN_REQUESTS'), 1, 1_000_000),
      passiveWindowMs: parseDuration('PASSIVE_WINDOW', setting('PASSIVE_WINDOW'), 1000),
    },
    claudeOAuth: {
      authorizeUrl: url('CLAUDE_OAUTH_AUTHORIZE_URL'),
      tokenUrl: url('CLAUDE_OAUTH_TOKEN_URL'),
      clientId: setting('CLAUDE_OAUTH_CLIENT_ID'),
      redirectUri: url('CLAUDE_OAUTH_REDIRECT_URI'),
      scopes: setting('CLAUDE_OAUTH_SCOPES').split(/\s+/).filter(Boolean),
    },
    openai: {
      apiUrl: url('OPENAI_API_URL'),
      chatgptBackendUrl: url('CHATGPT_BACKEND_URL'),
      oauth: {
        authorizeUrl: url('OPENAI_OAUTH_AUTHORIZE_URL'),
        tokenUrl: url('OPENAI_OAUTH_TOKEN_URL'),
        clientId: setting('OPENAI_OAUTH_CLIENT_ID'),
        redirectUri: url('OPENAI_OAUTH_REDIRECT_URI'),
      },
    },
    google: {
      geminiApiUrl: url('GEMINI_API_URL'),
      codeAssistUrl: url('CODE_ASSIST_URL'),
      oauth: {
        authorizeUrl: url('GOOGLE_OAUTH_AUTHORIZE_URL'),
        tokenUrl: url('GOOGLE_OAUTH_TOKEN_URL'),
        clientId: setting('GOOGLE_OAUTH_CLIENT_ID'),
        clientSecret: setting('GOOGLE_OAUTH_CLIENT_SECRET'),
        redirectUri: url('GOOGLE_OAUTH_REDIRECT_URI'),
      },
    },
  };
  return Object.freeze(config);
}

/** An absolute http(s) URL (OAuth endpoints), or a ConfigError naming the variable. */
function httpUrl(name: SettingName, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `expected an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigError(name, `expected an http(s) URL, got "${raw}"`);
  return raw;
}

function metricsListen(port: string, host: string): Config['metricsListen'] {
  if (port.toLowerCase() === 'off') return null;
  return { host, port: parseInteger('METRICS_PORT', port, 0, 65535) };
}

function metricsToken(token: string | undefined): string | undefined {
  if (token !== undefined && token.length < 16)
    throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters (e.g. openssl rand -hex 16)');
  return token;
}

function onOff(name: string, raw: string): boolean {
  return parseEnum(name, raw.toLowerCase(), ['on', 'off'] as const) === 'on';
}

function publicUrl(raw: string | undefined): string | null {
  if (!raw) return null;
  if (!/^https?:\/\/[^\s/]+/.test(raw))
    throw new ConfigError('PUBLIC_URL', `expected http(s)://host[/path], got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

/** The shipped rules sit in alerts/ at the package root, two folders above this file (src/config, dist/config). */
function rulesFile(raw: string | undefined): string {
  return raw ? path.resolve(raw) : path.resolve(import.meta.dirname, '..', '..', 'alerts', 'rules.yml');
}

function metricsKeys(raw: string): string[] {
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length > 20)
    throw new ConfigError('METRICS_KEYS', `at most 20 key ids (each adds a series), got ${ids.length}`);
  return ids;
}
