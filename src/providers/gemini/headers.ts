/**
 * Which client headers go upstream to Google. An allow-list: the relay key (`x-goog-api-key`,
 * `authorization`, `x-api-key`), cookies and hop-by-hop headers never pass.
 */
const FORWARDED = new Set(['user-agent', 'x-goog-api-client', 'accept-language']);

export function forwardClientHeaders(client: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(client)) if (FORWARDED.has(name)) out[name] = value;
  out['content-type'] = 'application/json';
  // We read usage from the body as it passes: ask for it uncompressed.
  out['accept-encoding'] = 'identity';
  return out;
}

const RESPONSE_FORWARDED = new Set(['content-type', 'retry-after']);
export const forwardResponseHeader = (name: string): boolean => RESPONSE_FORWARDED.has(name);
