import { randomUUID } from 'node:crypto';
import { nativeResponse } from '../../wire/gemini.js';
import { unwrapResponse } from '../gemini-to-code-assist.js';
import type { Bridge } from '../types.js';
import { toGeminiRequest } from './request.js';
import { fromGeminiResponse } from './response.js';
import { GeminiToChatStream } from './stream.js';

/** OpenAI Chat Completions clients (Cherry Studio, the `openai` SDK) served by Gemini API-key accounts. */
export const openaiChatToGemini: Bridge = {
  from: 'openai-chat',
  to: 'gemini',
  request: toGeminiRequest,
  response: (body, ctx) => fromGeminiResponse(body, ctx, nativeResponse),
  stream: (ctx) => new GeminiToChatStream(ctx, nativeResponse),
};

/**
 * The same, served by Google OAuth accounts, which speak Code Assist: the generateContent request
 * is wrapped as Gemini CLI wraps it (the provider sets the account's project), the answer unwrapped.
 */
export const openaiChatToCodeAssist: Bridge = {
  from: 'openai-chat',
  to: 'code-assist',
  request: (body, ctx) => ({
    model: ctx.upstreamModel,
    user_prompt_id: randomUUID(),
    request: toGeminiRequest(body, ctx),
  }),
  response: (body, ctx) => fromGeminiResponse(body, ctx, unwrapResponse),
  stream: (ctx) => new GeminiToChatStream(ctx, unwrapResponse),
};
