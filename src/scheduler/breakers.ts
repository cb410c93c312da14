import CircuitBreaker from 'opossum';
import type { AccountId } from '../ids.js';

/** How a call through an account's breaker went. */
export type Guarded<T> =
  /** It ran and returned (a failure the breaker counted, such as a 5xx, is still returned). */
  | { kind: 'returned'; value: T }
  /** It ran and threw. */
  | { kind: 'threw'; error: unknown }
  /** The breaker is open: it did not run. */
  | { kind: 'open' };

/** Which outcomes of a call are the account's sickness (counted towards opening its breaker). */
export interface Sickness<T> {
  /** A returned value that counts as a failure (5xx, 529). */
  failed(value: T): boolean;
  /** A thrown error that counts (connection errors, timeouts); anything else is not the account's fault. */
  counts(error: unknown): boolean;
}

/** Carries a counted outcome through opossum, which counts only rejections. */
class Counted {
  constructor(readonly outcome: Exclude<Guarded<unknown>, { kind: 'open' }>) {}
}

export interface BreakerOptions {
  /** Failure percentage (of calls in the rolling window) that opens the breaker. */
  errorPercent: number;
  /** Calls in the window before the percentage counts. */
  volume: number;
  /** How long an open breaker waits before letting one probe through (half-open). */
  resetMs: number;
  /** Length of the rolling window. */
  windowMs: number;
}

export interface Breakers {
  /** Runs one upstream call through the account's breaker, counting what `sickness` says is a failure. */
  run<T>(id: AccountId, call: () => Promise<T>, sickness: Sickness<T>): Promise<Guarded<T>>;
  state(id: AccountId): 'closed' | 'open' | 'half-open';
  /** Closes the account's breaker and forgets its statistics (an admin reset it, or gave it new credentials). */
  reset(id: AccountId): void;
}

/**
 * One opossum breaker per account in each worker. When one opens, `onOpen` shares it (through the
 * health state in Redis) so every worker and node stops sending to that account too.
 */
export function createBreakers(
  opts: BreakerOptions,
  events: { onOpen(id: AccountId, openUntil: number): void; onClose(id: AccountId): void },
  now: () => number = Date.now,
): Breakers {
  const breakers = new Map<AccountId, CircuitBreaker<[() => Promise<unknown>], unknown>>();
  // opossum says so with this code when it refuses a call (open, or half-open with its probe out).
  const isRefusal = (err: unknown) => (err as { code?: unknown } | null)?.code === 'EOPENBREAKER';

  const breakerFor = (id: AccountId) => {
    let b = breakers.get(id);
    if (!b) {
      b = new CircuitBreaker(async (call: () => Promise<unknown>) => call(), {
        timeout: false,
        errorThresholdPercentage: opts.errorPercent,
        volumeThreshold: opts.volume,
        resetTimeout: opts.resetMs,
        rollingCountTimeout: opts.windowMs,
        rollingCountBuckets: 10,
        // Only what the caller's sickness counted: a client's bad request or a rate limit is not a sick account.
        errorFilter: (err: unknown) => !(err instanceof Counted),
      });
      b.on('open', () => events.onOpen(id, now() + opts.resetMs));
      b.on('close', () => events.onClose(id));
      breakers.set(id, b);
    }
    return b;
  };

  return {
    async run<T>(id: AccountId, call: () => Promise<T>, sickness: Sickness<T>): Promise<Guarded<T>> {
      const guarded = async (): Promise<T> => {
        let value: T;
        try {
          value = await call();
        } catch (error) {
          throw sickness.counts(error) ? new Counted({ kind: 'threw', error }) : error;
        }
        if (sickness.failed(value)) throw new Counted({ kind: 'returned', value });
        return value;
      };
      try {
        return { kind: 'returned', value: (await breakerFor(id).fire(guarded)) as T };
      } catch (err) {
        if (err instanceof Counted) return err.outcome as Guarded<T>;
        if (isRefusal(err)) return { kind: 'open' };
        return { kind: 'threw', error: err };
      }
    },
    reset(id) {
      const b = breakers.get(id);
      if (!b) return;
      b.shutdown();
      breakers.delete(id);
    },
    state(id) {
      const b = breakers.get(id);
      if (!b) return 'closed';
      return b.opened ? 'open' : b.halfOpen ? 'half-open' : 'closed';
    },
  };
}
