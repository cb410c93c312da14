import { CredentialsRejected } from '../accounts/oauth/tokens.js';
import { RelayError } from '../errors/catalogue.js';
import type { UpstreamCall } from '../providers/types.js';
import type { Sickness } from '../scheduler/breakers.js';
import type { Pick } from '../scheduler/index.js';
import { bridgeFor } from '../translate/index.js';
import { isAbort } from '../upstream/client.js';
import type { UpstreamRequest, UpstreamResponse } from '../upstream/types.js';
import { bufferBack } from './buffer-back.js';
import type { Call, CallBase } from './call.js';
import { upstreamClass } from './observe.js';
import { reportOutcome, type AttemptOutcome } from './outcomes.js';
import { streamBack, type EarlyFailure } from './stream-back.js';
import { accountRefused, upstreamErrorOf } from './upstream-error.js';
import { redactCredentials } from '../util/redact.js';

/** How an attempt on one account ended. */
export type AttemptResult =
  /** Answered and booked (or the client left): the request is over. */
  | { done: true }
  /**
   * Failed before any byte reached the client. `retryable`: the next account may try (429, 529,
   * 5xx, 401/403, network); otherwise the request itself is wrong (400…) and the error goes back.
   */
  | { done: false; retryable: boolean; error: RelayError; call: Call };

/** What sending produced: an answer of any status, or a failure before one. */
type Sent =
  | { kind: 'answered'; res: UpstreamResponse }
  | { kind: 'failed'; outcome: AttemptOutcome | null; error: RelayError }
  | { kind: 'aborted' };

const isNetworkFailure = (e: unknown): e is RelayError =>
  e instanceof RelayError && (e.code === 'upstream_unreachable' || e.code === 'upstream_timeout');

/** 5xx and 529 count against the account's breaker, and so do unreachable or silent upstreams; 429 and 4xx do not. */
const UPSTREAM_SICKNESS: Sickness<UpstreamResponse> = {
  failed: (res) => res.statusCode >= 500,
  counts: isNetworkFailure,
};

/**
 * One attempt of the request on the picked account: translate the body if the account speaks
 * another format, let the provider build the upstream request (auth, URL), send it through the
 * account's breaker, then either pass the answer back, or classify the failure (health, cooldown,
 * breaker) and let the caller fail over. Failover is possible only before the first byte reaches
 * the client. An OAuth account answering 401 refreshes its token and is tried once more.
 */
export async function attempt(base: CallBase, pick: Pick, body: Buffer): Promise<AttemptResult> {
  const call = callOn(base, pick);
  const upstreamCall = upstreamCallOf(call, pick, body);
  const sent = await send(call, upstreamCall);
  if (sent.kind === 'aborted') return { done: true };
  if (sent.kind === 'failed') return fail(call, sent.outcome, sent.error);
  const res = call.provider.decode ? call.provider.decode(sent.res, upstreamCall) : sent.res;
  call.ttfbMs = call.deps.clock.now() - base.startedAt;
  const headers = responseHeaders(call, res);
  return res.statusCode >= 400 ? refused(call, res, headers) : deliver(call, res, headers);
}

/** The call on this account: its provider, the format it speaks, and the bridge to the client's. */
function callOn(base: CallBase, pick: Pick): Call {
  const { deps, surface, parsed } = base;
  const account = pick.account;
  const provider = deps.providers.forAccount(account);
  const format = provider?.formatFor(account, surface.op, surface.format);
  if (!provider || !format)
    throw new RelayError('no_account_available', { message: `Account ${account.id} cannot serve ${surface.name}.` });
  const bridgeContext = {
    requestedModel: parsed.model,
    upstreamModel: pick.upstreamModel,
    stream: parsed.stream,
    clientQuery: base.query,
    clientBody: parsed.json,
    op: surface.op,
  };
  const call: Call = {
    ...base,
    account,
    provider,
    format,
    bridge: bridgeFor(surface.format, format),
    bridgeContext,
    ttfbMs: null,
    onClientGone: () => {},
    onInterrupt: () => {},
  };
  base.ex.onAbort(() => call.onClientGone());
  base.ex.onInterrupt(() => call.onInterrupt());
  return call;
}

