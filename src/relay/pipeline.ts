import type { Account, Platform } from '../accounts/service.js';
import { RelayError } from '../errors/catalogue.js';
import { renderError, type ApiShape } from '../errors/render.js';
import type { AccountId } from '../ids.js';
import type { AuthFailure } from '../keys/service.js';
import type { Lease } from '../leases/index.js';
import { detectClient } from '../limits/clients.js';
import { wantsEstimate } from '../limits/index.js';
import { estimatePromptTokens } from '../tokens/index.js';
import { sessionOf } from '../scheduler/session.js';
import { isConnectionFailure } from '../store/index.js';
import { canBridge } from '../translate/index.js';
import type { UsageEvent } from '../usage/recorder.js';
import { attempt, type AttemptResult } from './attempt.js';
import { book } from './book.js';
import type { CallBase } from './call.js';
import type { Exchange } from './exchange.js';
import { answerLocalCount } from './local-count.js';
import { noAccountError } from './no-account.js';
import { LIMIT_REFUSALS, causeOf, observeEnd } from './observe.js';
import { Trace } from './trace.js';
import type { RelayDeps, Surface } from './types.js';

const AUTH_ERRORS: Record<AuthFailure, RelayError['code']> = {
  missing: 'missing_api_key',
  malformed: 'invalid_api_key',
  unknown: 'invalid_api_key',
  disabled: 'disabled_api_key',
  expired: 'expired_api_key',
};

export const authFailureError = (reason: AuthFailure): RelayError => new RelayError(AUTH_ERRORS[reason]);

const keyFailuresError = (retryAfterSeconds: number): RelayError =>
  new RelayError('too_many_key_failures', { headers: { 'retry-after': String(retryAfterSeconds) } });

/** A guess, not a real key's holder: a disabled or expired key is a configuration matter. */
const GUESSES: ReadonlySet<AuthFailure> = new Set(['malformed', 'unknown']);

/**
 * The relay pipeline, the same for every surface and platform:
 * authenticate → parse → authorize and admit (key limits) → pick an account → send → pass the
 * answer back → book usage; with failover to the next account on a failure before the first byte.
 * The key is checked from the headers before the body is used: a refused request's body is
 * dropped as it arrives, and its connection closes after the answer.
 */
export async function relay(ex: Exchange, surface: Surface, deps: RelayDeps): Promise<void> {
  const requestId = deps.nextRequestId();
  const startedAt = deps.clock.now();
  const trace = new Trace();
  deps.inProgress.add(trace);
  let keyLease: Lease | null = null;
  let failure: unknown;
  const reservation = { tokens: 0 };
  let releaseReserved: (() => Promise<void>) | undefined;
  try {
    const query = new URLSearchParams(ex.incoming.query);
    const address = ex.clientAddress();
    const blockedFor = deps.keyGuard.blockedFor(address);
    if (blockedFor > 0) {
      // Still an attempt from an address that is guessing: the security rules count it.
      deps.security.badKey(address);
      ex.dropBody();
      throw keyFailuresError(blockedFor);
    }
    const auth = await deps.keys.authenticate(surface.credential(ex.incoming.headers, query));
    if (!auth.ok) {
      if (auth.reason !== 'missing') deps.security.badKey(address);
      ex.dropBody();
      const nowBlockedFor = GUESSES.has(auth.reason) ? await deps.keyGuard.refused(address) : 0;
      throw nowBlockedFor > 0 ? keyFailuresError(nowBlockedFor) : authFailureError(auth.reason);
    }
    const key = auth.key;
    trace.keyId = key.id;
    deps.security.keyUsed(key.id, address);
    const bytes = await ex.body();
    const parsed = surface.parse(bytes, { path: ex.incoming.path, params: ex.incoming.params, query });
    trace.model = parsed.model;
    trace.stream = parsed.stream;
    const platforms = deps.limits.authorize(key, {
      platforms: surface.platforms,
      model: parsed.model,
      client: detectClient(ex.incoming.headers, parsed.json),
    });
    const admitting = trace.elapsedMs();
    // Only a key with a token window has its prompt counted, and only for what is booked.
    const estimate =
      surface.booked && wantsEstimate(key)
        ? await estimatePromptTokens(deps.work, { format: surface.format, model: parsed.model, json: parsed.json })
        : 0;
    keyLease = await deps.limits.admit(key, { model: parsed.model, requestId, gone: () => ex.aborted, estimate });
    reservation.tokens = estimate;
    releaseReserved = () => deps.limits.releaseReserved(key, reservation.tokens);
    deps.metrics.admitted((trace.elapsedMs() - admitting) / 1000);
    const base = { ex, deps, surface, requestId, startedAt, key, parsed, query, trace, reservation };
    await withFailover(base, bytes, platforms);
  } catch (err) {
    failure = err;
    if (err instanceof RelayError && LIMIT_REFUSALS.has(err.code)) deps.metrics.limitRefused(err.code);
    respondError(ex, surface.shape, err, requestId, deps, trace);
  } finally {
    // A request that ended without a booking still holds its reservation: release it.
    if (reservation.tokens > 0) {
      await releaseReserved?.().catch((err: unknown) =>
        deps.log.warn('token reservation not released; it ends with the window', { requestId, err }),
      );
    }
    await keyLease?.release();
    deps.inProgress.delete(trace);
    observeEnd(ex, surface, deps, trace, requestId, startedAt, failure);
  }
}

