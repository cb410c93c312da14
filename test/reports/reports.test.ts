import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountId, ApiKeyId } from '../../src/ids.js';
import { readSums, sumGroups } from '../../src/reports/read.js';
import { createUsageRecorder, type UsageEvent } from '../../src/usage/recorder.js';
import { manualClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

/**
 * Reports against usage booked through the real recorder, in a zone eight hours
 * ahead of UTC, with events on both sides of day and month boundaries. Every expected number is
 * summed here from the events themselves, by a day rule of this file's own (UTC + 8 h).
 */
const ZONE = 'Asia/Shanghai';
const H = 3_600_000;
const NOW = Date.parse('2026-12-03T04:00:00Z'); // 12:00 on 3 December in Shanghai
const dayOf = (ms: number) => new Date(ms + 8 * H).toISOString().slice(0, 10);
const monthOf = (ms: number) => dayOf(ms).slice(0, 7);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Booked {
  e: UsageEvent;
  day: string;
}

function sumOf(events: Booked[]) {
  const s = { requests: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreateTokens: 0, costPico: 0n };
  for (const { e } of events) {
    s.requests++;
    s.inputTokens += e.usage.inputTokens;
    s.outputTokens += e.usage.outputTokens;
    s.cacheReadTokens += e.usage.cacheReadTokens;
    s.cacheCreateTokens += e.usage.cacheCreate5mTokens + e.usage.cacheCreate1hTokens;
    s.costPico += BigInt(e.costPico);
  }
  return s;
}

function expectFigures(actual: Json, events: Booked[]) {
  const s = sumOf(events);
  expect({
    requests: actual.requests,
    inputTokens: actual.inputTokens,
    outputTokens: actual.outputTokens,
    cacheReadTokens: actual.cacheReadTokens,
    cacheCreateTokens: actual.cacheCreateTokens,
    costPico: actual.costPico,
  }).toEqual({ ...s, costPico: String(s.costPico) });
  const allInput = s.inputTokens + s.cacheReadTokens + s.cacheCreateTokens;
  if (allInput > 0) expect(actual.cacheHitRate).toBeCloseTo(s.cacheReadTokens / allInput, 5);
}

describe('reports over the usage buckets, through the admin API', () => {
  let relay: TestRelay;
  const keys: { id: ApiKeyId; name: string }[] = [];
  const accounts: { id: AccountId; platform: string }[] = [];
  let groupId = '';
  const booked: Booked[] = [];

  beforeAll(async () => {
    const clock = manualClock(NOW);
    relay = await startTestRelay({ env: { STATS_TIMEZONE: ZONE }, clock });
    const admin = relay.admin;
    for (const name of ['=HYPERLINK("http://x")', '+1 ops', '-2 team', '@alice', 'plain, "quoted"']) {
      const r = await admin.request<{ id: ApiKeyId }>('POST', '/admin/api-keys', { name });
      expect(r.status).toBe(201);
      keys.push({ id: r.body.id, name });
    }
    for (const platform of ['claude', 'claude', 'openai']) {
      const r = await admin.request<{ id: AccountId }>('POST', '/admin/accounts', {
        platform,
        type: 'api-key',
        name: `${platform} ${accounts.length}`,
        apiKey: platform === 'claude' ? `sk-ant-api03-${'a'.repeat(32)}` : `sk-${'b'.repeat(40)}`,
        baseUrl: 'http://127.0.0.1:9',
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      accounts.push({ id: r.body.id, platform });
    }
    const g = await admin.request<{ id: string }>('POST', '/admin/groups', {
      name: 'team claude',
      platform: 'claude',
      accountIds: [accounts[0]!.id, accounts[1]!.id],
    });
    expect(g.status, JSON.stringify(g.body)).toBe(201);
    groupId = g.body.id;

    // Events: every 7 hours over 12 days before NOW, plus some a second either side of midnight
    // on 30 November / 1 December (a month boundary in Shanghai).
    const times: number[] = [];
    for (let t = NOW - 12 * 24 * H; t < NOW; t += 7 * H) times.push(t);
    const midnight = Date.parse('2026-11-30T16:00:00Z');
    times.push(midnight - 1000, midnight, midnight + 1000, midnight - 1);
    const recorder = createUsageRecorder({
      store: relay.instance.store,
      log: silentLogger,
      timeZone: ZONE,
      recordsKept: 1000,
    });
    let n = 0;
    for (const startedAt of times) {
      const account = accounts[n % 3]!;
      const model = account.platform === 'openai' ? 'gpt-5' : n % 2 ? 'claude-sonnet-5-5' : 'claude-opus-4-5';
      const e: UsageEvent = {
        requestId: `req-${n}`,
        keyId: keys[n % keys.length]!.id,
        accountId: account.id,
        platform: account.platform,
        model,
        endpoint: '/v1/messages',
        stream: n % 2 === 0,
        status: 200,
        outcome: 'ok',
        usage: {
          inputTokens: 100 + n * 7,
          outputTokens: 20 + n,
          cacheCreate5mTokens: n % 3 === 0 ? 50 : 0,
          cacheCreate1hTokens: n % 5 === 0 ? 30 : 0,
          cacheReadTokens: n % 2 === 0 ? 400 + n : 0,
          webSearchRequests: 0,
        },
        // Past 2^53 when summed as a float of dollars would not be: picodollars stay integers.
        costPico: 1_234_567_890_123 + n * 999_999_999_999,
        pricedAs: model,
        priceSource: 'exact',
        startedAt,
        durationMs: 1500,
        ttfbMs: 200,
      };
      await recorder.record(e);
      booked.push({ e, day: dayOf(startedAt) });
      n++;
    }
    expect(await recorder.flush(10_000)).toBe(true);
  });
  afterAll(async () => {
    await relay?.close();
  });

  const get = async (path: string) => relay.admin.request<Json>('GET', path);

  it('answers usage per day for the deployment, exact to the token and picodollar, cut at Shanghai midnight', async () => {
    const r = await get('/admin/reports/usage?scope=deployment&step=day&from=2026-11-20&to=2026-12-04');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.timeZone).toBe(ZONE);
    expect(r.body.from).toBe('2026-11-19T16:00:00.000Z');
    expect(r.body.periods).toHaveLength(14);
    for (const p of r.body.periods as Json[])
      expectFigures(
        p,
        booked.filter((b) => b.day === p.period),
      );
    expectFigures(r.body.total, booked);
    const nov30 = (r.body.periods as Json[]).find((p) => p.period === '2026-11-30')!;
    const dec1 = (r.body.periods as Json[]).find((p) => p.period === '2026-12-01')!;
    expect(nov30.requests).toBe(booked.filter((b) => b.day === '2026-11-30').length);
    expect(dec1.requests).toBe(booked.filter((b) => b.day === '2026-12-01').length);
  });

  it('answers per month from the month buckets, per week, and per key, account, platform, group and model', async () => {
    const months = await get('/admin/reports/usage?scope=deployment&step=month&from=2026-11&to=2027-01');
    expect(months.body.periods.map((p: Json) => p.period)).toEqual(['2026-11', '2026-12']);
    for (const p of months.body.periods as Json[])
      expectFigures(
        p,
        booked.filter((b) => monthOf(b.e.startedAt) === p.period),
      );

    const weeks = await get('/admin/reports/usage?scope=deployment&step=week&from=2026-11-23&to=2026-12-07');
    expect(weeks.body.periods.map((p: Json) => p.period)).toEqual(['2026-11-23', '2026-11-30']);
    expectFigures(
      weeks.body.periods[1],
      booked.filter((b) => b.day >= '2026-11-30' && b.day <= '2026-12-06'),
    );

    const range = 'step=day&from=2026-11-20&to=2026-12-04';
    const key = keys[1]!;
    const byKey = await get(`/admin/reports/usage?scope=key&id=${key.id}&${range}`);
    expect(byKey.body.name).toBe(key.name);
    expectFigures(
      byKey.body.total,
      booked.filter((b) => b.e.keyId === key.id),
    );
    const byAccount = await get(`/admin/reports/usage?scope=account&id=${accounts[2]!.id}&${range}`);
    expectFigures(
      byAccount.body.total,
      booked.filter((b) => b.e.accountId === accounts[2]!.id),
    );
    const claude = await get(`/admin/reports/usage?scope=platform&id=claude&${range}`);
    expectFigures(
      claude.body.total,
      booked.filter((b) => b.e.platform === 'claude'),
    );
    const group = await get(`/admin/reports/usage?scope=group&id=${groupId}&${range}`);
    expectFigures(
      group.body.total,
      booked.filter((b) => b.e.accountId !== accounts[2]!.id),
    );
    const model = await get(`/admin/reports/usage?scope=model&id=claude-opus-4-5&${range}`);
    expectFigures(
      model.body.total,
      booked.filter((b) => b.e.model === 'claude-opus-4-5'),
    );
    for (const p of model.body.periods as Json[])
      expectFigures(
        p,
        booked.filter((b) => b.e.model === 'claude-opus-4-5' && b.day === p.period),
      );
  });

  it('ranks keys, accounts and models against the previous period of the same length', async () => {
    const r = await get('/admin/reports/rankings?by=key&metric=cost&from=2026-11-28&to=2026-12-03&limit=3');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.previousFrom).toBe(new Date(Date.parse('2026-11-23T00:00:00+08:00')).toISOString());
    const inSpan = (from: string, to: string) => booked.filter((b) => b.day >= from && b.day < to);
    const expected = keys
      .map((k) => {
        const now = sumOf(inSpan('2026-11-28', '2026-12-03').filter((b) => b.e.keyId === k.id)).costPico;
        const before = sumOf(inSpan('2026-11-23', '2026-11-28').filter((b) => b.e.keyId === k.id)).costPico;
        return { id: k.id, now, before };
      })
      .sort((a, b) => (b.now > a.now ? 1 : b.now < a.now ? -1 : 0))
      .slice(0, 3);
    expect(r.body.rows.map((x: Json) => x.id)).toEqual(expected.map((x) => x.id));
    for (const [i, row] of (r.body.rows as Json[]).entries()) {
      const e = expected[i]!;
      expect(row.figures.costPico).toBe(String(e.now));
      const change = ((Number(e.now) - Number(e.before)) / Number(e.before)) * 100;
      expect(row.change).toBeCloseTo(change, 1);
    }
    const models = await get('/admin/reports/rankings?by=model&metric=requests&from=2026-11-21&to=2026-12-04');
    const counts = new Map<string, number>();
    for (const b of booked.filter((x) => x.day >= '2026-11-21'))
      counts.set(b.e.model, (counts.get(b.e.model) ?? 0) + 1);
    expect(Object.fromEntries(models.body.rows.map((x: Json) => [x.id, x.value]))).toEqual(Object.fromEntries(counts));
    const accountsRank = await get('/admin/reports/rankings?by=account&metric=tokens&from=2026-11-21&to=2026-12-04');
    expect(accountsRank.body.rows).toHaveLength(3);
    expect(accountsRank.body.rows[0].platform).toMatch(/claude|openai/);
  });

  it('forecasts the month from month to date and the mean of the last 7 complete days', async () => {
    const r = await get('/admin/reports/trends');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const mtd = booked.filter((b) => b.day >= '2026-12-01' && b.day <= '2026-12-03');
    expectFigures(r.body.deployment.monthToDate, mtd);
    const last7 = booked.filter((b) => b.day >= '2026-11-26' && b.day <= '2026-12-02');
    const rate = Number(sumOf(last7).costPico) / 1e12 / 7;
    const left = (Date.parse('2026-12-31T16:00:00Z') - NOW) / (24 * H);
    expect(r.body.deployment.dailyRunRate.cost).toBeCloseTo(rate, 4);
    expect(r.body.deployment.forecast.cost).toBeCloseTo(Number(sumOf(mtd).costPico) / 1e12 + rate * left, 3);
    const prev = booked.filter((b) => b.day >= '2026-11-01' && b.day <= '2026-11-03');
    expectFigures(r.body.deployment.previousSameSpan, prev);
  });

  it('projects when a key reaches its budgets at its current pace', async () => {
    const key = keys[0]!;
    const spentToday = Number(sumOf(booked.filter((b) => b.e.keyId === key.id && b.day === '2026-12-03')).costPico);
    const total = Number(sumOf(booked.filter((b) => b.e.keyId === key.id)).costPico) / 1e12;
    await relay.admin.request('PATCH', `/admin/api-keys/${key.id}`, {
      dailyCostLimit: 1000,
      totalCostLimit: total + 5,
    });
    const r = await get('/admin/reports/trends');
    const row = (r.body.keys as Json[]).find((k) => k.id === key.id)!;
    const daily = (row.burns as Json[]).find((b) => b.limit === 'daily')!;
    expect(daily.used.costPico).toBe(String(spentToday));
    // $1000 at today's pace is not reached before midnight.
    expect(daily.projectedAt).toBeNull();
    const totalBurn = (row.burns as Json[]).find((b) => b.limit === 'total')!;
    expect(totalBurn.used.cost).toBeCloseTo(total, 6);
    const last7 = booked.filter((b) => b.e.keyId === key.id && b.day >= '2026-11-26' && b.day <= '2026-12-02');
    const perDay = Number(sumOf(last7).costPico) / 1e12 / 7;
    expect(Date.parse(totalBurn.projectedAt)).toBeCloseTo(NOW + (5 / perDay) * 24 * H, -3);
  });

  it('refuses what the buckets cannot answer, with the reason', async () => {
    for (const [path, message] of [
      ['/admin/reports/usage?scope=galaxy', /scope: expected one of/],
      ['/admin/reports/usage?step=minute', /step: expected one of/],
      ['/admin/reports/usage?from=last-week', /from must be a date/],
      ['/admin/reports/usage?scope=key', /id is required/],
      ['/admin/reports/usage?step=hour&from=2026-11-01&to=2026-11-02', /hourly usage buckets are kept 8 days/],
      ['/admin/reports/usage?scope=model&id=gpt-5&step=hour&from=2026-12-02', /kept per day/],
      ['/admin/reports/usage?from=2026-12-03&to=2026-12-01', /from must be before to/],
      ['/admin/reports/rankings?metric=vibes', /metric: expected one of/],
      ['/admin/reports/rankings?limit=0', /limit: expected an integer from 1 to 1000/],
      ['/admin/reports/rankings?by=team', /by: expected one of key, account, model/],
      ['/admin/reports/usage?stpe=day', /stpe: not a parameter of this report/],
      ['/admin/reports/usage?id=k_x', /id: not used with scope deployment/],
      ['/admin/reports/usage?scope=platform&id=mars', /id must be a platform/],
      ['/admin/reports/usage?scope=key&id=k_0000000000000000', /No API key k_0000000000000000/],
      ['/admin/reports/usage?from=2020-01&to=2026-01&step=month', /at most three years/],
      ['/admin/reports/trends?keys=all', /keys: expected an integer/],
    ] as const) {
      const r = await get(path);
      expect(r.status, path).toBe(path.includes('k_0000') ? 404 : 400);
      expect(r.body.error.message, path).toMatch(message);
    }
    expect((await relay.admin.request('GET', '/admin/reports/usage', undefined, 'not-a-token')).status).toBe(401);
  });

  it('keeps a deleted key in the deployment totals and the rankings', async () => {
    const before = await get('/admin/reports/usage?scope=deployment&step=month&from=2026-11&to=2027-01');
    expect((await relay.admin.request('DELETE', `/admin/api-keys/${keys[4]!.id}`)).status).toBe(204);
    const after = await get('/admin/reports/usage?scope=deployment&step=month&from=2026-11&to=2027-01');
    expect(after.body.total).toEqual(before.body.total);
    const rank = await get('/admin/reports/rankings?by=key&from=2026-11-20&to=2026-12-04&limit=10');
    expect(rank.body.rows.find((r: Json) => r.id === keys[4]!.id)).toMatchObject({
      deleted: true,
      name: keys[4]!.name,
    });
  });

  it('sums a large read on a pool thread to the same figures as on the event loop', async () => {
    const { store, deps } = relay.instance;
    const k = store.keys;
    const days = [...new Set(booked.map((b) => b.day))];
    // 2,500 hashes: above the threshold, so the summing goes to a pool thread.
    const group = Array.from({ length: 2_500 }, (_, i) => k.keyUsageDaily(keys[i % 4]!.id, days[i % days.length]!));
    const before = deps.work.stats().completed;
    const pooled = await sumGroups({ redis: store.redis, work: deps.work }, [group, group.slice(7)]);
    expect(deps.work.stats().completed).toBe(before + 1);
    expect(pooled).toEqual(await readSums(store.redis, [group, group.slice(7)]));
    expect(Number(pooled[0]!.requests)).toBeGreaterThan(0);
  });
});
