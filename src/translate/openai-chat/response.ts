import { randomBytes } from 'node:crypto';

/**
 * The client side of every bridge into `openai-chat`: a `chat.completion` object, and the
 * `chat.completion.chunk` SSE stream, exactly as the Chat Completions API shapes them.
 */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** The numbers the client sees; the relay books the upstream's own numbers, not these. */
export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
  /** Google's convention for Gemini thought signatures, which the client sends back unchanged. */
  extra_content?: { google: { thought_signature: string } };
}

export interface ChatAnswer {
  id: string;
  model: string;
  content: string | null;
  toolCalls: ChatToolCall[];
  finishReason: FinishReason;
  usage: ChatUsage | undefined;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** An id for a completion or a tool call when the upstream gave none. */
export const randomId = (prefix: string): string => `${prefix}${randomBytes(12).toString('hex')}`;

export function chatCompletion(a: ChatAnswer, created = nowSeconds()) {
  const message: Record<string, unknown> = { role: 'assistant', content: a.content, refusal: null, annotations: [] };
  if (a.toolCalls.length > 0) message.tool_calls = a.toolCalls;
  const out: Record<string, unknown> = {
    id: a.id,
    object: 'chat.completion',
    created,
    model: a.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: a.finishReason }],
  };
  if (a.usage) out.usage = a.usage;
  return out;
}

interface ToolCallDelta {
  index: number;
  id?: string;
  name?: string;
  arguments: string;
  extra?: ChatToolCall['extra_content'];
}

/**
 * Writes one completion's chunk stream. Every content chunk carries one choice (index 0); with
 * `include_usage` every chunk carries `usage: null` and a last chunk with `choices: []` carries
 * the usage, as the API does; the stream closes with `data: [DONE]`.
 */
export class ChatChunkWriter {
  id: string;
  private readonly created = nowSeconds();

  constructor(
    private readonly model: string,
    private readonly includeUsage: boolean,
    id?: string,
  ) {
    this.id = id ?? randomId('chatcmpl-');
  }

  private chunk(choices: unknown[], usage?: ChatUsage): string {
    const c: Record<string, unknown> = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices,
    };
    if (this.includeUsage) c.usage = usage ?? null;
    return `data: ${JSON.stringify(c)}\n\n`;
  }

  private delta(delta: Record<string, unknown>, finishReason: FinishReason | null = null): string {
    return this.chunk([{ index: 0, delta, logprobs: null, finish_reason: finishReason }]);
  }

  role(): string {
    return this.delta({ role: 'assistant', content: '', refusal: null });
  }

  content(text: string): string {
    return text === '' ? '' : this.delta({ content: text });
  }

  /** The first delta of a call names it (id, name); later ones add argument fragments. */
  toolCall(d: ToolCallDelta): string {
    const call: Record<string, unknown> = { index: d.index };
    if (d.id !== undefined) {
      call.id = d.id;
      call.type = 'function';
    }
    call.function = d.name !== undefined ? { name: d.name, arguments: d.arguments } : { arguments: d.arguments };
    if (d.extra) call.extra_content = d.extra;
    return this.delta({ tool_calls: [call] });
  }

  finish(reason: FinishReason): string {
    return this.delta({}, reason);
  }

  /** The usage chunk: only when the client asked for it. */
  usage(usage: ChatUsage): string {
    return this.includeUsage ? this.chunk([], usage) : '';
  }

  done(): string {
    return 'data: [DONE]\n\n';
  }
}

/**
 * An error inside a stream, as the API sends one (`data: {"error": {...}}`): the `openai` SDK
 * throws it as an APIError, so the client knows the answer is incomplete.
 */
export function streamError(message: string, type = 'server_error', code: string | null = null): string {
  return `data: ${JSON.stringify({ error: { message, type, param: null, code } })}\n\n`;
}

/** What a client is told when the upstream stream ended before the answer was complete. */
export const CUT_MESSAGE = 'The upstream stream ended before the answer was complete.';
