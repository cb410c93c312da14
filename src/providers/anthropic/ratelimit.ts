/**
 * When a 429 from Anthropic says its limit resets, as epoch ms:
 *  - `retry-after` (seconds, or an HTTP date) when present: the upstream's own advice;
 *  - otherwise the latest of `anthropic-ratelimit-unified-reset` (subscriptions; epoch seconds or
 *    an ISO date) and the `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset`
 *    of every limit whose `-remaining` is 0 (ISO dates).
 * Undefined when the response says nothing usable.
 */
export function anthropicResetTime(headers: Readonly<Record<string, string>>, now: number): number | undefined {
  const retryAfter = parseRetryAfter(headers['retry-after'], now);
  if (retryAfter !== undefined && retryAfter > now) return retryAfter;
  const candidates: number[] = [];
  const unified = parseInstant(headers['anthropic-ratelimit-unified-reset']);
  if (unified !== undefined) candidates.push(unified);
  for (const limit of ['requests', 'tokens', 'input-tokens', 'output-tokens']) {
    if (headers[`anthropic-ratelimit-${limit}-remaining`] !== '0') continue;
    const reset = parseInstant(headers[`anthropic-ratelimit-${limit}-reset`]);
    if (reset !== undefined) candidates.push(reset);
  }
  const latest = candidates.length > 0 ? Math.max(...candidates) : undefined;
  return latest !== undefined && latest > now ? latest : undefined;
}

export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return now + Math.ceil(Number(v) * 1000);
  // Only the HTTP-date form (RFC 9110): Date.parse turns almost any text into some date.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(v)) return undefined;
  const date = Date.parse(v);
  return Number.isFinite(date) ? date : undefined;
}

/** Epoch seconds, epoch milliseconds or an ISO/HTTP date. */
function parseInstant(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    return n < 1e12 ? Math.round(n * 1000) : Math.round(n);
  }
  const date = Date.parse(v);
  return Number.isFinite(date) ? date : undefined;
}
