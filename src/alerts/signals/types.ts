import type { GroupService } from '../../accounts/groups.js';
import type { HealthService } from '../../accounts/health.js';
import type { AccountService } from '../../accounts/service.js';
import type { ApiKeyService } from '../../keys/service.js';
import type { Store } from '../../store/index.js';
import type { Buckets } from '../../usage/buckets.js';
import type { Rule } from '../rules.js';
import type { Observation } from '../state.js';

/** What signals read: the services of the deployment, and the engine's own memory between cycles. */
export interface SignalContext {
  store: Store;
  accounts: AccountService;
  health: HealthService;
  groups: GroupService;
  keys: ApiKeyService;
  bucketsOf(ms: number): Buckets;
  /** Epoch ms of this evaluation. */
  now: number;
  /** Whether the engine reached Redis in this cycle, and how long its PING took. */
  redis: { reachable: boolean; latencyMs: number | null };
  /** The same value for every rule of one cycle, and for `ttlMs` across cycles. */
  memo<T>(name: string, ttlMs: number, load: () => Promise<T>): Promise<T>;
  /**
   * How much a counter of `subject` grew over `windowMs`, from the values this engine has seen
   * (a new engine starts counting from its first look).
   */
  growth(name: string, subject: string, value: number, windowMs: number): number;
}

/** Measures one quantity for every subject it knows. */
export type Signal = (ctx: SignalContext, rule: Rule) => Promise<Observation[]>;
