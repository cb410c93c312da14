import {
  GeminiStreamParser,
  googleErrorOf,
  type GeminiUsageMetadata,
  type GoogleError,
  type Unwrap,
} from '../../wire/gemini.js';
import type { BridgeContext, StreamTranslator } from '../types.js';
import { wantsUsage } from '../openai-chat/request.js';
import { ChatChunkWriter, CUT_MESSAGE, streamError } from '../openai-chat/response.js';
import { candidateOf, chatUsageOf, finishReasonOf } from './response.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Gemini's SSE (each event a partial generateContent response) → `chat.completion.chunk` SSE:
 * the first event opens with the role, text parts become content deltas, each `functionCall`
 * (Gemini sends them whole) one tool call delta with its id, name and arguments, and the
 * candidate's `finishReason` the finish chunk. Every chunk's `usageMetadata` covers the whole call
 * so far: the last one is the usage chunk (if the client asked), followed by `[DONE]`.
 *
 * A stream that ends without a finish reason, or carries a Google error, ends with an in-stream
 * error (`data: {"error": …}`) and no `[DONE]`, so the client does not take it for a whole answer.
 */
export class GeminiToChatStream implements StreamTranslator {
  private readonly parser = new GeminiStreamParser(
    (json) => this.onChunk(json),
    (json) => this.onError(googleErrorOf(json)),
  );
  private readonly writer: ChatChunkWriter;
  private out: string[] = [];
  private usage: GeminiUsageMetadata | undefined;
  private tools = 0;
  private started = false;
  private finished = false;
  private closed = false;

  constructor(
    ctx: BridgeContext,
    private readonly unwrap: Unwrap,
  ) {
    this.writer = new ChatChunkWriter(ctx.requestedModel, wantsUsage(ctx.clientBody));
  }

  push(chunk: Buffer): Buffer {
    this.parser.push(chunk);
    return this.flush();
  }

  end(info: { complete: boolean; message?: string }): Buffer {
    this.parser.end();
    if (!this.closed) this.close(this.finished ? this.writer.done() : streamError(info.message ?? CUT_MESSAGE));
    return this.flush();
  }

  /** The last of the stream: the usage chunk (if the client asked), then `[DONE]` or an error. */
  private close(last: string): void {
    this.closed = true;
    if (this.usage) this.out.push(this.writer.usage(chatUsageOf(this.usage)));
    this.out.push(last);
  }

  private flush(): Buffer {
    if (this.out.length === 0) return Buffer.alloc(0);
    const bytes = Buffer.from(this.out.join(''));
    this.out = [];
    return bytes;
  }

  private onChunk(json: unknown): void {
    if (this.closed || !isObject(json)) return;
    const error = googleErrorOf(json);
    if (error) return this.onError(error);
    const response = this.unwrap(json);
    if (!response) return;
    if (!this.started) {
      this.started = true;
      if (typeof response.responseId === 'string' && response.responseId)
        this.writer.id = `chatcmpl-${response.responseId}`;
      this.out.push(this.writer.role());
    }
    if (isObject(response.usageMetadata)) this.usage = response.usageMetadata;
    if (this.finished) return;
    const view = candidateOf(response);
    this.out.push(this.writer.content(view.text));
    for (const call of view.calls) {
      this.out.push(
        this.writer.toolCall({
          index: this.tools++,
          id: call.id,
          name: call.function.name,
          arguments: call.function.arguments,
          extra: call.extra_content,
        }),
      );
    }
    if (view.finishReason || view.blocked) {
      this.finished = true;
      this.out.push(
        this.writer.finish(view.blocked ? 'content_filter' : finishReasonOf(view.finishReason, this.tools > 0)),
      );
    }
  }

  private onError(error: GoogleError | undefined): void {
    if (this.closed) return;
    const e = error ?? { code: 500, message: 'stream error', status: 'UNKNOWN' };
    this.close(streamError(`Upstream: ${e.message || e.status}`, errorType(e.status)));
  }
}

function errorType(status: string): string {
  if (status === 'RESOURCE_EXHAUSTED') return 'rate_limit_error';
  if (status === 'INVALID_ARGUMENT' || status === 'FAILED_PRECONDITION') return 'invalid_request_error';
  return 'server_error';
}
