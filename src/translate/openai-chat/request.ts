import { InvalidChatRequest, readContent, textOfParts, type ContentPart } from './content.js';
import { isObject } from '../../util/json.js';

/**
 * An OpenAI Chat Completions request, read once and checked, in a form every bridge from
 * `openai-chat` translates from. What no upstream behind a bridge can do is refused here with a
 * message naming the field (`n > 1`, logprobs, audio output, legacy `functions`); what a bridge
 * cannot carry for its own upstream is refused by that bridge.
 */
export interface ChatRequest {
  /** System and developer messages, in order: the upstream's system prompt. */
  system: string[];
  /** The conversation without its system messages. */
  turns: ChatTurn[];
  tools: FunctionTool[];
  toolChoice: ToolChoice | undefined;
  /** `parallel_tool_calls: false` asks for at most one tool call per answer. */
  parallelToolCalls: boolean | undefined;
  maxTokens: number | undefined;
  temperature: number | undefined;
  topP: number | undefined;
  stop: string[];
  responseFormat: ResponseFormat | undefined;
  seed: number | undefined;
  presencePenalty: number | undefined;
  frequencyPenalty: number | undefined;
  user: string | undefined;
}

export type ChatTurn =
  | { role: 'user'; parts: ContentPart[] }
  | { role: 'assistant'; parts: ContentPart[]; toolCalls: ToolCall[] }
  | { role: 'tool'; toolCallId: string; parts: ContentPart[] };

export interface ToolCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
  /** Google's extension on tool calls (`extra_content.google.thought_signature`), carried back to Gemini. */
  thoughtSignature: string | undefined;
}

export interface FunctionTool {
  name: string;
  description: string | undefined;
  /** JSON Schema of the arguments, as the client sent it. */
  parameters: Record<string, unknown> | undefined;
}

export type ToolChoice =
  { kind: 'auto' } | { kind: 'none' } | { kind: 'required' } | { kind: 'function'; name: string };

export type ResponseFormat =
  { kind: 'json_object' } | { kind: 'json_schema'; name: string; schema: Record<string, unknown> | undefined };

function optionalNumber(body: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new InvalidChatRequest(`${field}: a number from ${min} to ${max} is required.`);
  return v;
}

function optionalPositiveInt(body: Record<string, unknown>, field: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new InvalidChatRequest(`${field}: a positive integer is required.`);
  return v;
}

function optionalInteger(body: Record<string, unknown>, field: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new InvalidChatRequest(`${field}: an integer is required.`);
  return v;
}

/** `stream_options.include_usage`: the client wants the usage chunk at the end of a stream. */
export function wantsUsage(body: Readonly<Record<string, unknown>> | undefined): boolean {
  const opts = body?.stream_options;
  return isObject(opts) && opts.include_usage === true;
}

/** Each body's reading: the surface checks a body while parsing it, and every attempt translates it again. */
const READINGS = new WeakMap<object, ChatRequest>();

/**
 * Reads and checks a Chat Completions body once (later calls with the same body get the same,
 * never modified, reading); throws InvalidChatRequest naming the bad field.
 */
export function readChatRequest(body: Record<string, unknown>): ChatRequest {
  let chat = READINGS.get(body);
  if (!chat) {
    chat = read(body);
    READINGS.set(body, chat);
  }
  return chat;
}

function read(body: Record<string, unknown>): ChatRequest {
  refuseUnsupported(body);
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    throw new InvalidChatRequest('messages: a non-empty array is required.');
  const system: string[] = [];
  const turns: ChatTurn[] = [];
  body.messages.forEach((m: unknown, i: number) => {
    const where = `messages[${i}]`;
    if (!isObject(m)) throw new InvalidChatRequest(`${where}: a message object is required.`);
    const turn = readMessage(m, where);
    if (typeof turn === 'string') system.push(turn);
    else turns.push(turn);
  });
  if (turns.length === 0)
    throw new InvalidChatRequest('messages: at least one user message is required besides system messages.');
  const maxTokens = optionalPositiveInt(body, 'max_completion_tokens') ?? optionalPositiveInt(body, 'max_tokens');
  return {
    system,
    turns,
    tools: readTools(body.tools),
    toolChoice: readToolChoice(body.tool_choice),
    parallelToolCalls: typeof body.parallel_tool_calls === 'boolean' ? body.parallel_tool_calls : undefined,
    maxTokens,
    temperature: optionalNumber(body, 'temperature', 0, 2),
    topP: optionalNumber(body, 'top_p', 0, 1),
    stop: readStop(body.stop),
    responseFormat: readResponseFormat(body.response_format),
    seed: optionalInteger(body, 'seed'),
    presencePenalty: optionalNumber(body, 'presence_penalty', -2, 2),
    frequencyPenalty: optionalNumber(body, 'frequency_penalty', -2, 2),
    user: typeof body.user === 'string' && body.user !== '' ? body.user : undefined,
  };
}

/** Asks no bridged upstream can answer: refused rather than silently ignored. */
function refuseUnsupported(body: Record<string, unknown>): void {
  if (body.n !== undefined && body.n !== null && body.n !== 1) {
    throw new InvalidChatRequest('n: only one choice per request is supported on this route (n must be 1).');
  }
  if (body.logprobs === true)
    throw new InvalidChatRequest('logprobs: log probabilities are not available on this route.');
  if (body.audio !== undefined && body.audio !== null)
    throw new InvalidChatRequest('audio: audio output is not available on this route.');
  if (Array.isArray(body.modalities) && body.modalities.some((m) => m !== 'text')) {
    throw new InvalidChatRequest('modalities: only text output is available on this route.');
  }
  if (body.functions !== undefined || body.function_call !== undefined) {
    throw new InvalidChatRequest(
      'functions: the deprecated functions/function_call fields are not supported; use tools and tool_choice.',
    );
  }
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean')
    throw new InvalidChatRequest('stream: a boolean is required.');
}

