import type { Platform } from '../accounts/service.js';
import { RelayError } from '../errors/catalogue.js';
import type { PickResult, Unusable } from '../scheduler/index.js';

/** What a key holder reads for each reason an account could not serve: never which account, never its secret. */
const WHY: Record<Unusable, string> = {
  unauthorized: 'refused by the upstream (its credentials need an admin)',
  rate_limited: 'rate limited',
  overloaded: 'overloaded',
  server_error: 'failing',
  unreachable: 'unreachable',
  timeout: 'timing out',
  breaker_open: 'failing (circuit breaker open)',
  auto_disabled: 'taken out automatically after failing health checks',
  inactive: 'disabled',
  unschedulable: 'paused by an admin',
  subscription_expired: 'past its subscription',
  model_not_served: 'not serving this model',
  at_capacity: 'at its concurrency cap',
  already_tried: 'already tried for this request',
};

/**
 * The error for a request no account could take, saying why in words a key holder can act on
 * (wait, or ask the admin), e.g. "none of the 2 claude accounts for claude-sonnet-4-5 can take
 * it now: 1 refused by the upstream (its credentials need an admin), 1 rate limited".
 */
export function noAccountError(
  picked: Extract<PickResult, { ok: false }>,
  req: { platforms: readonly Platform[]; model: string; now: number },
): RelayError {
  const platforms = req.platforms.join(' or ');
  if (picked.candidates === 0) {
    return new RelayError('no_account_available', {
      message: `No ${platforms} account is set up for this key and model ${req.model}; the relay's admin must add or bind one.`,
    });
  }
  const reasons = (Object.entries(picked.unusable) as [Unusable, number][])
    .sort((a, b) => b[1] - a[1])
    .map(([why, n]) => `${n} ${WHY[why]}`)
    .join(', ');
  const accounts =
    picked.candidates === 1 ? `the 1 ${platforms} account` : `the ${picked.candidates} ${platforms} accounts`;
  const summary = `None of ${accounts} for ${req.model} can take this request now: ${reasons}.`;
  if (picked.reason === 'all_cooling' && picked.retryAt !== null) {
    return new RelayError('accounts_rate_limited', {
      message: `${summary} The first is back at ${new Date(picked.retryAt).toISOString()}.`,
      headers: { 'retry-after': String(Math.max(1, Math.ceil((picked.retryAt - req.now) / 1000))) },
    });
  }
  return new RelayError('no_account_available', { message: summary });
}
