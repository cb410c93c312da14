import type { Operation, WireFormat } from '../wire/index.js';

/**
 * Format bridges, each in its own file named by direction (`openai-chat-to-anthropic.ts`): the
 * request goes from the client's format to the upstream's, the answer comes back the other way.
 * A bridge is stateless; its stream translator is per request and may hold state.
 */
export interface BridgeContext {
  /** The model as the client named it, and as the upstream is asked for it. */
  requestedModel: string;
  upstreamModel: string;
  stream: boolean;
  /** The client's query string (e.g. Gemini's `alt=sse`). */
  clientQuery: URLSearchParams;
  /** The client's parsed body, for what shapes the answer (OpenAI's `stream_options.include_usage`). */
  clientBody?: Readonly<Record<string, unknown>>;
  /** What the request asks for, where a format shapes operations differently (Code Assist's countTokens). */
  op?: Operation;
}

export interface StreamTranslator {
  /** Upstream bytes in; the client's bytes out (empty when nothing is complete yet). */
  push(chunk: Buffer): Buffer;
  /**
   * The upstream ended: whatever closes the client's stream. Unless `complete`, that is an error
   * in the client's format, with `message` (why it did not finish) when given.
   */
  end(info: { complete: boolean; message?: string }): Buffer;
  /** The client's content type, when its stream is not SSE (Gemini's streamed JSON array). */
  readonly contentType?: string;
}

export interface Bridge {
  readonly from: WireFormat;
  readonly to: WireFormat;
  /** The client's JSON body → the upstream's JSON body. */
  request(body: Record<string, unknown>, ctx: BridgeContext): Record<string, unknown>;
  /** The upstream's JSON answer → the client's. */
  response(body: unknown, ctx: BridgeContext): unknown;
  /** The upstream's SSE → the client's stream. */
  stream(ctx: BridgeContext): StreamTranslator;
}
