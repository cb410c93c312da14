import type { WorkPool } from '../work/pool.js';
import type { Reports } from '../reports/index.js';
import type { Exporter } from '../reports/export.js';
import type { AlertService } from '../alerts/service.js';
import type { SecurityCounters } from '../events/security.js';
import type { EventSink } from '../events/index.js';
import type { GroupService } from '../accounts/groups.js';
import type { HealthService } from '../accounts/health.js';
import type { AccountService } from '../accounts/service.js';
import type { ApiKeyService } from '../keys/service.js';
import type { LimitService } from '../limits/index.js';
import type { Prober } from '../probes/types.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Scheduler } from '../scheduler/index.js';
import type { Store } from '../store/index.js';
import type { UsageQueries } from '../usage/queries.js';
import type { Clock } from '../util/clock.js';
import type { AdminAuth } from './auth.js';

/**
 * What an admin route sees of a request, and what it answers. The server fills these in over its
 * HTTP front end; the admin API knows nothing of it.
 */
export interface AdminRequest {
  /** Route parameters, in pattern order. */
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON body (undefined for GET/DELETE or an empty body). */
  readonly body: unknown;
  readonly requestId: string;
  /** The client's address: the socket's, or the one a trusted proxy appended to X-Forwarded-For. */
  readonly clientAddress: string;
}

export interface AdminReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /**
   * A streamed answer instead of `body`: the server sends status and headers, then calls this
   * with a writer that waits out backpressure and a signal that aborts when the client leaves.
   */
  stream?: (out: AdminStreamSink) => Promise<unknown>;
}

export interface AdminStreamSink {
  /** Resolves at once when the socket took it, else once the client has drained (or left). */
  write(text: string): Promise<void> | undefined;
  readonly signal: AbortSignal;
}

export type AdminHandler = (req: AdminRequest) => Promise<AdminReply>;
export type Method = 'get' | 'post' | 'patch' | 'put' | 'del';

/** Registers one JSON route (the server answers errors in the admin shape). */
export type Route = (method: Method, pattern: string, handler: AdminHandler) => void;

/** Wraps a handler so that it runs only for a valid admin session. */
export type Authed = (handler: AdminHandler) => AdminHandler;

/** The services the admin API works on, passed in explicitly. */
export interface AdminDeps {
  auth: AdminAuth;
  keys: ApiKeyService;
  accounts: AccountService;
  groups: GroupService;
  health: HealthService;
  limits: LimitService;
  scheduler: Scheduler;
  usage: UsageQueries;
  providers: ProviderRegistry;
  /** Probes one account now (POST /admin/accounts/:id/probe) and reads probe history. */
  prober: Prober;
  /** The events stream (an admin's reset is an event the alert engine reads). */
  events: EventSink;
  /** Rules, channels, silences and what the alert engine did. */
  alerts: AlertService;
  /** Failed logins are counted for the security rules. */
  security: Pick<SecurityCounters, 'adminLoginFailed'>;
  store: Store;
  clock: Clock;
  /** The process's thread pool for CPU-heavy work (report aggregation, export serialisation). */
  work: WorkPool;
  /** Usage over time, rankings and trends. */
  reports: Reports;
  /** Streamed exports of usage and records. */
  exporter: Exporter;
}
