import type { TokenUsage } from '../usage/pricing.js';
import { SseParser } from '../util/sse.js';
import type { FoundUsage, UsageReader, UsageTap } from './types.js';

/**
 * Usage of OpenAI's three wire formats, read from the upstream's own fields:
 *  - Chat Completions: `usage.prompt_tokens` (cached included), `prompt_tokens_details.cached_tokens`,
 *    `completion_tokens` (reasoning included); in a stream, the last chunk (asked for with
 *    `stream_options.include_usage`, see translate/openai-chat-to-openai-chat.ts);
 *  - Responses: `usage.input_tokens`, `input_tokens_details.cached_tokens`, `output_tokens`; in a
 *    stream, the terminal `response.completed` / `response.incomplete` / `response.failed` event;
 *  - Embeddings: `usage.prompt_tokens`.
 * Input is booked net of cache reads (and of cache writes, which newer models report as
 * `cache_write_tokens` and bill apart). A stream cut before its usage event books nothing: no
 * token count is ever estimated.
 */
interface OpenAIUsageJson {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  input_tokens?: unknown;
  output_tokens?: unknown;
  prompt_tokens_details?: { cached_tokens?: unknown; cache_write_tokens?: unknown } | null;
  input_tokens_details?: { cached_tokens?: unknown; cache_write_tokens?: unknown } | null;
}

const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;

/** An OpenAI `usage` object (any of the three formats) → tokens by kind; undefined when there is none. */
export function openaiTokenUsage(raw: unknown): TokenUsage | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const u = raw as OpenAIUsageJson;
  const prompt = count(u.input_tokens) ?? count(u.prompt_tokens) ?? 0;
  const details = u.input_tokens_details ?? u.prompt_tokens_details;
  // Cache reads and writes are parts of the prompt: never more than it, never counted twice.
  const cached = Math.min(count(details?.cached_tokens) ?? 0, prompt);
  const written = Math.min(count(details?.cache_write_tokens) ?? 0, prompt - cached);
  return {
    inputTokens: prompt - cached - written,
    outputTokens: count(u.output_tokens) ?? count(u.completion_tokens) ?? 0,
    cacheCreate5mTokens: written,
    cacheCreate1hTokens: 0,
    cacheReadTokens: cached,
    webSearchRequests: 0,
  };
}

const ZERO: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cacheCreate5mTokens: 0,
  cacheCreate1hTokens: 0,
  cacheReadTokens: 0,
  webSearchRequests: 0,
};

/** A whole JSON answer (chat completion, response object, embeddings list). */
export function openaiUsageFromJson(body: unknown): FoundUsage {
  const b = body as { usage?: unknown; model?: unknown } | null;
  const usage = openaiTokenUsage(b?.usage);
  return {
    usage: usage ?? { ...ZERO },
    model: typeof b?.model === 'string' && b.model ? b.model : undefined,
    sawUsage: usage !== undefined,
  };
}

