import { RelayError } from '../errors/catalogue.js';
import type { UpstreamResponse } from '../upstream/types.js';
import { redactCredentials } from '../util/redact.js';

const MAX_ERROR_BODY = 64 * 1024;

/** Reads an upstream error body (bounded) and turns it into a RelayError with the upstream's status. */
export async function upstreamErrorOf(res: UpstreamResponse, headers: Record<string, string>): Promise<RelayError> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= MAX_ERROR_BODY) chunks.push(chunk);
    }
  } catch {
    // the status is what matters
  }
  let message = `The upstream returned HTTP ${res.statusCode}.`;
  let parsedBody: unknown;
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    parsedBody = parsed;
    // Anthropic, OpenAI and Google all put it in error.message; Google's is sometimes an array;
    // the ChatGPT backend says `{"detail": …}`.
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    const e = (first as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown } | null) ?? {};
    const m = typeof e.error === 'object' ? e.error?.message : (e.error ?? e.message ?? e.detail);
    if (typeof m === 'string' && m) message = `Upstream: ${redactCredentials(m)}`;
  } catch {
    // not JSON: keep the generic message
  }
  const passOn: Record<string, string> = {};
  if (headers['retry-after']) passOn['retry-after'] = headers['retry-after'];
  if (headers['request-id']) passOn['request-id'] = headers['request-id'];
  // The parsed body rides along as the cause: providers read retry hints in it (Google's RetryInfo).
  return new RelayError('upstream_error', {
    status: res.statusCode,
    message,
    headers: passOn,
    kind: kindForStatus(res.statusCode),
    cause: parsedBody,
  });
}

function kindForStatus(status: number): RelayError['kind'] {
  if (status === 400 || status === 422) return 'invalid_request';
  if (status === 401) return 'authentication';
  if (status === 402) return 'billing';
  if (status === 403) return 'permission';
  if (status === 404) return 'not_found';
  if (status === 413) return 'too_large';
  if (status === 429) return 'rate_limit';
  if (status === 529) return 'overloaded';
  if (status === 504) return 'timeout';
  return 'api';
}

/**
 * An upstream account's credentials were refused: a 502 for the client, whose own key is fine. The
 * upstream's words (with any credential they quote redacted) go to the account's health for the
 * admin, not to the client.
 */
export const accountRefused = (status: number) =>
  new RelayError('upstream_error', {
    status: 502,
    kind: 'api',
    message: `The upstream account was refused (HTTP ${status}); the relay's admin can see why in the account's health.`,
  });
