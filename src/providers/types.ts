import type { Account, Platform } from '../accounts/service.js';
import type { TokenUsage } from '../usage/pricing.js';

/** A request ready to go upstream. */
export interface UpstreamRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: Buffer | string;
}

/** What the relay pipeline hands a provider to build the upstream call. */
export interface UpstreamCall {
  account: Account;
  /** Upstream path, e.g. `/v1/messages`. */
  path: string;
  /** Raw query string without `?` (forwarded as is, e.g. `beta=true`). */
  query: string;
  clientHeaders: Readonly<Record<string, string>>;
  method: 'GET' | 'POST';
  body?: Buffer;
}

/**
 * Reads usage out of a response as its bytes go by. The bytes the client receives are the bytes
 * the tap reads: there is no second parse or estimate.
 */
export interface UsageTap {
  push(chunk: Buffer): void;
  /** No more bytes will come (finished, cut, or aborted). */
  end(): void;
  readonly usage: TokenUsage;
  /** The model the upstream says it served, when it says so. */
  readonly model: string | undefined;
  /** The upstream reported any usage at all. */
  readonly sawUsage: boolean;
  /** The stream reached its normal end (Anthropic `message_stop`). */
  readonly complete: boolean;
  /** The upstream has sent its first event: from here on bytes go to the client (no failover). */
  readonly started: boolean;
  /** An error event inside the stream, if one came. */
  readonly streamError: { type: string; message: string } | undefined;
}

/** Outcome classes the relay reacts to (failover and cooldowns build on these). */
export type UpstreamErrorClass = 'rate_limited' | 'overloaded' | 'server_error' | 'unauthorized' | 'client_error';

/** One upstream platform: endpoint and auth, header policy, usage extraction, error classes. */
export interface Provider {
  readonly platform: Platform;
  /** Account types this provider can serve (`api-key`, `oauth`, …). */
  readonly accountTypes: readonly string[];
  /** Default upstream base URL for a new account. */
  readonly defaultBaseUrl: string;
  buildRequest(call: UpstreamCall): UpstreamRequest;
  /** Upstream response headers the client may see. */
  forwardResponseHeader(name: string): boolean;
  /** Usage from a whole JSON response body. */
  usageFromJson(body: unknown): { usage: TokenUsage; model: string | undefined; sawUsage: boolean };
  createStreamTap(): UsageTap;
  classifyError(status: number): UpstreamErrorClass;
  /** When the upstream says a rate limit resets (epoch ms), from its response headers. */
  resetTime(headers: Readonly<Record<string, string>>, now: number): number | undefined;
}
