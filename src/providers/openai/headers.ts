/**
 * Which client headers go upstream to OpenAI (and Azure). An allow-list: the client's relay key
 * (`authorization`, `x-api-key`, `api-key`), the client's organization/project (they belong to
 * whoever owns the upstream key), cookies, forwarding and hop-by-hop headers never pass. Codex's
 * own headers pass, so the upstream sees the same session and turn ids Codex would send it.
 */
const FORWARDED = new Set([
  'content-type',
  'accept',
  'accept-language',
  'user-agent',
  'openai-beta',
  'idempotency-key',
  'x-client-request-id',
  // Codex CLI
  'originator',
  'version',
  'session_id',
  'session-id',
  'thread-id',
  'conversation_id',
  'x-openai-subagent',
]);

export function forwardClientHeaders(client: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(client)) {
    if (FORWARDED.has(name) || name.startsWith('x-stainless-') || name.startsWith('x-codex-')) out[name] = value;
  }
  out['content-type'] ??= 'application/json';
  // We read usage from the body as it passes: ask for it uncompressed.
  out['accept-encoding'] = 'identity';
  return out;
}

const RESPONSE_FORWARDED = new Set([
  'content-type',
  'retry-after',
  'openai-processing-ms',
  'openai-version',
  'apim-request-id',
]);

/** Upstream response headers a client may see: its request id, rate-limit state, and Codex's usage windows. */
export const forwardResponseHeader = (name: string): boolean =>
  RESPONSE_FORWARDED.has(name) || name.startsWith('x-ratelimit-') || name.startsWith('x-codex-');
