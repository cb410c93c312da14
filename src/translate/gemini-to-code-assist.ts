import { randomUUID } from 'node:crypto';
import { geminiStream } from './gemini-framing.js';
import type { Bridge } from './types.js';

/**
 * A native Gemini client served by a Google OAuth account, which speaks Code Assist: the request is
 * wrapped (`{model, project, user_prompt_id, request: {…}}`; the provider sets the account's
 * project), the answer unwrapped (`{response: {…}, traceId}` → the response, `traceId` as its
 * `responseId`).
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{response, traceId}` → the native response; anything else (an error body) as it is. */
export function unwrapResponse(body: Json): Json {
  if (!isObject(body.response)) return body;
  const response = body.response;
  return typeof body.traceId === 'string' && response.responseId === undefined
    ? { ...response, responseId: body.traceId }
    : response;
}

/** A native countTokens body (`contents`, or a whole `generateContentRequest`) → Code Assist's. */
function countTokensRequest(body: Json, model: string): Json {
  const inner = isObject(body.generateContentRequest) ? body.generateContentRequest : body;
  return { request: { model: `models/${model}`, contents: inner.contents ?? [] } };
}

export const geminiToCodeAssist: Bridge = {
  from: 'gemini',
  to: 'code-assist',
  request(body, ctx) {
    if (ctx.op === 'count_tokens') return countTokensRequest(body, ctx.upstreamModel);
    // Code Assist ties a prompt's calls together by this id; a native client has none to give.
    return { model: ctx.upstreamModel, user_prompt_id: randomUUID(), request: body };
  },
  response: (body) => (isObject(body) ? unwrapResponse(body) : body),
  stream: (ctx) => geminiStream(ctx, unwrapResponse),
};
