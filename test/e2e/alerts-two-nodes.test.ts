import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startChatRobots, type ChatRobots } from '../fakes/chat-robots.js';
import { startSmtp, type FakeSmtp } from '../fakes/smtp.js';
import { AdminClient, testEnv, uniquePrefix } from '../support/relay.js';
import { loadConfig } from '../../src/config/index.js';
import { openStore } from '../../src/store/index.js';
import { silentLogger } from '../../src/util/log.js';
import { freePort, freshRequest, pollUntil, spawnRelay, type RelayProcess } from './process.js';

/**
 * The "done when", with the shipped rules: two relay nodes (real processes, each its own
 * primary and jobs loop) on one Redis; an account going bad through real traffic on both makes one
 * WeChat Work message, one email and one signed webhook, and one of each when it is reset. Then
 * the node holding the jobs lease is killed; the other takes over and still sends exactly once.
 */

const MODEL = 'claude-sonnet-4-5';
const RULE = 'account_unauthorized';
const WEBHOOK_SECRET = 'whsec_' + Buffer.from('two nodes, one notification').toString('base64');

interface WebhookBody {
  id: string;
  type: string;
  node: string;
  rule: { id: string };
  items: { subject: string }[];
}

describe.skipIf(inject('redisTarget').kind === 'cluster')('alerts on a two-node deployment', () => {
  let bad: FakeAnthropic;
  let good: FakeAnthropic;
  let robots: ChatRobots;
  let smtp: FakeSmtp;
  const nodes = new Map<string, RelayProcess>();
  let admin: AdminClient;
  let key: string;
  let badId: string;
  const prefix = uniquePrefix();

  const ours = {
    wecom: () =>
      robots.received.wecom
        .map((m) => m.body.markdown?.content ?? m.body.text?.content ?? '')
        .filter((t) => t.includes(`(${RULE})`)),
    webhook: () =>
      robots.received.webhook.map((m) => m.body as unknown as WebhookBody).filter((b) => b.rule.id === RULE),
    email: () => smtp.messages.filter((m) => (m.subject ?? '').includes('Account unauthorized')),
  };
  const counts = () => [ours.wecom().length, ours.email().length, ours.webhook().length];
  const ask = (node: RelayProcess) =>
    freshRequest(`${node.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 5,
        messages: [{ role: 'user', content: `hi ${Math.random()}` }],
      }),
    });
  /** Waits until every channel has `n` messages of the rule, then a few evaluation rounds more. */
  const settle = async (n: number, what: string) => {
    await pollUntil(what, () => counts().every((c) => c >= n) || undefined, 30_000);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(counts(), what).toEqual([n, n, n]);
  };

  beforeAll(async () => {
    bad = await startFakeAnthropic();
    bad.setDefault({ kind: 'error', status: 401, type: 'authentication_error', message: 'invalid x-api-key' });
    good = await startFakeAnthropic();
    good.setDefault({ kind: 'message', usage: { input_tokens: 5, output_tokens: 2 } });
    robots = await startChatRobots({ secrets: { webhook: WEBHOOK_SECRET } });
    smtp = await startSmtp({ user: 'alerts', pass: 'smtp-password-1' });
    for (const node of ['node-a', 'node-b']) {
      nodes.set(
        node,
        await spawnRelay(
          testEnv(prefix, {
            PORT: String(await freePort()),
            NODE_ID: node,
            ALERT_EVAL_INTERVAL: '500ms',
            JOBS_LEASE_TTL: '2s',
            PROBES: 'off',
            PUBLIC_URL: 'https://relay.example.com',
          }),
        ),
      );
    }
    const first = nodes.get('node-a') as RelayProcess;
    admin = new AdminClient(first.url);
    await admin.login();
    const channels = [
      { type: 'wecom', name: 'ops robot', secrets: { webhookUrl: robots.urls.wecom } },
      {
        type: 'email',
        name: 'ops mail',
        settings: {
          host: '127.0.0.1',
          port: String(smtp.port),
          secure: 'none',
          username: 'alerts',
          from: 'Relay <relay@example.com>',
          to: 'ops@example.com',
        },
        secrets: { password: 'smtp-password-1' },
      },
      { type: 'webhook', name: 'pager', secrets: { url: robots.urls.webhook, secret: WEBHOOK_SECRET } },
    ];
    for (const c of channels) expect((await admin.request('POST', '/admin/alerts/channels', c)).status).toBe(201);
    ({ id: badId } = await admin.createAccount({
      name: 'team-bad',
      apiKey: 'sk-ant-api03-bad-0123456789abcdef',
      baseUrl: bad.url,
      priority: 1,
    }));
    await admin.createAccount({ name: 'team-good', apiKey: 'sk-ant-api03-good-0123456789abcd', baseUrl: good.url });
    ({ key } = await admin.createKey({ name: 'two nodes' }));
  });

  afterAll(async () => {
    for (const n of nodes.values()) n.killGroup();
    await Promise.all([bad?.close(), good?.close(), robots?.close(), smtp?.close()]);
  });

  it('an account going bad on both nodes: one message per channel, and one resolve each', async () => {
    const answers = await Promise.all([...nodes.values()].map(ask));
    // The relay fails over to the good account: the clients never see the 401.
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(bad.requests.length).toBeGreaterThanOrEqual(1);

    await settle(1, 'the firing notice on every channel');
    const text = ours.wecom()[0] ?? '';
    expect(text).toContain('team-bad');
    expect(text).toContain('FIRING');
    expect(text).toContain(`https://relay.example.com/admin/alerts?rule=${RULE}`);
    const mail = ours.email()[0];
    expect(mail?.text).toContain('team-bad');
    expect(mail?.html).toContain('team-bad');
    // The fake receiver checked the Standard Webhooks signature (a bad one is a 401 there).
    expect(robots.rejected.filter((r) => r.platform === 'webhook')).toEqual([]);
    const firing = ours.webhook()[0] as WebhookBody;
    expect(firing.type).toBe('alert.firing');
    for (const body of [text, mail?.text ?? '', JSON.stringify(firing)]) {
      expect(body).not.toContain('sk-ant-api03');
      expect(body).not.toContain('invalid x-api-key');
    }

    expect((await admin.request('POST', `/admin/accounts/${badId}/reset`)).status).toBe(200);
    await settle(2, 'the resolve notice on every channel');
    expect(ours.webhook()[1]?.type).toBe('alert.resolved');
    expect(ours.email()[1]?.subject).toContain('RESOLVED');
  });

  it('the other node takes the jobs over when the holder dies, and still sends once', async () => {
    const holder = (ours.webhook().at(-1) as WebhookBody).node;
    const survivor = [...nodes.keys()].find((n) => n !== holder) as string;
    const store = await openStore({ target: loadConfig(testEnv(prefix)).redis, keyPrefix: prefix, log: silentLogger });
    const killedAt = Date.now();
    nodes.get(holder)?.killGroup();
    // The lease lapses (JOBS_LEASE_TTL=2s) and the survivor's next round takes it.
    await pollUntil('the survivor to hold the jobs lease', async () =>
      (await store.redis.get(store.keys.jobsLease()))?.startsWith(`${survivor}|`) ? true : undefined,
    );
    const takeoverMs = Date.now() - killedAt;
    await store.close();
    console.log(`jobs lease taken over ${takeoverMs} ms after the holder was killed`);
    expect(takeoverMs).toBeLessThan(5_000);
    const alive = nodes.get(survivor) as RelayProcess;
    const survivorAdmin = new AdminClient(alive.url);
    await survivorAdmin.login();

    expect((await ask(alive)).status).toBe(200);
    await settle(3, 'the firing notice after the takeover');
    expect((ours.webhook()[2] as WebhookBody).node).toBe(survivor);
  });
});
