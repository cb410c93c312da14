import { geminiStream } from './gemini-framing.js';
import type { Bridge } from './types.js';

/**
 * A Code Assist client (Gemini CLI logged in "with Google") served by a Gemini API-key account:
 * the inner request goes to the native endpoint (the model goes in its URL), each answer is
 * wrapped back as Code Assist sends it (`{response: {…}, traceId}`).
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The fields of a native GenerateContentRequest. Code Assist's request carries more (`session_id`,
 * `labels`) that the Gemini API rejects as unknown.
 */
const NATIVE_FIELDS = [
  'contents',
  'systemInstruction',
  'tools',
  'toolConfig',
  'safetySettings',
  'generationConfig',
  'cachedContent',
] as const;

export function nativeRequest(inner: Json): Json {
  const out: Json = {};
  for (const f of NATIVE_FIELDS) if (inner[f] !== undefined) out[f] = inner[f];
  return out;
}

/** A native response → Code Assist's wrapper; an error body stays as it is. */
export function wrapResponse(body: Json): Json {
  if (isObject(body.error)) return body;
  return typeof body.responseId === 'string' ? { response: body, traceId: body.responseId } : { response: body };
}

export const codeAssistToGemini: Bridge = {
  from: 'code-assist',
  to: 'gemini',
  request(body, ctx) {
    const inner = isObject(body.request) ? body.request : {};
    return ctx.op === 'count_tokens' ? { contents: inner.contents ?? [] } : nativeRequest(inner);
  },
  response(body, ctx) {
    if (!isObject(body)) return body;
    // countTokens answers are the same shape on both sides: `{totalTokens}`.
    return ctx.op === 'count_tokens' ? body : wrapResponse(body);
  },
  stream: (ctx) => geminiStream(ctx, wrapResponse),
};
