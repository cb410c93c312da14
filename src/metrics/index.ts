import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { FastCounter, FastHistogram } from './fast.js';
import type { Config } from '../config/index.js';

/**
 * The relay's Prometheus families, counted in each worker's own registry (a test process may run
 * several relays, each with its own). The names, labels and buckets are listed in
 * docs/OBSERVABILITY.md; a test keeps the two in step. No family has a key, session or address
 * label: per-key numbers live in the usage buckets (an opt-in allow list of key ids excepted).
 */

/** Why a request failed, one closed list for errors and failovers (docs/OBSERVABILITY.md). */
export const ERROR_CAUSES = [
  'upstream_429',
  'upstream_529',
  'upstream_5xx',
  'upstream_4xx',
  'upstream_unreachable',
  'timeout',
  'client_abort',
  'auth',
  'forbidden',
  'rate_limit',
  'concurrency',
  'budget',
  'no_account',
  'bad_request',
  'store_unavailable',
  'shutdown',
  'internal',
] as const;
export type ErrorCause = (typeof ERROR_CAUSES)[number];

export const ACCOUNT_STATES = ['routable', 'cooling', 'breaker_open', 'unauthorized', 'disabled'] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

/** Tokens of one request by kind, as the usage booking counted them. */
export interface TokenCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

/** One request at its end, as the pipeline saw it. */
export interface RequestSummary {
  surface: string;
  /** The platform of the last account tried; `none` when no account was picked. */
  platform: string;
  stream: boolean;
  /** The status written; undefined when the client left before one. */
  status: number | undefined;
  cause: ErrorCause | null;
  durationMs: number;
  /** The relay's own time until it started answering; null when it never did. */
  overheadMs: number | null;
  /** Upstream time to its answer's first byte (of the attempt that answered). */
  upstreamTtfbMs: number | null;
  keyId: string | undefined;
}

/** One booking's tokens and cost, by the platform and the model it was priced as. */
export interface BookedUsage {
  platform: string;
  /** The price table's model name, or undefined when it fell back (counted as `other`). */
  pricedModel: string | undefined;
  tokens: TokenCounts;
  costPico: number;
}

/** An account's row in the state gauges, read when Prometheus scrapes. */
export interface AccountRow {
  id: string;
  platform: string;
  name: string;
  type: string;
  state: AccountState;
  groups: readonly string[];
}

/** What the collect-time gauges read: plain numbers the other parts keep. */
export interface MetricSources {
  inFlight(): number;
  /** Requests in flight for more than 300 s without a first byte from the upstream. */
  hanging(): number;
  usagePending(): number;
  accounts(): Promise<readonly AccountRow[]>;
  /**
   * Redis round trip in seconds, or null when Redis does not answer. Called by two families of one
   * scrape at once (collected concurrently): both must get the same ping.
   */
  redisPing(): Promise<number | null>;
  caches(): { keys: { hits: number; misses: number }; accounts: { hits: number; misses: number } };
  pubsubReconnects(): number;
}

/** The hooks the relay calls. Every method is cheap and synchronous (no I/O, no allocation per call beyond labels). */
export interface RelayMetrics {
  readonly registry: Registry;
  readonly enabled: boolean;
  requestEnded(r: RequestSummary): void;
  admitted(seconds: number): void;
  picked(seconds: number): void;
  sticky(platform: string, result: 'hit' | 'moved' | 'new'): void;
  upstreamAttempt(platform: string, accountId: string, statusClass: UpstreamStatusClass): void;
  failover(platform: string, cause: ErrorCause): void;
  transition(platform: string, toState: Exclude<AccountState, 'disabled'>, reason: string): void;
  limitRefused(reason: string): void;
  booked(b: BookedUsage): void;
  usageBooked(): void;
  usageBatch(seconds: number, retried: boolean): void;
  usageWriteFailed(): void;
  redisCommand(cls: 'usage_batch', seconds: number): void;
  /** Sets what the scrape-time gauges read; until then they read zero. */
  watch(sources: MetricSources): void;
}