/** Tries accounts until one answers, up to `maxAttempts`, only while nothing reached the client. */
async function withFailover(base: CallBase, body: Buffer, platforms: readonly Platform[]): Promise<void> {
  const { deps, ex, parsed, surface, trace } = base;
  // An account serves the surface if it speaks its format for the operation, or one we can bridge to.
  const serves = (account: Account) => {
    const format = deps.providers.forAccount(account)?.formatFor(account, surface.op, surface.format);
    return format !== undefined && canBridge(surface.format, format);
  };
  const session = sessionOf(ex.incoming.headers, parsed.json);
  const tried = new Set<AccountId>();
  let failure: Extract<AttemptResult, { done: false }> | undefined;
  for (let n = 0; n < deps.policy.maxAttempts && !ex.aborted; n++) {
    const picking = trace.elapsedMs();
    const picked = await deps.scheduler.pick({
      platforms,
      serves,
      model: parsed.model,
      key: base.key,
      session,
      exclude: tried,
      requestId: base.requestId,
    });
    if (!picked.ok) {
      if (failure) break;
      if (base.surface.op === 'count_tokens' && picked.candidates === 0) {
        await answerLocalCount(ex, surface, parsed, deps, base.requestId);
        return;
      }
      throw noAccountError(picked, { platforms, model: parsed.model, now: deps.clock.now() });
    }
    deps.metrics.picked((trace.elapsedMs() - picking) / 1000);
    const account = picked.pick.account;
    tried.add(account.id);
    trace.accountId = account.id;
    trace.platform = account.platform;
    if (picked.pick.session) deps.metrics.sticky(account.platform, picked.pick.session);
    let result: AttemptResult;
    try {
      result = await attempt(base, picked.pick, body);
    } finally {
      await picked.pick.lease.release();
    }
    if (result.done) return;
    failure = result;
    if (!result.retryable) break;
    deps.metrics.failover(account.platform, causeOf(result.error));
    deps.log.info('failing over', {
      requestId: base.requestId,
      accountId: result.call.account.id,
      status: result.error.status,
      code: result.error.code,
      attempt: n + 1,
    });
  }
  if (!failure) return;
  // The last upstream answer goes back to the client, booked for what it was (it cost nothing).
  if (base.surface.booked) await book(failure.call, failure.error.status, failedOutcome(failure.error), undefined);
  throw failure.error;
}

const failedOutcome = (error: RelayError): UsageEvent['outcome'] =>
  error.code === 'upstream_timeout' ? 'timeout' : error.code === 'shutting_down' ? 'shutdown' : 'error';

/** How long a client should wait before retrying while the relay's Redis is unreachable. */
const STORE_RETRY_AFTER_SECONDS = '5';

/**
 * The error as the client sees it: a catalogue error as it is; Redis out of reach as a 503 with
 * `retry-after` (the request changed nothing); anything else as an internal error (logged).
 */
export function asClientError(err: unknown, requestId: string, deps: Pick<RelayDeps, 'log'>): unknown {
  if (err instanceof RelayError) return err;
  if (isConnectionFailure(err)) {
    deps.log.warn('request refused: redis unreachable', { requestId, err });
    return new RelayError('store_unavailable', { headers: { 'retry-after': STORE_RETRY_AFTER_SECONDS } });
  }
  deps.log.error('request failed', { requestId, err });
  return err;
}

export function respondError(
  ex: Exchange,
  shape: ApiShape,
  err: unknown,
  requestId: string,
  deps: Pick<RelayDeps, 'log'>,
  trace?: Trace,
): void {
  if (ex.aborted) return;
  const error = asClientError(err, requestId, deps);
  if (ex.started) {
    ex.destroy();
    return;
  }
  const r = renderError(shape, error, requestId);
  const timing = trace ? { 'server-timing': trace.answering() } : undefined;
  ex.send(r.status, { ...r.headers, 'x-request-id': requestId, ...timing }, r.body);
}
