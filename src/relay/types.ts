import type { WorkPool } from '../work/pool.js';
import type { HealthService } from '../accounts/health.js';
import type { AccountService, Platform } from '../accounts/service.js';
import type { TrafficRecorder } from '../accounts/traffic.js';
import type { EventSink } from '../events/index.js';
import type { LimitService } from '../limits/index.js';
import type { Breakers } from '../scheduler/breakers.js';
import type { ApiShape } from '../errors/render.js';
import type { RequestId } from '../ids.js';
import type { ApiKeyService } from '../keys/service.js';
import type { RelayMetrics } from '../metrics/index.js';
import type { Scheduler } from '../scheduler/index.js';
import type { MinuteHistory } from '../usage/history.js';
import type { Trace } from './trace.js';
import type { SecurityCounters } from '../events/security.js';
import type { Pricing } from '../usage/pricing.js';
import type { UsageRecorder } from '../usage/recorder.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Operation, WireFormat } from '../wire/index.js';
import type { Upstream } from '../upstream/types.js';
import type { KeyGuard } from '../keys/guard.js';

/** Everything the pipeline uses, passed in explicitly. */
export interface RelayDeps {
  keys: ApiKeyService;
  accounts: AccountService;
  providers: ProviderRegistry;
  scheduler: Scheduler;
  limits: LimitService;
  health: HealthService;
  breakers: Breakers;
  events: EventSink;
  policy: RelayPolicy;
  upstream: Upstream;
  recorder: UsageRecorder;
  metrics: RelayMetrics;
  /** The per-minute rollup in Redis (docs/OBSERVABILITY.md). */
  history: Pick<MinuteHistory, 'add'>;
  /** Each upstream attempt's outcome per account, for passive health (folded in memory, written in the background). */
  traffic: Pick<TrafficRecorder, 'add'>;
  /** Requests being served now, by their traces (the hanging-request gauge reads it at scrape). */
  inProgress: Set<Trace>;
  /** Refused keys per address and the addresses of each key, for the security rules. */
  security: Pick<SecurityCounters, 'badKey' | 'keyUsed'>;
  /** Throttles key guessing per client address across nodes (KEY_FAILURE_LIMIT). */
  keyGuard: KeyGuard;
  /** Read on every booking so a refreshed table applies at once. */
  pricing(): Pricing;
  clock: Clock;
  log: Logger;
  nextRequestId(): RequestId;
  bodyLimitBytes: number;
  /** The process's thread pool for CPU-heavy work (token counts of large prompts). */
  work: WorkPool;
}

/** Failover and cooldown settings (from config). */
export interface RelayPolicy {
  /** Accounts tried per request before giving up (failover before the first byte). */
  maxAttempts: number;
  /** Cooldown after a 429 that carries no reset time. */
  rateLimitCooldownMs: number;
  /** Cooldown after a 529 (overloaded). */
  overloadedCooldownMs: number;
  /** Cooldown after a 5xx, a timeout or an unreachable upstream. */
  serverErrorCooldownMs: number;
  /** The longest cooldown an upstream's reset header may ask for. */
  maxCooldownMs: number;
}

/** What a client request means, once its body is read and validated. */
export interface ParsedRequest {
  model: string;
  stream: boolean;
  /** The parsed body (for session ids, client detection, model mapping). */
  json: Record<string, unknown>;
}

/** What a route knows before the body is read: path parameters and the query string. */
export interface RouteInfo {
  /** The request path (without the query string). */
  path: string;
  params: readonly string[];
  query: URLSearchParams;
}

/**
 * A client-facing API: how its callers authenticate, its error shape and wire format, the
 * operation it asks for, the platforms that may serve it (bridging formats where they differ),
 * whether it is booked, and how its request is validated.
 */
export interface Surface {
  readonly name: string;
  readonly shape: ApiShape;
  readonly format: WireFormat;
  readonly op: Operation;
  /** Platforms that may serve it, in order of preference. */
  readonly platforms: readonly Platform[];
  /** count_tokens and similar are free upstream and not booked. */
  readonly booked: boolean;
  /** The relay key as this API's clients send it. */
  credential(headers: Readonly<Record<string, string>>, query: URLSearchParams): string | undefined;
  parse(body: Buffer, route: RouteInfo): ParsedRequest;
}

/**
 * Every client-facing relay route. A POST route names its surface, or picks one from the path
 * (Gemini puts the operation in it: `models/{model}:streamGenerateContent`). A GET route answers
 * from the relay itself (model lists), after checking the relay key.
 */
export interface RelayRoute {
  pattern: string;
  surface: Surface | ((path: string) => Surface | undefined);
}

export interface InfoRoute {
  pattern: string;
  /** GET by default; POST for calls a client makes that the relay answers itself (Code Assist's set-up). */
  method?: 'get' | 'post';
  shape: ApiShape;
  credential: Surface['credential'];
  answer(deps: RelayDeps, route: RouteInfo): unknown;
}
