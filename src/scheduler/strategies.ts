import type { Account } from '../accounts/service.js';
import type { Strategy } from '../accounts/groups.js';
import type { AccountId } from '../ids.js';

/** What strategies read about each account's recent use. */
export interface LoadSignals {
  lastPick(id: AccountId): number;
  inFlight(id: AccountId): number;
  /** Exponentially weighted mean time to first byte, ms; undefined = never measured. */
  ttfb(id: AccountId): number | undefined;
}

/**
 * Chooses one account among equally ranked candidates (same tier, same priority). `pool` names
 * the candidate set, so round-robin cursors and weights are kept per pool. State is per worker:
 * across workers, round robin and weighted round robin are each exact per worker and even overall.
 */
export interface StrategyState {
  choose(strategy: Strategy, pool: string, candidates: readonly Account[], signals: LoadSignals): Account;
}

export function createStrategyState(): StrategyState {
  const cursors = new Map<string, number>();
  const weights = new Map<string, Map<AccountId, number>>();

  const leastRecentlyUsed = (list: readonly Account[], s: LoadSignals) =>
    list.reduce((best, a) => (s.lastPick(a.id) < s.lastPick(best.id) ? a : best));

  return {
    choose(strategy, pool, candidates, s) {
      if (candidates.length === 1) return candidates[0] as Account;
      const list = [...candidates].sort((a, b) => (a.id < b.id ? -1 : 1));
      switch (strategy) {
        case 'round-robin': {
          const n = cursors.get(pool) ?? 0;
          cursors.set(pool, n + 1);
          return list[n % list.length] as Account;
        }
        case 'weighted-round-robin': {
          // Smooth weighted round robin (as nginx): every pick adds each weight to its running
          // score, takes the highest, and subtracts the total from the winner.
          const current = weights.get(pool) ?? new Map<AccountId, number>();
          weights.set(pool, current);
          let total = 0;
          let best: Account | undefined;
          for (const a of list) {
            const w = Math.max(1, a.weight);
            total += w;
            const score = (current.get(a.id) ?? 0) + w;
            current.set(a.id, score);
            if (!best || score > (current.get(best.id) ?? 0)) best = a;
          }
          const chosen = best as Account;
          current.set(chosen.id, (current.get(chosen.id) ?? 0) - total);
          return chosen;
        }
        case 'least-connections': {
          const min = Math.min(...list.map((a) => s.inFlight(a.id)));
          return leastRecentlyUsed(
            list.filter((a) => s.inFlight(a.id) === min),
            s,
          );
        }
        case 'fastest': {
          // Unmeasured accounts first (they need a measurement), then the lowest mean TTFB.
          const unmeasured = list.filter((a) => s.ttfb(a.id) === undefined);
          if (unmeasured.length > 0) return leastRecentlyUsed(unmeasured, s);
          const min = Math.min(...list.map((a) => s.ttfb(a.id) as number));
          return leastRecentlyUsed(
            list.filter((a) => s.ttfb(a.id) === min),
            s,
          );
        }
        case 'least-recently-used':
          return leastRecentlyUsed(list, s);
      }
    },
  };
}
