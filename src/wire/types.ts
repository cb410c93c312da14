import type { TokenUsage } from '../usage/pricing.js';

/**
 * The wire formats the relay speaks, on either side. A client surface has one; an upstream account
 * speaks one per operation; a translator (src/translate/) bridges two.
 */
export const WIRE_FORMATS = [
  'anthropic',
  'openai-chat',
  'openai-responses',
  'openai-embeddings',
  'gemini',
  'code-assist',
] as const;
export type WireFormat = (typeof WIRE_FORMATS)[number];

/** What a request asks the upstream to do. */
export type Operation = 'generate' | 'count_tokens' | 'embed';

/**
 * Reads usage out of a response as its bytes go by. The bytes the client receives come from the
 * same events the tap reads: there is no second source, and nothing is estimated.
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
  /** The stream reached its normal end (Anthropic `message_stop`, OpenAI `[DONE]`…). */
  readonly complete: boolean;
  /** The upstream has sent its first event: from here on bytes go to the client (no failover). */
  readonly started: boolean;
  /** An error event inside the stream, if one came. */
  readonly streamError: { type: string; message: string } | undefined;
}

export interface FoundUsage {
  usage: TokenUsage;
  model: string | undefined;
  sawUsage: boolean;
}

/** How to read the usage of one wire format, from a whole JSON body or from its stream. */
export interface UsageReader {
  fromJson(body: unknown): FoundUsage;
  tap(): UsageTap;
  /**
   * What a client of this format is sent at the end of a stream that did not finish: `message` says why (default: it
   * was cut).
   */
  cutNotice?(message?: string): Buffer;
}
