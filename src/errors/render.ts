import { type ErrorKind, RelayError } from './catalogue.js';

/** The API shape a caller speaks; errors are rendered in it. */
export type ApiShape = 'anthropic' | 'openai' | 'gemini' | 'admin';

const ANTHROPIC_TYPE: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  too_large: 'request_too_large',
  rate_limit: 'rate_limit_error',
  billing: 'billing_error',
  api: 'api_error',
  overloaded: 'overloaded_error',
  unavailable: 'api_error',
  timeout: 'timeout_error',
};

const OPENAI_TYPE: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  too_large: 'invalid_request_error',
  rate_limit: 'rate_limit_error',
  billing: 'insufficient_quota',
  api: 'server_error',
  overloaded: 'server_error',
  unavailable: 'server_error',
  timeout: 'server_error',
};

const GOOGLE_STATUS: Record<ErrorKind, string> = {
  invalid_request: 'INVALID_ARGUMENT',
  authentication: 'UNAUTHENTICATED',
  permission: 'PERMISSION_DENIED',
  not_found: 'NOT_FOUND',
  too_large: 'INVALID_ARGUMENT',
  rate_limit: 'RESOURCE_EXHAUSTED',
  billing: 'RESOURCE_EXHAUSTED',
  api: 'INTERNAL',
  overloaded: 'UNAVAILABLE',
  unavailable: 'UNAVAILABLE',
  timeout: 'DEADLINE_EXCEEDED',
};

/** Errors a retry cannot fix: SDK clients (Claude Code included) are told not to retry them. */
const FINAL_KINDS: ReadonlySet<ErrorKind> = new Set([
  'invalid_request',
  'authentication',
  'permission',
  'not_found',
  'too_large',
  'billing',
]);

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Any thrown value → a response in the caller's shape. Unknown errors never leak their message. */
export function renderError(shape: ApiShape, err: unknown, requestId: string): RenderedError {
  const e = err instanceof RelayError ? err : new RelayError('internal_error', { cause: err });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(FINAL_KINDS.has(e.kind) ? { 'x-should-retry': 'false' } : {}),
    ...e.headers,
  };
  let body: unknown;
  switch (shape) {
    case 'anthropic':
      body = { type: 'error', error: { type: ANTHROPIC_TYPE[e.kind], message: e.message }, request_id: requestId };
      break;
    case 'openai':
      body = { error: { message: e.message, type: OPENAI_TYPE[e.kind], param: null, code: e.code } };
      break;
    case 'gemini':
      body = { error: { code: e.status, message: e.message, status: GOOGLE_STATUS[e.kind] } };
      break;
    case 'admin':
      body = { error: { code: e.code, message: e.message }, requestId };
      break;
  }
  return { status: e.status, headers, body: JSON.stringify(body) };
}

/** Anthropic's error `type` for a status, for upstream errors whose body we cannot use. */
export function anthropicTypeForStatus(status: number): string {
  if (status === 400) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'billing_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 529) return 'overloaded_error';
  if (status === 504) return 'timeout_error';
  return 'api_error';
}
