import { describe, expect, it } from 'vitest';
import { calendar } from './periods.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('report periods', () => {
  it('cuts days at local midnight in a +08:00 zone', () => {
    const cal = calendar('Asia/Shanghai');
    const from = cal.parseTime('from', '2026-02-27');
    expect(iso(from)).toBe('2026-02-26T16:00:00.000Z');
    const days = cal.periods(from, cal.parseTime('to', '2026-03-02'), 'day');
    expect(days.map((p) => p.name)).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
    expect(days.map((p) => p.end - p.start)).toEqual([86_400_000, 86_400_000, 86_400_000]);
  });

  it('has a 23-hour and a 25-hour day where New York changes its clocks, and 29 days in a leap February', () => {
    const cal = calendar('America/New_York');
    const march = cal.periods(cal.parseTime('from', '2028-03-11'), cal.parseTime('to', '2028-03-13'), 'day');
    expect(march.map((p) => (p.end - p.start) / 3_600_000)).toEqual([24, 23]);
    const nov = cal.periods(cal.parseTime('from', '2028-11-05'), cal.parseTime('to', '2028-11-06'), 'day');
    expect(nov.map((p) => (p.end - p.start) / 3_600_000)).toEqual([25]);
    const feb = cal.periods(cal.parseTime('from', '2028-02'), cal.parseTime('to', '2028-03'), 'month');
    expect(feb).toHaveLength(1);
    expect(feb[0]!.name).toBe('2028-02');
    expect(cal.days(feb[0]!.start, feb[0]!.end)).toHaveLength(29);
    expect(iso(feb[0]!.start)).toBe('2028-02-01T05:00:00.000Z');
  });

  it('names weeks by their Monday and hours as the recorder does', () => {
    const cal = calendar('UTC');
    const weeks = cal.periods(Date.parse('2026-12-02T10:00:00Z'), Date.parse('2026-12-15T00:00:00Z'), 'week');
    expect(weeks.map((w) => w.name)).toEqual(['2026-11-30', '2026-12-07', '2026-12-14']);
    const hours = cal.periods(Date.parse('2026-12-02T10:30:00Z'), Date.parse('2026-12-02T12:00:00Z'), 'hour');
    expect(hours.map((h) => h.name)).toEqual(['2026-12-02:10', '2026-12-02:11']);
    expect(cal.bucketsOf(hours[1]!.start).hour).toBe('2026-12-02:11');
  });

  it('works in a zone 45 minutes off the hour', () => {
    const cal = calendar('Asia/Kathmandu');
    const d = cal.periods(cal.parseTime('from', '2026-06-01'), cal.parseTime('to', '2026-06-02'), 'day');
    expect(iso(d[0]!.start)).toBe('2026-05-31T18:15:00.000Z');
    expect(d[0]!.end - d[0]!.start).toBe(86_400_000);
  });

  it('refuses what is not a date, a month or an instant', () => {
    const cal = calendar('UTC');
    for (const bad of ['2026-13-01', '2026-02-30', 'yesterday', '1700000000000', ''])
      expect(() => cal.parseTime('from', bad)).toThrow(/from must be a date/);
    expect(cal.parseTime('to', '2026-12-01T12:00:00+08:00')).toBe(Date.parse('2026-12-01T04:00:00Z'));
  });
});
