import { CredentialsRejected } from '../accounts/oauth/tokens.js';
import { RelayError } from '../errors/catalogue.js';
import type { UpstreamCall } from '../providers/types.js';
import type { UpstreamRequest } from '../upstream/types.js';
import { BreakerFailure } from '../scheduler/breakers.js';
import type { Pick } from '../scheduler/index.js';
import { bridgeFor, type BridgeContext } from '../translate/index.js';
import { isAbort } from '../upstream/client.js';
import type { UpstreamResponse } from '../upstream/types.js';
import { reportOutcome, type AttemptOutcome } from './outcomes.js';
import { bufferBack, responseHeaders, StreamFailedBeforeFirstByte, streamBack, upstreamErrorOf, type Call } from './respond.js';

/** How an attempt on one account ended. */
export type AttemptResult =
  /** Answered and booked: the request is over. */
  | { done: true }
  /**
   * Failed before any byte reached the client. `retryable`: the next account may try (429, 529,
   * 5xx, 401/403, network); otherwise the request itself is wrong (400…) and the error goes back.
   */
  | { done: false; retryable: boolean; error: RelayError; call: Call };

/** The request-wide part of a call; the attempt adds the account. */
export type CallBase = Omit<Call, 'account' | 'provider' | 'format' | 'bridge' | 'bridgeContext' | 'ttfbMs' | 'onClientGone'>;

const statusHeaders = (res: UpstreamResponse): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') out[k] = v;
  return out;
};

/**
 * An upstream account's credentials were refused: a 502 for the client, whose own key is fine. The
 * upstream's words (which may quote part of the account's key) go to the account's health for the
 * admin, not to the client.
 */
const accountRefused = (status: number) =>
  new RelayError('upstream_error', { status: 502, kind: 'api', message: `The upstream account was refused (HTTP ${status}); the relay's admin can see why in the account's health.` });

const isNetworkFailure = (e: unknown): e is RelayError => e instanceof RelayError && (e.code === 'upstream_unreachable' || e.code === 'upstream_timeout');

/** 5xx and 529 count against the account's breaker; 429 and 4xx do not (they are not sickness). */
const breakerCounts = (status: number) => status >= 500;

/**
 * One attempt of the request on the picked account: translate the body if the account speaks
 * another format, let the provider build the upstream request (auth, URL), send it through the
 * account's breaker, then either pass the answer back, or classify the failure (health, cooldown,
 * breaker) and let the caller fail over. Failover is possible only before the first byte reaches
 * the client. An OAuth account answering 401 refreshes its token and is tried once more.
 */
