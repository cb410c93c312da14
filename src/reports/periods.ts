import { RelayError } from '../errors/catalogue.js';
import { bucketer, type Buckets } from '../usage/buckets.js';

/** The step of a report: the usage buckets it is read from (or summed from). */
export const STEPS = ['hour', 'day', 'week', 'month'] as const;
export type Step = (typeof STEPS)[number];

/** One period of a report: its bucket name and its instants in the stats time zone. */
export interface Period {
  /** The usage bucket's name: `YYYY-MM-DD:HH`, `YYYY-MM-DD`, the week's Monday `YYYY-MM-DD`, `YYYY-MM`. */
  name: string;
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
}

const QUARTER = 15 * 60_000;
const HOUR = 3_600_000;
/** How far a period can be jumped over before looking for its end: its shortest length, less a DST hour. */
const SHORTEST: Record<Step, number> = { hour: 0, day: 22 * HOUR, week: 166 * HOUR, month: 27 * 24 * HOUR };

const nameOf = (b: Buckets, step: Step): string =>
  step === 'hour' ? b.hour : step === 'day' ? b.day : step === 'week' ? b.week : b.month;

/**
 * Period math in one time zone. Zone offsets are whole quarter hours, so every bucket starts on a
 * UTC quarter hour: a boundary is found by stepping quarter hours (after jumping over the shortest
 * length the period can have).
 */
export interface Calendar {
  readonly timeZone: string;
  bucketsOf(ms: number): Buckets;
  /** The start of the bucket of `step` holding `ms`. */
  startOf(ms: number, step: Step): number;
  /** The start of the next bucket of `step` after the one holding `ms`. */
  nextStart(ms: number, step: Step): number;
  /** The periods of `step` covering [from, to): whole buckets, the first holding `from`. */
  periods(from: number, to: number, step: Step): Period[];
  /** The day names (YYYY-MM-DD) within [start, end), oldest first. */
  days(start: number, end: number): string[];
  /** Parses a `from`/`to` value: YYYY-MM-DD or YYYY-MM (the start of that day or month here) or an ISO instant. */
  parseTime(name: string, raw: string): number;
}

export function calendar(timeZone: string): Calendar {
  const bucketsOf = bucketer(timeZone);
  const startOf = (ms: number, step: Step): number => {
    const name = nameOf(bucketsOf(ms), step);
    let t = ms - (ms % QUARTER);
    // Jump back by whole days while still inside, then by quarter hours.
    const big = step === 'hour' ? QUARTER : HOUR;
    while (nameOf(bucketsOf(t - big), step) === name) t -= big;
    while (nameOf(bucketsOf(t - QUARTER), step) === name) t -= QUARTER;
    return t;
  };
  const nextStart = (ms: number, step: Step): number => {
    const start = startOf(ms, step);
    const name = nameOf(bucketsOf(start), step);
    let t = start + SHORTEST[step];
    const big = step === 'hour' ? QUARTER : HOUR;
    while (nameOf(bucketsOf(t), step) === name) t += big;
    while (nameOf(bucketsOf(t - QUARTER), step) !== name) t -= QUARTER;
    return t;
  };
  const periods = (from: number, to: number, step: Step): Period[] => {
    const out: Period[] = [];
    for (let t = startOf(from, step); t < to;) {
      const end = nextStart(t, step);
      out.push({ name: nameOf(bucketsOf(t), step), start: t, end });
      t = end;
    }
    return out;
  };
  return {
    timeZone,
    bucketsOf,
    startOf,
    nextStart,
    periods,
    days: (start, end) => periods(start, end, 'day').map((p) => p.name),
    parseTime(name, raw) {
      const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(raw);
      if (m) {
        const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 1)];
        const utc = Date.UTC(y, mo - 1, d);
        const wanted = `${m[1]}-${m[2]}-${m[3] ?? '01'}`;
        if (new Date(utc).toISOString().slice(0, 10) !== wanted) throw badTime(name, raw);
        // The zone's day starts within 14 hours of the UTC day's start, either side.
        for (let t = utc - 14 * HOUR; t <= utc + 14 * HOUR; t += QUARTER) {
          if (bucketsOf(t).day === wanted) return t;
        }
        throw badTime(name, raw);
      }
      if (/^\d{4}-\d{2}-\d{2}T/.test(raw)) {
        const ms = Date.parse(raw);
        if (Number.isFinite(ms)) return ms;
      }
      throw badTime(name, raw);
    },
  };
}

const badTime = (name: string, raw: string) =>
  new RelayError('admin_invalid', {
    message: `${name} must be a date (YYYY-MM-DD), a month (YYYY-MM) or an ISO 8601 instant, not "${raw.slice(0, 40)}".`,
  });
