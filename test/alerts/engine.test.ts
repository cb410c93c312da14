import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startChatRobots, type ChatRobots } from '../fakes/chat-robots.js';
import { startTestRelay, TEST_ENCRYPTION_KEY, type TestRelay } from '../support/relay.js';
import type { AccountId } from '../../src/ids.js';
import { startJobs, type Jobs } from '../../src/jobs/index.js';
import type { Delivery } from '../../src/alerts/deliver.js';
import type { AlertMessage } from '../../src/alerts/types.js';
import { manualClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';

/**
 * The alert engine on real Redis, driven by hand on an injected clock: two nodes' jobs on one
 * deployment (only the lease holder speaks), grouping, cooldown, reminders, silences, a failing
 * channel retried and logged, and a channel's rate limit.
 */
describe('alert engine', () => {
  let relay: TestRelay;
  let robots: ChatRobots;
  const clock = manualClock(Date.now());
  let a: Jobs;
  let b: Jobs;
  let wecom: string;
  let webhook: string;

  const webhookSecret = 'whsec_' + Buffer.from('a webhook signing secret!').toString('base64');
  const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
    relay.admin.request<T>(method, path, body);
  const jobsOn = (node: string) =>
    startJobs({
      config: { ...relay.config, nodeId: node },
      store: relay.instance.store,
      encryptionKey: TEST_ENCRYPTION_KEY,
      log: silentLogger,
      clock,
      startLoop: false,
    });
  /** Both nodes run a round; then time moves on. */
  const round = async (advanceMs = 0) => {
    await a.tick();
    await b.tick();
    clock.advance(advanceMs);
  };
  const health = () => relay.instance.deps.health;
  const accounts: string[] = [];
  /** What the WeCom robot got about the unauthorized rule (pool rules fire beside it). */
  const wecomTexts = () =>
    robots.received.wecom
      .map((m) => m.body.markdown?.content ?? m.body.text?.content ?? '')
      .filter((t) => t.includes('Account unauthorized'));
  const allWebhooks = () =>
    robots.received.webhook.map((m) => m.body as unknown as { type: string; items: unknown[]; rule: { id: string } });
  const webhooks = () => allWebhooks().filter((w) => ['account_unauthorized', 'test'].includes(w.rule.id));
  /** What the relay does when an upstream refuses an account: mark it, and say so on the events stream. */
  const markBad = async (id: string, status = 401) => {
    await health().markUnauthorized(id as AccountId, status, 'invalid x-api-key sk-ant-api03-leaked');
    relay.instance.deps.events.emit('account.unauthorized', { accountId: id, status });
  };
  const reset = async (id: string) => {
    await health().reset(id as AccountId);
    relay.instance.deps.events.emit('account.reset', { accountId: id });
  };

  beforeAll(async () => {
    robots = await startChatRobots({ secrets: { webhook: webhookSecret } });
    relay = await startTestRelay({ clock, env: { PUBLIC_URL: 'https://relay.example.com' } });
    for (const name of ['alpha', 'beta', 'gamma']) {
      const { id } = await relay.admin.createAccount({ name, apiKey: `sk-ant-api03-${name}-0123456789abcdef` });
      accounts.push(id);
    }
    const w = await api<{ id: string }>('POST', '/admin/alerts/channels', {
      type: 'wecom',
      name: 'ops robot',
      secrets: { webhookUrl: robots.urls.wecom },
    });
    expect(w.status).toBe(201);
    wecom = w.body.id;
    const h = await api<{ id: string; secretsSet: string[] }>('POST', '/admin/alerts/channels', {
      type: 'webhook',
      name: 'pager',
      minSeverity: 'P1',
      secrets: { url: robots.urls.webhook, secret: webhookSecret },
    });
    expect(h.status).toBe(201);
    expect(h.body.secretsSet).toEqual(['secret', 'url']);
    expect(JSON.stringify(h.body)).not.toContain(webhookSecret);
    webhook = h.body.id;
    a = await jobsOn('node-a');
    b = await jobsOn('node-b');
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await relay?.close();
    await robots?.close();
  });

  beforeEach(() => robots.reset());

  it('one node holds the lease; three accounts going bad make one grouped message per channel, and one resolve', async () => {
    for (const id of accounts) await markBad(id, 401);
    await round(5_000);
    expect(a.lease.held() !== b.lease.held()).toBe(true);
    // Inside the rule's 10 s group window: nothing yet.
    await round(6_000);
    expect(wecomTexts()).toHaveLength(0);
    // The shared pool has no account left: that one is P0 and goes out at once.
    expect(allWebhooks().map((w) => `${w.type} ${w.rule.id}`)).toEqual(['alert.firing pool_empty']);
    await round();
    expect(wecomTexts()).toHaveLength(1);
    expect(webhooks()).toHaveLength(1);
    const text = wecomTexts()[0] ?? '';
    expect(text).toContain('3 claude accounts');
    for (const name of ['alpha', 'beta', 'gamma']) expect(text).toContain(name);
    expect(text).toContain('https://relay.example.com/admin/alerts?rule=account_unauthorized');
    // No secret and no upstream error text in the message.
    expect(text).not.toContain('sk-ant');
    expect(JSON.stringify(robots.received.webhook[0]?.body)).not.toContain('sk-ant');
    expect(webhooks()[0]).toMatchObject({ type: 'alert.firing', rule: { id: 'account_unauthorized' } });
    expect(webhooks()[0]?.items).toHaveLength(3);

    // More rounds on both nodes send nothing more.
    await round(1_000);
    await round(1_000);
    expect(wecomTexts()).toHaveLength(1);

    const active = await api<{ active: { rule: string; status: string }[] }>('GET', '/admin/alerts');
    expect(active.body.active.filter((s) => s.rule === 'account_unauthorized' && s.status === 'firing')).toHaveLength(
      3,
    );

    for (const id of accounts) await reset(id);
    await round(11_000);
    await round();
    expect(wecomTexts()).toHaveLength(2);
    expect(wecomTexts()[1]).toContain('RESOLVED');
    expect(webhooks()[1]).toMatchObject({ type: 'alert.resolved' });
    const inbox = await api<{ items: AlertMessage[] }>('GET', '/admin/alerts/inbox');
    const unauthorized = inbox.body.items.filter((m) => m.rule.id === 'account_unauthorized');
    expect(unauthorized.map((m) => m.kind)).toEqual(['resolved', 'firing']);
    expect(allWebhooks().map((w) => `${w.type} ${w.rule.id}`)).toContain('alert.resolved pool_empty');
    // The pool rules would add their own messages to what the next tests count.
    for (const rule of ['pool_empty', 'pool_low'])
      expect((await api('PATCH', `/admin/alerts/rules/${rule}`, { enabled: false })).status).toBe(200);
  });

  it('a refiring inside the cooldown is not announced; a reminder comes after the interval', async () => {
    const id = accounts[0] as AccountId;
    expect(
      (await api('PATCH', '/admin/alerts/rules/account_unauthorized', { cooldown: '10m', group: '0s' })).status,
    ).toBe(200);
    // Past the cooldown of the first test's firing of this account.
    clock.advance(15 * 60_000);
    await markBad(id, 403);
    await round(1_000);
    await round();
    expect(wecomTexts()).toHaveLength(1);
    await reset(id);
    await round(1_000);
    await markBad(id, 403);
    await round(1_000);
    await round();
    // firing, resolved; the second firing is inside the 10 minute cooldown.
    expect(wecomTexts().map((t) => /RESOLVED/.test(t))).toEqual([false, true]);
    // The held-back firing is announced once the cooldown has passed; reminders follow every 4 h (P1).
    clock.advance(10 * 60_000);
    await round();
    expect(wecomTexts()).toHaveLength(3);
    expect(wecomTexts().at(-1)).toContain('P1 FIRING');
    clock.advance(4 * 3_600_000);
    await round();
    expect(wecomTexts()).toHaveLength(4);
    expect(wecomTexts().at(-1)).toContain('STILL FIRING');
    await reset(id);
    await round();
    expect((await api('POST', '/admin/alerts/rules/account_unauthorized/reset')).status).toBe(200);
  });

  it('a silence keeps an alert quiet, and a silenced alert sends no resolve', async () => {
    const id = accounts[1] as string;
    const s = await api<{ id: string }>('POST', '/admin/alerts/silences', {
      rule: 'account_unauthorized',
      labels: { accountId: id },
      for: 60,
      comment: 'rotating the key',
    });
    expect(s.status).toBe(201);
    await markBad(id, 401);
    await round(11_000);
    await round();
    await reset(id);
    await round(11_000);
    await round();
    expect(wecomTexts()).toHaveLength(0);
    expect((await api('DELETE', `/admin/alerts/silences/${s.body.id}`)).status).toBe(204);
  });

  it('a failing channel is retried with backoff and every try is logged', async () => {
    robots.failNext('wecom', 2, 500);
    const id = accounts[2] as AccountId;
    await markBad(id, 401);
    await round(11_000);
    await round();
    expect(wecomTexts()).toHaveLength(0);
    clock.advance(2_000);
    await round();
    expect(wecomTexts()).toHaveLength(0);
    clock.advance(10_000);
    await round();
    expect(wecomTexts()).toHaveLength(1);
    const log = await api<{ items: Delivery[] }>('GET', '/admin/alerts/deliveries?limit=10');
    const ours = log.body.items.filter((d) => d.channelId === wecom).slice(0, 3);
    expect(ours.map((d) => d.status)).toEqual(['sent', 'retrying', 'retrying']);
    expect(ours[1]?.detail).toMatch(/500/);
    expect(JSON.stringify(log.body)).not.toContain(robots.urls.wecom);
    await reset(id);
    await round(11_000);
    await round();
  });

  it("holds a channel's rate limit, sending the rest the next minute", async () => {
    expect((await api('PATCH', `/admin/alerts/channels/${wecom}`, { ratePerMinute: 2 })).status).toBe(200);
    expect((await api('PATCH', '/admin/alerts/rules/account_unauthorized', { group: '0s' })).status).toBe(200);
    // Three messages in one minute: one account at a time, each its own firing.
    clock.set(Math.ceil(clock.now() / 60_000) * 60_000 + 1_000);
    for (const id of accounts) {
      await markBad(id, 401);
      await round(1_000);
      await round();
    }
    expect(wecomTexts()).toHaveLength(2);
    clock.set(Math.ceil(clock.now() / 60_000) * 60_000 + 1_000);
    await round();
    expect(wecomTexts()).toHaveLength(3);
    for (const id of accounts) await reset(id);
    await round();
    await api('POST', '/admin/alerts/rules/account_unauthorized/reset');
    await api('PATCH', `/admin/alerts/channels/${wecom}`, { ratePerMinute: 0 });
  });

  it('test-sends through a channel, and keeps secrets write-only', async () => {
    const r = await api<{ ok: boolean }>('POST', `/admin/alerts/channels/${webhook}/test`);
    expect(r.body, JSON.stringify(r.body)).toMatchObject({ ok: true });
    expect(webhooks()[0]).toMatchObject({ type: 'alert.test' });
    const view = await api('GET', `/admin/alerts/channels/${webhook}`);
    expect(JSON.stringify(view.body)).not.toContain(robots.urls.webhook);
    const bad = await api('POST', '/admin/alerts/channels', { type: 'wecom', name: 'x', secrets: {} });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('webhookUrl');
  });
});
