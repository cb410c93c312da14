import { describe, expect, it } from 'vitest';
import { bucketer, weekOf } from './buckets.js';

const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);
const utcDay = (day: string) => Date.parse(`${day}T00:00:00Z`);
const dayName = (ms: number) => new Date(ms).toISOString().slice(0, 10);

// Anchors, worked by hand: 2026-01-01 is a Thursday, so 2026-11-02 is a Monday and 2026-11-27 a
// Friday; 2027-01-01 is a Friday, 2028-01-01 a Saturday (2028 is a leap year: 02-29 is a
// Tuesday), 2029-01-01 a Monday, 2025-01-01 a Wednesday.
describe('weekOf', () => {
  it.each<[string, string, string]>([
    ['2026-11-02', 'Monday', '2026-11-02'],
    ['2026-11-03', 'Tuesday', '2026-11-02'],
    ['2026-11-07', 'Saturday', '2026-11-02'],
    ['2026-11-08', 'Sunday', '2026-11-02'],
    ['2026-11-09', 'Monday', '2026-11-09'],
    ['2026-11-01', 'Sunday', '2026-10-26'],
    ['2026-11-27', 'Friday', '2026-11-23'],
    ['2026-11-28', 'Saturday', '2026-11-23'],
    // month boundaries
    ['2026-03-01', 'Sunday, after a 28-day February', '2026-02-23'],
    ['2026-12-01', 'Tuesday', '2026-11-30'],
    // year boundaries
    ['2025-01-01', 'Wednesday', '2024-12-30'],
    ['2025-12-31', 'Wednesday', '2025-12-29'],
    ['2026-01-01', 'Thursday', '2025-12-29'],
    ['2026-01-04', 'Sunday', '2025-12-29'],
    ['2026-01-05', 'Monday', '2026-01-05'],
    ['2026-12-31', 'Thursday', '2026-12-28'],
    ['2027-01-01', 'Friday', '2026-12-28'],
    ['2027-01-03', 'Sunday', '2026-12-28'],
    ['2027-01-04', 'Monday', '2027-01-04'],
    ['2028-01-01', 'Saturday', '2027-12-27'],
    ['2028-12-31', 'Sunday', '2028-12-25'],
    ['2029-01-01', 'Monday', '2029-01-01'],
    // leap day
    ['2028-02-29', 'Tuesday (leap day)', '2028-02-28'],
    ['2028-03-05', 'Sunday, week spanning the leap day', '2028-02-28'],
    ['2028-03-06', 'Monday', '2028-03-06'],
  ])('%s (%s) → %s', (day, _weekday, monday) => {
    expect(weekOf(day)).toBe(monday);
  });

  it('every day of 2024–2030 maps to the Monday 0–6 days before it, and a Monday to itself', () => {
    let previous = '';
    for (let t = utcDay('2024-01-01'); t < utcDay('2031-01-01'); t += DAY) {
      const day = dayName(t);
      const week = weekOf(day);
      expect(new Date(utcDay(week)).getUTCDay(), day).toBe(1);
      const back = (t - utcDay(week)) / DAY;
      expect(back >= 0 && back <= 6, `${day} → ${week}`).toBe(true);
      expect(weekOf(week)).toBe(week);
      // Weeks change exactly on Mondays.
      if (previous !== '' && week !== previous) expect(new Date(t).getUTCDay(), day).toBe(1);
      previous = week;
    }
  });
});