export async function attempt(base: CallBase, pick: Pick, body: Buffer): Promise<AttemptResult> {
  const { ex, deps, surface, parsed } = base;
  const account = pick.account;
  const provider = deps.providers.forAccount(account);
  const format = provider?.formatFor(account, surface.op, surface.format);
  if (!provider || !format) throw new RelayError('no_account_available', { message: `Account ${account.id} cannot serve ${surface.name}.` });
  const bridge = bridgeFor(surface.format, format);
  const bridgeContext: BridgeContext = {
    requestedModel: parsed.model,
    upstreamModel: pick.upstreamModel,
    stream: parsed.stream,
    clientQuery: base.query,
    clientBody: parsed.json,
    op: surface.op,
  };
  const call: Call = { ...base, account, provider, format, bridge, bridgeContext, ttfbMs: null, onClientGone: () => {} };
  ex.onAbort(() => call.onClientGone());

  const upstreamJson = bridge ? bridge.request(parsed.json, bridgeContext) : withModel(parsed.json, parsed.model, pick.upstreamModel);
  let upstreamBytes: Buffer | undefined;
  const upstreamCall: UpstreamCall = {
    account,
    op: surface.op,
    format,
    model: pick.upstreamModel,
    stream: parsed.stream,
    json: upstreamJson,
    // Serialized only for a provider that sends the body as it is; the others build their own from `json`.
    get body() {
      return (upstreamBytes ??= upstreamJson === parsed.json ? body : Buffer.from(JSON.stringify(upstreamJson)));
    },
    query: ex.incoming.query,
    clientHeaders: ex.incoming.headers,
  };

  const fail = async (outcome: AttemptOutcome, error: RelayError): Promise<AttemptResult> => {
    await reportOutcome(deps, account, parsed.model, outcome);
    return { done: false, retryable: true, error, call };
  };

  let res: UpstreamResponse | undefined;
  let request: UpstreamRequest | undefined;
  for (let tries = 0; tries < 2 && !res; tries++) {
    request = undefined;
    try {
      request = await provider.prepare(upstreamCall);
      const sent = request;
      res = await deps.breakers.run(account.id, async () => {
        let r: UpstreamResponse;
        try {
          // No abort signal: a call, once sent, is never abandoned before it answers; a stream is
          // stopped later by destroying its body.
          r = await deps.upstream.send(sent);
        } catch (e) {
          // An upstream that cannot be reached or does not answer is a sick account too.
          if (isNetworkFailure(e)) throw new BreakerFailure(undefined, e);
          throw e;
        }
        if (breakerCounts(r.statusCode)) throw new BreakerFailure(r);
        return r;
      });
    } catch (caught) {
      const err = caught instanceof BreakerFailure && !caught.result ? caught.cause : caught;
      if (err instanceof BreakerFailure && err.result) {
        res = err.result as UpstreamResponse;
      } else if (isNetworkFailure(err)) {
        return fail({ kind: err.code === 'upstream_timeout' ? 'timeout' : 'unreachable' }, err);
      } else if ((err as { code?: string }).code === 'EOPENBREAKER') {
        const error = new RelayError('upstream_unreachable', { status: 503, kind: 'unavailable', message: 'The upstream account is failing; its circuit breaker is open.' });
        return { done: false, retryable: true, error, call };
      } else if (isAbort(err)) {
        return { done: true };
      } else if (err instanceof CredentialsRejected) {
        // The token manager has already marked the account unauthorized.
        const error = accountRefused(401);
        return { done: false, retryable: true, error, call };
      } else if (!request) {
        // Preparing failed (a token endpoint or metadata service is down): a short cooldown, next account.
        deps.log.warn('upstream request could not be prepared', { requestId: base.requestId, accountId: account.id, err });
        return fail({ kind: 'server_error', status: 502, resetAt: undefined }, new RelayError('upstream_unreachable', { message: 'The upstream account could not authenticate right now.', cause: err }));
      } else {
        throw err;
      }
    }
    // An OAuth token may have been refreshed (or revoked) since: recover once on the same account.
    if (res.statusCode === 401 && tries === 0 && provider.recoverUnauthorized && (await provider.recoverUnauthorized(account, request?.authToken))) {
      res.body.resume();
      res = undefined;
    }
  }
  if (!res) throw new RelayError('internal_error', { message: 'no upstream response' });
  if (provider.decode) res = provider.decode(res, upstreamCall);
  call.ttfbMs = deps.clock.now() - base.startedAt;
  const headers = responseHeaders(call, res);

  if (res.statusCode >= 400) {
    const error = await upstreamErrorOf(res, headers);
    const errorClass = provider.classifyError(res.statusCode, error.cause);
    switch (errorClass) {
      case 'rate_limited':
      case 'overloaded':
      case 'server_error':
        return fail({ kind: errorClass, status: res.statusCode, resetAt: provider.resetTime(statusHeaders(res), deps.clock.now(), error.cause) }, error);
      case 'unauthorized':
        // The account was refused, not the client: say so (a 401 would read as "your relay key is wrong").
        return fail({ kind: 'unauthorized', status: res.statusCode, message: error.message }, accountRefused(res.statusCode));
      case 'client_error':
        // The request itself is wrong: no other account would answer differently.
        return { done: false, retryable: false, error, call };
    }
  }

  const contentType = headers['content-type'] ?? '';
  if (contentType.startsWith('text/event-stream')) {
    try {
      await streamBack(call, res, headers);
    } catch (err) {
      if (!(err instanceof StreamFailedBeforeFirstByte)) throw err;
      // An error event before anything else: classified by its type, like the status it stands for.
      const type = err.streamError?.type ?? '';
      const kind = /rate_limit|throttl|quota/i.test(type) ? 'rate_limited' : /overload/i.test(type) ? 'overloaded' : 'server_error';
      const status = kind === 'rate_limited' ? 429 : kind === 'overloaded' ? 529 : 502;
      const error = new RelayError('upstream_error', {
        status,
        kind: kind === 'rate_limited' ? 'rate_limit' : kind === 'overloaded' ? 'overloaded' : 'api',
        message: err.streamError ? `Upstream: ${err.streamError.message || err.streamError.type}` : 'The upstream stream ended before its first event.',
      });
      return fail({ kind, status, resetAt: undefined }, error);
    }
  } else {
    await bufferBack(call, res, headers);
  }
  await reportOutcome(deps, account, parsed.model, { kind: 'ok', ttfbMs: call.ttfbMs });
  return { done: true };
}

/** The body to send: the client's as it is, unless the account maps the model to another name. */
function withModel(json: Record<string, unknown>, requested: string, upstreamModel: string): Record<string, unknown> {
  if (upstreamModel === requested || json.model === undefined) return json;
  return { ...json, model: upstreamModel };
}
