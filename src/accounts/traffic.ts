import type { AccountId } from '../ids.js';
import type { Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/**
 * Passive health: how each account's real upstream attempts went over the last minutes, shared by
 * every worker and node. A worker folds its attempts in memory per account and minute and writes
 * them every few seconds (one MULTI of HINCRBYs per minute key), so a request never waits on it.
 * The probes read it to take an account out whose traffic fails too often, and to tell idle
 * accounts from busy ones.
 *
 * An error is what says something about the account: a 5xx or 529, 401/403, or no answer at all
 * (unreachable, timed out). A 429 is the upstream pacing us, and other 4xx are the client's own.
 */

const MINUTE = 60_000;
/** Minute hashes outlive any window read from them (PASSIVE_WINDOW, PROBE_IDLE are minutes). */
export const TRAFFIC_TTL_MS = 2 * 3_600_000;

/** Whether an upstream attempt that ended with `status` (null: no answer) counts against the account. */
export function countsAsError(status: number | null): boolean {
  return status === null || status >= 500 || status === 401 || status === 403;
}

export interface TrafficRecorder {
  /**
   * Folds one upstream attempt in memory: its status (null when there was no answer) and the
   * time to its response headers (ignored without an answer).
   */
  add(id: AccountId, status: number | null, ttfbMs: number): void;
  /** Writes what is folded so far. */
  flush(): Promise<void>;
  /** Stops the timer and writes the rest. */
  stop(): Promise<void>;
}

/** One account's real traffic over a window. */
export interface AccountTraffic {
  requests: number;
  errors: number;
  /** errors / requests; 0 without requests. */
  errorRatio: number;
  /** Mean time to response headers of the attempts that got an answer; null without any. */
  ttfbAvgMs: number | null;
  /** The end of the last minute with traffic (at most `now`); null: none in the window. */
  lastSeenAt: number | null;
}

export interface TrafficReader {
  trafficOf(ids: readonly AccountId[], windowMs: number, now: number): Promise<Map<AccountId, AccountTraffic>>;
}

type Counts = { n: number; err: number; ttfbMs: number; ttfbN: number };
const FIELDS = ['n', 'err', 'ttfb_ms', 'ttfb_n'] as const;

export function createTrafficRecorder(deps: {
  store: Store;
  clock: Clock;
  log: Logger;
  flushEveryMs?: number;
}): TrafficRecorder {
  const { store, clock, log } = deps;
  /** minute → account → counts */
  let minutes = new Map<number, Map<AccountId, Counts>>();

  const countsOf = (into: typeof minutes, minute: number, id: AccountId): Counts => {
    let byAccount = into.get(minute);
    if (!byAccount) into.set(minute, (byAccount = new Map()));
    let c = byAccount.get(id);
    if (!c) byAccount.set(id, (c = { n: 0, err: 0, ttfbMs: 0, ttfbN: 0 }));
    return c;
  };

  const write = async (minute: number, byAccount: Map<AccountId, Counts>) => {
    const key = store.keys.accountTraffic(minute);
    const tx = store.redis.multi();
    for (const [id, c] of byAccount) {
      tx.hincrby(key, `${id}|n`, c.n);
      if (c.err) tx.hincrby(key, `${id}|err`, c.err);
      if (c.ttfbN) tx.hincrby(key, `${id}|ttfb_ms`, Math.round(c.ttfbMs)).hincrby(key, `${id}|ttfb_n`, c.ttfbN);
    }
    tx.pexpire(key, TRAFFIC_TTL_MS);
    await tx.exec();
  };

  let stopped = false;
  const flush = async () => {
    const folded = minutes;
    minutes = new Map();
    await Promise.all(
      [...folded].map(([minute, byAccount]) =>
        write(minute, byAccount).catch((err: unknown) => {
          log.warn('account traffic not written (passive health only; usage is not affected)', { err });
          // Kept for the next flush unless the minute is too old to matter or we are stopping.
          if (stopped || minute < clock.now() - TRAFFIC_TTL_MS) return;
          for (const [id, c] of byAccount) {
            const into = countsOf(minutes, minute, id);
            into.n += c.n;
            into.err += c.err;
            into.ttfbMs += c.ttfbMs;
            into.ttfbN += c.ttfbN;
          }
        }),
      ),
    );
  };

  const timer = setInterval(() => void flush(), deps.flushEveryMs ?? 5_000);
  timer.unref();

  return {
    add(id, status, ttfbMs) {
      const c = countsOf(minutes, Math.floor(clock.now() / MINUTE) * MINUTE, id);
      c.n++;
      if (countsAsError(status)) c.err++;
      if (status !== null) {
        c.ttfbMs += Math.max(0, ttfbMs);
        c.ttfbN++;
      }
    },
    flush,
    async stop() {
      clearInterval(timer);
      stopped = true;
      await flush();
    },
  };
}

export function createTrafficReader(deps: { store: Store }): TrafficReader {
  const { store } = deps;
  return {
    async trafficOf(ids, windowMs, now) {
      const out = new Map<AccountId, AccountTraffic>();
      const sums = ids.map(() => ({ n: 0, err: 0, ttfbMs: 0, ttfbN: 0, last: null as number | null }));
      if (ids.length > 0) {
        const fields = ids.flatMap((id) => FIELDS.map((f) => `${id}|${f}`));
        const last = Math.floor(now / MINUTE) * MINUTE;
        const first = Math.floor((now - windowMs) / MINUTE) * MINUTE;
        const minutes: number[] = [];
        for (let m = first; m <= last; m += MINUTE) minutes.push(m);
        const rows = await Promise.all(minutes.map((m) => store.redis.hmget(store.keys.accountTraffic(m), ...fields)));
        rows.forEach((row, mi) => {
          const minute = minutes[mi] as number;
          sums.forEach((s, i) => {
            const [n, err, ttfbMs, ttfbN] = FIELDS.map((_, f) => Number(row[i * FIELDS.length + f] ?? 0));
            if (!n) return;
            s.n += n;
            s.err += err ?? 0;
            s.ttfbMs += ttfbMs ?? 0;
            s.ttfbN += ttfbN ?? 0;
            s.last = Math.max(s.last ?? 0, Math.min(minute + MINUTE - 1, now));
          });
        });
      }
      ids.forEach((id, i) => {
        const s = sums[i] as (typeof sums)[number];
        out.set(id, {
          requests: s.n,
          errors: s.err,
          errorRatio: s.n > 0 ? s.err / s.n : 0,
          ttfbAvgMs: s.ttfbN > 0 ? Math.round(s.ttfbMs / s.ttfbN) : null,
          lastSeenAt: s.last,
        });
      });
      return out;
    },
  };
}
