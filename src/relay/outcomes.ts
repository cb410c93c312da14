import type { CooldownReason } from '../accounts/health.js';
import type { Account } from '../accounts/service.js';
import { modelFamily } from '../util/models.js';
import type { RelayDeps } from './types.js';

/** How one upstream attempt went, as far as the account's health is concerned. */
export type AttemptOutcome =
  | { kind: 'ok'; ttfbMs: number }
  | { kind: 'rate_limited' | 'overloaded' | 'server_error'; status: number; resetAt: number | undefined }
  | { kind: 'unreachable' | 'timeout' }
  | { kind: 'unauthorized'; status: number; message: string };

/**
 * Records an attempt's outcome in the shared health state.
 *  - 429: cooldown of the model family until the upstream's reset, else a short default;
 *  - 529: cooldown of the model family (overloaded is per model), short;
 *  - 5xx, timeouts, unreachable: short cooldown of the whole account (and the breaker counts it);
 *  - 401/403: out of rotation until an admin resets it, and an event for the alert engine.
 * A cooldown is as long as the upstream says, capped at maxCooldownMs; never an hours-long guess.
 */
export async function reportOutcome(
  deps: RelayDeps,
  account: Account,
  model: string,
  outcome: AttemptOutcome,
): Promise<void> {
  const now = deps.clock.now();
  const p = deps.policy;
  const cool = async (
    reason: CooldownReason,
    scope: string,
    status: number,
    resetAt: number | undefined,
    fallbackMs: number,
  ) => {
    const until = Math.min(resetAt && resetAt > now ? resetAt : now + fallbackMs, now + p.maxCooldownMs);
    await deps.health.coolDown(account.id, { scope, until, reason, status });
    deps.metrics.transition(account.platform, 'cooling', reason);
    deps.log.warn('account out of rotation', {
      accountId: account.id,
      accountName: account.name,
      reason,
      scope,
      status,
      until: new Date(until).toISOString(),
    });
    return until;
  };
  switch (outcome.kind) {
    case 'ok':
      deps.scheduler.load.measured(account.id, outcome.ttfbMs);
      await deps.health.recovered(account.id);
      return;
    case 'rate_limited': {
      const family = modelFamily(model);
      const until = await cool('rate_limited', family, outcome.status, outcome.resetAt, p.rateLimitCooldownMs);
      deps.events.emit('account.rate_limited', {
        accountId: account.id,
        accountName: account.name,
        scope: family,
        until,
        fromHeader: outcome.resetAt !== undefined,
      });
      return;
    }
    case 'overloaded': {
      const family = modelFamily(model);
      const until = await cool('overloaded', family, outcome.status, outcome.resetAt, p.overloadedCooldownMs);
      deps.events.emit('account.overloaded', {
        accountId: account.id,
        accountName: account.name,
        scope: family,
        until,
      });
      return;
    }
    case 'server_error':
      await cool('server_error', '*', outcome.status, outcome.resetAt, p.serverErrorCooldownMs);
      return;
    case 'unreachable':
    case 'timeout':
      await cool(outcome.kind, '*', 0, undefined, p.serverErrorCooldownMs);
      return;
    case 'unauthorized':
      await deps.health.markUnauthorized(account.id, outcome.status, outcome.message);
      deps.metrics.transition(account.platform, 'unauthorized', `http_${outcome.status}`);
      deps.log.warn('account out of rotation', {
        accountId: account.id,
        accountName: account.name,
        reason: 'unauthorized',
        status: outcome.status,
        until: 'an admin resets it or rotates its credentials',
      });
      deps.events.emit('account.unauthorized', {
        accountId: account.id,
        accountName: account.name,
        status: outcome.status,
        message: outcome.message.slice(0, 300),
      });
      return;
  }
}
