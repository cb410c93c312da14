import type { Account } from '../accounts/service.js';
import { RelayError } from '../errors/catalogue.js';
import { anthropicTypeForStatus, renderError, type ApiShape } from '../errors/render.js';
import type { RequestId } from '../ids.js';
import { keyFromHeaders, type ApiKeyRecord, type AuthFailure } from '../keys/service.js';
import { providerFor } from '../providers/registry.js';
import type { Provider, UsageTap } from '../providers/types.js';
import type { Exchange } from '../server/exchange.js';
import { ZERO_USAGE, type TokenUsage } from '../usage/pricing.js';
import type { UsageEvent } from '../usage/recorder.js';
import { isAbort, type UpstreamResponse } from './dispatch.js';
import type { ParsedRequest, RelayDeps, Surface } from './types.js';

const AUTH_ERRORS: Record<AuthFailure, RelayError['code']> = {
  missing: 'missing_api_key',
  malformed: 'invalid_api_key',
  unknown: 'invalid_api_key',
  disabled: 'disabled_api_key',
  expired: 'expired_api_key',
};

export const authFailureError = (reason: AuthFailure): RelayError => new RelayError(AUTH_ERRORS[reason]);

/** One request on its way through: what we know so far. */
interface Call {
  readonly ex: Exchange;
  readonly deps: RelayDeps;
  readonly surface: Surface;
  readonly requestId: RequestId;
  readonly startedAt: number;
  key: ApiKeyRecord;
  account: Account;
  provider: Provider;
  parsed: ParsedRequest;
  ttfbMs: number | null;
  /** What to do when the client goes away; set by the phase the call is in. */
  onClientGone: () => void;
}

/**
 * The relay pipeline, the same for every surface and platform:
 * authenticate → parse → pick an account → send upstream → pass the answer back → book usage.
 * `body` must already be reading (uWS delivers body data only to a handler attached in time).
 */
export async function relay(ex: Exchange, body: Promise<Buffer>, surface: Surface, deps: RelayDeps): Promise<void> {
  const requestId = deps.nextRequestId();
  const startedAt = deps.clock.now();
  try {
    const auth = await deps.keys.authenticate(keyFromHeaders(ex.incoming.headers));
    if (!auth.ok) throw authFailureError(auth.reason);
    const bytes = await body;
    const parsed = surface.parse(bytes);
    const picked = await deps.scheduler.pick({ platform: surface.platform, model: parsed.model });
    if (!picked.ok) throw new RelayError('no_account_available', { message: `No upstream account is available for model ${parsed.model}.` });
    const provider = providerFor(picked.account.platform);
    if (!provider) throw new RelayError('no_account_available', { message: `No provider for platform ${picked.account.platform}.` });
    const call: Call = { ex, deps, surface, requestId, startedAt, key: auth.key, account: picked.account, provider, parsed, ttfbMs: null, onClientGone: () => {} };
    await forward(call, bytes);
  } catch (err) {
    respondError(ex, surface.shape, err, requestId, deps);
  }
}

export function respondError(ex: Exchange, shape: ApiShape, err: unknown, requestId: string, deps: Pick<RelayDeps, 'log'>): void {
  if (ex.aborted) return;
  if (!(err instanceof RelayError)) deps.log.error('request failed', { requestId, err });
  if (ex.started) {
    ex.destroy();
    return;
  }
  const r = renderError(shape, err, requestId);
  ex.send(r.status, { ...r.headers, 'x-request-id': requestId }, r.body);
}

/**
 * Sends the call upstream and hands the answer to the right writer.
 *
 * Once sent, an upstream call is not abandoned before it answers, even if the client leaves: the
 * upstream may already be charging for it, and only its answer says how much. A stream is cut as
 * soon as its usage is known (see streamBack); a whole JSON answer is read and booked anyway.
 */
async function forward(call: Call, body: Buffer): Promise<void> {
  const { ex, deps, provider } = call;
  const controller = new AbortController();
  ex.onAbort(() => call.onClientGone());
  const request = provider.buildRequest({
    account: call.account,
    path: call.surface.upstreamPath,
    query: ex.incoming.query,
    clientHeaders: ex.incoming.headers,
    method: 'POST',
    body,
  });

  let res: UpstreamResponse;
  try {
    res = await deps.upstream.send(request, controller.signal);
  } catch (err) {
    if (isAbort(err)) return;
    throw err;
  }
  call.ttfbMs = deps.clock.now() - call.startedAt;

  const headers: Record<string, string> = { 'x-request-id': call.requestId };
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined && provider.forwardResponseHeader(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }

  if (res.statusCode >= 400) return upstreamError(call, res, headers);
  const contentType = headers['content-type'] ?? '';
  if (contentType.startsWith('text/event-stream')) return streamBack(call, res, headers, controller);
  return bufferBack(call, res, headers);
}

