import { AnthropicUsageAccumulator, type AnthropicUsage } from '../../wire/anthropic.js';
import { SseParser } from '../../util/sse.js';
import type { BridgeContext, StreamTranslator } from '../types.js';
import { wantsUsage } from '../openai-chat/request.js';
import { ChatChunkWriter, CUT_MESSAGE, streamError, type FinishReason } from '../openai-chat/response.js';
import { chatUsageOf, finishReasonOf } from './response.js';

/**
 * Messages SSE → `chat.completion.chunk` SSE, event by event: `message_start` opens with the role,
 * text deltas become content, a `tool_use` block becomes a tool call (its id and name first, then
 * its JSON arguments fragment by fragment), `message_delta` carries the finish reason, and
 * `message_stop` closes with the usage chunk (if the client asked) and `[DONE]`.
 *
 * A stream the upstream cut short (or that carried an `error` event) ends with an in-stream error
 * (`data: {"error": …}`) and no `[DONE]`: the `openai` SDK raises it, so a truncated answer is never
 * mistaken for a complete one. The usage chunk still comes first, when asked, since that much was
 * spent.
 */
export class AnthropicToChatStream implements StreamTranslator {
  private readonly parser = new SseParser((e) => this.onEvent(e.event, e.data));
  private readonly writer: ChatChunkWriter;
  private readonly tokens = new AnthropicUsageAccumulator();
  private out: string[] = [];
  /** Anthropic content block index → OpenAI tool call index. */
  private readonly toolIndex = new Map<number, number>();
  private finishReason: FinishReason | undefined;
  private started = false;
  private closed = false;

  constructor(ctx: BridgeContext) {
    this.writer = new ChatChunkWriter(ctx.requestedModel, wantsUsage(ctx.clientBody));
  }

  push(chunk: Buffer): Buffer {
    this.parser.push(chunk);
    return this.flush();
  }

  end(info: { complete: boolean; message?: string }): Buffer {
    this.parser.end();
    if (!this.closed)
      this.close(info.complete && this.finishReason ? this.writer.done() : streamError(info.message ?? CUT_MESSAGE));
    return this.flush();
  }

  /** The last of the stream: the usage chunk (if the client asked), then `[DONE]` or an error. */
  private close(last: string): void {
    this.closed = true;
    if (this.tokens.seen) this.out.push(this.writer.usage(chatUsageOf(this.tokens.result())));
    this.out.push(last);
  }

  private flush(): Buffer {
    if (this.out.length === 0) return Buffer.alloc(0);
    const bytes = Buffer.from(this.out.join(''));
    this.out = [];
    return bytes;
  }

  private onEvent(event: string, data: string): void {
    if (this.closed || event === 'ping') return;
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return;
    }
    switch (event) {
      case 'message_start': {
        const message = payload.message as { id?: unknown; usage?: AnthropicUsage } | undefined;
        if (typeof message?.id === 'string') this.writer.id = `chatcmpl-${message.id}`;
        this.tokens.add(message?.usage);
        this.start();
        return;
      }
      case 'content_block_start':
        return this.blockStart(payload.index, payload.content_block as Record<string, unknown> | undefined);
      case 'content_block_delta':
        return this.blockDelta(payload.index, payload.delta as Record<string, unknown> | undefined);
      case 'message_delta': {
        this.tokens.add(payload.usage as AnthropicUsage | undefined);
        const delta = payload.delta as { stop_reason?: unknown } | undefined;
        if (delta?.stop_reason && !this.finishReason) {
          this.finishReason = finishReasonOf(delta.stop_reason);
          this.out.push(this.writer.finish(this.finishReason));
        }
        return;
      }
      case 'message_stop':
        this.finishReason ??= 'stop';
        this.close(this.writer.done());
        return;
      case 'error': {
        const err = payload.error as { type?: unknown; message?: unknown } | undefined;
        this.close(
          streamError(
            `Upstream: ${typeof err?.message === 'string' && err.message ? err.message : 'stream error'}`,
            errorType(err?.type),
          ),
        );
        return;
      }
    }
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.out.push(this.writer.role());
  }

  private blockStart(index: unknown, block: Record<string, unknown> | undefined): void {
    if (typeof index !== 'number' || !block) return;
    this.start();
    if (block.type === 'text' && typeof block.text === 'string') {
      this.out.push(this.writer.content(block.text));
    } else if (block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
      const n = this.toolIndex.size;
      this.toolIndex.set(index, n);
      this.out.push(this.writer.toolCall({ index: n, id: block.id, name: block.name, arguments: '' }));
    }
  }

  private blockDelta(index: unknown, delta: Record<string, unknown> | undefined): void {
    if (typeof index !== 'number' || !delta) return;
    if (delta.type === 'text_delta' && typeof delta.text === 'string') {
      this.out.push(this.writer.content(delta.text));
    } else if (
      delta.type === 'input_json_delta' &&
      typeof delta.partial_json === 'string' &&
      delta.partial_json !== ''
    ) {
      const n = this.toolIndex.get(index);
      if (n !== undefined) this.out.push(this.writer.toolCall({ index: n, arguments: delta.partial_json }));
    }
    // thinking and signature deltas have no Chat Completions counterpart.
  }
}

/** Anthropic's error type → the OpenAI error type a client would expect for it. */
function errorType(type: unknown): string {
  switch (type) {
    case 'rate_limit_error':
      return 'rate_limit_error';
    case 'invalid_request_error':
      return 'invalid_request_error';
    default:
      return 'server_error';
  }
}
