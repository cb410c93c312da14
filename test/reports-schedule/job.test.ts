import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatRobots, type ChatRobots } from '../fakes/chat-robots.js';
import { startSmtp, type FakeSmtp } from '../fakes/smtp.js';
import { startTestRelay, TEST_ENCRYPTION_KEY, type TestRelay } from '../support/relay.js';
import type { AccountId, ApiKeyId } from '../../src/ids.js';
import { startJobs, type Jobs } from '../../src/jobs/index.js';
import type { ReportSummary } from '../../src/jobs/report-summary.js';
import { createUsageRecorder, type UsageEvent } from '../../src/usage/recorder.js';
import { manualClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';

/**
 * Scheduled reports on real Redis (standalone and Cluster), driven by hand on an injected clock:
 * two nodes' jobs, usage booked through the real recorder on three days in Shanghai, an incident
 * raised by the real alert engine, a real SMTP server and a signed-webhook receiver. A report is
 * sent once per (period, channel) across lease handovers, a missed send time is caught up, and
 * the figures equal sums made here from the booked events.
 */
const ZONE = 'Asia/Shanghai';
const H = 3_600_000;
const t = (iso: string) => Date.parse(iso);
/** Shanghai is UTC+8 all year: this file's own day rule. */
const dayOf = (ms: number) => new Date(ms + 8 * H).toISOString().slice(0, 10);
const WEBHOOK_SECRET = 'whsec_' + Buffer.from('scheduled reports, signed').toString('base64');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('scheduled reports through the alert channels', () => {
  const clock = manualClock(t('2026-12-02T02:00:00Z')); // 10:00 on 2 December in Shanghai
  let relay: TestRelay;
  let robots: ChatRobots;
  let smtp: FakeSmtp;
  const nodes = new Map<string, Jobs>();
  const keys: { id: ApiKeyId; name: string }[] = [];
  const accounts: { id: AccountId; name: string; platform: string }[] = [];
  const channels: string[] = [];
  const booked: UsageEvent[] = [];

  const jobsOn = async (node: string) => {
    const jobs = await startJobs({
      config: { ...relay.config, nodeId: node },
      store: relay.instance.store,
      encryptionKey: TEST_ENCRYPTION_KEY,
      log: silentLogger,
      clock,
      startLoop: false,
    });
    nodes.set(node, jobs);
    return jobs;
  };
  /** Every node runs a round, and waits for the background jobs (reports) it started. */
  const round = async (advanceMs = 6_000) => {
    for (const jobs of nodes.values()) {
      await jobs.tick();
      await jobs.idle();
    }
    clock.advance(advanceMs);
  };
  const reportHooks = () =>
    robots.received.webhook.map((m) => m.body as unknown as Json).filter((b) => String(b.type).startsWith('report.'));
  const reportMails = () => smtp.messages.filter((m) => (m.subject ?? '').startsWith('Daily report'));
  const counts = () => [reportMails().length, reportHooks().length];
  const holder = () => [...nodes.entries()].find(([, j]) => j.lease.held())?.[0];

  beforeAll(async () => {
    robots = await startChatRobots({ secrets: { webhook: WEBHOOK_SECRET } });
    smtp = await startSmtp({ user: 'reports', pass: 'smtp-password-2' });
    relay = await startTestRelay({ clock, env: { STATS_TIMEZONE: ZONE, PUBLIC_URL: 'https://relay.example.com' } });
    const admin = relay.admin;
    for (const name of ['=SUM(A1)', 'team alpha', 'team beta'])
      keys.push({ ...(await admin.createKey({ name })), name } as never);
    for (const [name, platform] of [
      ['claude one', 'claude'],
      ['claude two', 'claude'],
      ['openai one', 'openai'],
    ] as const) {
      const { id } = await admin.createAccount({
        platform,
        name,
        apiKey:
          platform === 'claude' ? `sk-ant-api03-${name.replace(' ', '')}-0123456789abcdef` : `sk-${'c'.repeat(40)}`,
        baseUrl: 'http://127.0.0.1:9',
      });
      accounts.push({ id: id as AccountId, name, platform });
    }
    const email = await admin.request<{ id: string }>('POST', '/admin/alerts/channels', {
      type: 'email',
      name: 'finance mail',
      settings: {
        host: '127.0.0.1',
        port: String(smtp.port),
        secure: 'none',
        username: 'reports',
        from: 'Relay <relay@example.com>',
        to: 'finance@example.com',
      },
      secrets: { password: 'smtp-password-2' },
    });
    const hook = await admin.request<{ id: string }>('POST', '/admin/alerts/channels', {
      type: 'webhook',
      name: 'bi',
      secrets: { url: robots.urls.webhook, secret: WEBHOOK_SECRET },
    });
    expect([email.status, hook.status]).toEqual([201, 201]);
    channels.push(email.body.id, hook.body.id);

    // Usage on 1, 2 and 3 December (Shanghai), through the real recorder.
    const recorder = createUsageRecorder({
      store: relay.instance.store,
      log: silentLogger,
      timeZone: ZONE,
      recordsKept: 100,
    });
    const models = ['claude-sonnet-4-5', 'claude-opus-4-5', 'gpt-5'];
    let n = 0;
    for (let at = t('2026-11-30T17:00:00Z'); at < t('2026-12-03T12:00:00Z'); at += 5 * H) {
      const a = accounts[n % 3]!;
      const e: UsageEvent = {
        requestId: `req-${n}`,
        keyId: keys[(n * 7) % 3]!.id,
        accountId: a.id,
        platform: a.platform,
        model: a.platform === 'openai' ? models[2]! : models[n % 2]!,
        endpoint: '/v1/messages',
        stream: true,
        status: n % 4 === 3 ? 529 : 200,
        outcome: n % 4 === 3 ? 'error' : 'ok',
        usage: {
          inputTokens: 1000 + n * 13,
          outputTokens: 200 + n,
          cacheCreate5mTokens: n % 3 === 0 ? 64 : 0,
          cacheCreate1hTokens: 0,
          cacheReadTokens: n % 2 === 0 ? 5000 + n : 0,
          webSearchRequests: 0,
        },
        costPico: 3_000_000_000 + n * 987_654_321_011 + (n % 3) * 5_000_000_000_000,
        pricedAs: 'exact',
        priceSource: 'exact',
        startedAt: at,
        durationMs: 900,
        ttfbMs: 100,
      };
      await recorder.record(e);
      booked.push(e);
      n++;
    }
    expect(await recorder.flush(10_000)).toBe(true);

    await jobsOn('node-a');
    await jobsOn('node-b');
  });

  afterAll(async () => {
    for (const j of nodes.values()) await j.stop();
    await relay?.close();
    await Promise.all([robots?.close(), smtp?.close()]);
  });

  it('an incident on 2 December, raised and resolved by the real alert engine', async () => {
    const health = relay.instance.deps.health;
    await health.markUnauthorized(accounts[0]!.id, 401, 'invalid x-api-key');
    relay.instance.deps.events.emit('account.unauthorized', { accountId: accounts[0]!.id, status: 401 });
    await round(15_000);
    await round(H);
    await health.reset(accounts[0]!.id);
    relay.instance.deps.events.emit('account.reset', { accountId: accounts[0]!.id });
    await round(20_000);
    await round();
    const history = (await relay.admin.request<Json>('GET', '/admin/alerts?limit=50')).body.history as Json[];
    expect(history.map((h) => `${h.rule} ${h.to}`)).toContain('account_unauthorized resolved');
  });

  it('a schedule sends nothing before its first send time; then the report once to each channel', async () => {
    clock.set(t('2026-12-02T23:00:00Z')); // 07:00 on 3 December
    const put = await relay.admin.request<Json>('PUT', '/admin/reports/schedules/daily', { channels, hour: 8 });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.next).toEqual({ period: '2026-12-02', at: '2026-12-03T00:00:00.000Z' });
    const bad = await relay.admin.request<Json>('PUT', '/admin/reports/schedules/daily', {
      channels: ['ch_0000000000000000'],
    });
    expect(bad.status).toBe(400);
    await round();
    await round();
    expect(counts()).toEqual([0, 0]);

    clock.set(t('2026-12-03T00:00:00Z')); // 08:00
    for (let i = 0; i < 5; i++) await round();
    expect(counts()).toEqual([1, 1]);
    expect(robots.rejected.filter((r) => r.platform === 'webhook')).toEqual([]);
    expect(reportHooks()[0]).toMatchObject({ type: 'report.daily', period: { name: '2026-12-02' } });
    const list = (await relay.admin.request<Json>('GET', '/admin/reports/schedules')).body;
    expect(list.items[0].next).toEqual({ period: '2026-12-03', at: '2026-12-04T00:00:00.000Z' });
  });

  it('the figures equal sums of the booked events: totals, change, top keys, accounts and models, the CSV', () => {
    const of = (day: string) => booked.filter((e) => dayOf(e.startedAt) === day);
    const sum = (events: UsageEvent[]) => ({
      requests: events.length,
      errors: events.filter((e) => e.outcome === 'error').length,
      inputTokens: events.reduce((s, e) => s + e.usage.inputTokens, 0),
      outputTokens: events.reduce((s, e) => s + e.usage.outputTokens, 0),
      cacheCreateTokens: events.reduce((s, e) => s + e.usage.cacheCreate5mTokens + e.usage.cacheCreate1hTokens, 0),
      cacheReadTokens: events.reduce((s, e) => s + e.usage.cacheReadTokens, 0),
      costPico: String(events.reduce((s, e) => s + BigInt(e.costPico), 0n)),
    });
    const day = of('2026-12-02');
    const before = of('2026-12-01');
    expect(day.length).toBeGreaterThan(3);
    const report = reportHooks()[0]!.report as ReportSummary;
    expect(report.period).toEqual({
      name: '2026-12-02',
      start: '2026-12-01T16:00:00.000Z',
      end: '2026-12-02T16:00:00.000Z',
    });
    expect(report.totals).toMatchObject(sum(day));
    expect(report.previousTotals).toMatchObject(sum(before));
    expect(report.change.requests).toBe(Math.round(((day.length - before.length) / before.length) * 1e4) / 100);

    /** The ranking of `by`, made here: cost per subject, highest first. */
    const ranking = (by: (e: UsageEvent) => string) => {
      const groups = new Map<string, UsageEvent[]>();
      for (const e of day) groups.set(by(e), [...(groups.get(by(e)) ?? []), e]);
      return [...groups.entries()]
        .map(([id, events]) => ({ id, ...sum(events) }))
        .sort((a, b) => (BigInt(b.costPico) > BigInt(a.costPico) ? 1 : -1));
    };
    const pick = (rows: Json[]) => rows.map((r) => ({ id: r.id, requests: r.requests, costPico: r.costPico }));
    const expected = {
      keys: ranking((e) => e.keyId),
      accounts: ranking((e) => e.accountId),
      models: ranking((e) => e.model),
    };
    for (const list of ['keys', 'accounts', 'models'] as const)
      expect(pick(report.top[list]), list).toEqual(pick(expected[list]));
    expect(report.top.keys.find((r) => r.id === keys[0]!.id)?.name).toBe('=SUM(A1)');
    expect(report.top.accounts.map((r) => r.name).sort()).toEqual(accounts.map((a) => a.name).sort());

    const incident = report.incidents.find((i) => i.rule === 'account_unauthorized');
    expect(incident?.subject).toContain('claude one');
    expect(incident?.resolvedAt).not.toBeNull();

    const mail = reportMails()[0]!;
    expect(mail.html).toContain('Top keys by cost');
    expect(mail.text).toContain('Cost: $');
    const csv = mail.attachments[0]!;
    expect(csv.filename).toBe('report-daily-2026-12-02.csv');
    const records = parse(csv.content.toString('utf8'), { bom: true, columns: true }) as Json[];
    const rows = (group: string) => records.filter((r) => r.group === group);
    expect(rows('deployment')[0]).toMatchObject({ requests: String(day.length), costPico: sum(day).costPico });
    const csvPick = (rs: Json[]) => rs.map((r) => ({ id: r.id, requests: Number(r.requests), costPico: r.costPico }));
    expect(csvPick(rows('key'))).toEqual(pick(expected.keys));
    expect(csvPick(rows('account'))).toEqual(pick(expected.accounts));
    expect(csvPick(rows('model'))).toEqual(pick(expected.models));
    expect(rows('key').find((r) => r.id === keys[0]!.id)?.name).toBe("'=SUM(A1)");
  });

  it('after a lease handover it is not sent again; a missed send time is caught up once, by the next holder', async () => {
    const first = holder() as string;
    await nodes.get(first)?.stop();
    nodes.delete(first);
    for (let i = 0; i < 4; i++) await round();
    expect(holder()).toBeDefined();
    expect(counts()).toEqual([1, 1]);

    // Nobody runs the jobs through 08:00 on 4 December; at 10:00 the holder queues the 3rd's
    // report and dies before delivering it: a new node takes over and delivers it, once.
    clock.set(t('2026-12-04T02:00:00Z'));
    const second = holder() as string;
    const jobs = nodes.get(second) as Jobs;
    await jobs.tick();
    await jobs.idle();
    expect(counts()).toEqual([1, 1]);
    await jobs.stop();
    nodes.delete(second);
    await jobsOn('node-c');
    for (let i = 0; i < 4; i++) await round();
    expect(counts()).toEqual([2, 2]);
    expect(reportHooks().map((h) => h.period.name)).toEqual(['2026-12-02', '2026-12-03']);
    // The 3rd's totals: the events booked on it.
    expect(reportHooks()[1]?.report.totals.requests).toBe(
      booked.filter((e) => dayOf(e.startedAt) === '2026-12-03').length,
    );
  });

  it('"send now" sends the last complete period again, as a new message, once', async () => {
    const r = await relay.admin.request<Json>('POST', '/admin/reports/schedules/daily/send');
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body).toMatchObject({ kind: 'daily', period: '2026-12-03', channels });
    for (let i = 0; i < 4; i++) await round();
    expect(counts()).toEqual([3, 3]);
    const hooks = reportHooks();
    expect(hooks[2]?.period.name).toBe('2026-12-03');
    expect(hooks[2]?.id).not.toBe(hooks[1]?.id);
    const deliveries = (await relay.admin.request<Json>('GET', '/admin/alerts/deliveries?limit=100')).body
      .items as Json[];
    const sent = deliveries.filter((d) => d.kind === 'report' && d.status === 'sent');
    expect(sent).toHaveLength(6);
    expect(new Set(sent.map((d) => d.rule))).toEqual(new Set(['report.daily']));
  });
});
