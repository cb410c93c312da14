import { describe, expect, it } from 'vitest';
import { calendar } from '../periods.js';
import { duePeriod, lastComplete, nextSend, periodAt, scheduleDue, sendTime, type ReportKind } from './due.js';

const shanghai = calendar('Asia/Shanghai');
const berlin = calendar('Europe/Berlin');
const t = (iso: string) => Date.parse(iso);
/** 12:00 on Thursday 3 December 2026 in Shanghai (UTC+8); that week's Monday is 30 November. */
const NOW = t('2026-12-03T04:00:00Z');

describe('the report due and the next one', () => {
  const cases: [ReportKind, number, number, string, string, string][] = [
    // kind, hour, now, due period, next period, next send
    ['daily', 8, NOW, '2026-12-02', '2026-12-03', '2026-12-04T00:00:00.000Z'],
    ['daily', 0, NOW, '2026-12-02', '2026-12-03', '2026-12-03T16:00:00.000Z'],
    // 13:00 has not come yet today: yesterday's report is still to come, the day before's was due.
    ['daily', 13, NOW, '2026-12-01', '2026-12-02', '2026-12-03T05:00:00.000Z'],
    ['weekly', 8, NOW, '2026-11-23', '2026-11-30', '2026-12-07T00:00:00.000Z'],
    ['monthly', 8, NOW, '2026-11', '2026-12', '2027-01-01T00:00:00.000Z'],
    // 07:00 on 1 December: November's report comes at 08:00; October's was the last due.
    ['monthly', 8, t('2026-11-30T23:00:00Z'), '2026-10', '2026-11', '2026-12-01T00:00:00.000Z'],
    // Exactly at the send time it is due.
    ['daily', 8, t('2026-12-03T00:00:00Z'), '2026-12-02', '2026-12-03', '2026-12-04T00:00:00.000Z'],
    ['daily', 8, t('2026-12-02T23:59:59.999Z'), '2026-12-01', '2026-12-02', '2026-12-03T00:00:00.000Z'],
  ];
  it.each(cases)('%s at %i:00, at %s', (kind, hour, now, due, next, at) => {
    expect(duePeriod(shanghai, kind, hour, now).name).toBe(due);
    const n = nextSend(shanghai, kind, hour, now);
    expect(n.period.name).toBe(next);
    expect(new Date(n.at).toISOString()).toBe(at);
    expect(n.at).toBeGreaterThan(now);
  });

  it('a missed send time is caught up until a later period becomes due', () => {
    // Down from 07:00 on 2 December to 07:30 on 3 December (Shanghai): 1 December's 08:00 send was missed.
    expect(duePeriod(shanghai, 'daily', 8, t('2026-12-02T23:30:00Z')).name).toBe('2026-12-01');
    // At 08:00 the 2nd's report is the one due; the 1st's is not sent any more.
    expect(duePeriod(shanghai, 'daily', 8, t('2026-12-03T00:00:00Z')).name).toBe('2026-12-02');
  });

  it('"send now" is the last complete period, whatever the hour', () => {
    expect(lastComplete(shanghai, 'daily', NOW).name).toBe('2026-12-02');
    expect(lastComplete(shanghai, 'weekly', NOW).name).toBe('2026-11-23');
    expect(lastComplete(shanghai, 'monthly', NOW).name).toBe('2026-11');
  });

  it('weeks start on Monday and periods are whole local days', () => {
    const week = periodAt(shanghai, NOW, 'week');
    expect(week).toEqual({ name: '2026-11-30', start: t('2026-11-29T16:00:00Z'), end: t('2026-12-06T16:00:00Z') });
    const month = periodAt(shanghai, NOW, 'month');
    expect([month.start, month.end]).toEqual([t('2026-11-30T16:00:00Z'), t('2026-12-31T16:00:00Z')]);
  });
});

describe('send times across daylight saving changes (Berlin)', () => {
  it('a send hour skipped by the spring change goes out at the first hour after it', () => {
    const sat = periodAt(berlin, t('2026-03-28T12:00:00Z'), 'day');
    // 29 March 2026: 02:00 CET jumps to 03:00 CEST.
    expect(new Date(sendTime(berlin, sat, 2)).toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(new Date(sendTime(berlin, sat, 8)).toISOString()).toBe('2026-03-29T06:00:00.000Z');
    const sun = periodAt(berlin, t('2026-03-29T12:00:00Z'), 'day');
    expect(sun.end - sun.start).toBe(23 * 3_600_000);
  });

  it('the autumn change: 08:00 is CET again', () => {
    const sat = periodAt(berlin, t('2026-10-24T12:00:00Z'), 'day');
    expect(new Date(sendTime(berlin, sat, 8)).toISOString()).toBe('2026-10-25T07:00:00.000Z');
    expect(new Date(sendTime(berlin, sat, 0)).toISOString()).toBe('2026-10-24T22:00:00.000Z');
    expect(duePeriod(berlin, 'daily', 8, t('2026-10-25T06:59:00Z')).name).toBe('2026-10-23');
    expect(duePeriod(berlin, 'daily', 8, t('2026-10-25T07:00:00Z')).name).toBe('2026-10-24');
  });
});

describe('a new schedule', () => {
  const created = (iso: string) => ({ kind: 'daily' as const, hour: 8, createdAt: t(iso) });
  it('sends the last complete period at once when its send time has passed, never the one before', () => {
    // Made at 12:00 on 3 December: the 2nd's report (due 08:00 today) goes at once.
    expect(scheduleDue(shanghai, created('2026-12-03T04:00:00Z'), NOW)?.name).toBe('2026-12-02');
    // Made at 07:00: the 1st's report was due yesterday, before the schedule: nothing until 08:00.
    const early = created('2026-12-02T23:00:00Z');
    expect(scheduleDue(shanghai, early, t('2026-12-02T23:30:00Z'))).toBeNull();
    expect(scheduleDue(shanghai, early, t('2026-12-03T00:00:00Z'))?.name).toBe('2026-12-02');
    // An older schedule catches a missed send up.
    expect(scheduleDue(shanghai, created('2026-11-01T00:00:00Z'), t('2026-12-02T23:30:00Z'))?.name).toBe('2026-12-01');
  });
});
