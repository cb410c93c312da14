import { assess, type Blocker, type HealthService } from '../accounts/health.js';
import type { Account } from '../accounts/service.js';
import type { Store } from '../store/index.js';
import type { Leases } from '../leases/index.js';
import type { Clock } from '../util/clock.js';
import { modelFamily } from '../util/models.js';
import type { Breakers } from './breakers.js';
import { readAccountLoad, type LoadView } from './load.js';

/** Whether an account can take a request now, and if not, why and until when. */
export interface Explanation {
  routable: boolean;
  /** Past its breaker's open period, not yet proven healthy (the half-open tier). */
  recoverable: boolean;
  blockers: Blocker[];
  /** Requests in flight across the deployment. */
  inFlight: number;
}

/** Reasons an account cannot serve that come from its settings, not its health. */
export function staticBlocker(a: Account, now: number): Blocker | null {
  if (!a.active) return { reason: 'inactive', scope: '*', until: null };
  if (!a.schedulable) return { reason: 'unschedulable', scope: '*', until: null };
  if (a.subscriptionExpiresAt !== null && a.subscriptionExpiresAt <= now)
    return { reason: 'subscription_expired', scope: '*', until: null };
  return null;
}

/**
 * The admin's view of one account (GET /admin/accounts/:id/health, `crs accounts health`): with a
 * model, the blockers for that model's family; without, every cooldown of any family is listed.
 */
export async function explainAccount(
  deps: {
    store: Store;
    health: HealthService;
    leases: Pick<Leases, 'accountInFlight'>;
    clock: Clock;
    breakers?: Breakers;
    load?: LoadView;
  },
  account: Account,
  model?: string,
): Promise<Explanation> {
  const now = deps.clock.now();
  const blockers: Blocker[] = [];
  const fixed = staticBlocker(account, now);
  if (fixed) blockers.push(fixed);
  const health = await deps.health.get(account.id);
  const family = model ? modelFamily(model) : '*';
  const assessed = assess(health, family, now);
  blockers.push(...assessed.blockers);
  if (!model) {
    for (const c of health.cooldowns) {
      if (c.until > now && c.scope !== '*')
        blockers.push({ reason: c.reason, scope: c.scope, until: c.until, detail: `HTTP ${c.status}` });
    }
  }
  if (deps.breakers?.state(account.id) === 'open')
    blockers.push({ reason: 'breaker_open', scope: '*', until: null, detail: 'open in this worker' });
  const [inFlight, leased] = await Promise.all([
    deps.load
      ? deps.load.readInFlight(account.id)
      : readAccountLoad(deps.store, deps.clock, account.id).then((l) => l.inFlight),
    account.maxConcurrency > 0 ? deps.leases.accountInFlight(account.id) : Promise.resolve(0),
  ]);
  const routable = blockers.filter((b) => b.scope === '*' || b.scope === family).length === 0;
  return { routable, recoverable: assessed.recoverable, blockers, inFlight: Math.max(inFlight, leased) };
}
