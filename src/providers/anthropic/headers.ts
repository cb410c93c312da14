/**
 * Which client headers go upstream to Anthropic. An allow-list: the client's relay key
 * (`x-api-key`, `authorization`), cookies, forwarding and hop-by-hop headers never pass.
 */
const FORWARDED = new Set([
  'anthropic-version',
  'anthropic-beta',
  'anthropic-dangerous-direct-browser-access',
  'content-type',
  'accept',
  'accept-language',
  'user-agent',
  'x-app',
  'x-claude-code-session-id',
]);

export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

export function forwardClientHeaders(client: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(client)) {
    if (FORWARDED.has(name) || name.startsWith('x-stainless-')) out[name] = value;
  }
  out['anthropic-version'] ??= DEFAULT_ANTHROPIC_VERSION;
  // We read usage from the body as it passes: ask for it uncompressed.
  out['accept-encoding'] = 'identity';
  return out;
}

const RESPONSE_FORWARDED = new Set(['content-type', 'request-id', 'retry-after']);

export const forwardResponseHeader = (name: string): boolean => RESPONSE_FORWARDED.has(name);
