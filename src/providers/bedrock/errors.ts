import type { UpstreamErrorClass } from '../types.js';

/**
 * Bedrock's errors in the terms Anthropic clients and the relay understand.
 *
 * Bedrock names its error in `x-amzn-errortype` (`ThrottlingException:http://internal.amazon.com/…`)
 * and says what happened in `{"message": …}` (`{"Message": …}` from its auth layer); inside an
 * event stream an exception is a message of type `exception` named `throttlingException`. Two
 * statuses are adjusted so the relay reacts to what happened rather than to AWS's status: a
 * service quota is a rate limit (AWS: 400, here 429: another account may serve), and a model that
 * is not ready is an overload (AWS: 429, here 503).
 */

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'api_error'
  | 'overloaded_error';

const KNOWN: Record<string, { type: AnthropicErrorType; status?: number }> = {
  throttlingexception: { type: 'rate_limit_error' },
  servicequotaexceededexception: { type: 'rate_limit_error', status: 429 },
  modelnotreadyexception: { type: 'overloaded_error', status: 503 },
  serviceunavailableexception: { type: 'overloaded_error' },
  accessdeniedexception: { type: 'permission_error' },
  unrecognizedclientexception: { type: 'authentication_error' },
  invalidsignatureexception: { type: 'authentication_error' },
  expiredtokenexception: { type: 'authentication_error' },
  validationexception: { type: 'invalid_request_error' },
  resourcenotfoundexception: { type: 'not_found_error' },
  modeltimeoutexception: { type: 'timeout_error' },
  internalserverexception: { type: 'api_error' },
  modelerrorexception: { type: 'api_error' },
  modelstreamerrorexception: { type: 'api_error' },
};

const BY_STATUS: Record<number, AnthropicErrorType> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout_error',
  429: 'rate_limit_error',
  503: 'overloaded_error',
};

/** `ThrottlingException:http://…` or `com.amazon.coral.service#UnrecognizedClientException` → the bare name. */
export function errorName(raw: string | undefined): string | undefined {
  const name = raw?.split(':')[0]?.split('#').pop()?.trim();
  return name ? name : undefined;
}

/** The status to answer with and the Anthropic error type, for an HTTP error from Bedrock. */
export function httpError(status: number, name: string | undefined): { status: number; type: AnthropicErrorType } {
  const known = name ? KNOWN[name.toLowerCase()] : undefined;
  return { status: known?.status ?? status, type: known?.type ?? BY_STATUS[status] ?? 'api_error' };
}

/** The Anthropic error type for an exception inside Bedrock's event stream. */
export const streamExceptionType = (name: string): AnthropicErrorType => KNOWN[name.toLowerCase()]?.type ?? 'api_error';

/** Anthropic's error body. */
export const anthropicError = (type: AnthropicErrorType, message: string) => ({
  type: 'error',
  error: { type, message },
});

/** The message of a Bedrock error body (`message`, or `Message` from the auth layer). */
export function errorMessage(body: unknown): string | undefined {
  const b = body as { message?: unknown; Message?: unknown } | null;
  const m = b?.message ?? b?.Message;
  return typeof m === 'string' && m ? m : undefined;
}

/**
 * 429 (throttling, quotas) → rate limited; 503 (service unavailable, model not ready) → overloaded;
 * 401/403 (unrecognized client, invalid signature, access denied) → unauthorized; 408 (model
 * timeout), 424 (model error) and 5xx → server error; the rest (400 validation, 404) is the
 * request's own fault.
 */
export function classifyBedrockError(status: number): UpstreamErrorClass {
  if (status === 429) return 'rate_limited';
  if (status === 503 || status === 529) return 'overloaded';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 408 || status === 424 || status >= 500) return 'server_error';
  return 'client_error';
}
