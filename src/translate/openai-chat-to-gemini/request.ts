import type { BridgeContext } from '../types.js';
import { InvalidChatRequest, textOfParts, type ContentPart } from '../openai-chat/content.js';
import {
  readChatRequest,
  type ChatRequest,
  type ChatTurn,
  type ToolCall,
  type ToolChoice,
} from '../openai-chat/request.js';
import { geminiSchema } from './schema.js';

type Part = Record<string, unknown>;
interface Content {
  role: 'user' | 'model';
  parts: Part[];
}

/**
 * Gemini 3 refuses a replayed function call without the thought signature it was answered with.
 * Signatures reach the client in `extra_content.google.thought_signature` (Google's own convention
 * for OpenAI-shaped tool calls) and come back with the call; a history from a client that dropped
 * them (or from another model) gets the value Google documents for exactly that case.
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

/** Image types Gemini reads, by file extension, for URLs (a data URL says its own type). */
const IMAGE_EXTENSIONS: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
};

/**
 * Chat Completions request → generateContent request (the model goes in the URL, not the body).
 * System and developer messages become `systemInstruction`; assistant turns `model` contents with
 * `functionCall` parts; tool messages `functionResponse` parts, named by the call they answer.
 */
export function toGeminiRequest(body: Record<string, unknown>, _ctx: BridgeContext): Record<string, unknown> {
  const chat = readChatRequest(body);
  const out: Record<string, unknown> = { contents: toContents(chat.turns) };
  const system = chat.system.filter((s) => s !== '');
  if (system.length > 0) out.systemInstruction = { parts: system.map((text) => ({ text })) };
  if (chat.tools.length > 0) {
    out.tools = [{ functionDeclarations: chat.tools.map(declaration) }];
    const config = toolConfig(chat.toolChoice);
    if (config) out.toolConfig = config;
  }
  const generation = generationConfig(chat);
  if (Object.keys(generation).length > 0) out.generationConfig = generation;
  return out;
}

function declaration(t: ChatRequest['tools'][number]): Record<string, unknown> {
  const parameters = t.parameters ? geminiSchema(t.parameters) : undefined;
  return {
    name: t.name,
    ...(t.description ? { description: t.description } : {}),
    ...(parameters ? { parameters } : {}),
  };
}

function toolConfig(choice: ToolChoice | undefined): Record<string, unknown> | undefined {
  switch (choice?.kind) {
    case undefined:
      return undefined;
    case 'none':
      return { functionCallingConfig: { mode: 'NONE' } };
    case 'auto':
      return { functionCallingConfig: { mode: 'AUTO' } };
    case 'required':
      return { functionCallingConfig: { mode: 'ANY' } };
    case 'function':
      return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } };
  }
}

/** JSON output is native here: `response_format` maps to a MIME type and (cleaned) schema. */
function generationConfig(chat: ChatRequest): Record<string, unknown> {
  const g: Record<string, unknown> = {};
  if (chat.maxTokens !== undefined) g.maxOutputTokens = chat.maxTokens;
  if (chat.temperature !== undefined) g.temperature = chat.temperature;
  if (chat.topP !== undefined) g.topP = chat.topP;
  if (chat.stop.length > 0) g.stopSequences = chat.stop;
  if (chat.seed !== undefined) g.seed = chat.seed;
  if (chat.presencePenalty !== undefined) g.presencePenalty = chat.presencePenalty;
  if (chat.frequencyPenalty !== undefined) g.frequencyPenalty = chat.frequencyPenalty;
  const rf = chat.responseFormat;
  if (rf) {
    g.responseMimeType = 'application/json';
    const schema = rf.kind === 'json_schema' && rf.schema ? geminiSchema(rf.schema) : undefined;
    if (schema) g.responseSchema = schema;
  }
  return g;
}

/** Turns → contents, consecutive turns of one role merged (tool results join the user side). */
function toContents(turns: readonly ChatTurn[]): Content[] {
  const names = new Map<string, string>();
  for (const t of turns) if (t.role === 'assistant') for (const c of t.toolCalls) names.set(c.id, c.name);
  const out: Content[] = [];
  turns.forEach((turn, i) => {
    const where = `messages[${i}]`;
    const role = turn.role === 'assistant' ? 'model' : 'user';
    const parts = partsOf(turn, where, names);
    if (parts.length === 0) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else out.push({ role, parts });
  });
  return out;
}

function partsOf(turn: ChatTurn, where: string, names: ReadonlyMap<string, string>): Part[] {
  switch (turn.role) {
    case 'user':
      return turn.parts.map((p, j) => contentPart(p, `${where}.content[${j}]`));
    case 'assistant':
      return [
        ...turn.parts.map((p, j) => contentPart(p, `${where}.content[${j}]`)),
        ...turn.toolCalls.map((c, j) => functionCall(c, j === 0)),
      ];
    case 'tool': {
      const name = names.get(turn.toolCallId);
      if (!name)
        throw new InvalidChatRequest(
          `${where}.tool_call_id: ${turn.toolCallId} answers no tool call of an earlier assistant message.`,
        );
      return [{ functionResponse: { name, response: functionResponse(textOfParts(turn.parts)) } }];
    }
  }
}

function functionCall(c: ToolCall, firstOfTurn: boolean): Part {
  const part: Part = { functionCall: { name: c.name, args: c.args } };
  // Only the first call of a turn carries a signature (parallel calls share it).
  const signature = c.thoughtSignature ?? (firstOfTurn ? SKIP_THOUGHT_SIGNATURE : undefined);
  if (signature) part.thoughtSignature = signature;
  return part;
}

/** Gemini wants an object: a JSON object result goes as it is, anything else under `output`. */
function functionResponse(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
    return { output: parsed };
  } catch {
    return { output: text };
  }
}

function contentPart(p: ContentPart, where: string): Part {
  switch (p.kind) {
    case 'text':
      return { text: p.text };
    case 'image': {
      if (p.source.kind === 'data') return { inlineData: { mimeType: p.source.mediaType, data: p.source.data } };
      const path = p.source.url.split(/[?#]/)[0] ?? '';
      const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
      const mimeType = ext ? IMAGE_EXTENSIONS[ext] : undefined;
      if (!mimeType) {
        throw new InvalidChatRequest(
          `${where}.image_url.url: Gemini needs the image's type; send it as a base64 data URL, or a URL ending in .png, .jpg, .webp, .gif or .heic.`,
        );
      }
      return { fileData: { mimeType, fileUri: p.source.url } };
    }
    case 'file':
      return { inlineData: { mimeType: p.mediaType, data: p.data } };
    case 'audio':
      return { inlineData: { mimeType: `audio/${p.format.toLowerCase()}`, data: p.data } };
  }
}
