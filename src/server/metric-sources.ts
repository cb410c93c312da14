import type { GroupService } from '../accounts/groups.js';
import type { AccountService } from '../accounts/service.js';
import type { ApiKeyService } from '../keys/service.js';
import type { AccountRow, AccountState, MetricSources } from '../metrics/index.js';
import type { Scheduler } from '../scheduler/index.js';
import type { Explanation } from '../scheduler/explain.js';
import { pingWithin, type Store } from '../store/index.js';
import { reusedFor } from '../util/reuse.js';

/** An account's state for the gauges: the first thing that keeps it out of rotation, if any. */
export function stateOf(e: Explanation): AccountState {
  if (e.routable) return 'routable';
  const reasons = new Set(e.blockers.map((b) => b.reason));
  if (
    reasons.has('inactive') ||
    reasons.has('unschedulable') ||
    reasons.has('subscription_expired') ||
    reasons.has('auto_disabled')
  )
    return 'disabled';
  if (reasons.has('unauthorized')) return 'unauthorized';
  if (reasons.has('breaker_open')) return 'breaker_open';
  return 'cooling';
}

/** A request without a first byte from its upstream after this long is hanging (the alert rule reads the gauge). */
export const HANGING_AFTER_MS = 300_000;

/** What one worker's scrape-time gauges read. */
export function metricSources(deps: {
  store: Store;
  keys: ApiKeyService;
  accounts: AccountService;
  groups: GroupService;
  scheduler: Scheduler;
  inFlight(): number;
  /** Requests in flight now, each with its age and whether the upstream has answered yet. */
  inProgress: ReadonlySet<{ elapsedMs(): number; upstreamTtfbMs: number | null }>;
  usagePending(): number;
}): MetricSources {
  const accountRows = async (): Promise<readonly AccountRow[]> => {
    const [accounts, groups] = await Promise.all([deps.accounts.snapshot(), deps.groups.list()]);
    const groupsOf = new Map<string, string[]>();
    for (const g of groups) for (const id of g.accountIds) groupsOf.set(id, [...(groupsOf.get(id) ?? []), g.id]);
    return Promise.all(
      accounts.map(async (a) => ({
        id: a.id,
        platform: a.platform,
        name: a.name,
        type: a.type,
        state: stateOf(await deps.scheduler.explain(a)),
        groups: groupsOf.get(a.id) ?? [],
      })),
    );
  };
  return {
    inFlight: deps.inFlight,
    hanging() {
      let n = 0;
      for (const t of deps.inProgress) if (t.upstreamTtfbMs === null && t.elapsedMs() > HANGING_AFTER_MS) n++;
      return n;
    },
    usagePending: deps.usagePending,
    // Three gauges read the account rows in one scrape: built once per second at most.
    accounts: reusedFor(1_000, accountRows),
    // The up gauge and the latency histogram of one scrape share one ping.
    redisPing: reusedFor(500, () =>
      pingWithin(deps.store.redis, 1_000).then(
        (ms) => ms / 1000,
        () => null,
      ),
    ),
    caches: () => ({ keys: deps.keys.cacheStats, accounts: deps.accounts.cacheStats }),
    pubsubReconnects: () => deps.store.bus.reconnects,
  };
}
