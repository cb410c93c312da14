import { parseRetryAfter } from '../anthropic/ratelimit.js';

/**
 * When a 429 from OpenAI, Azure or the ChatGPT backend says its limit resets, as epoch ms:
 *  - `retry-after-ms` or `retry-after` when present: the upstream's own advice;
 *  - otherwise the latest of: the `x-ratelimit-reset-{requests,tokens}` of each limit whose
 *    `-remaining` is 0 (OpenAI's durations, `6m0s`, `20ms`); the ChatGPT backend's usage windows
 *    at 100% (`x-codex-{primary,secondary}-used-percent` / `-reset-after-seconds`); and its error
 *    body's `resets_in_seconds` / `resets_at` (a subscription's 5-hour or weekly limit).
 * Undefined when the response says nothing usable.
 */
export function openaiResetTime(
  headers: Readonly<Record<string, string>>,
  now: number,
  errorBody?: unknown,
): number | undefined {
  const ms = headers['retry-after-ms']?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms) && Number(ms) > 0) return now + Math.ceil(Number(ms));
  const retryAfter = parseRetryAfter(headers['retry-after'], now);
  if (retryAfter !== undefined && retryAfter > now) return retryAfter;

  const candidates: number[] = [];
  for (const limit of ['requests', 'tokens']) {
    if (headers[`x-ratelimit-remaining-${limit}`] !== '0') continue;
    const d = parseDurationText(headers[`x-ratelimit-reset-${limit}`]);
    if (d !== undefined) candidates.push(now + d);
  }
  for (const window of ['primary', 'secondary']) {
    const used = Number(headers[`x-codex-${window}-used-percent`]);
    const after = Number(headers[`x-codex-${window}-reset-after-seconds`]);
    if (used >= 100 && Number.isFinite(after) && after > 0) candidates.push(now + Math.ceil(after * 1000));
  }
  const err = (errorBody as { error?: { resets_in_seconds?: unknown; resets_at?: unknown } } | null | undefined)?.error;
  if (typeof err?.resets_in_seconds === 'number' && err.resets_in_seconds > 0)
    candidates.push(now + Math.ceil(err.resets_in_seconds * 1000));
  if (typeof err?.resets_at === 'number' && err.resets_at * 1000 > now)
    candidates.push(Math.round(err.resets_at * 1000));
  const latest = candidates.length > 0 ? Math.max(...candidates) : undefined;
  return latest !== undefined && latest > now ? latest : undefined;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** OpenAI's reset durations: `1s`, `6m0s`, `1h2m3.5s`, `20ms`. */
export function parseDurationText(value: string | undefined): number | undefined {
  const v = value?.trim();
  if (!v || !/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(v)) return undefined;
  let total = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
  return Math.ceil(total);
}
