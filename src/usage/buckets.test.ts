import { describe, expect, it } from 'vitest';
import { bucketer, lastDays, type Buckets } from './buckets.js';

const at = (iso: string) => Date.parse(iso);

/** [UTC instant, local hour bucket, month]; the day is the hour bucket's date. */
type Row = [string, string, string];

const ZONES: Record<string, Row[]> = {
  UTC: [
    ['2026-11-27T23:59:59.999Z', '2026-11-27:23', '2026-11'],
    ['2026-11-28T00:00:00.000Z', '2026-11-28:00', '2026-11'],
    ['2026-12-31T23:59:59.999Z', '2026-12-31:23', '2026-12'],
    ['2027-01-01T00:00:00.000Z', '2027-01-01:00', '2027-01'],
    ['2028-02-29T12:00:00.000Z', '2028-02-29:12', '2028-02'],
  ],
  // +05:30
  'Asia/Kolkata': [
    ['2026-01-31T18:29:59.999Z', '2026-01-31:23', '2026-01'],
    ['2026-01-31T18:30:00.000Z', '2026-02-01:00', '2026-02'],
    ['2026-03-01T00:00:00.000Z', '2026-03-01:05', '2026-03'],
    ['2026-03-01T00:29:59.999Z', '2026-03-01:05', '2026-03'],
    ['2026-03-01T00:30:00.000Z', '2026-03-01:06', '2026-03'],
  ],
  // +05:45
  'Asia/Kathmandu': [
    ['2026-02-28T17:14:59.999Z', '2026-02-28:22', '2026-02'],
    ['2026-02-28T17:15:00.000Z', '2026-02-28:23', '2026-02'],
    ['2026-02-28T18:14:59.999Z', '2026-02-28:23', '2026-02'],
    ['2026-02-28T18:15:00.000Z', '2026-03-01:00', '2026-03'],
  ],
  // +12:45 in (southern) winter
  'Pacific/Chatham': [
    ['2026-06-30T11:14:59.999Z', '2026-06-30:23', '2026-06'],
    ['2026-06-30T11:15:00.000Z', '2026-07-01:00', '2026-07'],
  ],
  // EST -05:00, EDT -04:00; 2026-03-08 02:00 → 03:00, 2026-11-01 02:00 → 01:00
  'America/New_York': [
    ['2026-01-01T04:59:59.999Z', '2025-12-31:23', '2025-12'],
    ['2026-01-01T05:00:00.000Z', '2026-01-01:00', '2026-01'],
    ['2026-03-08T04:59:59.999Z', '2026-03-07:23', '2026-03'],
    ['2026-03-08T05:00:00.000Z', '2026-03-08:00', '2026-03'],
    ['2026-03-08T06:59:59.999Z', '2026-03-08:01', '2026-03'],
    ['2026-03-08T07:00:00.000Z', '2026-03-08:03', '2026-03'],
    ['2026-07-04T03:59:59.999Z', '2026-07-03:23', '2026-07'],
    ['2026-07-04T04:00:00.000Z', '2026-07-04:00', '2026-07'],
    ['2026-10-31T03:59:59.999Z', '2026-10-30:23', '2026-10'],
    ['2026-11-01T03:59:59.999Z', '2026-10-31:23', '2026-10'],
    ['2026-11-01T04:00:00.000Z', '2026-11-01:00', '2026-11'],
    ['2026-11-01T05:30:00.000Z', '2026-11-01:01', '2026-11'],
    ['2026-11-01T06:30:00.000Z', '2026-11-01:01', '2026-11'],
    ['2026-11-01T07:00:00.000Z', '2026-11-01:02', '2026-11'],
    ['2026-11-02T04:59:59.999Z', '2026-11-01:23', '2026-11'],
    ['2026-11-02T05:00:00.000Z', '2026-11-02:00', '2026-11'],
  ],
};

type Names = Pick<Buckets, 'hour' | 'day' | 'month'>;
const expected = ([, hour, month]: Row): Names => ({ hour, day: hour.slice(0, 10), month });
const names = ({ hour, day, month }: Buckets): Names => ({ hour, day, month });

describe('bucketer', () => {
  for (const [zone, rows] of Object.entries(ZONES)) {
    it.each(rows)(`${zone}: %s → %s`, (...row) => {
      expect(names(bucketer(zone)(at(row[0])))).toEqual(expected(row));
    });

    // One bucketer reused across calls in both directions: the memo must never serve a stale slot.
    it(`${zone}: a reused bucketer gives the same answers forwards and backwards`, () => {
      const of = bucketer(zone);
      for (const row of [...rows, ...[...rows].reverse()]) expect(names(of(at(row[0]))), row[0]).toEqual(expected(row));
    });
  }
});

const DAY = 86_400_000;
const dayNumber = (d: string) => Date.parse(`${d}T00:00:00Z`) / DAY;

describe('lastDays', () => {
  it.each<[string, string, number, string[]]>([
    ['UTC', '2026-03-02T10:00:00Z', 3, ['2026-02-28', '2026-03-01', '2026-03-02']],
    ['UTC', '2026-03-02T00:00:00Z', 1, ['2026-03-02']],
    ['UTC', '2026-03-02T00:00:00Z', 0, []],
    // 23-hour day (spring forward) and 25-hour day (fall back) in New York.
    ['America/New_York', '2026-03-09T03:30:00Z', 3, ['2026-03-06', '2026-03-07', '2026-03-08']],
    ['America/New_York', '2026-11-02T04:30:00Z', 3, ['2026-10-30', '2026-10-31', '2026-11-01']],
    ['Asia/Kathmandu', '2026-02-28T18:15:00Z', 2, ['2026-02-28', '2026-03-01']],
  ])('%s at %s, %d days', (zone, iso, n, days) => {
    expect(lastDays(bucketer(zone), at(iso), n)).toEqual(days);
  });

  it('returns n distinct consecutive days, newest last (every 7 hours through a year, several zones)', () => {
    for (const zone of ['UTC', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham']) {
      const of = bucketer(zone);
      for (let ms = at('2026-01-01T00:00:00Z'); ms < at('2027-01-01T00:00:00Z'); ms += 3_600_000 * 7) {
        const days = lastDays(of, ms, 10);
        expect(days).toHaveLength(10);
        expect(days[9]).toBe(of(ms).day);
        for (let i = 1; i < days.length; i++) {
          const gap = dayNumber(days[i] ?? '') - dayNumber(days[i - 1] ?? '');
          if (gap !== 1) expect({ zone, at: new Date(ms).toISOString(), days }).toBe('consecutive days');
        }
      }
    }
  });
});
