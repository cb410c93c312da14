import { randomBytes } from 'node:crypto';
import type { AccountId } from '../ids.js';
import type { Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { LoadSignals } from './strategies.js';

/**
 * In-flight counts and last picks of accounts as every worker and node sees them.
 *
 * Each worker counts its own requests exactly and publishes them every `publishMs` into the
 * account's load hash in Redis (one field per worker, with a timestamp). Reading the view sums the
 * other workers' fresh entries, refreshed lazily at most every `refreshMs`, plus this worker's own
 * live count. No Redis call per request: an account with a hard concurrency cap is the exception,
 * and takes an exact lease (see the scheduler). TTFB means are this worker's own measurements.
 */
export interface LoadView extends LoadSignals {
  /** Refreshes the remote view if it is stale (does not wait for it). */
  touch(ids: readonly AccountId[]): void;
  acquired(id: AccountId): void;
  released(id: AccountId): void;
  picked(id: AccountId): void;
  measured(id: AccountId, ttfbMs: number): void;
  /** The deployment-wide in-flight count, read now (admin views). */
  readInFlight(id: AccountId): Promise<number>;
  stop(): void;
}

const EWMA_ALPHA = 0.2;
const PUBLISH_MS = 100;
const FRESH_MS = PUBLISH_MS * 6;

/** Sums the fresh entries of a load hash, leaving out worker `skip`. */
function sumLoad(entries: Record<string, string>, skip: string | null, now: number, freshMs: number) {
  let inFlight = 0;
  let lastPick = 0;
  for (const [worker, value] of Object.entries(entries)) {
    if (worker === skip) continue;
    const [n, pick, at] = value.split('|').map(Number) as [number, number, number];
    if (!(now - at <= freshMs)) continue;
    inFlight += n || 0;
    lastPick = Math.max(lastPick, pick || 0);
  }
  return { inFlight, lastPick };
}

/** An account's in-flight count across the deployment as last published (admin views, CLI). */
export async function readAccountLoad(
  store: Store,
  clock: Clock,
  id: AccountId,
): Promise<{ inFlight: number; lastPick: number }> {
  return sumLoad(await store.redis.hgetall(store.keys.accountLoad(id)), null, clock.now(), FRESH_MS);
}
/** How long a TTFB mean is trusted without a new measurement. */
const TTFB_MEMORY_MS = 60_000;

export function createLoadView(deps: {
  store: Store;
  clock: Clock;
  log: Logger;
  refreshMs?: number;
  publishMs?: number;
}): LoadView {
  const { store, clock } = deps;
  const refreshMs = deps.refreshMs ?? 250;
  const publishMs = deps.publishMs ?? PUBLISH_MS;
  /** A published entry older than this belongs to a worker that stopped. */
  const freshMs = publishMs * 6;
  const me = randomBytes(6).toString('hex');

  const others = new Map<AccountId, { inFlight: number; lastPick: number }>();
  const local = new Map<AccountId, number>();
  const localPick = new Map<AccountId, number>();
  const dirty = new Set<AccountId>();
  const ewma = new Map<AccountId, { mean: number; at: number }>();
  let lastRefresh = -Infinity;
  let refreshing = false;
  let lastStamp = 0;

  const sum = (entries: Record<string, string>, skip: string | null, now: number) =>
    sumLoad(entries, skip, now, freshMs);

  const refresh = async (ids: readonly AccountId[]) => {
    refreshing = true;
    try {
      const rows = await Promise.all(
        ids.map(async (id) => [id, await store.redis.hgetall(store.keys.accountLoad(id))] as const),
      );
      const now = clock.now();
      for (const [id, entries] of rows) others.set(id, sum(entries, me, now));
    } catch {
      // keep the previous view; the next touch retries
    } finally {
      refreshing = false;
    }
  };

  const publish = () => {
    if (dirty.size === 0) return;
    const now = clock.now();
    for (const id of dirty) {
      const key = store.keys.accountLoad(id);
      store.redis
        .multi()
        .hset(key, me, `${local.get(id) ?? 0}|${localPick.get(id) ?? 0}|${now}`)
        .pexpire(key, freshMs * 4)
        .exec()
        .catch((err: unknown) => deps.log.warn('account load not published', { accountId: id, err }));
      // An account with requests in flight is republished, so its entry stays fresh.
      if ((local.get(id) ?? 0) === 0) dirty.delete(id);
    }
  };
  const timer = setInterval(publish, publishMs);
  timer.unref();

  const lastPick = (id: AccountId) => Math.max(others.get(id)?.lastPick ?? 0, localPick.get(id) ?? 0);

  return {
    touch(ids) {
      const now = clock.now();
      if (refreshing || now - lastRefresh < refreshMs) return;
      lastRefresh = now;
      void refresh(ids);
    },
    inFlight: (id) => (others.get(id)?.inFlight ?? 0) + (local.get(id) ?? 0),
    lastPick,
    ttfb(id) {
      // A mean nobody refreshed for a while is forgotten, so a once-slow account gets measured again.
      const m = ewma.get(id);
      return m && clock.now() - m.at <= TTFB_MEMORY_MS ? m.mean : undefined;
    },
    acquired(id) {
      local.set(id, (local.get(id) ?? 0) + 1);
      dirty.add(id);
    },
    released(id) {
      local.set(id, Math.max(0, (local.get(id) ?? 0) - 1));
      dirty.add(id);
    },
    picked(id) {
      // One strictly increasing stamp per worker: picks in the same millisecond keep their order.
      lastStamp = Math.max(clock.now(), lastStamp + 1, lastPick(id) + 1);
      localPick.set(id, lastStamp);
      dirty.add(id);
    },
    measured(id, ttfbMs) {
      const prev = ewma.get(id);
      ewma.set(id, {
        mean: prev === undefined ? ttfbMs : prev.mean + EWMA_ALPHA * (ttfbMs - prev.mean),
        at: clock.now(),
      });
    },
    async readInFlight(id) {
      // Other workers as last published, this one as it is now.
      return (
        sum(await store.redis.hgetall(store.keys.accountLoad(id)), me, clock.now()).inFlight + (local.get(id) ?? 0)
      );
    },
    stop() {
      clearInterval(timer);
      publish();
    },
  };
}
