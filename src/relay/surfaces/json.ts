import { isUtf8 } from 'node:buffer';
import { RelayError } from '../../errors/catalogue.js';
import type { ParsedRequest } from '../types.js';

/** JSON body → object, or a clear invalid_json error. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0)
    throw new RelayError('invalid_json', { message: 'The request body is empty; expected a JSON object.' });
  // Decoding would replace invalid bytes silently (U+FFFD), and the upstream would get another prompt.
  if (!isUtf8(body)) throw new RelayError('invalid_json', { message: 'The request body is not valid UTF-8.' });
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new RelayError('invalid_json', { message: `The request body is not valid JSON: ${(err as Error).message}` });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RelayError('invalid_json', { message: 'The request body must be a JSON object.' });
  }
  return value as Record<string, unknown>;
}

export function requireModel(json: Record<string, unknown>): string {
  const model = json.model;
  if (typeof model !== 'string' || model.trim() === '') {
    throw new RelayError('invalid_request', { message: 'model: a non-empty string is required.' });
  }
  if (model.length > 200) throw new RelayError('invalid_request', { message: 'model: too long.' });
  return model;
}

/** A surface whose body names its model in `model`, as OpenAI's API does. */
export const byModel = (parse: (json: Record<string, unknown>, model: string) => ParsedRequest) => (body: Buffer) => {
  const json = parseJsonObject(body);
  return parse(json, requireModel(json));
};