function parse(data: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(data) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An `error` object of a stream, in the shapes OpenAI and the ChatGPT backend use. */
function streamErrorOf(e: unknown, fallback: string): { type: string; message: string } {
  const err = (e && typeof e === 'object' ? e : {}) as { type?: unknown; code?: unknown; message?: unknown };
  const type =
    typeof err.code === 'string' && err.code
      ? err.code
      : typeof err.type === 'string' && err.type
        ? err.type
        : fallback;
  return { type, message: typeof err.message === 'string' ? err.message : '' };
}

abstract class SseTap implements UsageTap {
  protected readonly parser: SseParser;
  protected found: TokenUsage | undefined;
  model: string | undefined;
  complete = false;
  started = false;
  streamError: { type: string; message: string } | undefined;

  constructor(wants?: (event: string) => boolean) {
    this.parser = new SseParser((e) => {
      this.started = true;
      this.onEvent(e.event, e.data);
    }, wants);
  }

  protected abstract onEvent(event: string, data: string): void;

  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  end(): void {
    this.parser.end();
  }

  get usage(): TokenUsage {
    return this.found ?? { ...ZERO };
  }

  get sawUsage(): boolean {
    return this.found !== undefined;
  }
}

// Only chunks that may carry usage or an error are parsed; the rest of a chat stream is content.
// Inside JSON strings quotes are escaped, so these cannot match text the model wrote.
const MAY_CARRY_USAGE = /"usage"\s*:\s*\{/;
const MAY_CARRY_ERROR = /"error"\s*:/;

/** Chat Completions stream: `data: {chunk}` lines ending with `data: [DONE]`. */
export class OpenAIChatStreamTap extends SseTap {
  protected onEvent(_event: string, data: string): void {
    if (data.trim() === '[DONE]') {
      this.complete = true;
      return;
    }
    if (this.model !== undefined && !MAY_CARRY_USAGE.test(data) && !MAY_CARRY_ERROR.test(data)) return;
    const chunk = parse(data);
    if (!chunk) return;
    // Azure's first chunk (prompt filter results) names no model.
    if (this.model === undefined && typeof chunk.model === 'string' && chunk.model) this.model = chunk.model;
    const usage = openaiTokenUsage(chunk.usage);
    if (usage) this.found = usage;
    if (chunk.error) this.streamError = streamErrorOf(chunk.error, 'api_error');
  }
}

const RESPONSE_EVENTS = new Set([
  'response.created',
  'response.in_progress',
  'response.completed',
  'response.incomplete',
  'response.failed',
  'error',
  'message',
]);
const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** Responses stream: named events; the usage rides on the terminal event's `response`. */
export class OpenAIResponsesStreamTap extends SseTap {
  constructor() {
    // `message`: an upstream that sends bare `data:` lines carries the event name in `type`.
    super((event) => RESPONSE_EVENTS.has(event));
  }

  protected onEvent(event: string, data: string): void {
    const payload = parse(data);
    if (!payload) return;
    // The event's name when it has one; bare `data:` lines carry it in `type`.
    const type = event !== 'message' ? event : typeof payload.type === 'string' ? payload.type : event;
    if (type === 'error') {
      this.streamError = streamErrorOf(payload.error ?? payload, 'api_error');
      return;
    }
    const response = payload.response as { model?: unknown; usage?: unknown; error?: unknown } | undefined;
    if (typeof response?.model === 'string' && response.model) this.model = response.model;
    if (!TERMINAL.has(type)) return;
    const usage = openaiTokenUsage(response?.usage);
    if (usage) this.found = usage;
    if (type === 'response.failed') this.streamError = streamErrorOf(response?.error, 'response_failed');
    this.complete = true;
  }
}

/** Embeddings are never streamed; their tap only notices that an answer began. */
class NoStreamTap extends SseTap {
  protected onEvent(): void {}
}

const CUT_MESSAGE = 'The upstream stream ended before the response was complete.';

/** What a Chat Completions client reads as a failed stream (the SDKs throw on a `data: {"error":…}` chunk). */
export const chatCutNotice = (message = CUT_MESSAGE): Buffer =>
  Buffer.from(
    `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code: 'stream_cut' } })}\n\n`,
  );

export const OPENAI_READERS = {
  'openai-chat': { fromJson: openaiUsageFromJson, tap: () => new OpenAIChatStreamTap(), cutNotice: chatCutNotice },
  'openai-responses': {
    fromJson: openaiUsageFromJson,
    tap: () => new OpenAIResponsesStreamTap(),
    cutNotice: (message = CUT_MESSAGE) =>
      Buffer.from(
        `event: error\ndata: ${JSON.stringify({ type: 'error', code: 'stream_cut', message, param: null })}\n\n`,
      ),
  },
  'openai-embeddings': { fromJson: openaiUsageFromJson, tap: () => new NoStreamTap() },
} as const satisfies Record<string, UsageReader>;
