import type { GeminiUsageMetadata, Unwrap } from '../../wire/gemini.js';
import type { BridgeContext } from '../types.js';
import {
  chatCompletion,
  randomId,
  type ChatToolCall,
  type ChatUsage,
  type FinishReason,
} from '../openai-chat/response.js';

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Google's counts as OpenAI reports them. The prompt count already includes what was read from
 * cache (OpenAI's `cached_tokens`) and tool-use prompts are prompt too; thinking is completion,
 * reported again as `reasoning_tokens`, as OpenAI does for its reasoning models.
 */
export function chatUsageOf(m: GeminiUsageMetadata): ChatUsage {
  const prompt = n(m.promptTokenCount) + n(m.toolUsePromptTokenCount);
  const completion = n(m.candidatesTokenCount) + n(m.thoughtsTokenCount);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: n(m.cachedContentTokenCount) },
    completion_tokens_details: { reasoning_tokens: n(m.thoughtsTokenCount) },
  };
}

const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Gemini ends with STOP whether or not it called a function; OpenAI says `tool_calls` when it did.
 * Blocked answers (safety, recitation…) are `content_filter`; anything else ends normally.
 */
export function finishReasonOf(reason: unknown, calledTools: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && FILTERED.has(reason)) return 'content_filter';
  return calledTools ? 'tool_calls' : 'stop';
}

/** What one chunk (or a whole response) says: its text, its function calls, how it ended. */
export interface CandidateView {
  text: string;
  calls: ChatToolCall[];
  finishReason: string | undefined;
  /** The prompt was blocked: no candidate at all. */
  blocked: boolean;
}

/** Reads the first candidate (the bridge asks for one). Thought summaries are not answer text. */
export function candidateOf(response: Record<string, unknown>): CandidateView {
  const candidate =
    Array.isArray(response.candidates) && isObject(response.candidates[0]) ? response.candidates[0] : undefined;
  const feedback = isObject(response.promptFeedback) ? response.promptFeedback : undefined;
  const view: CandidateView = {
    text: '',
    calls: [],
    finishReason: undefined,
    blocked: !candidate && typeof feedback?.blockReason === 'string',
  };
  if (!candidate) return view;
  if (
    typeof candidate.finishReason === 'string' &&
    candidate.finishReason !== '' &&
    candidate.finishReason !== 'FINISH_REASON_UNSPECIFIED'
  )
    view.finishReason = candidate.finishReason;
  const parts = isObject(candidate.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : [];
  for (const part of parts) {
    if (!isObject(part)) continue;
    if (typeof part.text === 'string' && part.thought !== true) view.text += part.text;
    const fc = part.functionCall;
    if (isObject(fc) && typeof fc.name === 'string') {
      const call: ChatToolCall = {
        id: typeof fc.id === 'string' && fc.id ? fc.id : randomId('call_'),
        type: 'function',
        function: { name: fc.name, arguments: JSON.stringify(fc.args ?? {}) },
      };
      if (typeof part.thoughtSignature === 'string' && part.thoughtSignature)
        call.extra_content = { google: { thought_signature: part.thoughtSignature } };
      view.calls.push(call);
    }
  }
  return view;
}

/** generateContent response → `chat.completion`. A body that is not a response passes back as it is. */
export function fromGeminiResponse(body: unknown, ctx: BridgeContext, unwrap: Unwrap): unknown {
  const response = isObject(body) ? unwrap(body) : undefined;
  if (!response || (!Array.isArray(response.candidates) && !isObject(response.promptFeedback))) return body;
  const view = candidateOf(response);
  return chatCompletion({
    id:
      typeof response.responseId === 'string' && response.responseId
        ? `chatcmpl-${response.responseId}`
        : randomId('chatcmpl-'),
    model: ctx.requestedModel,
    content: view.text === '' && view.calls.length > 0 ? null : view.text,
    toolCalls: view.calls,
    finishReason: view.blocked ? 'content_filter' : finishReasonOf(view.finishReason, view.calls.length > 0),
    usage: isObject(response.usageMetadata) ? chatUsageOf(response.usageMetadata) : undefined,
  });
}
