import type { TokenUsage } from '../usage/pricing.js';
import { SseParser } from '../util/sse.js';
import type { FoundUsage, UsageReader, UsageTap } from './types.js';

/**
 * Google's generateContent wire format, native (`gemini`) and wrapped by Code Assist
 * (`code-assist`: `{response: {…}, traceId}`): the stream parser both the usage taps and the
 * framing translators read, and usage from `usageMetadata`.
 */

/** `usageMetadata` as Google reports it; zero counts are usually left out. */
export interface GeminiUsageMetadata {
  /** The whole prompt, cached part included. */
  promptTokenCount?: number;
  /** The part of the prompt read from a context cache (implicit or explicit). */
  cachedContentTokenCount?: number;
  candidatesTokenCount?: number;
  /** Thinking tokens: billed as output. */
  thoughtsTokenCount?: number;
  /** Tokens of tool-use prompts (search results fed back): billed as input, not part of the prompt count. */
  toolUsePromptTokenCount?: number;
  totalTokenCount?: number;
}

/** A Google error body: `{error: {code, message, status}}`. */
export interface GoogleError {
  code: number;
  message: string;
  status: string;
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/**
 * Google's counts → the relay's: the prompt count includes what was read from cache, so input is
 * the rest (plus tool-use prompts); thoughts are output.
 */
export function usageFromMetadata(m: GeminiUsageMetadata): TokenUsage {
  const cached = count(m.cachedContentTokenCount);
  return {
    inputTokens: Math.max(0, count(m.promptTokenCount) - cached) + count(m.toolUsePromptTokenCount),
    outputTokens: count(m.candidatesTokenCount) + count(m.thoughtsTokenCount),
    cacheCreate5mTokens: 0,
    cacheCreate1hTokens: 0,
    cacheReadTokens: cached,
    webSearchRequests: 0,
  };
}

const ZERO: TokenUsage = usageFromMetadata({});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The generateContent response inside a chunk: itself (native) or its `response` (Code Assist). */
export type Unwrap = (chunk: Record<string, unknown>) => Record<string, unknown> | undefined;
export const nativeResponse: Unwrap = (chunk) => chunk;
export const codeAssistResponse: Unwrap = (chunk) => (isObject(chunk.response) ? chunk.response : undefined);

/** `{error: {…}}` (or Google's one-element array of it) → the error, else undefined. */
export function googleErrorOf(payload: unknown): GoogleError | undefined {
  const first = Array.isArray(payload) ? payload[0] : payload;
  if (!isObject(first) || !isObject(first.error)) return undefined;
  const e = first.error;
  return {
    code: typeof e.code === 'number' ? e.code : 500,
    message: typeof e.message === 'string' ? e.message : '',
    status: typeof e.status === 'string' ? e.status : 'UNKNOWN',
  };
}

function found(response: Record<string, unknown> | undefined): FoundUsage {
  const metadata = response?.usageMetadata;
  const model = typeof response?.modelVersion === 'string' && response.modelVersion ? response.modelVersion : undefined;
  if (!isObject(metadata)) return { usage: { ...ZERO }, model, sawUsage: false };
  return { usage: usageFromMetadata(metadata), model, sawUsage: true };
}

/** A payload outside the SSE framing longer than this is not an error body: stop collecting. */
const MAX_RAW = 256 * 1024;

/**
 * Reads Google's stream: SSE events (`data: {json}` lines, a blank line ends an event) and, as
 * Google does when a stream fails after it began, a JSON error body written outside the SSE
 * framing (often pretty-printed over several lines). Chunks may split anywhere, even inside a
 * UTF-8 character: lines are decoded only once whole.
 */
export class GeminiStreamParser {
  private readonly sse: SseParser;
  private raw = '';

  constructor(
    private readonly onChunk: (json: unknown) => void,
    /** A JSON body that came outside the SSE framing (an error). */
    private readonly onRaw: (json: unknown) => void,
  ) {
    this.sse = new SseParser(
      (e) => this.onEvent(e.data),
      undefined,
      (line) => this.outside(line),
    );
  }

  push(chunk: Buffer): void {
    this.sse.push(chunk);
  }

  /** The stream ended: a last line without a newline counts, and so does an unterminated event. */
  end(): void {
    this.sse.end();
  }

