import type { BridgeContext } from '../index.js';
import { chatCompletion, type ChatToolCall, type ChatUsage, type FinishReason } from '../openai-chat/response.js';

/** Anthropic's `usage` as it appears in a message, `message_start` and `message_delta`. */
export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number };
}

const n = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/** Anthropic's token counts, folded last-value-wins (a stream's `message_delta` overrides `message_start`). */
export class AnthropicTokens {
  input = 0;
  output = 0;
  cacheWrite = 0;
  cacheRead = 0;
  seen = false;

  add(u: AnthropicUsage | undefined): void {
    if (!u || typeof u !== 'object') return;
    this.seen = true;
    this.input = n(u.input_tokens) ?? this.input;
    this.output = n(u.output_tokens) ?? this.output;
    const breakdown = (n(u.cache_creation?.ephemeral_5m_input_tokens) ?? 0) + (n(u.cache_creation?.ephemeral_1h_input_tokens) ?? 0);
    const written = n(u.cache_creation_input_tokens);
    if (written !== undefined || breakdown > 0) this.cacheWrite = Math.max(written ?? 0, breakdown);
    this.cacheRead = n(u.cache_read_input_tokens) ?? this.cacheRead;
  }

  /**
   * OpenAI counts every prompt token in `prompt_tokens`, cached or not; Anthropic splits them into
   * uncached input, cache writes and cache reads. Cache reads are OpenAI's `cached_tokens`.
   */
  chatUsage(): ChatUsage {
    const prompt = this.input + this.cacheWrite + this.cacheRead;
    return { prompt_tokens: prompt, completion_tokens: this.output, total_tokens: prompt + this.output, prompt_tokens_details: { cached_tokens: this.cacheRead } };
  }
}

/**
 * end_turn and stop_sequence end an answer as OpenAI's `stop` does; a refusal is a content filter;
 * running out of room (max_tokens, a full context window) is `length`. pause_turn (a server tool
 * paused a long turn) ends this answer normally.
 */
export function finishReasonOf(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

interface AnthropicBlock {
  type?: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

/** Messages response → `chat.completion`. A body that is not a message is passed back as it is. */
export function fromAnthropicMessage(body: unknown, ctx: BridgeContext): unknown {
  const msg = body as { type?: unknown; id?: unknown; content?: unknown; stop_reason?: unknown; usage?: AnthropicUsage } | null;
  if (!msg || msg.type !== 'message' || !Array.isArray(msg.content)) return body;
  let text = '';
  const toolCalls: ChatToolCall[] = [];
  for (const block of msg.content as AnthropicBlock[]) {
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    }
    // thinking, redacted_thinking and server tool blocks have no Chat Completions counterpart.
  }
  const tokens = new AnthropicTokens();
  tokens.add(msg.usage);
  return chatCompletion({
    id: typeof msg.id === 'string' ? `chatcmpl-${msg.id}` : 'chatcmpl-unknown',
    model: ctx.requestedModel,
    content: text === '' && toolCalls.length > 0 ? null : text,
    toolCalls,
    finishReason: finishReasonOf(msg.stop_reason),
    usage: tokens.seen ? tokens.chatUsage() : undefined,
  });
}
