import type { Calendar, Period, Step } from '../periods.js';

/** The summaries that can be scheduled: of a day, a (Monday) week, a month, in STATS_TIMEZONE. */
export const REPORT_KINDS = ['daily', 'weekly', 'monthly'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export const STEP_OF: Readonly<Record<ReportKind, Step>> = { daily: 'day', weekly: 'week', monthly: 'month' };

/** The period of `step` holding `ms`. */
export function periodAt(cal: Calendar, ms: number, step: Step): Period {
  const p = cal.periods(ms, ms + 1, step)[0];
  if (!p) throw new Error(`no ${step} holds ${ms}`);
  return p;
}

/** The period of the same step just before `p`. */
export const periodBefore = (cal: Calendar, p: Period, step: Step): Period => periodAt(cal, p.start - 1, step);

/**
 * When a period's report goes out: `hour`:00 local time on the first day after it (the day after
 * a day, the Monday after a week, the 1st after a month). When a DST change skips that hour, the
 * first instant after it that day.
 */
export function sendTime(cal: Calendar, p: Period, hour: number): number {
  const day = cal.bucketsOf(p.end).day;
  let t = p.end;
  for (;;) {
    const b = cal.bucketsOf(t);
    if (b.day !== day || Number(b.hour.slice(11)) >= hour) return t;
    t = cal.nextStart(t, 'hour');
  }
}

/**
 * The period whose report is due at `now`: the latest complete one whose send time has passed.
 * A send time missed (no node held the jobs lease, the deployment was down) is caught up when a
 * node next runs the jobs, as long as no later period has become due since; older ones are not.
 */
export function duePeriod(cal: Calendar, kind: ReportKind, hour: number, now: number): Period {
  const step = STEP_OF[kind];
  const last = periodBefore(cal, periodAt(cal, now, step), step);
  return sendTime(cal, last, hour) <= now ? last : periodBefore(cal, last, step);
}

/**
 * The period a schedule made at `createdAt` has due at `now`, or null: as duePeriod, except that a
 * new schedule does not send the period before the last complete one (its send time passed before
 * the schedule existed). The last complete period is sent at once if its send time has passed.
 */
export function scheduleDue(
  cal: Calendar,
  s: { kind: ReportKind; hour: number; createdAt: number },
  now: number,
): Period | null {
  const due = duePeriod(cal, s.kind, s.hour, now);
  const stale = due.end <= lastComplete(cal, s.kind, now).start && sendTime(cal, due, s.hour) < s.createdAt;
  return stale ? null : due;
}

/** The next report after the one due at `now`: its period and its send time (after `now`). */
export function nextSend(cal: Calendar, kind: ReportKind, hour: number, now: number): { period: Period; at: number } {
  const due = duePeriod(cal, kind, hour, now);
  const period = periodAt(cal, due.end, STEP_OF[kind]);
  return { period, at: sendTime(cal, period, hour) };
}

/** The last complete period at `now`, whatever the send time: what "send now" reports on. */
export const lastComplete = (cal: Calendar, kind: ReportKind, now: number): Period =>
  periodBefore(cal, periodAt(cal, now, STEP_OF[kind]), STEP_OF[kind]);
