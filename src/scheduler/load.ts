import type { AccountId } from '../ids.js';
import type { Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';
import type { LoadSignals } from './strategies.js';

/**
 * In-flight counts and last picks of accounts as every worker and node sees them: read from Redis
 * (the account lease sets) at most every `refreshMs`, lazily, and corrected between reads by
 * this worker's own acquisitions and releases. TTFB means are this worker's own measurements.
 */
export interface LoadView extends LoadSignals {
  /** Refreshes the remote view if it is stale (does not wait for it). */
  touch(ids: readonly AccountId[]): void;
  acquired(id: AccountId): void;
  released(id: AccountId): void;
  picked(id: AccountId): void;
  measured(id: AccountId, ttfbMs: number): void;
}

const EWMA_ALPHA = 0.2;
/** How long a TTFB mean is trusted without a new measurement. */
const TTFB_MEMORY_MS = 60_000;

export function createLoadView(deps: { store: Store; clock: Clock; refreshMs?: number }): LoadView {
  const { store, clock } = deps;
  const refreshMs = deps.refreshMs ?? 250;
  const remote = new Map<AccountId, { inFlight: number; lastPick: number; localAtRead: number }>();
  const local = new Map<AccountId, number>();
  const localPick = new Map<AccountId, number>();
  const ewma = new Map<AccountId, { mean: number; at: number }>();
  let lastRefresh = -Infinity;
  let lastStamp = 0;
  let refreshing = false;

  const refresh = async (ids: readonly AccountId[]) => {
    refreshing = true;
    try {
      const now = clock.now();
      const rows = await Promise.all(
        ids.map(async (id) => {
          const [inFlight, lastPick] = await Promise.all([store.redis.zcount(store.keys.accountLeases(id), now, '+inf'), store.redis.get(store.keys.accountLastPick(id))]);
          return [id, inFlight, Number(lastPick ?? 0)] as const;
        }),
      );
      for (const [id, inFlight, lastPick] of rows) remote.set(id, { inFlight, lastPick, localAtRead: local.get(id) ?? 0 });
    } catch {
      // keep the previous view; the next touch retries
    } finally {
      refreshing = false;
    }
  };

  return {
    touch(ids) {
      const now = clock.now();
      if (refreshing || now - lastRefresh < refreshMs) return;
      lastRefresh = now;
      void refresh(ids);
    },
    inFlight(id) {
      const r = remote.get(id);
      const mine = local.get(id) ?? 0;
      return r ? Math.max(0, r.inFlight + mine - r.localAtRead) : mine;
    },
    lastPick(id) {
      return Math.max(remote.get(id)?.lastPick ?? 0, localPick.get(id) ?? 0);
    },
    ttfb(id) {
      // A mean nobody refreshed for a while is forgotten, so a once-slow account gets measured again.
      const m = ewma.get(id);
      return m && clock.now() - m.at <= TTFB_MEMORY_MS ? m.mean : undefined;
    },
    acquired(id) {
      local.set(id, (local.get(id) ?? 0) + 1);
    },
    released(id) {
      local.set(id, Math.max(0, (local.get(id) ?? 0) - 1));
    },
    picked(id) {
      // One strictly increasing stamp per worker: picks in the same millisecond keep their order.
      lastStamp = Math.max(clock.now(), lastStamp + 1, this.lastPick(id) + 1);
      localPick.set(id, lastStamp);
    },
    measured(id, ttfbMs) {
      const prev = ewma.get(id);
      ewma.set(id, { mean: prev === undefined ? ttfbMs : prev.mean + EWMA_ALPHA * (ttfbMs - prev.mean), at: clock.now() });
    },
  };
}
