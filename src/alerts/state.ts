import type { Op, Rule } from './rules.js';
import { severityRank, type Severity } from './types.js';

/** What a signal measured for one subject of a rule. */
export interface Observation {
  /** The subject's part of the fingerprint (`claude:acc_1`, `relay-2`, `10.0.0.7`). */
  key: string;
  labels: Readonly<Record<string, string>>;
  /** For people: `claude account "team-a"`. */
  subject: string;
  value: number;
  /** How many requests/events the value stands on (compared with the rule's `min`). */
  volume?: number;
  /** Secret-free detail: `HTTP 401`, `cooling until 10:40 UTC`. */
  detail?: string;
}

/** One alert: a rule and a subject (the fingerprint), stored in Redis by the engine. */
export interface AlertState {
  fingerprint: string;
  rule: string;
  labels: Readonly<Record<string, string>>;
  subject: string;
  status: 'pending' | 'firing' | 'resolved';
  pendingSince: number;
  firingSince: number | null;
  resolvedAt: number | null;
  value: number | null;
  detail?: string;
  /** The current firing was announced (so its resolve will be). */
  notified: boolean;
  /** Last firing or reminder notice. */
  lastNotifiedAt: number | null;
  /** Last firing notice, kept after resolving: the cooldown counts from it. */
  lastFiringNoticeAt: number | null;
}

export type NoticeKind = 'firing' | 'resolved' | 'reminder';

/** A still-firing alert is announced again after this long: 4 h for P0/P1, a day otherwise. */
export function renotifyAfterMs(severity: Severity): number {
  return severityRank(severity) <= 1 ? 4 * 3_600_000 : 24 * 3_600_000;
}

/** A resolved alert is kept this long at least (its history, and its cooldown). */
export const RESOLVED_KEPT_MS = 3_600_000;

export function compare(value: number, op: Op, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
  }
}

export function breaches(rule: Rule, obs: Observation | undefined): obs is Observation {
  if (!obs || !compare(obs.value, rule.op, rule.threshold)) return false;
  return rule.min === 0 || (obs.volume ?? Number.POSITIVE_INFINITY) >= rule.min;
}

/**
 * One evaluation of one fingerprint: the next state (null = forget it) and the notice it calls
 * for. Pure: the engine passes the clock and whether a silence covers the alert.
 *
 * - pending while the condition has held for less than `for`, firing after; a pending alert
 *   whose condition stops is dropped without a word;
 * - a firing notice is skipped (and then its resolve too) when silenced, or within `cooldown`
 *   of the subject's last firing notice; an alert that was not announced is announced when its
 *   silence ends, if it still fires;
 * - a firing alert is announced again after `renotifyAfterMs(severity)`.
 */
export function step(
  rule: Rule,
  prev: AlertState | undefined,
  obs: Observation | undefined,
  now: number,
  silenced: boolean,
  fingerprint: string,
): { next: AlertState | null; notice?: NoticeKind } {
  if (!breaches(rule, obs)) {
    if (!prev) return { next: null };
    if (prev.status === 'firing') {
      const next: AlertState = { ...prev, status: 'resolved', resolvedAt: now, notified: false };
      return prev.notified ? { next, notice: 'resolved' } : { next };
    }
    if (prev.status === 'pending') {
      return prev.lastFiringNoticeAt === null
        ? { next: null }
        : { next: { ...prev, status: 'resolved', resolvedAt: prev.resolvedAt ?? now } };
    }
    const keptUntil = (prev.resolvedAt ?? now) + Math.max(RESOLVED_KEPT_MS, rule.cooldownMs);
    return { next: now >= keptUntil ? null : prev };
  }

  const base: AlertState =
    prev && prev.status !== 'resolved'
      ? { ...prev, labels: obs.labels, subject: obs.subject, value: obs.value, detail: obs.detail }
      : {
          fingerprint,
          rule: rule.id,
          labels: obs.labels,
          subject: obs.subject,
          status: 'pending',
          pendingSince: now,
          firingSince: null,
          resolvedAt: null,
          value: obs.value,
          detail: obs.detail,
          notified: false,
          lastNotifiedAt: null,
          lastFiringNoticeAt: prev?.lastFiringNoticeAt ?? null,
        };
  if (base.status === 'pending' && now - base.pendingSince < rule.forMs) return { next: base };

  const firing: AlertState = base.status === 'firing' ? base : { ...base, status: 'firing', firingSince: now };
  if (silenced) return { next: firing };
  if (!firing.notified) {
    const cooling = firing.lastFiringNoticeAt !== null && now - firing.lastFiringNoticeAt < rule.cooldownMs;
    if (cooling) return { next: firing };
    return {
      next: { ...firing, notified: true, lastNotifiedAt: now, lastFiringNoticeAt: now },
      notice: 'firing',
    };
  }
  if (firing.lastNotifiedAt !== null && now - firing.lastNotifiedAt >= renotifyAfterMs(rule.severity)) {
    return { next: { ...firing, lastNotifiedAt: now }, notice: 'reminder' };
  }
  return { next: firing };
}