/** What the provider builds the upstream request from: the body in the account's format, with its model. */
function upstreamCallOf(call: Call, pick: Pick, body: Buffer): UpstreamCall {
  const { parsed } = call;
  const json = call.bridge
    ? call.bridge.request(parsed.json, call.bridgeContext)
    : withModel(parsed.json, parsed.model, pick.upstreamModel);
  let bytes: Buffer | undefined;
  return {
    account: call.account,
    op: call.surface.op,
    format: call.format,
    model: pick.upstreamModel,
    stream: parsed.stream,
    json,
    // Serialized only for a provider that sends the body as it is; the others build their own from `json`.
    get body() {
      return (bytes ??= json === parsed.json ? body : Buffer.from(JSON.stringify(json)));
    },
    query: call.ex.incoming.query,
    clientHeaders: call.ex.incoming.headers,
  };
}

/** Prepares and sends through the account's breaker; after a 401 an OAuth account may refresh and go once more. */
async function send(call: Call, upstreamCall: UpstreamCall): Promise<Sent> {
  const { deps, account, provider } = call;
  for (let tries = 0; ; tries++) {
    const prepared = await prepare(call, upstreamCall);
    if ('kind' in prepared) return prepared;
    // No abort signal: a call, once sent, is never abandoned before it answers; a stream is
    // stopped later by destroying its body.
    call.trace.attempts++;
    call.trace.waitUpstream();
    const sentAt = deps.clock.now();
    const guarded = await deps.breakers.run(account.id, () => deps.upstream.send(prepared), UPSTREAM_SICKNESS);
    call.trace.upstreamAnswered(true);
    // Passive health: what reached the upstream (not a refusal of our own breaker), in memory only.
    if (guarded.kind === 'returned') deps.traffic.add(account.id, guarded.value.statusCode, deps.clock.now() - sentAt);
    else if (guarded.kind === 'threw' && isNetworkFailure(guarded.error)) deps.traffic.add(account.id, null, 0);
    deps.metrics.upstreamAttempt(
      account.platform,
      account.id,
      guarded.kind === 'open'
        ? 'breaker_open'
        : guarded.kind === 'threw'
          ? 'network'
          : upstreamClass(guarded.value.statusCode),
    );
    if (guarded.kind === 'open') {
      const error = new RelayError('upstream_unreachable', {
        status: 503,
        kind: 'unavailable',
        message: 'The upstream account is failing; its circuit breaker is open.',
      });
      return { kind: 'failed', outcome: null, error };
    }
    if (guarded.kind === 'threw') return thrown(guarded.error);
    const res = guarded.value;
    if (
      res.statusCode === 401 &&
      tries === 0 &&
      provider.recoverUnauthorized &&
      (await provider.recoverUnauthorized(account, prepared.authToken))
    ) {
      res.body.resume();
      continue;
    }
    return { kind: 'answered', res };
  }
}

/** The provider's upstream request; a provider that cannot build one (its token endpoint is down) fails the attempt. */
async function prepare(
  call: Call,
  upstreamCall: UpstreamCall,
): Promise<UpstreamRequest | Extract<Sent, { kind: 'failed' }>> {
  try {
    return await call.provider.prepare(upstreamCall);
  } catch (err) {
    // The token manager has already marked the account unauthorized.
    if (err instanceof CredentialsRejected) return { kind: 'failed', outcome: null, error: accountRefused(401) };
    call.deps.log.warn('upstream request could not be prepared', {
      requestId: call.requestId,
      accountId: call.account.id,
      err,
    });
    const error = new RelayError('upstream_unreachable', {
      message: 'The upstream account could not authenticate right now.',
      cause: err,
    });
    return { kind: 'failed', outcome: { kind: 'server_error', status: 502, resetAt: undefined }, error };
  }
}

/** A send that threw: an upstream that cannot be reached or does not answer fails over; anything else is a bug. */
function thrown(error: unknown): Sent {
  if (isNetworkFailure(error))
    return { kind: 'failed', outcome: { kind: error.code === 'upstream_timeout' ? 'timeout' : 'unreachable' }, error };
  if (isAbort(error)) return { kind: 'aborted' };
  throw error;
}

/**
 * An error status: classified by the provider into the account's health, and failed over unless the request itself is
 * wrong.
 */
