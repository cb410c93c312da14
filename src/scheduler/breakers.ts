import CircuitBreaker from 'opossum';
import type { AccountId } from '../ids.js';

/** A failure that counts against an account's breaker (5xx, 529, connection errors, timeouts). */
export class BreakerFailure extends Error {
  constructor(readonly result: unknown, cause?: unknown) {
    super('upstream failure', cause === undefined ? undefined : { cause });
    this.name = 'BreakerFailure';
  }
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
  /** Runs one upstream call through the account's breaker; throw BreakerFailure to count a failure. */
  run<T>(id: AccountId, call: () => Promise<T>): Promise<T>;
  state(id: AccountId): 'closed' | 'open' | 'half-open';
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
        // Only upstream failures count: a client's bad request or a rate limit is not a sick account.
        errorFilter: (err: unknown) => !(err instanceof BreakerFailure),
      });
      b.on('open', () => events.onOpen(id, now() + opts.resetMs));
      b.on('close', () => events.onClose(id));
      breakers.set(id, b);
    }
    return b;
  };

  return {
    run<T>(id: AccountId, call: () => Promise<T>) {
      return breakerFor(id).fire(call) as Promise<T>;
    },
    state(id) {
      const b = breakers.get(id);
      if (!b) return 'closed';
      return b.opened ? 'open' : b.halfOpen ? 'half-open' : 'closed';
    },
  };
}
