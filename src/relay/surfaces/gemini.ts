import { RelayError } from '../../errors/catalogue.js';
import { keyFromHeaders } from '../../keys/service.js';
import type { ParsedRequest, RouteInfo, Surface } from '../types.js';
import { parseJsonObject } from './json.js';

/**
 * Google's client APIs under `/gemini`: the native Gemini API (`/v1beta/models/{model}:{method}`,
 * as `@google/genai` and Gemini CLI with an API key call it) and Code Assist (`/v1internal:{method}`,
 * as Gemini CLI calls it with a Google login and `CODE_ASSIST_ENDPOINT`). Both are served by every
 * Gemini account: API-key accounts speak the native API, Google OAuth accounts Code Assist, and
 * the bridges between the two formats wrap and unwrap.
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Google's clients send the key in `x-goog-api-key` or `?key=`; Gemini CLI in Code Assist mode
 * sends its "access token" (the relay key) as `Authorization: Bearer`.
 */
export function googleCredential(
  headers: Readonly<Record<string, string>>,
  query: URLSearchParams,
): string | undefined {
  return headers['x-goog-api-key']?.trim() || query.get('key')?.trim() || keyFromHeaders(headers);
}

/** `models/gemini-2.5-pro` or `gemini-2.5-pro` → `gemini-2.5-pro`, or a clear error. */
function modelName(raw: unknown, field: string): string {
  const model = typeof raw === 'string' ? raw.trim().replace(/^models\//, '') : '';
  if (model === '') throw new RelayError('invalid_request', { message: `${field}: a model name is required.` });
  if (model.length > 200) throw new RelayError('invalid_request', { message: `${field}: too long.` });
  return model;
}

function requireContents(body: Json, field = 'contents'): void {
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    throw new RelayError('invalid_request', { message: `${field}: a non-empty array is required.` });
  }
}

/** The `{model}:{method}` segment of a native path (percent-encoded or not). */
export function nativeTarget(path: string): { model: string; method: string } | undefined {
  const segment = path.slice(path.lastIndexOf('/') + 1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  const colon = decoded.lastIndexOf(':');
  if (colon <= 0) return undefined;
  return { model: decoded.slice(0, colon), method: decoded.slice(colon + 1) };
}

function parseNativeGenerate(body: Buffer, route: RouteInfo): ParsedRequest {
  const json = parseJsonObject(body);
  const target = nativeTarget(route.path);
  const model = modelName(target?.model, 'model');
  requireContents(json);
  return { model, stream: target?.method === 'streamGenerateContent', json };
}

function parseNativeCountTokens(body: Buffer, route: RouteInfo): ParsedRequest {
  const json = parseJsonObject(body);
  const model = modelName(nativeTarget(route.path)?.model, 'model');
  if (isObject(json.generateContentRequest))
    requireContents(json.generateContentRequest, 'generateContentRequest.contents');
  else requireContents(json);
  return { model, stream: false, json };
}

function parseCodeAssistGenerate(body: Buffer, route: RouteInfo): ParsedRequest {
  const json = parseJsonObject(body);
  const model = modelName(json.model, 'model');
  if (!isObject(json.request))
    throw new RelayError('invalid_request', { message: 'request: an object (a GenerateContentRequest) is required.' });
  requireContents(json.request, 'request.contents');
  return { model, stream: route.path.endsWith(':streamGenerateContent'), json };
}

function parseCodeAssistCountTokens(body: Buffer): ParsedRequest {
  const json = parseJsonObject(body);
  if (!isObject(json.request))
    throw new RelayError('invalid_request', { message: 'request: an object with model and contents is required.' });
  const model = modelName(json.request.model, 'request.model');
  requireContents(json.request, 'request.contents');
  return { model, stream: false, json };
}

const common = { shape: 'gemini', platforms: ['gemini'], credential: googleCredential } as const;

export const geminiGenerateContent: Surface = {
  ...common,
  name: 'gemini.generate_content',
  format: 'gemini',
  op: 'generate',
  booked: true,
  parse: parseNativeGenerate,
};
export const geminiCountTokens: Surface = {
  ...common,
  name: 'gemini.count_tokens',
  format: 'gemini',
  op: 'count_tokens',
  booked: false,
  parse: parseNativeCountTokens,
};
export const codeAssistGenerateContent: Surface = {
  ...common,
  name: 'code_assist.generate_content',
  format: 'code-assist',
  op: 'generate',
  booked: true,
  parse: parseCodeAssistGenerate,
};
export const codeAssistCountTokens: Surface = {
  ...common,
  name: 'code_assist.count_tokens',
  format: 'code-assist',
  op: 'count_tokens',
  booked: false,
  parse: parseCodeAssistCountTokens,
};

/** The native surface a path names (`…/models/{model}:generateContent`), if any. */
export function nativeSurface(path: string): Surface | undefined {
  switch (nativeTarget(path)?.method) {
    case 'generateContent':
    case 'streamGenerateContent':
      return geminiGenerateContent;
    case 'countTokens':
      return geminiCountTokens;
    default:
      return undefined;
  }
}