async function refused(call: Call, res: UpstreamResponse, headers: Record<string, string>): Promise<AttemptResult> {
  call.trace.waitUpstream();
  const error = await upstreamErrorOf(res, headers);
  call.trace.upstreamAnswered(false);
  const status = res.statusCode;
  const errorClass = call.provider.classifyError(status, error.cause);
  switch (errorClass) {
    case 'rate_limited':
    case 'overloaded':
    case 'server_error':
      return fail(
        call,
        {
          kind: errorClass,
          status,
          resetAt: call.provider.resetTime(stringHeaders(res), call.deps.clock.now(), error.cause),
        },
        error,
      );
    case 'unauthorized':
      // The account was refused, not the client: say so (a 401 would read as "your relay key is wrong").
      return fail(call, { kind: 'unauthorized', status, message: error.message }, accountRefused(status));
    case 'client_error':
      // The request itself is wrong: no other account would answer differently.
      return { done: false, retryable: false, error, call };
  }
}

/** A success status: the answer goes back, streamed or whole; a failure before its first byte still fails over. */
async function deliver(call: Call, res: UpstreamResponse, headers: Record<string, string>): Promise<AttemptResult> {
  const streaming = (headers['content-type'] ?? '').startsWith('text/event-stream');
  // Until the first event (a stream) or the whole body (JSON), the relay waits on the upstream.
  call.trace.waitUpstream();
  const delivered = streaming ? await streamBack(call, res, headers) : await bufferBack(call, res, headers);
  if (!delivered.sent) return failedEarly(call, delivered.failure);
  const outcome: AttemptOutcome =
    delivered.outcome === 'timeout' ? { kind: 'timeout' } : { kind: 'ok', ttfbMs: call.ttfbMs ?? 0 };
  await reportOutcome(call.deps, call.account, call.parsed.model, outcome);
  return { done: true };
}

/** An answer that failed before reaching the client, named for what it was. */
function failedEarly(call: Call, failure: EarlyFailure): Promise<AttemptResult> | AttemptResult {
  switch (failure.kind) {
    case 'error_event': {
      // An error event before anything else: classified like the status it stands for.
      const kind = call.provider.classifyStreamError(failure.type);
      const [status, errorKind] =
        kind === 'rate_limited'
          ? [429, 'rate_limit' as const]
          : kind === 'overloaded'
            ? [529, 'overloaded' as const]
            : [502, 'api' as const];
      const error = new RelayError('upstream_error', {
        status,
        kind: errorKind,
        message: `Upstream: ${redactCredentials(failure.message || failure.type)}`,
      });
      return fail(call, { kind, status, resetAt: undefined }, error);
    }
    case 'ended':
      return fail(
        call,
        { kind: 'server_error', status: 502, resetAt: undefined },
        new RelayError('upstream_unreachable', { message: failure.message }),
      );
    case 'timeout':
      return fail(
        call,
        { kind: 'timeout' },
        new RelayError('upstream_timeout', {
          message: 'The upstream answered, then sent nothing more within UPSTREAM_TIMEOUT.',
        }),
      );
    case 'shutdown':
      return { done: false, retryable: false, error: new RelayError('shutting_down'), call };
  }
}

/** Records the failure in the account's health (when it says something of the account) and lets the next one try. */
async function fail(call: Call, outcome: AttemptOutcome | null, error: RelayError): Promise<AttemptResult> {
  if (outcome) await reportOutcome(call.deps, call.account, call.parsed.model, outcome);
  return { done: false, retryable: true, error, call };
}

/** Upstream response headers the client may see, with the request id. */
function responseHeaders(call: Call, res: UpstreamResponse): Record<string, string> {
  const headers: Record<string, string> = { 'x-request-id': call.requestId };
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined && call.provider.forwardResponseHeader(name))
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

const stringHeaders = (res: UpstreamResponse): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') out[k] = v;
  return out;
};

/** The body to send: the client's as it is, unless the account maps the model to another name. */
function withModel(json: Record<string, unknown>, requested: string, upstreamModel: string): Record<string, unknown> {
  if (upstreamModel === requested || json.model === undefined) return json;
  return { ...json, model: upstreamModel };
}
