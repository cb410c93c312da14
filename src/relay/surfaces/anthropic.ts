import { RelayError } from '../../errors/catalogue.js';
import { keyFromHeaders } from '../../keys/service.js';
import type { ParsedRequest, Surface } from '../types.js';
import { parseJsonObject, requireModel } from './json.js';

function requireMessages(json: Record<string, unknown>): void {
  if (!Array.isArray(json.messages) || json.messages.length === 0) {
    throw new RelayError('invalid_request', { message: 'messages: a non-empty array is required.' });
  }
}

function parseMessages(body: Buffer): ParsedRequest {
  const json = parseJsonObject(body);
  const model = requireModel(json);
  requireMessages(json);
  if (
    json.max_tokens !== undefined &&
    (typeof json.max_tokens !== 'number' || !Number.isInteger(json.max_tokens) || json.max_tokens < 1)
  ) {
    throw new RelayError('invalid_request', { message: 'max_tokens: a positive integer is required.' });
  }
  return { model, stream: json.stream === true, json };
}

function parseCountTokens(body: Buffer): ParsedRequest {
  const json = parseJsonObject(body);
  const model = requireModel(json);
  requireMessages(json);
  return { model, stream: false, json };
}

/** Anthropic Messages: `POST /v1/messages`, served by Claude accounts (API key or OAuth) and Bedrock. */
export const anthropicMessages: Surface = {
  name: 'anthropic.messages',
  shape: 'anthropic',
  format: 'anthropic',
  op: 'generate',
  platforms: ['claude', 'bedrock'],
  booked: true,
  credential: keyFromHeaders,
  parse: parseMessages,
};

/** Anthropic token counting: free upstream, so not booked. */
export const anthropicCountTokens: Surface = {
  name: 'anthropic.count_tokens',
  shape: 'anthropic',
  format: 'anthropic',
  op: 'count_tokens',
  platforms: ['claude', 'bedrock'],
  booked: false,
  credential: keyFromHeaders,
  parse: parseCountTokens,
};
