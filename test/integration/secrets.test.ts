import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { ADMIN_PASSWORD, TEST_ENCRYPTION_KEY, startTestRelay, type TestRelay } from '../support/relay.js';
import { createLogger } from '../../src/util/log.js';

/**
 * Secrets never leave: a run through the common paths (an upstream that rejects its key, a
 * failover, streams, a wrong relay key, every admin read), with every log line at debug level and
 * every admin answer kept, then searched for every secret the run used.
 */

const UPSTREAM_REJECTED = 'sk-ant-api03-REJECTED-secret-0000000000000000';
const UPSTREAM_GOOD = 'sk-ant-api03-GOOD-secret-1111111111111111111';
const WEBHOOK_SECRET = 'whsec_c2VjcmV0LW5ldmVyLXNob3duLTAwMDAwMDAw';

describe('secrets in logs and answers', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  const lines: string[] = [];
  const answers: string[] = [];

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay({ log: createLogger('debug', {}, (line) => lines.push(line)) });
  });

  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  const keep = async (method: string, path: string, body?: unknown) => {
    const res = await relay.admin.request(method, path, body);
    answers.push(`${method} ${path} ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  };

  it('no upstream key, relay key, admin password or token, encryption key or channel secret in any log line or admin answer', async () => {
    const rejected = await relay.admin.createAccount({ apiKey: UPSTREAM_REJECTED, baseUrl: fake.url, priority: 1 });
    const good = await relay.admin.createAccount({ apiKey: UPSTREAM_GOOD, baseUrl: fake.url, priority: 90 });
    // An upstream whose error text quotes the key it was sent (some do).
    fake.script(UPSTREAM_REJECTED, {
      kind: 'error',
      status: 401,
      type: 'authentication_error',
      message: `invalid x-api-key: ${UPSTREAM_REJECTED}`,
    });
    const key = await relay.admin.createKey({ name: 'secrets' });
    const ask = async (apiKey: string, stream: boolean) => {
      const res = await fetch(`${relay.url}/api/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 9,
          stream,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      return { status: res.status, text: await res.text() };
    };
    const clientSaw = [await ask(key.key, false), await ask(key.key, true), await ask(key.key, false)];
    expect(clientSaw.map((r) => r.status)).toEqual([200, 200, 200]);
    const wrongKey = `cr_${'ab'.repeat(32)}`;
    clientSaw.push(await ask(wrongKey, false));
    expect(clientSaw[3]?.status).toBe(401);
    // The rejected account was tried (and put out of rotation) before the good one answered.
    expect(fake.requests.map((r) => r.apiKey)).toContain(UPSTREAM_REJECTED);

    const channel = await keep('POST', '/admin/alerts/channels', {
      type: 'webhook',
      name: 'pager',
      secrets: { url: 'http://127.0.0.1:9/hook', secret: WEBHOOK_SECRET },
    });
    expect(channel.status).toBe(201);
    for (const path of [
      '/admin/accounts',
      `/admin/accounts/${rejected.id}`,
      `/admin/accounts/${good.id}`,
      `/admin/accounts/${rejected.id}/health`,
      `/admin/accounts/${good.id}/usage`,
      `/admin/accounts/${good.id}/probes`,
      '/admin/api-keys',
      `/admin/api-keys/${key.id}`,
      `/admin/api-keys/${key.id}/usage`,
      `/admin/api-keys/${key.id}/records`,
      '/admin/alerts',
      '/admin/alerts/channels',
      '/admin/alerts/deliveries',
      '/admin/system/nodes',
      '/admin/reports/usage?scope=deployment',
    ])
      await keep('GET', path);
    const export_ = await fetch(`${relay.url}/admin/export/records?format=json`, {
      headers: { authorization: `Bearer ${relay.admin.token}` },
    });
    answers.push(await export_.text());
    const health = await fetch(`${relay.url}/health`);
    answers.push(await health.text());

    const secrets = {
      'rejected upstream key': UPSTREAM_REJECTED,
      'good upstream key': UPSTREAM_GOOD,
      'relay key': key.key,
      'wrong relay key': wrongKey,
      'admin password': ADMIN_PASSWORD,
      'admin session token': relay.admin.token ?? '',
      'encryption key': TEST_ENCRYPTION_KEY,
      'webhook secret': WEBHOOK_SECRET,
    };
    expect(lines.length).toBeGreaterThan(5);
    const everything = {
      logs: lines.join('\n'),
      'admin answers': answers.join('\n'),
      'client answers': JSON.stringify(clientSaw),
    };
    for (const [where, text] of Object.entries(everything)) {
      for (const [what, secret] of Object.entries(secrets)) {
        expect(secret.length, what).toBeGreaterThan(10);
        // The client may of course see its own (wrong) key nowhere either.
        expect(text.includes(secret), `${what} in ${where}`).toBe(false);
        // Nor a recognisable piece of it (the masked forms show only the last 4 characters).
        expect(text.includes(secret.slice(8, 24)), `part of the ${what} in ${where}`).toBe(false);
      }
    }
  });
});
