import type { TokenUsage } from '../usage/pricing.js';
import { SseParser } from '../util/sse.js';
import type { FoundUsage, UsageReader, UsageTap } from './types.js';

/**
 * Usage of the Anthropic Messages format (the Claude API, Bedrock once decoded, and the Claude
 * bridge): the JSON `usage`, or `message_start` then `message_delta` in a stream.
 */

/** Anthropic's `usage` object as it appears in responses, `message_start` and `message_delta`. */
export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number };
  server_tool_use?: { web_search_requests?: number };
  speed?: string;
  inference_geo?: string;
}

const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;

/**
 * Folds successive usage objects into one: a field present in a later object replaces the earlier
 * value ("last value wins"), so `message_delta`'s cumulative counts override `message_start`'s and
 * fields only `message_start` carried survive.
 */
export class AnthropicUsageAccumulator {
  private input = 0;
  private output = 0;
  private cacheCreateTotal = 0;
  private cache5m: number | undefined;
  private cache1h: number | undefined;
  private cacheRead = 0;
  private webSearch = 0;
  private speed: string | undefined;
  private geo: string | undefined;
  seen = false;

  add(u: AnthropicUsage | undefined): void {
    if (!u || typeof u !== 'object') return;
    this.seen = true;
    this.input = count(u.input_tokens) ?? this.input;
    this.output = count(u.output_tokens) ?? this.output;
    this.cacheCreateTotal = count(u.cache_creation_input_tokens) ?? this.cacheCreateTotal;
    this.cacheRead = count(u.cache_read_input_tokens) ?? this.cacheRead;
    if (u.cache_creation && typeof u.cache_creation === 'object') {
      this.cache5m = count(u.cache_creation.ephemeral_5m_input_tokens) ?? this.cache5m;
      this.cache1h = count(u.cache_creation.ephemeral_1h_input_tokens) ?? this.cache1h;
    }
    this.webSearch = count(u.server_tool_use?.web_search_requests) ?? this.webSearch;
    if (typeof u.speed === 'string') this.speed = u.speed;
    if (typeof u.inference_geo === 'string') this.geo = u.inference_geo;
  }

  result(): TokenUsage {
    // The 1-hour part is what the breakdown says; everything else written to cache is 5-minute,
    // so the total `cache_creation_input_tokens` is always booked in full.
    const oneHour = this.cache1h ?? 0;
    const total = Math.max(this.cacheCreateTotal, oneHour + (this.cache5m ?? 0));
    const usage: TokenUsage = {
      inputTokens: this.input,
      outputTokens: this.output,
      cacheCreate5mTokens: total - oneHour,
      cacheCreate1hTokens: oneHour,
      cacheReadTokens: this.cacheRead,
      webSearchRequests: this.webSearch,
    };
    if (this.speed) usage.speed = this.speed;
    if (this.geo) usage.inferenceGeo = this.geo;
    return usage;
  }
}

export function usageFromMessage(body: unknown): FoundUsage {
  const acc = new AnthropicUsageAccumulator();
  const msg = body as { usage?: AnthropicUsage; model?: unknown } | null;
  acc.add(msg?.usage);
  return { usage: acc.result(), model: typeof msg?.model === 'string' ? msg.model : undefined, sawUsage: acc.seen };
}

const BOOKED_EVENTS = new Set(['message_start', 'message_delta', 'message_stop', 'error']);

/** Taps a Messages SSE stream for usage: `message_start` then `message_delta`, last value wins. */
export class AnthropicStreamTap implements UsageTap {
  private readonly acc = new AnthropicUsageAccumulator();
  private readonly parser = new SseParser(
    (e) => this.onEvent(e.event, e.data),
    (name) => BOOKED_EVENTS.has(name),
  );
  model: string | undefined;
  complete = false;
  started = false;
  streamError: { type: string; message: string } | undefined;

  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  end(): void {
    this.parser.end();
  }

  get usage(): TokenUsage {
    return this.acc.result();
  }

  get sawUsage(): boolean {
    return this.acc.seen;
  }

  private onEvent(event: string, data: string): void {
    this.started = true;
    if (event === 'message_stop') {
      this.complete = true;
      return;
    }
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return;
    }
    if (event === 'message_start') {
      const message = payload.message as { usage?: AnthropicUsage; model?: unknown } | undefined;
      if (typeof message?.model === 'string') this.model = message.model;
      this.acc.add(message?.usage);
    } else if (event === 'message_delta') {
      this.acc.add(payload.usage as AnthropicUsage | undefined);
    } else if (event === 'error') {
      const err = payload.error as { type?: unknown; message?: unknown } | undefined;
      this.streamError = { type: String(err?.type ?? 'api_error'), message: String(err?.message ?? '') };
    }
  }
}

const CUT_MESSAGE = 'The upstream stream ended before the message was complete.';

export const anthropicReader: UsageReader = {
  fromJson: usageFromMessage,
  tap: () => new AnthropicStreamTap(),
  cutNotice: (message = CUT_MESSAGE) =>
    Buffer.from(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message } })}\n\n`),
};