/** A message: system text (string) or a turn of the conversation. */
function readMessage(m: Record<string, unknown>, where: string): string | ChatTurn {
  switch (m.role) {
    case 'system':
    case 'developer':
      return textOfParts(readContent(m.content, `${where}.content`, { allow: ['text'] }));
    case 'user':
      return {
        role: 'user',
        parts: readContent(m.content, `${where}.content`, { allow: ['text', 'image', 'file', 'audio'] }),
      };
    case 'assistant': {
      if (m.function_call !== undefined && m.function_call !== null) {
        throw new InvalidChatRequest(
          `${where}.function_call: the deprecated function_call is not supported; use tool_calls.`,
        );
      }
      const parts =
        m.content === null || m.content === undefined
          ? []
          : readContent(m.content, `${where}.content`, { allow: ['text'] });
      return { role: 'assistant', parts, toolCalls: readToolCalls(m.tool_calls, `${where}.tool_calls`) };
    }
    case 'tool': {
      if (typeof m.tool_call_id !== 'string' || m.tool_call_id === '')
        throw new InvalidChatRequest(`${where}.tool_call_id: a string is required.`);
      return {
        role: 'tool',
        toolCallId: m.tool_call_id,
        parts: readContent(m.content ?? '', `${where}.content`, { allow: ['text'] }),
      };
    }
    case 'function':
      throw new InvalidChatRequest(
        `${where}.role: the deprecated "function" role is not supported; use "tool" messages.`,
      );
    default:
      throw new InvalidChatRequest(`${where}.role: one of system, developer, user, assistant or tool is required.`);
  }
}

function readToolCalls(value: unknown, where: string): ToolCall[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidChatRequest(`${where}: an array is required.`);
  return value.map((c: unknown, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(c) || !isObject(c.function)) throw new InvalidChatRequest(`${at}: a function tool call is required.`);
    if (c.type !== undefined && c.type !== 'function')
      throw new InvalidChatRequest(`${at}.type: only "function" tool calls are supported.`);
    if (typeof c.id !== 'string' || c.id === '') throw new InvalidChatRequest(`${at}.id: a string is required.`);
    const fn = c.function;
    if (typeof fn.name !== 'string' || fn.name === '')
      throw new InvalidChatRequest(`${at}.function.name: a string is required.`);
    return {
      id: c.id,
      name: fn.name,
      args: readArguments(fn.arguments, `${at}.function.arguments`),
      thoughtSignature: thoughtSignatureOf(c),
    };
  });
}

/** Tool call arguments are a JSON object in a string; an empty string means no arguments. */
function readArguments(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {};
  if (isObject(value)) return value;
  if (typeof value !== 'string') throw new InvalidChatRequest(`${where}: a JSON object in a string is required.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidChatRequest(`${where}: not valid JSON.`);
  }
  if (!isObject(parsed)) throw new InvalidChatRequest(`${where}: a JSON object is required.`);
  return parsed;
}

function thoughtSignatureOf(call: Record<string, unknown>): string | undefined {
  const extra = call.extra_content;
  const google = isObject(extra) ? extra.google : undefined;
  const sig = isObject(google) ? google.thought_signature : undefined;
  return typeof sig === 'string' && sig !== '' ? sig : undefined;
}

function readTools(value: unknown): FunctionTool[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidChatRequest('tools: an array is required.');
  return value.map((t: unknown, i) => {
    const at = `tools[${i}]`;
    if (!isObject(t) || t.type !== 'function' || !isObject(t.function))
      throw new InvalidChatRequest(`${at}: only {"type": "function", "function": {...}} tools are supported.`);
    const fn = t.function;
    if (typeof fn.name !== 'string' || fn.name === '')
      throw new InvalidChatRequest(`${at}.function.name: a string is required.`);
    if (fn.parameters !== undefined && fn.parameters !== null && !isObject(fn.parameters))
      throw new InvalidChatRequest(`${at}.function.parameters: a JSON Schema object is required.`);
    return {
      name: fn.name,
      description: typeof fn.description === 'string' && fn.description !== '' ? fn.description : undefined,
      parameters: isObject(fn.parameters) ? fn.parameters : undefined,
    };
  });
}

function readToolChoice(value: unknown): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'auto' || value === 'none' || value === 'required') return { kind: value };
  if (
    isObject(value) &&
    value.type === 'function' &&
    isObject(value.function) &&
    typeof value.function.name === 'string' &&
    value.function.name !== ''
  ) {
    return { kind: 'function', name: value.function.name };
  }
  throw new InvalidChatRequest(
    'tool_choice: "auto", "none", "required" or {"type": "function", "function": {"name": ...}} is required.',
  );
}

function readStop(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (Array.isArray(value) && value.every((s) => typeof s === 'string'))
    return (value as string[]).filter((s) => s !== '');
  throw new InvalidChatRequest('stop: a string or an array of strings is required.');
}

function readResponseFormat(value: unknown): ResponseFormat | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new InvalidChatRequest('response_format: an object is required.');
  switch (value.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { kind: 'json_object' };
    case 'json_schema': {
      const js = value.json_schema;
      if (!isObject(js) || typeof js.name !== 'string')
        throw new InvalidChatRequest('response_format.json_schema: an object with a name is required.');
      return { kind: 'json_schema', name: js.name, schema: isObject(js.schema) ? js.schema : undefined };
    }
    default:
      throw new InvalidChatRequest('response_format.type: one of text, json_object or json_schema is required.');
  }
}
