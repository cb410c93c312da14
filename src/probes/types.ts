import type { AutoDisabled, HealthService } from '../accounts/health.js';
import type { Account, AccountService } from '../accounts/service.js';
import type { TrafficReader } from '../accounts/traffic.js';
import type { ProbesConfig } from '../config/index.js';
import type { EventSink } from '../events/index.js';
import type { AccountId } from '../ids.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Store } from '../store/index.js';
import type { Upstream } from '../upstream/types.js';
import type { Pricing } from '../usage/pricing.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { ProbeOutcome } from './decide.js';

export type { ProbeOutcome } from './decide.js';

/** Why a probe ran: an admin asked, the account was idle, or it looked unwell. */
export type ProbeWhy = 'manual' | 'idle' | 'suspect';

/** One probe, as kept in the account's history (7 days) and answered by POST …/probe. */
export interface ProbeResult {
  /** Tells two probes apart (also two in one millisecond). */
  id: string;
  accountId: AccountId;
  /** When it was sent (ISO). */
  at: string;
  /** The upstream's status; null when it never answered. */
  status: number | null;
  latencyMs: number;
  outcome: ProbeOutcome;
  why: ProbeWhy;
  /** The node that probed. */
  node: string;
  model: string;
  /** Every token the upstream reported (input, output, cache). */
  tokens: number;
  /** USD, and exactly in picodollars (the pricing module's unit). */
  cost: number;
  costPico: string;
  /** Status and class ("HTTP 503 (server_error)", "timeout …"): never the upstream's words. */
  detail: string;
  /** What the probe changed: the account was taken out, or brought back. */
  change?: 'auto_disabled' | 'auto_enabled';
}

/** What an account's probes have consumed, ever. */
export interface ProbeTotals {
  probes: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreateTokens: number;
  tokens: number;
  cost: number;
  costPico: string;
}

/** An account's probe state for the admin API. */
export interface ProbeStateView {
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  autoDisabled: (Omit<AutoDisabled, 'at'> & { at: string }) | null;
  lastProbeAt: string | null;
  /** When a tick will next probe it (if it is idle or suspect then); null: never (opted out, disabled…). */
  nextProbeAt: string | null;
}

export interface Prober {
  /** One probe now (taking the account's probe lock); throws ProbeBusy when another is probing it. */
  probeNow(account: Account, why: ProbeWhy): Promise<ProbeResult>;
  /** Passive health, then the probes that are due (at most PROBE_CONCURRENCY at once); resolves when done. */
  tick(): Promise<void>;
  /** The account's recent probes, newest first. */
  history(id: AccountId, limit?: number): Promise<ProbeResult[]>;
  totals(id: AccountId): Promise<ProbeTotals>;
  state(account: Account): Promise<ProbeStateView>;
}

export interface ProberDeps {
  store: Store;
  accounts: AccountService;
  health: HealthService;
  events: EventSink;
  providers: ProviderRegistry;
  upstream: Upstream;
  traffic: TrafficReader;
  pricing(): Pricing;
  clock: Clock;
  log: Logger;
  config: ProbesConfig;
  /** A 429 without a reset time cools this long; none longer than maxMs (RATE_LIMIT_COOLDOWN, MAX_COOLDOWN). */
  cooldown: { rateLimitMs: number; maxMs: number };
  node: string;
}

/** Another prober (this node or another) holds the account's probe lock. */
export class ProbeBusy extends Error {
  constructor(readonly accountId: AccountId) {
    super(`account ${accountId} is being probed elsewhere`);
    this.name = 'ProbeBusy';
  }
}
