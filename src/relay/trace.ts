import { performance } from 'node:perf_hooks';
import type { AccountId } from '../ids.js';
import type { TokenCounts } from '../metrics/index.js';
import type { UsageEvent } from '../usage/recorder.js';

/**
 * What one request did, gathered on its way through for its access line, its metrics and the
 * minute history: who served it, what it booked, and where its time went. Times are monotonic
 * (performance.now), so the relay's own share is exact to the microsecond.
 */
export class Trace {
  keyId: string | undefined;
  accountId: AccountId | undefined;
  platform = 'none';
  model: string | undefined;
  stream = false;
  outcome: UsageEvent['outcome'] | undefined;
  tokens: TokenCounts | undefined;
  costPico = 0;
  attempts = 0;

  private readonly start = performance.now();
  /** Time spent waiting for upstreams, over every attempt. */
  private upstreamMs = 0;
  private waitingSince: number | null = null;
  /** Upstream time to its answer's first byte, of the attempt that answered last. */
  upstreamTtfbMs: number | null = null;
  /** The relay's own time until it started answering; null until it does. */
  overheadMs: number | null = null;

  /** A request goes to an upstream (or the relay starts reading more of its answer). */
  waitUpstream(): void {
    this.waitingSince = performance.now();
  }

  /** The upstream answered: what was waited since waitUpstream() is the upstream's time. */
  upstreamAnswered(firstByte: boolean): void {
    if (this.waitingSince === null) return;
    const waited = performance.now() - this.waitingSince;
    this.waitingSince = null;
    this.upstreamMs += waited;
    if (firstByte) this.upstreamTtfbMs = waited;
  }

  /** The response starts now: its Server-Timing header, relay and upstream time apart. */
  answering(): string {
    this.upstreamAnswered(false);
    const overhead = Math.max(0, performance.now() - this.start - this.upstreamMs);
    this.overheadMs ??= overhead;
    return `relay;dur=${overhead.toFixed(2)}, upstream;dur=${this.upstreamMs.toFixed(2)}`;
  }

  elapsedMs(): number {
    return performance.now() - this.start;
  }
}
