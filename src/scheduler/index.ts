import type { Account, AccountService, Platform } from '../accounts/service.js';
import type { AccountId } from '../ids.js';
import type { Clock } from '../util/clock.js';

/** What the relay asks the scheduler for. */
export interface PickRequest {
  platform: Platform;
  model: string;
  /** Accounts already tried in this request (failover skips them). */
  exclude?: ReadonlySet<AccountId>;
}

export type PickResult = { ok: true; account: Account } | { ok: false; reason: 'no_account' };

export interface Scheduler {
  pick(req: PickRequest): Promise<PickResult>;
}

/**
 * Chooses an upstream account: active and schedulable accounts of the platform, lowest priority
 * number first, then the least recently used. "Recently used" combines the last use Redis knows
 * (written with every usage booking) and this worker's own picks since, so concurrent requests
 * on one worker spread instead of piling onto one account.
 */
export function createScheduler(deps: { accounts: AccountService; clock: Clock }): Scheduler {
  const localPicks = new Map<AccountId, number>();

  return {
    async pick(req) {
      const all = await deps.accounts.snapshot();
      let best: Account | undefined;
      let bestUsed = 0;
      for (const a of all) {
        if (a.platform !== req.platform || !a.active || !a.schedulable) continue;
        if (req.exclude?.has(a.id)) continue;
        const used = Math.max(a.lastUsedAt ?? 0, localPicks.get(a.id) ?? 0);
        if (!best || a.priority < best.priority || (a.priority === best.priority && used < bestUsed)) {
          best = a;
          bestUsed = used;
        }
      }
      if (!best) return { ok: false, reason: 'no_account' };
      // Strictly later than its last use, so same-millisecond picks still rotate.
      localPicks.set(best.id, Math.max(deps.clock.now(), bestUsed + 1));
      return { ok: true, account: best };
    },
  };
}