/** SSE: bytes pass through as they arrive; the tap reads usage from the same bytes. */
async function streamBack(call: Call, res: UpstreamResponse, headers: Record<string, string>, controller: AbortController): Promise<void> {
  const { ex } = call;
  const tap = call.provider.createStreamTap();
  // The client left: stop the upstream generating, but not before it has told us its usage.
  call.onClientGone = () => {
    if (tap.sawUsage) controller.abort();
  };
  ex.beginStream(res.statusCode, { ...headers, 'cache-control': 'no-cache' });
  let broken = false;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      tap.push(chunk);
      if (ex.aborted) {
        if (tap.sawUsage) break;
        continue;
      }
      const drained = ex.write(chunk);
      if (drained) await drained;
    }
  } catch (err) {
    if (!ex.aborted && !isAbort(err)) broken = true;
  }
  if (ex.aborted) controller.abort();
  tap.end();
  const outcome: UsageEvent['outcome'] = ex.aborted ? 'client_abort' : broken || !tap.complete ? 'cut' : 'ok';
  if (call.surface.booked) await book(call, res.statusCode, outcome, tap);
  if (ex.aborted) return;
  if (outcome === 'cut' && !tap.streamError) {
    ex.write(
      Buffer.from(
        `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'The upstream stream ended before the message was complete.' } })}\n\n`,
      ),
    );
  }
  ex.end();
}

/**
 * A whole JSON answer: read, book, then send, so the client sees the end only once it is booked.
 * Read to the end even if the client left: the usage is at the end and the upstream charges it.
 */
async function bufferBack(call: Call, res: UpstreamResponse, headers: Record<string, string>): Promise<void> {
  const { ex, deps } = call;
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) chunks.push(chunk);
  } catch (err) {
    if (call.surface.booked) await book(call, res.statusCode, ex.aborted ? 'client_abort' : 'cut', undefined);
    if (ex.aborted) return;
    throw new RelayError('upstream_unreachable', { message: 'The upstream connection broke while sending the response.', cause: err });
  }
  const body = Buffer.concat(chunks);
  if (call.surface.booked) {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      deps.log.warn('upstream answered with a body that is not JSON', { requestId: call.requestId, accountId: call.account.id });
    }
    const found = call.provider.usageFromJson(json);
    await book(call, res.statusCode, ex.aborted ? 'client_abort' : 'ok', found);
  }
  ex.send(res.statusCode, headers, body);
}

const MAX_ERROR_BODY = 64 * 1024;

/** An upstream error before any byte reached the client: its status, an Anthropic-shaped body. */
async function upstreamError(call: Call, res: UpstreamResponse, headers: Record<string, string>): Promise<void> {
  const { ex } = call;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += (chunk as Buffer).length;
      if (size <= MAX_ERROR_BODY) chunks.push(chunk);
    }
  } catch {
    // the status is what matters
  }
  if (call.surface.booked) await book(call, res.statusCode, 'error', undefined);
  if (ex.aborted) return;
  let type = anthropicTypeForStatus(res.statusCode);
  let message = `The upstream returned HTTP ${res.statusCode}.`;
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { type?: unknown; message?: unknown } };
    if (typeof parsed.error?.type === 'string') type = parsed.error.type;
    if (typeof parsed.error?.message === 'string') message = `Upstream: ${parsed.error.message}`;
  } catch {
    // not JSON: keep the generic message
  }
  delete headers['content-type'];
  ex.json(res.statusCode, { type: 'error', error: { type, message }, request_id: call.requestId }, headers);
}

async function book(
  call: Call,
  status: number,
  outcome: UsageEvent['outcome'],
  found: Pick<UsageTap, 'usage' | 'model'> | undefined,
): Promise<void> {
  const { deps } = call;
  const usage: TokenUsage = found?.usage ?? { ...ZERO_USAGE };
  const model = found?.model ?? call.parsed.model;
  const price = deps.pricing().cost(model, usage);
  const now = deps.clock.now();
  await deps.recorder.record({
    requestId: call.requestId,
    keyId: call.key.id,
    accountId: call.account.id,
    platform: call.account.platform,
    model,
    endpoint: call.surface.name,
    stream: call.parsed.stream,
    status,
    outcome,
    usage,
    costPico: price.costPico,
    pricedAs: price.pricedAs,
    priceSource: price.source,
    startedAt: call.startedAt,
    durationMs: now - call.startedAt,
    ttfbMs: call.ttfbMs,
  });
}
