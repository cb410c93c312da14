import { RelayError } from '../errors/catalogue.js';
import { renderError, type ApiShape } from '../errors/render.js';
import type { AccountId } from '../ids.js';
import type { Account, Platform } from '../accounts/service.js';
import type { AuthFailure } from '../keys/service.js';
import { canBridge } from '../translate/index.js';
import { detectClient } from '../limits/clients.js';
import type { Lease } from '../leases/index.js';
import type { PickResult } from '../scheduler/index.js';
import { sessionOf } from '../scheduler/session.js';
import { attempt, type AttemptResult, type CallBase } from './attempt.js';
import type { Exchange } from './exchange.js';
import { book } from './respond.js';
import type { RelayDeps, Surface } from './types.js';

const AUTH_ERRORS: Record<AuthFailure, RelayError['code']> = {
  missing: 'missing_api_key',
  malformed: 'invalid_api_key',
  unknown: 'invalid_api_key',
  disabled: 'disabled_api_key',
  expired: 'expired_api_key',
};

export const authFailureError = (reason: AuthFailure): RelayError => new RelayError(AUTH_ERRORS[reason]);

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
  let keyLease: Lease | null = null;
  try {
    const query = new URLSearchParams(ex.incoming.query);
    const auth = await deps.keys.authenticate(surface.credential(ex.incoming.headers, query));
    if (!auth.ok) {
      ex.dropBody();
      throw authFailureError(auth.reason);
    }
    const key = auth.key;
    const bytes = await ex.body();
    const parsed = surface.parse(bytes, { path: ex.incoming.path, params: ex.incoming.params, query });
    const platforms = deps.limits.authorize(key, { platforms: surface.platforms, model: parsed.model, client: detectClient(ex.incoming.headers, parsed.json) });
    keyLease = await deps.limits.admit(key, { model: parsed.model, requestId, gone: () => ex.aborted });
    await withFailover({ ex, deps, surface, requestId, startedAt, key, parsed, query }, bytes, platforms);
  } catch (err) {
    respondError(ex, surface.shape, err, requestId, deps);
  } finally {
    await keyLease?.release();
  }
}

/** Tries accounts until one answers, up to `maxAttempts`, only while nothing reached the client. */
async function withFailover(base: CallBase, body: Buffer, platforms: readonly Platform[]): Promise<void> {
  const { deps, ex, parsed, surface } = base;
  // An account serves the surface if it speaks its format for the operation, or one we can bridge to.
  const serves = (account: Account) => {
    const format = deps.providers.forAccount(account)?.formatFor(account, surface.op, surface.format);
    return format !== undefined && canBridge(surface.format, format);
  };
  const session = sessionOf(ex.incoming.headers, parsed.json);
  const tried = new Set<AccountId>();
  let failure: Extract<AttemptResult, { done: false }> | undefined;
  for (let n = 0; n < deps.policy.maxAttempts && !ex.aborted; n++) {
    const picked = await deps.scheduler.pick({ platforms, serves, model: parsed.model, key: base.key, session, exclude: tried, requestId: base.requestId });
    if (!picked.ok) {
      if (failure) break;
      throw noAccountError(picked, parsed.model, deps.clock.now());
    }
    tried.add(picked.pick.account.id);
    let result: AttemptResult;
    try {
      result = await attempt(base, picked.pick, body);
    } finally {
      await picked.pick.lease.release();
    }
    if (result.done) return;
    failure = result;
    if (!result.retryable) break;
    deps.log.info('failing over', { requestId: base.requestId, accountId: result.call.account.id, status: result.error.status, attempt: n + 1 });
  }
  if (!failure) return;
  // The last upstream answer goes back to the client, booked as an error (it cost nothing).
  if (base.surface.booked) await book(failure.call, failure.error.status, 'error', undefined);
  throw failure.error;
}

function noAccountError(picked: Extract<PickResult, { ok: false }>, model: string, now: number): RelayError {
  if (picked.reason === 'all_cooling' && picked.retryAt !== null) {
    return new RelayError('accounts_rate_limited', {
      message: `Every upstream account for ${model} is rate limited or cooling down; the first is back at ${new Date(picked.retryAt).toISOString()}.`,
      headers: { 'retry-after': String(Math.max(1, Math.ceil((picked.retryAt - now) / 1000))) },
    });
  }
  return new RelayError('no_account_available', { message: `No upstream account is available for model ${model}.` });
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
