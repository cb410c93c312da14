import { AnthropicUsageAccumulator, type AnthropicUsage } from '../../wire/anthropic.js';
import type { TokenUsage } from '../../usage/pricing.js';
import type { BridgeContext } from '../types.js';
import { chatCompletion, type ChatToolCall, type ChatUsage, type FinishReason } from '../openai-chat/response.js';

/**
 * Anthropic's counts (folded as the relay books them) as OpenAI reports them: OpenAI counts every
 * prompt token in `prompt_tokens`, cached or not; Anthropic splits them into uncached input, cache
 * writes and cache reads. Cache reads are OpenAI's `cached_tokens`.
 */
export function chatUsageOf(u: TokenUsage): ChatUsage {
  const prompt = u.inputTokens + u.cacheCreate5mTokens + u.cacheCreate1hTokens + u.cacheReadTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.outputTokens,
    total_tokens: prompt + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens },
  };
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
  const msg = body as {
    type?: unknown;
    id?: unknown;
    content?: unknown;
    stop_reason?: unknown;
    usage?: AnthropicUsage;
  } | null;
  if (!msg || msg.type !== 'message' || !Array.isArray(msg.content)) return body;
  let text = '';
  const toolCalls: ChatToolCall[] = [];
  for (const block of msg.content as AnthropicBlock[]) {
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
    // thinking, redacted_thinking and server tool blocks have no Chat Completions counterpart.
  }
  const tokens = new AnthropicUsageAccumulator();
  tokens.add(msg.usage);
  return chatCompletion({
    id: typeof msg.id === 'string' ? `chatcmpl-${msg.id}` : 'chatcmpl-unknown',
    model: ctx.requestedModel,
    content: text === '' && toolCalls.length > 0 ? null : text,
    toolCalls,
    finishReason: finishReasonOf(msg.stop_reason),
    usage: tokens.seen ? chatUsageOf(tokens.result()) : undefined,
  });
}