export type UpstreamStatusClass = '2xx' | '4xx' | '429' | '529' | '5xx' | 'network' | 'breaker_open';

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const TTFB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];
const OVERHEAD_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];
const WAIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30];
const PICK_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5];
const BATCH_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 10];
const REDIS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1];

const statusClass = (status: number | undefined): string =>
  status === undefined ? 'none' : status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : '2xx';

export function createRelayMetrics(opts: { allowedKeys?: readonly string[] } = {}): RelayMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  // METRICS_KEYS is bounded where it is read (config: at most 20 ids, each a series).
  const allowedKeys = new Set(opts.allowedKeys ?? []);
  let sources: MetricSources | undefined;

  const requests = new FastCounter({
    name: 'relay_requests_total',
    help: 'Requests answered, by surface, platform, status class and whether streamed.',
    labelNames: ['surface', 'platform', 'status_class', 'stream'],
    registry,
  });
  const errors = new FastCounter({
    name: 'relay_request_errors_total',
    help: 'Requests that failed, by platform and cause.',
    labelNames: ['platform', 'cause'],
    registry,
  });
  const duration = new FastHistogram({
    name: 'relay_request_duration_seconds',
    help: 'Whole request time, from arrival to the last byte.',
    labelNames: ['surface', 'platform', 'stream'],
    buckets: DURATION_BUCKETS,
    registry,
  });
  const ttfb = new FastHistogram({
    name: 'relay_upstream_ttfb_seconds',
    help: "Upstream time to its answer's first byte.",
    labelNames: ['platform'],
    buckets: TTFB_BUCKETS,
    registry,
  });
  const overhead = new FastHistogram({
    name: 'relay_overhead_seconds',
    help: 'Time the relay spent itself before it started answering, upstream waits excluded.',
    labelNames: ['surface'],
    buckets: OVERHEAD_BUCKETS,
    registry,
  });
  const admission = new FastHistogram({
    name: 'relay_admission_seconds',
    help: 'Key check and key limits, including any wait for a concurrency slot.',
    buckets: WAIT_BUCKETS,
    registry,
  });
  const pick = new FastHistogram({
    name: 'relay_account_pick_seconds',
    help: "The scheduler's choice of an account, per attempt.",
    buckets: PICK_BUCKETS,
    registry,
  });
  new Gauge({
    name: 'relay_inflight_requests',
    help: 'Requests being served now.',
    registers,
    collect() {
      this.set(sources?.inFlight() ?? 0);
    },
  });
  new Gauge({
    name: 'relay_requests_hanging',
    help: 'Requests in flight for more than 300 s without a first byte from the upstream.',
    registers,
    collect() {
      this.set(sources?.hanging() ?? 0);
    },
  });
  const keyRequests = new FastCounter({
    name: 'relay_key_requests_total',
    help: 'Requests by relay key, for the keys in METRICS_KEYS only; every other key is "other".',
    labelNames: ['key_id'],
    registry,
  });
  const tokens = new FastCounter({
    name: 'relay_tokens_total',
    help: 'Tokens booked, by platform, priced model ("other" if unpriced) and kind.',
    labelNames: ['platform', 'model', 'type'],
    registry,
  });
  const cost = new FastCounter({
    name: 'relay_cost_usd_total',
    help: 'Cost booked in US dollars, by platform and priced model.',
    labelNames: ['platform', 'model'],
    registry,
  });
  const attempts = new FastCounter({
    name: 'relay_upstream_requests_total',
    help: 'Upstream attempts per account, by status class (network: no answer; breaker_open: not sent).',
    labelNames: ['platform', 'account_id', 'status_class'],
    registry,
  });
  new Gauge({
    name: 'relay_account_state',
    help: "Each account's state as the scheduler sees it (1 for its current state).",
    labelNames: ['platform', 'account_id', 'state'],
    aggregator: 'max',
    registers,
    async collect() {
      this.reset();
      for (const a of (await sources?.accounts()) ?? [])
        for (const state of ACCOUNT_STATES)
          this.set({ platform: a.platform, account_id: a.id, state }, a.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'relay_account_info',
    help: "Each account's name and type, to join on account_id.",
    labelNames: ['platform', 'account_id', 'name', 'type'],
    aggregator: 'max',
    registers,
    async collect() {
      this.reset();
      for (const a of (await sources?.accounts()) ?? [])
        this.set({ platform: a.platform, account_id: a.id, name: a.name, type: a.type }, 1);
    },
  });
  new Gauge({
    name: 'relay_accounts_available',
    help: 'Routable accounts per platform, in all and per group.',
    labelNames: ['platform', 'group'],
    aggregator: 'max',
    registers,
    async collect() {
      this.reset();
      const rows = (await sources?.accounts()) ?? [];
      const counts = new Map<string, { platform: string; group: string; n: number }>();
      const add = (platform: string, group: string, routable: boolean) => {
        const id = `${platform}\u0001${group}`;
        const entry = counts.get(id) ?? { platform, group, n: 0 };
        if (routable) entry.n++;
        counts.set(id, entry);
      };
      for (const a of rows) {
        add(a.platform, 'all', a.state === 'routable');
        for (const g of a.groups) add(a.platform, g, a.state === 'routable');
      }
      for (const c of counts.values()) this.set({ platform: c.platform, group: c.group }, c.n);
    },
  });
  const transitions = new FastCounter({
    name: 'relay_account_transitions_total',
    help: 'Accounts entering a state, by reason.',
    labelNames: ['platform', 'to_state', 'reason'],
    registry,
  });
  const failovers = new FastCounter({
    name: 'relay_failovers_total',
    help: 'Attempts that failed before the first byte and moved on to another account, by cause.',
    labelNames: ['platform', 'cause'],
    registry,
  });
  const stickies = new FastCounter({
    name: 'relay_sticky_sessions_total',
    help: "Requests of a conversation: on its account (hit), moved to another, or a conversation's first.",
    labelNames: ['platform', 'result'],
    registry,
  });
  const refusals = new FastCounter({
    name: 'relay_limit_refusals_total',
    help: "Requests refused by the key's limits and permissions, by reason.",
    labelNames: ['reason'],
    registry,
  });
  const usageEvents = new FastCounter({
    name: 'relay_usage_events_total',
    help: 'Bookings accepted by the usage recorder.',
    registry,
  });
  new Gauge({
    name: 'relay_usage_write_queue',
    help: 'Bookings accepted and not yet written to Redis.',
    registers,
    collect() {
      this.set(sources?.usagePending() ?? 0);
    },
  });
  const batch = new FastHistogram({
    name: 'relay_usage_batch_seconds',
    help: "One slot's usage batch, until Redis confirmed it (retries included).",
    buckets: BATCH_BUCKETS,
    registry,
  });
  const writeFailures = new FastCounter({
    name: 'relay_usage_write_failures_total',
    help: 'Usage batch writes that failed; each is retried until it lands.',
    registry,
  });
  const writeRetries = new FastCounter({
    name: 'relay_usage_write_retries_total',
    help: 'Usage batches that landed only after a retry.',
    registry,
  });
  new Gauge({
    name: 'relay_redis_up',
    help: 'Whether Redis answered a ping at the scrape.',
    aggregator: 'min',
    registers,
    async collect() {
      if (sources) this.set((await sources.redisPing()) === null ? 0 : 1);
    },
  });
  const redisCommands = new FastHistogram({
    name: 'relay_redis_command_duration_seconds',
    help: 'Redis round trips, by class of command.',
    labelNames: ['class'],
    buckets: REDIS_BUCKETS,
    registry,
    async beforeScrape() {
      if (!sources) return;
      const seconds = await sources.redisPing();
      if (seconds !== null) redisCommands.child('ping').observe(seconds);
    },
  });
  new Counter({
    name: 'relay_cache_lookups_total',
    help: 'Record cache lookups of keys and accounts, hits and misses (misses went to Redis).',
    labelNames: ['cache', 'result'],
    registers,
    collect() {
      if (!sources) return;
      const c = sources.caches();
      this.reset();
      this.inc({ cache: 'keys', result: 'hit' }, c.keys.hits);
      this.inc({ cache: 'keys', result: 'miss' }, c.keys.misses);
      this.inc({ cache: 'accounts', result: 'hit' }, c.accounts.hits);
      this.inc({ cache: 'accounts', result: 'miss' }, c.accounts.misses);
    },
  });
  new Counter({
    name: 'relay_pubsub_reconnects_total',
    help: 'Times the invalidation subscriber reconnected (every cache was cleared).',
    registers,
    collect() {
      if (!sources) return;
      this.reset();
      this.inc(sources.pubsubReconnects());
    },
  });

  const addTokens = (platform: string, model: string, type: string, n: number) => {
    if (n > 0) tokens.child(platform, model, type).inc(n);
  };

  // Label-less families show 0 from the start (a dashboard or rule finds the series before the first event).
  for (const family of [admission, pick, usageEvents, batch, writeFailures, writeRetries]) family.child();

  return {
    registry,
    enabled: true,
    requestEnded(r) {
      const stream = r.stream ? 'true' : 'false';
      requests.child(r.surface, r.platform, statusClass(r.status), stream).inc();
      if (r.cause) errors.child(r.platform, r.cause).inc();
      duration.child(r.surface, r.platform, stream).observe(r.durationMs / 1000);
      if (r.overheadMs !== null) overhead.child(r.surface).observe(r.overheadMs / 1000);
      if (r.upstreamTtfbMs !== null) ttfb.child(r.platform).observe(r.upstreamTtfbMs / 1000);
      if (allowedKeys.size > 0) keyRequests.child(r.keyId && allowedKeys.has(r.keyId) ? r.keyId : 'other').inc();
    },
    admitted: (s) => admission.child().observe(s),
    picked: (s) => pick.child().observe(s),
    sticky: (platform, result) => stickies.child(platform, result).inc(),
    upstreamAttempt: (platform, accountId, cls) => attempts.child(platform, accountId, cls).inc(),
    failover: (platform, cause) => failovers.child(platform, cause).inc(),
    transition: (platform, toState, reason) => transitions.child(platform, toState, reason).inc(),
    limitRefused: (reason) => refusals.child(reason).inc(),
    booked(b) {
      const model = b.pricedModel ?? 'other';
      addTokens(b.platform, model, 'input', b.tokens.input);
      addTokens(b.platform, model, 'output', b.tokens.output);
      addTokens(b.platform, model, 'cache_read', b.tokens.cacheRead);
      addTokens(b.platform, model, 'cache_write_5m', b.tokens.cacheWrite5m);
      addTokens(b.platform, model, 'cache_write_1h', b.tokens.cacheWrite1h);
      if (b.costPico > 0) cost.child(b.platform, model).inc(b.costPico / 1e12);
    },
    usageBooked: () => usageEvents.child().inc(),
    usageBatch(seconds, retried) {
      batch.child().observe(seconds);
      if (retried) writeRetries.child().inc();
    },
    usageWriteFailed: () => writeFailures.child().inc(),
    redisCommand: (cls, seconds) => redisCommands.child(cls).observe(seconds),
    watch(s) {
      sources = s;
    },
  };
}

/** Counts nothing: a relay nobody can scrape (METRICS_PORT=off and no METRICS_TOKEN) pays nothing. */
export function disabledMetrics(): RelayMetrics {
  const nothing = () => {};
  return {
    registry: new Registry(),
    enabled: false,
    requestEnded: nothing,
    admitted: nothing,
    picked: nothing,
    sticky: nothing,
    upstreamAttempt: nothing,
    failover: nothing,
    transition: nothing,
    limitRefused: nothing,
    booked: nothing,
    usageBooked: nothing,
    usageBatch: nothing,
    usageWriteFailed: nothing,
    redisCommand: nothing,
    watch: nothing,
  };
}

/** The families the settings call for: counting, unless nothing could ever scrape them. */
export function metricsFor(config: Pick<Config, 'metricsListen' | 'metricsToken' | 'metricsKeys'>): RelayMetrics {
  const scrapable = config.metricsListen !== null || config.metricsToken !== undefined;
  return scrapable ? createRelayMetrics({ allowedKeys: config.metricsKeys }) : disabledMetrics();
}
