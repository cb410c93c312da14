import type { UpstreamErrorClass } from '../providers/types.js';

/**
 * What one probe means for its account, and what follows from a run of them. Pure: the prober
 * applies it (health, events, history).
 *  - ok: the account answers; counts towards bringing an automatically disabled one back;
 *  - unauthorized (401/403): out until an admin acts, at once;
 *  - rate_limited (429): the account is fine but busy: a cooldown, neither a failure nor a success;
 *  - transient (5xx, 529, timeouts, unreachable): a failure; enough in a row take the account out;
 *  - error (any other 4xx): the probe itself was refused (a model the endpoint does not know…):
 *    says nothing of the account's health, and breaks a run of successes.
 */
export type ProbeOutcome = 'ok' | 'unauthorized' | 'rate_limited' | 'transient' | 'error';

/** How a probe ended before it is judged: an answer's status, or no answer. */
export type ProbeEnd =
  | { kind: 'answered'; status: number; errorClass?: UpstreamErrorClass }
  | { kind: 'timeout' | 'unreachable' | 'no_credentials' | 'auth_unavailable' }
  /** The account has no provider or format to generate with: nothing was sent. */
  | { kind: 'unsupported' };

export function outcomeOf(end: ProbeEnd): ProbeOutcome {
  if (end.kind === 'timeout' || end.kind === 'unreachable' || end.kind === 'auth_unavailable') return 'transient';
  if (end.kind === 'no_credentials') return 'unauthorized';
  if (end.kind !== 'answered') return 'error';
  if (end.status < 400) return 'ok';
  switch (end.errorClass) {
    case 'rate_limited':
      return 'rate_limited';
    case 'overloaded':
    case 'server_error':
      return 'transient';
    case 'unauthorized':
      return 'unauthorized';
    default:
      return 'error';
  }
}

/** What a probe says in the history and in reasons: status and class, never upstream text. */
export function detailOf(end: ProbeEnd, timeoutMs: number): string {
  switch (end.kind) {
    case 'timeout':
      return `timeout (no answer within ${Math.round(timeoutMs / 1000)} s)`;
    case 'unreachable':
      return 'unreachable (connection failed)';
    case 'no_credentials':
      return 'credentials rejected (OAuth refresh refused)';
    case 'auth_unavailable':
      return 'could not authenticate (token endpoint failing)';
    case 'unsupported':
      return 'not probed: the account cannot generate';
    case 'answered':
      return end.status < 400 ? `HTTP ${end.status}` : `HTTP ${end.status} (${end.errorClass ?? 'error'})`;
  }
}

/** Probes in a row of each kind, as stored per account. */
export interface Streak {
  failures: number;
  successes: number;
}

/** The streak after one more probe: a 429 leaves it as it was. */
export function nextStreak(s: Streak, outcome: ProbeOutcome): Streak {
  switch (outcome) {
    case 'ok':
      return { failures: 0, successes: s.successes + 1 };
    case 'transient':
      return { failures: s.failures + 1, successes: 0 };
    case 'rate_limited':
      return s;
    case 'unauthorized':
    case 'error':
      return { failures: s.failures, successes: 0 };
  }
}

/**
 * What the streak asks for: take the account out after `failuresToDisable` failures in a row,
 * bring it back after `successesToEnable` successes in a row. The prober only brings back what
 * was taken out automatically, and knows whether it was (the health mark says), so "enable" on an
 * account that was never out does nothing.
 */
export function verdict(
  s: Streak,
  outcome: ProbeOutcome,
  cfg: { failuresToDisable: number; successesToEnable: number },
): 'disable' | 'enable' | null {
  if (outcome === 'transient' && s.failures >= cfg.failuresToDisable) return 'disable';
  if (outcome === 'ok' && s.successes >= cfg.successesToEnable) return 'enable';
  return null;
}

export const probeDisableReason = (failures: number, detail: string): string =>
  `${failures} failed probes in a row (${detail})`;

/** Passive health: enough real requests in the window, failing often enough. */
export function passiveVerdict(
  t: { requests: number; errors: number },
  cfg: { passiveMinRequests: number; passiveErrorPercent: number },
): boolean {
  return t.requests >= cfg.passiveMinRequests && t.errors * 100 >= cfg.passiveErrorPercent * t.requests;
}

export const passiveDisableReason = (t: { requests: number; errors: number }, windowMs: number): string =>
  `${t.errors} of ${t.requests} requests failed in ${Math.round(windowMs / 60_000)} min (${Math.round(
    (t.errors * 100) / Math.max(1, t.requests),
  )}% errors)`;
