import { RelayError } from '../../errors/catalogue.js';
import { keyFromHeaders } from '../../keys/service.js';
import type { ParsedRequest, RelayDeps, Surface } from '../types.js';
import { byModel } from './json.js';

/**
 * OpenAI's own API, served by OpenAI accounts (API keys; ChatGPT subscriptions for Responses):
 * `POST /openai/v1/chat/completions`, `/openai/v1/responses` (also `/openai/responses`: Codex
 * appends `/responses` to its base URL), `/openai/v1/embeddings`. The key comes in
 * `Authorization: Bearer` (the SDKs, Codex) or `x-api-key`; errors are OpenAI-shaped.
 */

const invalid = (message: string) => new RelayError('invalid_request', { message });

/** Chat Completions: a model and a non-empty `messages` list. */
export function parseChat(json: Record<string, unknown>, model: string): ParsedRequest {
  if (!Array.isArray(json.messages) || json.messages.length === 0)
    throw invalid('messages: a non-empty array is required.');
  if (json.stream !== undefined && typeof json.stream !== 'boolean') throw invalid('stream: must be a boolean.');
  if (
    json.stream_options !== undefined &&
    json.stream_options !== null &&
    (typeof json.stream_options !== 'object' || Array.isArray(json.stream_options))
  ) {
    throw invalid('stream_options: must be an object.');
  }
  return { model, stream: json.stream === true, json };
}

/** Responses: `input` is text or a list of items (absent only when continuing a stored response). */
export function parseResponses(json: Record<string, unknown>, model: string): ParsedRequest {
  const input = json.input;
  if (input !== undefined && typeof input !== 'string' && !Array.isArray(input))
    throw invalid('input: a string or an array of input items is required.');
  if (input === undefined && json.previous_response_id === undefined && json.conversation === undefined)
    throw invalid('input: required.');
  if (json.stream !== undefined && typeof json.stream !== 'boolean') throw invalid('stream: must be a boolean.');
  return { model, stream: json.stream === true, json };
}

/** Embeddings: `input` is text, a list of texts, or token arrays; never empty. */
export function parseEmbeddings(json: Record<string, unknown>, model: string): ParsedRequest {
  const input = json.input;
  const ok = (typeof input === 'string' && input.length > 0) || (Array.isArray(input) && input.length > 0);
  if (!ok) throw invalid('input: a non-empty string or array is required.');
  return { model, stream: false, json };
}

export const openaiChat: Surface = {
  name: 'openai.chat',
  shape: 'openai',
  format: 'openai-chat',
  op: 'generate',
  platforms: ['openai'],
  booked: true,
  credential: keyFromHeaders,
  parse: byModel(parseChat),
};

export const openaiResponses: Surface = {
  name: 'openai.responses',
  shape: 'openai',
  format: 'openai-responses',
  op: 'generate',
  platforms: ['openai'],
  booked: true,
  credential: keyFromHeaders,
  parse: byModel(parseResponses),
};

export const openaiEmbeddings: Surface = {
  name: 'openai.embeddings',
  shape: 'openai',
  format: 'openai-embeddings',
  op: 'embed',
  platforms: ['openai'],
  booked: true,
  credential: keyFromHeaders,
  parse: byModel(parseEmbeddings),
};

/** OpenAI's model list (`GET /v1/models`) of one platform's models in the pricing table. */
export function openaiModelList(platform: 'openai' | 'claude' | 'gemini', ownedBy: string) {
  return (deps: RelayDeps) => {
    const pricing = deps.pricing();
    const created = Math.floor(Date.parse(`${pricing.version}T00:00:00Z`) / 1000) || 0;
    return {
      object: 'list',
      data: pricing.models(platform).map((id) => ({ id, object: 'model', created, owned_by: ownedBy })),
    };
  };
}
