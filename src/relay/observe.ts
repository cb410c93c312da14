import { RelayError, type ErrorCode } from '../errors/catalogue.js';
import type { ErrorCause, UpstreamStatusClass } from '../metrics/index.js';
import type { Exchange } from './exchange.js';
import type { Trace } from './trace.js';
import type { RelayDeps, Surface } from './types.js';

/** The closed list of causes (docs/OBSERVABILITY.md) for each error the relay answers with. */
const CAUSES: Partial<Record<ErrorCode, ErrorCause>> = {
  missing_api_key: 'auth',
  invalid_api_key: 'auth',
  disabled_api_key: 'auth',
  expired_api_key: 'auth',
  invalid_json: 'bad_request',
  invalid_request: 'bad_request',
  body_too_large: 'bad_request',
  not_found: 'bad_request',
  platform_not_allowed: 'forbidden',
  model_not_allowed: 'forbidden',
  client_not_allowed: 'forbidden',
  rate_limited: 'rate_limit',
  concurrency_limited: 'concurrency',
  budget_exceeded: 'budget',
  no_account_available: 'no_account',
  accounts_rate_limited: 'upstream_429',
  upstream_unreachable: 'upstream_unreachable',
  upstream_timeout: 'timeout',
  store_unavailable: 'store_unavailable',
  shutting_down: 'shutdown',
};

/** The refusals of the key's own limits and permissions (relay_limit_refusals_total). */
export const LIMIT_REFUSALS: ReadonlySet<ErrorCode> = new Set([
  'rate_limited',
  'concurrency_limited',
  'budget_exceeded',
  'model_not_allowed',
  'platform_not_allowed',
  'client_not_allowed',
]);

export function causeOf(err: unknown): ErrorCause {
  if (!(err instanceof RelayError)) return 'internal';
  if (err.code === 'upstream_error') {
    const s = err.status;
    return s === 429 ? 'upstream_429' : s === 529 ? 'upstream_529' : s >= 500 ? 'upstream_5xx' : 'upstream_4xx';
  }
  return CAUSES[err.code] ?? 'internal';
}

export const upstreamClass = (status: number): UpstreamStatusClass =>
  status === 429 ? '429' : status === 529 ? '529' : status >= 500 ? '5xx' : status >= 400 ? '4xx' : '2xx';

/** A delivered answer that still failed: cut, timed out, or left by its client. */
function deliveryCause(trace: Trace): ErrorCause | null {
  switch (trace.outcome) {
    case 'cut':
      return 'upstream_5xx';
    case 'timeout':
      return 'timeout';
    case 'client_abort':
      return 'client_abort';
    case 'shutdown':
      return 'shutdown';
    default:
      return null;
  }
}

/**
 * The request is over: its metrics, its minute in the history, and its access line. `failure` is
 * the error it was answered with, if any.
 */
export function observeEnd(
  ex: Exchange,
  surface: Surface,
  deps: RelayDeps,
  trace: Trace,
  requestId: string,
  startedAt: number,
  failure: unknown,
): void {
  const status = ex.status;
  const gone = ex.aborted && status === undefined;
  const cause = failure !== undefined ? causeOf(failure) : gone ? 'client_abort' : deliveryCause(trace);
  const durationMs = trace.elapsedMs();
  deps.metrics.requestEnded({
    surface: surface.name,
    platform: trace.platform,
    stream: trace.stream,
    status,
    cause,
    durationMs,
    overheadMs: trace.overheadMs,
    upstreamTtfbMs: trace.upstreamTtfbMs,
    keyId: trace.keyId,
  });
  deps.history.add({
    atMs: startedAt,
    error: cause !== null && cause !== 'client_abort',
    durationMs,
    ttfbMs: trace.upstreamTtfbMs,
    tokens: trace.tokens,
    costPico: trace.costPico,
  });
  if (!deps.log.enabled('info')) return;
  const t = trace.tokens;
  deps.log.info('request', {
    requestId,
    surface: surface.name,
    keyId: trace.keyId,
    accountId: trace.accountId,
    platform: trace.platform,
    model: trace.model,
    stream: trace.stream,
    status: gone ? 'client_gone' : status,
    outcome: trace.outcome ?? (cause ? 'error' : 'ok'),
    error: failure instanceof RelayError ? failure.code : failure !== undefined ? 'internal_error' : undefined,
    attempts: trace.attempts,
    durationMs: round(durationMs),
    ttfbMs: trace.upstreamTtfbMs === null ? undefined : round(trace.upstreamTtfbMs),
    overheadMs: trace.overheadMs === null ? undefined : round(trace.overheadMs),
    tokens: t
      ? { in: t.input, out: t.output, cacheRead: t.cacheRead, cacheWrite: t.cacheWrite5m + t.cacheWrite1h }
      : undefined,
    costUsd: trace.costPico > 0 ? trace.costPico / 1e12 : undefined,
  });
}

const round = (ms: number) => Math.round(ms * 100) / 100;
