import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGroupService } from '../../src/accounts/groups.js';
import type { AccountId, ApiKeyId } from '../../src/ids.js';
import { createReports, type Reports } from '../../src/reports/index.js';
import { createUsageRecorder, type UsageEvent, type UsageRecorder } from '../../src/usage/recorder.js';
import { manualClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { crs } from '../support/crs.js';
import { startTestRelay, testEnv, type TestRelay } from '../support/relay.js';

/**
 * Reports on crafted usage in New York (clocks go back on 1 November 2026): rankings with known
 * changes, trends and budget burn at fixed instants, the number of hashes a report reads, and the
 * same answers from `crs reports`.
 */
const ZONE = 'America/New_York';
const H = 3_600_000;
const DAY = 24 * H;
const T = 1_000_000_000_000; // $1 in picodollars

interface Fixture {
  relay: TestRelay;
  recorder: UsageRecorder;
  keys: Record<string, ApiKeyId>;
  accounts: { id: AccountId; platform: string }[];
  booked: UsageEvent[];
  reportsAt(ms: number): Reports;
  book(key: string, at: string, costPico: number, o?: { model?: string; account?: number; input?: number }): void;
}

async function fixture(keyNames: string[], now: number): Promise<Fixture> {
  const relay = await startTestRelay({ env: { STATS_TIMEZONE: ZONE }, clock: manualClock(now) });
  const keys: Record<string, ApiKeyId> = {};
  for (const name of keyNames) {
    const r = await relay.admin.request<{ id: ApiKeyId }>('POST', '/admin/api-keys', { name });
    expect(r.status).toBe(201);
    keys[name] = r.body.id;
  }
  const accounts: Fixture['accounts'] = [];
  for (const platform of ['claude', 'openai']) {
    const r = await relay.admin.request<{ id: AccountId }>('POST', '/admin/accounts', {
      platform,
      type: 'api-key',
      name: `${platform} account`,
      apiKey: platform === 'claude' ? `sk-ant-api03-${'c'.repeat(32)}` : `sk-${'d'.repeat(40)}`,
      baseUrl: 'http://127.0.0.1:9',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    accounts.push({ id: r.body.id, platform });
  }
  const { store, deps } = relay.instance;
  const recorder = createUsageRecorder({ store, log: silentLogger, timeZone: ZONE, recordsKept: 0 });
  const groups = createGroupService({ store, clock: manualClock(now), cacheTtlMs: 1_000 });
  const booked: UsageEvent[] = [];
  return {
    relay,
    recorder,
    keys,
    accounts,
    booked,
    reportsAt: (ms) =>
      createReports({
        store,
        keys: deps.keys,
        accounts: deps.accounts,
        groups,
        work: deps.work,
        redisTarget: relay.config.redis,
        timeZone: ZONE,
        clock: manualClock(ms),
      }),
    book(key, at, costPico, o = {}) {
      const account = accounts[o.account ?? 0]!;
      const e: UsageEvent = {
        requestId: `r${booked.length}`,
        keyId: keys[key]!,
        accountId: account.id,
        platform: account.platform,
        model: o.model ?? (account.platform === 'openai' ? 'gpt-5' : 'claude-sonnet-4-5'),
        endpoint: '/v1/messages',
        stream: false,
        status: 200,
        outcome: 'ok',
        usage: {
          inputTokens: o.input ?? 10,
          outputTokens: 5,
          cacheCreate5mTokens: 0,
          cacheCreate1hTokens: 0,
          cacheReadTokens: 0,
          webSearchRequests: 0,
        },
        costPico,
        pricedAs: 'x',
        priceSource: 'exact',
        startedAt: Date.parse(at),
        durationMs: 100,
        ttfbMs: 50,
      };
      booked.push(e);
      void recorder.record(e);
    },
  };
}

const flush = async (f: Fixture) => expect(await f.recorder.flush(10_000)).toBe(true);

describe('rankings on crafted usage', () => {
  let f: Fixture;
  let reports: Reports;
  beforeAll(async () => {
    f = await fixture(['A', 'B', 'C'], Date.parse('2026-12-04T17:00:00Z'));
    reports = f.reportsAt(Date.parse('2026-12-04T17:00:00Z'));
    // October (the previous month): A $2 in two requests, C $4.
    f.book('A', '2026-10-10T15:00:00Z', T);
    f.book('A', '2026-10-10T16:00:00Z', T);
    f.book('C', '2026-10-20T15:00:00Z', 4 * T, { account: 1, input: 1000 });
    // November: A $3 in three requests, B $5 in one, C $1 in one.
    for (const d of ['05', '06', '07']) f.book('A', `2026-11-${d}T15:00:00Z`, T);
    f.book('B', '2026-11-08T15:00:00Z', 5 * T, { model: 'claude-opus-4-5' });
    f.book('C', '2026-12-01T04:30:00Z', T, { account: 1 }); // 23:30 EST on 30 November
    await flush(f);
  });
  afterAll(async () => {
    await f?.relay.close();
  });

  it('ranks by cost against the previous month, with the change in percent (null after nothing)', async () => {
    const nov = {
      from: reports.calendar.parseTime('from', '2026-11'),
      to: reports.calendar.parseTime('to', '2026-12'),
    };
    const r = await reports.rankings({ by: 'key', metric: 'cost', limit: 10, ...nov });
    expect(r.from).toBe('2026-11-01T04:00:00.000Z'); // midnight EDT
    expect(r.to).toBe('2026-12-01T05:00:00.000Z'); // midnight EST
    expect(r.previousFrom).toBe('2026-10-01T04:00:00.000Z');
    expect(r.rows.map((x) => [x.name, x.value, x.previous, x.change])).toEqual([
      ['B', 5, 0, null],
      ['A', 3, 2, 50],
      ['C', 1, 4, -75],
    ]);
    expect(r.rows[0]!.figures.costPico).toBe(String(5 * T));
    const two = await reports.rankings({ by: 'key', metric: 'cost', limit: 2, ...nov });
    expect(two.rows.map((x) => x.name)).toEqual(['B', 'A']);
    // By requests: A 3 (+50 %), then C and B with one each, C first for its previous month.
    const req = await reports.rankings({ by: 'key', metric: 'requests', limit: 10, ...nov });
    expect(req.rows.map((x) => [x.name, x.value, x.change])).toEqual([
      ['A', 3, 50],
      ['C', 1, 0],
      ['B', 1, null],
    ]);
    const models = await reports.rankings({ by: 'model', metric: 'cost', limit: 10, ...nov });
    expect(models.rows.map((x) => [x.id, x.value, x.previous])).toEqual([
      ['claude-opus-4-5', 5, 0],
      ['claude-sonnet-4-5', 3, 2],
      ['gpt-5', 1, 4],
    ]);
    const accounts = await reports.rankings({ by: 'account', metric: 'tokens', limit: 10, ...nov });
    expect(accounts.rows.map((x) => [x.platform, x.value, x.previous])).toEqual([
      ['claude', 4 * 15, 2 * 15],
      ['openai', 15, 1005],
    ]);
    expect(accounts.rows[1]!.change).toBe(Math.round(((15 - 1005) / 1005) * 1e4) / 100);
  });

  it('reads keys × periods hashes, however many requests were booked, from the coarsest buckets', async () => {
    const cal = reports.calendar;
    const q = { from: cal.parseTime('from', '2026-11-01'), to: cal.parseTime('to', '2026-11-11') };
    const days = await reports.usage({ ...q, scope: 'deployment', step: 'day' });
    expect(days.periods).toHaveLength(10);
    expect(days.periods[0]!.end).toBe('2026-11-02T05:00:00.000Z'); // a 25-hour day
    expect(days.hashes).toBe(3 * 10);
    for (let i = 0; i < 40; i++) f.book('A', '2026-11-05T16:00:00Z', 1, { input: 1 });
    await flush(f);
    const again = await reports.usage({ ...q, scope: 'deployment', step: 'day' });
    expect(again.hashes).toBe(30);
    expect(again.total.requests).toBe(days.total.requests + 40);
    expect(BigInt(again.total.costPico) - BigInt(days.total.costPico)).toBe(40n);
    // Months from the month buckets, weeks from the keys' week buckets: one hash per key and period.
    const months = await reports.usage({
      scope: 'deployment',
      step: 'month',
      from: cal.parseTime('from', '2026-10'),
      to: cal.parseTime('to', '2026-12'),
    });
    expect(months.hashes).toBe(3 * 2);
    expect(months.periods.map((p) => p.costPico)).toEqual([String(6 * T), String(9 * T + 40)]);
    const weeks = await reports.usage({ ...q, scope: 'deployment', step: 'week' });
    expect(weeks.periods.map((p) => p.period)).toEqual(['2026-10-26', '2026-11-02', '2026-11-09']);
    expect(weeks.hashes).toBe(3 * 3);
    expect(weeks.total.costPico).toBe(again.total.costPico);
  });

  it('keeps a deleted account in its platform and a deleted key in the deployment', async () => {
    const cal = reports.calendar;
    const q = { step: 'month' as const, from: cal.parseTime('from', '2026-10'), to: cal.parseTime('to', '2027-01') };
    const platform = await reports.usage({ ...q, scope: 'platform', id: 'openai' });
    const deployment = await reports.usage({ ...q, scope: 'deployment' });
    expect(platform.total.costPico).toBe(String(5 * T));
    expect((await f.relay.admin.request('DELETE', `/admin/accounts/${f.accounts[1]!.id}`)).status).toBe(204);
    expect((await f.relay.admin.request('DELETE', `/admin/api-keys/${f.keys.C}`)).status).toBe(204);
    expect((await reports.usage({ ...q, scope: 'platform', id: 'openai' })).total).toEqual(platform.total);
    expect((await reports.usage({ ...q, scope: 'deployment' })).total).toEqual(deployment.total);
    const gone = await reports.usage({ ...q, scope: 'account', id: f.accounts[1]!.id });
    expect(gone.name).toBe('openai account');
    expect(gone.total.costPico).toBe(String(5 * T));
    const key = await reports.usage({ ...q, scope: 'key', id: f.keys.C! });
    expect([key.name, key.total.costPico]).toEqual(['C', String(5 * T)]);
  });

  it('gives the same answers through crs reports, and refuses bad flags as usage errors', async () => {
    const env = { ...testEnv(f.relay.config.redisKeyPrefix, { STATS_TIMEZONE: ZONE }) };
    const top = await crs(['reports', 'top', '--from', '2026-11', '--to', '2026-12', '--json'], { env });
    expect(top.stderr).toBe('');
    const lib = await reports.rankings({
      by: 'key',
      metric: 'cost',
      limit: 10,
      from: reports.calendar.parseTime('from', '2026-11'),
      to: reports.calendar.parseTime('to', '2026-12'),
    });
    expect(JSON.parse(top.stdout)).toEqual(JSON.parse(JSON.stringify(lib)));
    const table = await crs(['reports', 'usage', '--step', 'month', '--from', '2026-10', '--to', '2026-12'], { env });
    expect(table.code, table.stderr).toBe(0);
    // $9 and 40 picodollars: the table shows six decimals.
    expect(table.stdout).toMatch(/^2026-11 .*\$9$/m);
    expect(table.stdout).toMatch(/^Total .*\$15$/m);
    const trends = await crs(['reports', 'trends'], { env });
    expect(trends.code, trends.stderr).toBe(0);
    expect(trends.stdout).toMatch(/^month-end forecast +\$/m);
    const bad = await crs(['reports', 'usage', '--step', 'fortnight'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--step: expected one of hour, day, week, month/);
  });
});

describe('trends on crafted usage at fixed instants', () => {
  let f: Fixture;
  const AT = Date.parse('2026-11-15T17:00:00Z'); // 12:00 EST, Sunday 15 November
  beforeAll(async () => {
    f = await fixture(['T', 'U'], AT);
    // The previous month's first 15 days, and a day after them.
    f.book('T', '2026-10-14T16:00:00Z', 3 * T);
    f.book('T', '2026-10-16T16:00:00Z', 5 * T);
    // Both sides of the hour New York repeats: both on 1 November there.
    f.book('T', '2026-11-01T04:30:00Z', T / 4);
    f.book('T', '2026-11-02T04:30:00Z', T / 4);
    f.book('T', '2026-11-02T15:00:00Z', T);
    // The last 7 complete days (8 to 14 November): $0.70 of Sonnet a day, $1.40 of Opus twice.
    for (let d = 8; d <= 14; d++) f.book('T', `2026-11-${String(d).padStart(2, '0')}T20:00:00Z`, (7 * T) / 10);
    f.book('T', '2026-11-10T20:00:00Z', (14 * T) / 10, { model: 'claude-opus-4-5' });
    f.book('T', '2026-11-12T20:00:00Z', (14 * T) / 10, { model: 'claude-opus-4-5' });
    f.book('T', '2026-11-15T14:00:00Z', (6 * T) / 10); // today, 09:00
    f.book('U', '2026-11-03T15:00:00Z', 2 * T);
    f.book('U', '2026-11-13T15:00:00Z', T);
    await flush(f);
    const r = await f.relay.admin.request('PATCH', `/admin/api-keys/${f.keys.T}`, {
      dailyCostLimit: 1,
      weeklyCostLimit: 2.9,
      weeklyCostFamily: 'opus',
      totalCostLimit: 9,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await f.relay.admin.request('DELETE', `/admin/api-keys/${f.keys.U}`)).status).toBe(204);
  });
  afterAll(async () => {
    await f?.relay.close();
  });

  const pico = (events: UsageEvent[]) => events.reduce((n, e) => n + BigInt(e.costPico), 0n);
  const between = (from: string, to: string) =>
    f.booked.filter((e) => e.startedAt >= Date.parse(from) && e.startedAt < Date.parse(to));

  it('forecasts month to date plus the mean of the last 7 complete days times the time left', async () => {
    const t = await f.reportsAt(AT).trends();
    const monthEnd = Date.parse('2026-12-01T05:00:00Z');
    expect(t.daysLeft).toBe(15.5);
    const mtd = pico(between('2026-11-01T04:00:00Z', '2026-11-15T17:00:00Z'));
    const rate = pico(between('2026-11-08T05:00:00Z', '2026-11-15T05:00:00Z').filter((e) => e.keyId === f.keys.T));
    expect(rate).toBe((77n * BigInt(T)) / 10n); // U was deleted: its spend is history, not a pace
    expect(t.deployment.monthToDate.costPico).toBe(String(mtd));
    expect(t.deployment.dailyRunRate.costPico).toBe(String(rate / 7n));
    expect(t.deployment.forecast.costPico).toBe(String(mtd + (rate * BigInt(monthEnd - AT)) / BigInt(7 * DAY)));
    const prev = pico(between('2026-10-01T04:00:00Z', '2026-10-16T04:00:00Z'));
    expect(prev).toBe(3n * BigInt(T));
    expect(t.deployment.previousSameSpan.costPico).toBe(String(prev));
    expect(t.deployment.change).toBe(Math.round(((Number(mtd) - Number(prev)) / Number(prev)) * 1e4) / 100);
    const u = t.keys.find((k) => k.id === f.keys.U)!;
    expect([u.deleted, u.forecast.costPico, u.burns]).toEqual([true, String(3 * T), []]);
  });

  it("projects each limit from its pace: today's for the daily, the family's 7-day mean for the weekly", async () => {
    const t = await f.reportsAt(AT).trends();
    const key = t.keys.find((k) => k.id === f.keys.T)!;
    const burn = Object.fromEntries(key.burns.map((b) => [b.limit, b]));
    // $0.60 in the 12 hours of today: the remaining $0.40 takes 8 hours, before midnight.
    expect(burn.daily).toMatchObject({ reached: false, projectedAt: '2026-11-16T01:00:00.000Z' });
    expect(burn.daily!.resetsAt).toBe('2026-11-16T05:00:00.000Z');
    // Opus this week: $2.80 of $2.90; Opus pace $0.40 a day: 6 hours.
    expect(burn.weekly).toMatchObject({
      used: { costPico: String((28 * T) / 10) },
      projectedAt: '2026-11-15T23:00:00.000Z',
    });
    expect(burn.total).toMatchObject({ reached: true, projectedAt: new Date(AT).toISOString(), resetsAt: null });
    // Later the same day, the daily limit is not reached before it resets.
    const late = await f.reportsAt(Date.parse('2026-11-16T04:00:00Z')).trends();
    const daily = late.keys.find((k) => k.id === f.keys.T)!.burns.find((b) => b.limit === 'daily')!;
    expect(daily.projectedAt).toBeNull();
  });

  it('early in a month: the first hours, the previous month over one day, and last week as the pace', async () => {
    f.book('T', '2026-11-24T16:00:00Z', T);
    f.book('T', '2026-11-30T16:00:00Z', T);
    f.book('T', '2026-12-01T05:10:00Z', T / 10); // 00:10 EST
    await flush(f);
    const at = Date.parse('2026-12-01T05:30:00Z');
    const t = await f.reportsAt(at).trends();
    expect(t.month).toBe('2026-12');
    expect(t.deployment.monthToDate.costPico).toBe(String(T / 10));
    expect(t.deployment.previousSameSpan.costPico).toBe(String(T / 2)); // 1 November only (25 hours)
    const rate = 2n * BigInt(T);
    const left = Date.parse('2027-01-01T05:00:00Z') - at;
    expect(t.deployment.forecast.costPico).toBe(String(BigInt(T / 10) + (rate * BigInt(left)) / BigInt(7 * DAY)));
  });

  it('answers a day report across the hour New York repeats', async () => {
    const r = f.reportsAt(AT);
    const s = await r.usage({
      scope: 'key',
      id: f.keys.T!,
      step: 'day',
      from: r.calendar.parseTime('from', '2026-11-01'),
      to: r.calendar.parseTime('to', '2026-11-03'),
    });
    expect(s.periods.map((p) => [p.period, p.start, p.requests, p.costPico])).toEqual([
      ['2026-11-01', '2026-11-01T04:00:00.000Z', 2, String(T / 2)],
      ['2026-11-02', '2026-11-02T05:00:00.000Z', 1, String(T)],
    ]);
    const hours = await r.usage({
      scope: 'key',
      id: f.keys.T!,
      step: 'hour',
      from: Date.parse('2026-11-15T13:00:00Z'),
      to: Date.parse('2026-11-15T15:00:00Z'),
    });
    expect(hours.periods.map((p) => [p.period, p.requests])).toEqual([
      ['2026-11-15:08', 0],
      ['2026-11-15:09', 1],
    ]);
  });
});