  /** Takes the lines of a JSON body outside the framing: from a line opening one, until a `data:` line. */
  private outside(text: string): boolean {
    if (this.raw) {
      if (!text.startsWith('data:')) {
        this.rawLine(text);
        return true;
      }
      // What looked like a body outside the framing was not one: the events go on.
      this.raw = '';
      return false;
    }
    const trimmed = text.trimStart();
    if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return false;
    this.sse.flush();
    this.rawLine(text);
    return true;
  }

  private rawLine(text: string): void {
    this.raw += `${text}\n`;
    try {
      const json: unknown = JSON.parse(this.raw);
      this.raw = '';
      this.onRaw(json);
    } catch {
      if (this.raw.length > MAX_RAW) this.raw = '';
    }
  }

  private onEvent(data: string): void {
    try {
      this.onChunk(JSON.parse(data));
    } catch {
      // Not JSON: nothing a client or the booking can use.
    }
  }
}

/**
 * Taps a generateContent stream for usage. Every chunk's `usageMetadata` is a snapshot of the whole
 * call so far, so the last one seen is what the call cost (a stream cut early still books the
 * prompt, which the first chunk already reports). A candidate with a `finishReason` ends the
 * answer; an error body (in a `data:` event or outside the framing) is the stream's error.
 */
export class GeminiStreamTap implements UsageTap {
  private last: FoundUsage = { usage: { ...ZERO }, model: undefined, sawUsage: false };
  private readonly parser = new GeminiStreamParser(
    (json) => this.onChunk(json),
    (json) => this.onError(json),
  );
  model: string | undefined;
  complete = false;
  started = false;
  streamError: { type: string; message: string } | undefined;

  constructor(private readonly unwrap: Unwrap) {}

  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  end(): void {
    this.parser.end();
  }

  get usage(): TokenUsage {
    return this.last.usage;
  }

  get sawUsage(): boolean {
    return this.last.sawUsage;
  }

  private onChunk(json: unknown): void {
    this.started = true;
    if (!isObject(json)) return;
    if (googleErrorOf(json)) return this.onError(json);
    const response = this.unwrap(json);
    if (!response) return;
    if (typeof response.modelVersion === 'string' && response.modelVersion) this.model = response.modelVersion;
    if (isObject(response.usageMetadata)) this.last = found(response);
    const candidates = response.candidates;
    if (
      Array.isArray(candidates) &&
      candidates.some(
        (c) =>
          isObject(c) &&
          typeof c.finishReason === 'string' &&
          c.finishReason !== '' &&
          c.finishReason !== 'FINISH_REASON_UNSPECIFIED',
      )
    ) {
      this.complete = true;
    }
  }

  private onError(json: unknown): void {
    this.started = true;
    const e = googleErrorOf(json) ?? { code: 500, message: 'malformed error body', status: 'UNKNOWN' };
    this.streamError = { type: errorType(e), message: e.message };
  }
}

/**
 * The relay's name for a stream error (it classifies one that comes before the first chunk like
 * the status it stands for): a quota is a rate limit, Google's 503 is its "model is overloaded".
 */
function errorType(e: GoogleError): string {
  if (e.code === 429 || e.status === 'RESOURCE_EXHAUSTED') return 'rate_limit_error';
  if (e.code === 503 || e.status === 'UNAVAILABLE') return 'overloaded_error';
  return e.status;
}

/** What a client gets where its stream was cut short: Google's error body, as Google sends it mid-stream. */
export const cutError = (message = 'The upstream stream ended before the response was complete.'): GoogleError => ({
  code: 502,
  message,
  status: 'UNAVAILABLE',
});

export const geminiReader: UsageReader = {
  fromJson: (body) => found(isObject(body) ? nativeResponse(body) : undefined),
  tap: () => new GeminiStreamTap(nativeResponse),
  cutNotice: (message) => Buffer.from(`${JSON.stringify({ error: cutError(message) })}\n`),
};

export const codeAssistReader: UsageReader = {
  fromJson: (body) => found(isObject(body) ? codeAssistResponse(body) : undefined),
  tap: () => new GeminiStreamTap(codeAssistResponse),
  cutNotice: geminiReader.cutNotice,
};
