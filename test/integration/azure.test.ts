import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIUsage } from '../fakes/openai.js';
import { openaiBooking } from '../support/openai.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { booked, untilBooked } from '../support/usage-math.js';

/**
 * Azure OpenAI in Azure's own URL shape: the deployment in the client's URL is the model the
 * request is routed by; an account's modelMapping or `deployment` option decides which of its
 * deployments serves it; the key comes in `api-key`; the account's api-version is used.
 */

const USAGE: FakeOpenAIUsage = { input: 800, cached: 256, output: 50 };
const HI = [{ role: 'user', content: 'hi' }];

describe('Azure OpenAI accounts', () => {
  let fake: FakeOpenAI;
  let relay: TestRelay;
  let n = 0;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ azureDeployments: { 'eu-4o': 'gpt-4o-2024-11-20', 'us-4o': 'gpt-4o-2024-11-20' } });
    relay = await startTestRelay();
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  const account = async (settings: Record<string, unknown> = {}) => {
    const upstreamKey = `azure-it-${++n}-${Date.now()}-0000000000`;
    const { id } = await relay.admin.createAccount({
      platform: 'azure',
      type: 'api-key',
      name: `azure ${n}`,
      apiKey: upstreamKey,
      baseUrl: fake.url,
      ...settings,
    });
    return { id, upstreamKey };
  };
  const keyFor = async (...accountIds: string[]) => relay.admin.createKey({ name: `azure key ${++n}`, accountIds });
  const post = (path: string, key: string, body: unknown, headers: Record<string, string> = { 'api-key': key }) =>
    fetch(relay.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('the deployment option serves a deployment name the account does not map', async () => {
    const a = await account({ deployment: 'eu-4o', apiVersion: '2024-10-21' });
    const key = await keyFor(a.id);
    fake.script(a.upstreamKey, { kind: 'answer', usage: USAGE });
    const res = await post('/azure/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01', key.key, {
      messages: HI,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { model: string }).model).toBe('gpt-4o-2024-11-20');
    const call = fake.requests[0];
    expect(call).toMatchObject({
      path: '/openai/deployments/eu-4o/chat/completions',
      upstream: 'azure',
      key: a.upstreamKey,
    });
    expect(call?.query.get('api-version')).toBe('2024-10-21');
    const report = await untilBooked(() => relay.admin.keyUsage(key.id), 1);
    expect(booked(report.total)).toEqual(openaiBooking('gpt-4o', USAGE));
  });

  it('modelMapping routes deployment names between accounts', async () => {
    // `models` keeps each account to its own names (empty would mean every model).
    const eu = await account({ models: ['team-4o'], modelMapping: { 'team-4o': 'eu-4o' } });
    const us = await account({ models: ['team-4o-us'], modelMapping: { 'team-4o-us': 'us-4o' } });
    const key = await keyFor(eu.id, us.id);
    for (const [name, acct, deployment] of [
      ['team-4o', eu, 'eu-4o'],
      ['team-4o-us', us, 'us-4o'],
    ] as const) {
      fake.reset();
      const res = await post(`/azure/openai/deployments/${name}/chat/completions?api-version=2024-10-21`, key.key, {
        messages: HI,
      });
      expect(res.status).toBe(200);
      expect(fake.requests).toHaveLength(1);
      expect(fake.requests[0]).toMatchObject({
        path: `/openai/deployments/${deployment}/chat/completions`,
        key: acct.upstreamKey,
      });
    }
  });

  it('apiVersion "v1": the /openai/v1 routes, the deployment in the body', async () => {
    const a = await account({ apiVersion: 'v1', deployment: 'us-4o' });
    const key = await keyFor(a.id);
    const res = await post('/azure/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21', key.key, {
      messages: HI,
    });
    expect(res.status).toBe(200);
    expect(fake.requests[0]).toMatchObject({ path: '/openai/v1/chat/completions', body: { model: 'us-4o' } });
    expect([...(fake.requests[0]?.query.keys() ?? [])]).toEqual([]);
  });

  it('a stream: the prompt-filter chunk passes, the usage chunk the client did not ask for does not', async () => {
    const a = await account({ deployment: 'eu-4o' });
    const key = await keyFor(a.id);
    fake.script(a.upstreamKey, { kind: 'answer', text: 'azure stream', usage: USAGE });
    const res = await post('/azure/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21', key.key, {
      messages: HI,
      stream: true,
    });
    const text = await res.text();
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(text).toContain('prompt_filter_results');
    expect(text).not.toContain('"usage":{');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(fake.requests[0]?.body).toMatchObject({ stream_options: { include_usage: true } });
    const report = await untilBooked(() => relay.admin.keyUsage(key.id), 1);
    expect(booked(report.total)).toEqual(openaiBooking('gpt-4o', USAGE));
  });

  it('the relay key is accepted in api-key and Authorization: Bearer; a wrong one is an OpenAI-shaped 401', async () => {
    const a = await account({ deployment: 'eu-4o' });
    const key = await keyFor(a.id);
    const path = '/azure/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21';
    expect((await post(path, key.key, { messages: HI }, { authorization: `Bearer ${key.key}` })).status).toBe(200);
    const wrong = await post(path, key.key, { messages: HI }, { 'api-key': `${key.key.slice(0, -4)}zzzz` });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { type: 'authentication_error', code: 'invalid_api_key' } });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.headers['api-key']).toBe(a.upstreamKey);
  });

  it('bad input in Azure routes is refused before any upstream call', async () => {
    const a = await account();
    const key = await keyFor(a.id);
    const bad = await post('/azure/openai/deployments/bad%20name!/chat/completions?api-version=2024-10-21', key.key, {
      messages: HI,
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringContaining('deployment') },
    });
    const noMessages = await post(
      '/azure/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
      key.key,
      {},
    );
    expect(noMessages.status).toBe(400);
    const noModel = await post('/azure/openai/responses?api-version=2025-04-01-preview', key.key, { input: 'hi' });
    expect(noModel.status).toBe(400);
    expect(fake.requests).toHaveLength(0);
  });

  it('an account without an endpoint fails over to one with an endpoint', async () => {
    const broken = await relay.admin.createAccount({
      platform: 'azure',
      type: 'api-key',
      name: 'no endpoint',
      apiKey: 'azure-no-endpoint-000000000000',
      priority: 1,
    });
    const good = await account({ priority: 2, deployment: 'eu-4o' });
    const key = await keyFor(broken.id, good.id);
    const res = await post('/azure/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21', key.key, {
      messages: HI,
    });
    expect(res.status).toBe(200);
    expect(fake.requests.map((r) => r.key)).toEqual([good.upstreamKey]);
  });
});
