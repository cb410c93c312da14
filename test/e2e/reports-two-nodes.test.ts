import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startChatRobots, type ChatRobots } from '../fakes/chat-robots.js';
import { startSmtp, type FakeSmtp } from '../fakes/smtp.js';
import { AdminClient, testEnv, uniquePrefix } from '../support/relay.js';
import type { AccountId, ApiKeyId } from '../../src/ids.js';
import { loadConfig } from '../../src/config/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createUsageRecorder, type UsageEvent } from '../../src/usage/recorder.js';
import { silentLogger } from '../../src/util/log.js';
import { freePort, freshRequest, pollUntil, spawnRelay, type RelayProcess } from './process.js';

/**
 * The scheduled reports on a two-node deployment: two relay processes (each its own
 * primary and jobs loop) on one Redis. Yesterday's usage (Shanghai) is booked through the real
 * recorder, today's through real relay traffic; a daily schedule whose send time has passed makes
 * yesterday's report arrive once at a real SMTP server (CSV attached) and once at a signed
 * webhook receiver, with figures equal to sums made here. Then the lease holder is killed: the
 * other node takes over and sends nothing again.
 */

const ZONE = 'Asia/Shanghai';
const H = 3_600_000;
const dayOf = (ms: number) => new Date(ms + 8 * H).toISOString().slice(0, 10);
const WEBHOOK_SECRET = 'whsec_' + Buffer.from('reports from two nodes').toString('base64');
/** The report job looks every 5 s; a few rounds more than that. */
const QUIET_MS = 7_000;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.skipIf(inject('redisTarget').kind === 'cluster')('scheduled reports on a two-node deployment', () => {
  let upstream: FakeAnthropic;
  let robots: ChatRobots;
  let smtp: FakeSmtp;
  let store: Store;
  const nodes = new Map<string, RelayProcess>();
  let admin: AdminClient;
  const prefix = uniquePrefix();
  const keys: { id: ApiKeyId; key: string; name: string }[] = [];
  let accountId: AccountId;
  const booked: UsageEvent[] = [];
  const channels: string[] = [];
  const yesterday = dayOf(Date.now() - 24 * H);

  const hooks = () =>
    robots.received.webhook.map((m) => m.body as unknown as Json).filter((b) => String(b.type).startsWith('report.'));
  const mails = () => smtp.messages.filter((m) => (m.subject ?? '').startsWith('Daily report'));
  const counts = () => [mails().length, hooks().length];

  beforeAll(async () => {
    upstream = await startFakeAnthropic();
    upstream.setDefault({ kind: 'message', usage: { input_tokens: 7, output_tokens: 3 } });
    robots = await startChatRobots({ secrets: { webhook: WEBHOOK_SECRET } });
    smtp = await startSmtp({ user: 'reports', pass: 'smtp-password-3' });
    for (const node of ['node-a', 'node-b']) {
      const env = testEnv(prefix, {
        PORT: String(await freePort()),
        NODE_ID: node,
        JOBS_LEASE_TTL: '2s',
        PROBES: 'off',
        STATS_TIMEZONE: ZONE,
        PUBLIC_URL: 'https://relay.example.com',
      });
      nodes.set(node, await spawnRelay(env));
    }
    store = await openStore({ target: loadConfig(testEnv(prefix)).redis, keyPrefix: prefix, log: silentLogger });
    admin = new AdminClient((nodes.get('node-a') as RelayProcess).url);
    await admin.login();
    ({ id: accountId } = (await admin.createAccount({
      name: 'team-main',
      apiKey: 'sk-ant-api03-main-0123456789abcdef',
      baseUrl: upstream.url,
    })) as { id: AccountId });
    for (const name of ['@finance', 'research']) {
      const k = await admin.createKey({ name });
      keys.push({ id: k.id as ApiKeyId, key: k.key, name });
    }
    // Yesterday, in Shanghai: the real recorder, as the relay books.
    const start = Date.parse(`${yesterday}T00:00:00+08:00`);
    const recorder = createUsageRecorder({ store, log: silentLogger, timeZone: ZONE, recordsKept: 100 });
    for (let i = 0; i < 11; i++) {
      const e: UsageEvent = {
        requestId: `yesterday-${i}`,
        keyId: keys[i % 3 === 0 ? 0 : 1]!.id,
        accountId,
        platform: 'claude',
        model: i % 2 ? 'claude-opus-4-5' : 'claude-sonnet-4-5',
        endpoint: '/v1/messages',
        stream: false,
        status: i === 4 ? 529 : 200,
        outcome: i === 4 ? 'error' : 'ok',
        usage: {
          inputTokens: 500 + i,
          outputTokens: 90 + i,
          cacheCreate5mTokens: 10,
          cacheCreate1hTokens: 0,
          cacheReadTokens: 2000,
          webSearchRequests: 0,
        },
        costPico: 1_000_000_000_000 + i * 123_456_789_012,
        pricedAs: 'exact',
        priceSource: 'exact',
        startedAt: start + i * 2 * H + 60_000,
        durationMs: 800,
        ttfbMs: 90,
      };
      await recorder.record(e);
      booked.push(e);
    }
    expect(await recorder.flush(10_000)).toBe(true);
    // Today, through both nodes: not in yesterday's report.
    for (const node of nodes.values()) {
      const r = await freshRequest(`${node.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': keys[1]!.key },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 5,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      expect(r.status).toBe(200);
    }
  });

  afterAll(async () => {
    for (const n of nodes.values()) n.killGroup();
    await store?.close();
    await Promise.all([upstream?.close(), robots?.close(), smtp?.close()]);
  });

  it("yesterday's report arrives once by email (CSV attached) and once by signed webhook, with the booked numbers", async () => {
    for (const c of [
      {
        type: 'email',
        name: 'finance',
        settings: {
          host: '127.0.0.1',
          port: String(smtp.port),
          secure: 'none',
          username: 'reports',
          from: 'Relay <relay@example.com>',
          to: 'finance@example.com',
        },
        secrets: { password: 'smtp-password-3' },
      },
      { type: 'webhook', name: 'bi', secrets: { url: robots.urls.webhook, secret: WEBHOOK_SECRET } },
    ]) {
      const r = await admin.request<{ id: string }>('POST', '/admin/alerts/channels', c);
      expect(r.status).toBe(201);
      channels.push(r.body.id);
    }
    // Send hour 0: yesterday's send time (midnight) has passed, whenever this runs.
    const put = await admin.request<Json>('PUT', '/admin/reports/schedules/daily', { channels, hour: 0 });
    expect(put.status, JSON.stringify(put.body)).toBe(200);

    await pollUntil('the report on both channels', () => (counts().every((c) => c >= 1) ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, QUIET_MS));
    expect(counts()).toEqual([1, 1]);
    // The receiver checked the Standard Webhooks signature (a bad one is a 401 there).
    expect(robots.rejected.filter((r) => r.platform === 'webhook')).toEqual([]);

    const hook = hooks()[0]!;
    expect(hook.type).toBe('report.daily');
    expect(hook.period.name).toBe(yesterday);
    expect(hook.url).toBe(`https://relay.example.com/admin/reports?period=daily&name=${yesterday}`);
    const report = hook.report;
    const costOf = (events: UsageEvent[]) => String(events.reduce((s, e) => s + BigInt(e.costPico), 0n));
    expect(report.totals).toMatchObject({
      requests: booked.length,
      errors: 1,
      inputTokens: booked.reduce((s, e) => s + e.usage.inputTokens, 0),
      outputTokens: booked.reduce((s, e) => s + e.usage.outputTokens, 0),
      cacheReadTokens: 2000 * booked.length,
      cacheCreateTokens: 10 * booked.length,
      costPico: costOf(booked),
    });
    const perKey = keys
      .map((k) => ({ id: k.id, name: k.name, events: booked.filter((e) => e.keyId === k.id) }))
      .sort((a, b) => (BigInt(costOf(b.events)) > BigInt(costOf(a.events)) ? 1 : -1));
    expect(report.top.keys.map((r: Json) => [r.id, r.name, r.requests, r.costPico])).toEqual(
      perKey.map((k) => [k.id, k.name, k.events.length, costOf(k.events)]),
    );
    expect(report.top.accounts.map((r: Json) => [r.name, r.costPico])).toEqual([['team-main', costOf(booked)]]);

    const mail = mails()[0]!;
    expect(mail.subject).toContain(`Daily report ${yesterday}`);
    expect(mail.html).toContain('team-main');
    const attachment = mail.attachments.find((a) => a.filename === `report-daily-${yesterday}.csv`);
    expect(attachment?.content.toString('utf8').startsWith('\uFEFF')).toBe(true);
    const rows = parse(attachment?.content.toString('utf8') ?? '', { bom: true, columns: true }) as Json[];
    expect(rows.find((r) => r.group === 'deployment')).toMatchObject({
      requests: String(booked.length),
      costPico: costOf(booked),
    });
    const keyRows = rows.filter((r) => r.group === 'key');
    expect(keyRows.map((r) => [r.id, r.name, Number(r.requests), r.costPico])).toEqual(
      perKey.map((k) => [k.id, k.name === '@finance' ? "'@finance" : k.name, k.events.length, costOf(k.events)]),
    );
    for (const body of [mail.html ?? '', mail.text ?? '', JSON.stringify(hook)]) {
      expect(body).not.toContain('sk-ant-api03');
      expect(body).not.toContain('smtp-password');
    }
  });

  it('the other node takes the jobs over when the holder dies, and sends nothing again', async () => {
    const holder = hooks()[0]!.node as string;
    const survivor = [...nodes.keys()].find((n) => n !== holder) as string;
    nodes.get(holder)?.killGroup();
    await pollUntil('the survivor to hold the jobs lease', async () =>
      (await store.redis.get(store.keys.jobsLease()))?.startsWith(`${survivor}|`) ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, QUIET_MS));
    expect(counts()).toEqual([1, 1]);
    // Each channel's mark names the one message sent to it.
    const marks = await store.redis.mget(...channels.map((c) => store.keys.reportSent('daily', yesterday, c)));
    expect(marks).toEqual([hooks()[0]!.id, hooks()[0]!.id]);
  });
});
