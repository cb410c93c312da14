import { parseRetryAfter } from '../anthropic/ratelimit.js';

/**
 * When a 429 from Google says its quota resets, as epoch ms. `retry-after` when present (rare from
 * Google); otherwise the latest of what the error body says: `google.rpc.RetryInfo.retryDelay`,
 * `ErrorInfo.metadata.quotaResetDelay` / `quotaResetTimeStamp` (Code Assist), or "Please retry in
 * 37.2s." in the message. Undefined when nothing usable is said.
 */
export function googleResetTime(
  headers: Readonly<Record<string, string>>,
  now: number,
  body?: unknown,
): number | undefined {
  const retryAfter = parseRetryAfter(headers['retry-after'], now);
  if (retryAfter !== undefined && retryAfter > now) return retryAfter;
  const error = errorOf(body);
  if (!error) return undefined;
  const candidates: number[] = [];
  const after = (d: unknown) => {
    const ms = typeof d === 'string' ? parseGoogleDuration(d) : undefined;
    if (ms !== undefined) candidates.push(now + ms);
  };
  for (const detail of Array.isArray(error.details) ? error.details : []) {
    if (!detail || typeof detail !== 'object') continue;
    const d = detail as { '@type'?: unknown; retryDelay?: unknown; metadata?: Record<string, unknown> };
    if (typeof d['@type'] !== 'string') continue;
    if (d['@type'].endsWith('google.rpc.RetryInfo')) after(d.retryDelay);
    if (d['@type'].endsWith('google.rpc.ErrorInfo') && d.metadata && typeof d.metadata === 'object') {
      after(d.metadata.quotaResetDelay);
      const stamp = d.metadata.quotaResetTimeStamp;
      const at = typeof stamp === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(stamp) ? Date.parse(stamp) : NaN;
      if (Number.isFinite(at)) candidates.push(at);
    }
  }
  const inMessage =
    typeof error.message === 'string' ? /Please retry in ([0-9.]+(?:ms|s))/.exec(error.message)?.[1] : undefined;
  if (candidates.length === 0 && inMessage) after(inMessage);
  const latest = candidates.length > 0 ? Math.max(...candidates) : undefined;
  return latest !== undefined && latest > now ? latest : undefined;
}

function errorOf(body: unknown): { details?: unknown; message?: unknown } | undefined {
  const first = Array.isArray(body) ? body[0] : body;
  const error = (first as { error?: unknown } | null | undefined)?.error;
  return error && typeof error === 'object' ? (error as { details?: unknown; message?: unknown }) : undefined;
}

/**
 * A protobuf JSON duration (`"37s"`, `"1.5s"`) or the Go form Google also uses in metadata
 * (`"1h2m3.5s"`, `"500ms"`) → milliseconds, rounded up (never early). Undefined if it is neither.
 */
export function parseGoogleDuration(value: string): number | undefined {
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/.exec(value.trim());
  if (!m || value.trim() === '' || m.slice(1).every((g) => g === undefined)) return undefined;
  const [h, min, s, ms] = m.slice(1).map((g) => (g === undefined ? 0 : Number(g))) as [number, number, number, number];
  return Math.ceil(((h * 60 + min) * 60 + s) * 1000 + ms);
}