describe('bucketer: week', () => {
  it.each<[string, string, string, string]>([
    // EST (-05:00): the Sunday → Monday local midnight just after the DST change.
    ['America/New_York', '2026-11-02T04:59:59.999Z', '2026-11-01', '2026-10-26'],
    ['America/New_York', '2026-11-02T05:00:00.000Z', '2026-11-02', '2026-11-02'],
    // The repeated 01:00 hour of the fall-back Sunday is still the old week.
    ['America/New_York', '2026-11-01T05:30:00.000Z', '2026-11-01', '2026-10-26'],
    ['America/New_York', '2026-11-01T06:30:00.000Z', '2026-11-01', '2026-10-26'],
    // EDT (-04:00): the week before.
    ['America/New_York', '2026-10-26T03:59:59.999Z', '2026-10-25', '2026-10-19'],
    ['America/New_York', '2026-10-26T04:00:00.000Z', '2026-10-26', '2026-10-26'],
    // Year boundary: the UTC new year is still 2026 in New York, and the week runs on into 2027.
    ['America/New_York', '2027-01-01T04:59:59.999Z', '2026-12-31', '2026-12-28'],
    ['America/New_York', '2027-01-01T05:00:00.000Z', '2027-01-01', '2026-12-28'],
    ['America/New_York', '2027-01-04T04:59:59.999Z', '2027-01-03', '2026-12-28'],
    ['America/New_York', '2027-01-04T05:00:00.000Z', '2027-01-04', '2027-01-04'],
    // UTC
    ['UTC', '2026-11-01T23:59:59.999Z', '2026-11-01', '2026-10-26'],
    ['UTC', '2026-11-02T00:00:00.000Z', '2026-11-02', '2026-11-02'],
    ['UTC', '2027-01-01T00:00:00.000Z', '2027-01-01', '2026-12-28'],
    ['UTC', '2028-12-31T23:59:59.999Z', '2028-12-31', '2028-12-25'],
    ['UTC', '2029-01-01T00:00:00.000Z', '2029-01-01', '2029-01-01'],
    // East of UTC: the local Monday starts on the UTC Sunday.
    ['Asia/Tokyo', '2026-11-01T14:59:59.999Z', '2026-11-01', '2026-10-26'],
    ['Asia/Tokyo', '2026-11-01T15:00:00.000Z', '2026-11-02', '2026-11-02'],
    ['Pacific/Kiritimati', '2026-11-01T09:59:59.999Z', '2026-11-01', '2026-10-26'],
    ['Pacific/Kiritimati', '2026-11-01T10:00:00.000Z', '2026-11-02', '2026-11-02'],
    ['Asia/Kathmandu', '2026-11-01T18:14:59.999Z', '2026-11-01', '2026-10-26'],
    ['Asia/Kathmandu', '2026-11-01T18:15:00.000Z', '2026-11-02', '2026-11-02'],
    // West of UTC, far: the local Sunday lasts until 11:00 UTC on Monday.
    ['Pacific/Pago_Pago', '2026-11-02T10:59:59.999Z', '2026-11-01', '2026-10-26'],
    ['Pacific/Pago_Pago', '2026-11-02T11:00:00.000Z', '2026-11-02', '2026-11-02'],
  ])('%s %s: day %s, week %s', (zone, iso, day, week) => {
    const b = bucketer(zone)(at(iso));
    expect(b.day).toBe(day);
    expect(b.week).toBe(week);
  });

  it('a reused bucketer gives the right week forwards and backwards across a week boundary', () => {
    const of = bucketer('America/New_York');
    const rows: [string, string][] = [
      ['2026-11-02T04:59:59.999Z', '2026-10-26'],
      ['2026-11-02T05:00:00.000Z', '2026-11-02'],
      ['2026-11-02T04:45:00.000Z', '2026-10-26'],
      ['2026-11-02T05:14:59.999Z', '2026-11-02'],
    ];
    for (const [iso, week] of [...rows, ...[...rows].reverse(), ...rows]) expect(of(at(iso)).week, iso).toBe(week);
  });

  it('the week is always the Monday 0–6 days before the local day (every 37 minutes through 2026, several zones)', () => {
    for (const zone of ['UTC', 'America/New_York', 'Asia/Kathmandu', 'Pacific/Chatham', 'Australia/Lord_Howe']) {
      const of = bucketer(zone);
      for (let ms = at('2026-01-01T00:00:00Z'); ms < at('2027-01-02T00:00:00Z'); ms += 37 * 60_000) {
        const { day, week } = of(ms);
        const back = (utcDay(day) - utcDay(week)) / DAY;
        if (new Date(utcDay(week)).getUTCDay() !== 1 || back < 0 || back > 6)
          expect({ zone, at: new Date(ms).toISOString(), day, week }).toBe('a Monday 0–6 days before the day');
      }
    }
  });
});
