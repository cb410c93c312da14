import type { BridgeContext } from '../types.js';
import { InvalidChatRequest, type ContentPart } from '../openai-chat/content.js';
import { readChatRequest, type ChatRequest, type ChatTurn, type ToolChoice } from '../openai-chat/request.js';

/**
 * Anthropic requires `max_tokens`; OpenAI clients usually leave it out. 8192 fits every current
 * Claude model's output limit and rarely cuts an ordinary answer; a client that wants more (or
 * less) says so with `max_completion_tokens` / `max_tokens`.
 */
export const DEFAULT_MAX_TOKENS = 8192;

/** The image types the Messages API accepts inline. */
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

type Block = Record<string, unknown>;
interface Message {
  role: 'user' | 'assistant';
  content: Block[];
}

/**
 * Chat Completions request → Messages request. The client's system and developer messages become
 * `system`, unchanged (no identity is injected); tools, tool calls and tool results map one to one;
 * images go as base64 or URL sources.
 */
export function toAnthropicRequest(body: Record<string, unknown>, ctx: BridgeContext): Record<string, unknown> {
  const chat = readChatRequest(body);
  const out: Record<string, unknown> = {
    model: ctx.upstreamModel,
    max_tokens: chat.maxTokens ?? DEFAULT_MAX_TOKENS,
    messages: toMessages(chat.turns),
  };
  const system = systemOf(chat);
  if (system) out.system = system;
  if (ctx.stream) out.stream = true;
  // OpenAI's temperature runs to 2, Anthropic's to 1: the top of the range is the closest meaning.
  if (chat.temperature !== undefined) out.temperature = Math.min(chat.temperature, 1);
  // Current Claude models refuse temperature and top_p together; temperature is the usual knob.
  else if (chat.topP !== undefined) out.top_p = chat.topP;
  if (chat.stop.length > 0) out.stop_sequences = chat.stop;
  if (chat.user) out.metadata = { user_id: chat.user };
  if (chat.tools.length > 0) {
    out.tools = chat.tools.map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      input_schema: inputSchema(t.parameters),
    }));
    const choice = toolChoice(chat.toolChoice, chat.parallelToolCalls);
    if (choice) out.tool_choice = choice;
  }
  return out;
}

/**
 * The system prompt: the client's own, plus a note when it asked for JSON output. The Messages API
 * has no JSON mode; the note is a best effort, and the answer is passed back as the model wrote it.
 */
function systemOf(chat: ChatRequest): string | undefined {
  const parts = chat.system.filter((s) => s !== '');
  const rf = chat.responseFormat;
  if (rf) {
    let note =
      'Respond with a single valid JSON object and nothing else: no prose before or after it, no Markdown code fences.';
    if (rf.kind === 'json_schema' && rf.schema)
      note += ` The object must conform to this JSON Schema:\n${JSON.stringify(rf.schema)}`;
    parts.push(note);
  }
  return parts.length > 0 ? parts.join('\n\n') : undefined;
}

/** Anthropic's input_schema must be an object schema; a tool without parameters takes none. */
function inputSchema(parameters: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!parameters || Object.keys(parameters).length === 0) return { type: 'object', properties: {} };
  return parameters.type === undefined ? { type: 'object', ...parameters } : parameters;
}

function toolChoice(
  choice: ToolChoice | undefined,
  parallel: boolean | undefined,
): Record<string, unknown> | undefined {
  const noParallel = parallel === false ? { disable_parallel_tool_use: true } : {};
  switch (choice?.kind) {
    case undefined:
      return parallel === false ? { type: 'auto', ...noParallel } : undefined;
    case 'none':
      return { type: 'none' };
    case 'auto':
      return { type: 'auto', ...noParallel };
    case 'required':
      return { type: 'any', ...noParallel };
    case 'function':
      return { type: 'tool', name: choice.name, ...noParallel };
  }
}

/**
 * Tool call ids travel both ways: Claude's `toolu_…` ids reach the client as they are and come back
 * in `tool_call_id`. Ids from elsewhere (another model earlier in the conversation) may hold
 * characters Anthropic refuses; the same replacement on both sides keeps call and result paired.
 */
export const anthropicToolId = (id: string): string => id.replace(/[^a-zA-Z0-9_-]/g, '_');

/** Turns → alternating user/assistant messages (tool results ride in the next user message). */
function toMessages(turns: readonly ChatTurn[]): Message[] {
  const out: Message[] = [];
  turns.forEach((turn, i) => {
    const where = `messages[${i}]`;
    const role = turn.role === 'assistant' ? 'assistant' : 'user';
    const blocks = blocksOf(turn, where);
    if (blocks.length === 0) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  });
  // The Messages API wants a user message's tool results before anything else in it.
  for (const m of out)
    if (m.role === 'user')
      m.content.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'));
  return out;
}

function blocksOf(turn: ChatTurn, where: string): Block[] {
  switch (turn.role) {
    case 'user':
      return turn.parts.map((p, j) => partBlock(p, `${where}.content[${j}]`));
    case 'assistant':
      return [
        ...turn.parts.map((p, j) => partBlock(p, `${where}.content[${j}]`)),
        ...turn.toolCalls.map((c) => ({ type: 'tool_use', id: anthropicToolId(c.id), name: c.name, input: c.args })),
      ];
    case 'tool': {
      const text = turn.parts.map((p) => (p.kind === 'text' ? p.text : '')).join('\n');
      return [
        { type: 'tool_result', tool_use_id: anthropicToolId(turn.toolCallId), ...(text ? { content: text } : {}) },
      ];
    }
  }
}

function partBlock(p: ContentPart, where: string): Block {
  switch (p.kind) {
    case 'text':
      return { type: 'text', text: p.text };
    case 'image':
      if (p.source.kind === 'url') return { type: 'image', source: { type: 'url', url: p.source.url } };
      if (!IMAGE_TYPES.has(p.source.mediaType)) {
        throw new InvalidChatRequest(
          `${where}.image_url.url: Claude accepts image/jpeg, image/png, image/gif and image/webp, not ${p.source.mediaType}.`,
        );
      }
      return { type: 'image', source: { type: 'base64', media_type: p.source.mediaType, data: p.source.data } };
    case 'file':
      if (p.mediaType === 'application/pdf')
        return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: p.data } };
      if (p.mediaType === 'text/plain')
        return {
          type: 'document',
          source: { type: 'text', media_type: 'text/plain', data: Buffer.from(p.data, 'base64').toString('utf8') },
        };
      throw new InvalidChatRequest(`${where}.file: Claude accepts PDF and plain-text files, not ${p.mediaType}.`);
    case 'audio':
      throw new InvalidChatRequest(`${where}.input_audio: Claude does not accept audio input.`);
  }
}
