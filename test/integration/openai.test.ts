import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIUsage } from '../fakes/openai.js';
import { openaiBooking } from '../support/openai.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { booked, NOTHING, untilBooked } from '../support/usage-math.js';
import { waitFor } from '../support/wait.js';

/**
 * OpenAI API-key accounts behind `/openai/v1`: exact usage when streams are cut, failover before
 * the first byte, errors in OpenAI's shape, bad input refused before any upstream call, header
 * hygiene and model mapping.
 */

const SOL = 'gpt-6.2-sol';
const HI = [{ role: 'user' as const, content: 'hi' }];
const USAGE: FakeOpenAIUsage = { input: 1000, cached: 512, output: 40 };

interface UsageRecord {
  outcome: string;
  status: number;
  accountId: string;
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens: number };
}

describe('OpenAI API-key accounts', () => {
  let fake: FakeOpenAI;
  let relay: TestRelay;
  let n = 0;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    relay = await startTestRelay();
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  /** A fresh upstream account (its own key at the fake) and a relay key bound to the given accounts. */
  const account = async (settings: Record<string, unknown> = {}) => {
    const upstreamKey = `sk-proj-it-${++n}-${Date.now()}-000000000000`;
    const { id } = await relay.admin.createAccount({
      platform: 'openai',
      type: 'api-key',
      name: `openai ${n}`,
      apiKey: upstreamKey,
      baseUrl: fake.url,
      ...settings,
    });
    return { id, upstreamKey };
  };
  const keyFor = async (...accountIds: string[]) => {
    const key = await relay.admin.createKey({ name: `key ${++n}`, accountIds });
    return { ...key, client: new OpenAI({ apiKey: key.key, baseURL: `${relay.url}/openai/v1`, maxRetries: 0 }) };
  };
  const records = async (keyId: string, count: number) =>
    waitFor(
      async () => {
        const r = await relay.admin.request<{ items: UsageRecord[] }>(
          'GET',
          `/admin/api-keys/${keyId}/records?limit=20`,
        );
        return r.body.items.length >= count && r.body.items;
      },
      { what: `${count} usage records` },
    );

  describe('streams cut short book what was reported, nothing estimated', () => {
    it('chat cut before its usage chunk: zero tokens, outcome cut, the client sees an error', async () => {
      const a = await account();
      const key = await keyFor(a.id);
      fake.script(a.upstreamKey, { kind: 'cut', afterEvents: 3, usage: USAGE });
      const stream = await key.client.chat.completions.create({ model: SOL, messages: HI, stream: true });
      let text = '';
      const err = await (async () => {
        for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(text.length).toBeGreaterThan(0);
      const [rec] = await records(key.id, 1);
      expect(rec).toMatchObject({
        outcome: 'cut',
        status: 200,
        usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 },
      });
      expect(fake.reported).toHaveLength(0);
      expect(booked((await relay.admin.keyUsage(key.id)).total)).toEqual({ ...NOTHING, requests: 1 });
    });

    it('chat cut after its usage chunk: the usage is booked, outcome cut', async () => {
      const a = await account();
      const key = await keyFor(a.id);
      // role, 6 deltas, finish, usage: the usage chunk is the 9th event; [DONE] never comes.
      fake.script(a.upstreamKey, { kind: 'cut', afterEvents: 9, usage: USAGE });
      const stream = await key.client.chat.completions.create({ model: SOL, messages: HI, stream: true });
      await (async () => {
        for await (const _ of stream);
      })().catch(() => undefined);
      const [rec] = await records(key.id, 1);
      expect(rec).toMatchObject({
        outcome: 'cut',
        usage: { inputTokens: 488, cacheReadTokens: 512, outputTokens: 40 },
      });
      expect(fake.reported).toMatchObject([{ complete: false, usage: USAGE }]);
      expect(booked((await relay.admin.keyUsage(key.id)).total)).toEqual(openaiBooking(SOL, USAGE));
    });

    it('responses cut before response.completed: zero tokens, the client gets an error event', async () => {
      const a = await account();
      const key = await keyFor(a.id);
      fake.script(a.upstreamKey, { kind: 'cut', afterEvents: 6, usage: USAGE });
      const res = await fetch(`${relay.url}/openai/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: SOL, input: 'hi', stream: true }),
      });
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(text).toContain('event: response.output_text.delta');
      expect(text.trimEnd().split('\n\n').at(-1)).toMatch(/^event: error\ndata: \{"type":"error","code":"stream_cut"/);
      const [rec] = await records(key.id, 1);
      expect(rec).toMatchObject({ outcome: 'cut', usage: { inputTokens: 0, outputTokens: 0 } });
    });
  });

  describe('failover before the first byte', () => {
    it('a 429 moves the request to the next account; only the answer that came is booked', async () => {
      const busy = await account({ priority: 1 });
      const spare = await account({ priority: 2 });
      const key = await keyFor(busy.id, spare.id);
      fake.script(busy.upstreamKey, {
        kind: 'error',
        status: 429,
        type: 'requests',
        code: 'rate_limit_exceeded',
        message: 'Rate limit reached',
        headers: { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '20s' },
      });
      fake.script(spare.upstreamKey, { kind: 'answer', text: 'from the spare', usage: USAGE });
      const res = await key.client.chat.completions.create({ model: SOL, messages: HI });
      expect(res.choices[0]?.message.content).toBe('from the spare');
      expect(fake.requests.map((r) => r.key)).toEqual([busy.upstreamKey, spare.upstreamKey]);
      const [rec] = await records(key.id, 1);
      expect(rec).toMatchObject({ accountId: spare.id, outcome: 'ok' });
      const health = await relay.admin.request<{ blockers: { reason: string; until: string }[] }>(
        'GET',
        `/admin/accounts/${busy.id}/health?model=${SOL}`,
      );
      const cooldown = health.body.blockers.find((b) => b.reason === 'rate_limited');
      expect(cooldown).toBeDefined();
      // As long as the upstream said (20 s), not a guess.
      const left = Date.parse(cooldown?.until ?? '') - Date.now();
      expect(left).toBeGreaterThan(10_000);
      expect(left).toBeLessThanOrEqual(20_000);
    });

    it('a Responses stream opening with an error event fails over too', async () => {
      const flaky = await account({ priority: 1 });
      const spare = await account({ priority: 2 });
      const key = await keyFor(flaky.id, spare.id);
      fake.script(flaky.upstreamKey, {
        kind: 'stream-error',
        afterEvents: 0,
        code: 'server_is_overloaded',
        message: 'Overloaded',
      });
      fake.script(spare.upstreamKey, { kind: 'answer', text: 'steady', usage: USAGE });
      const final = await key.client.responses.stream({ model: SOL, input: 'hi' }).finalResponse();
      expect(final.usage).toMatchObject({ input_tokens: 1000, output_tokens: 40 });
      expect(fake.requests.map((r) => r.key)).toEqual([flaky.upstreamKey, spare.upstreamKey]);
    });
  });

  describe("errors in OpenAI's shape", () => {
    it('an upstream 400 comes back as it was said, and is not retried elsewhere', async () => {
      const a = await account({ priority: 1 });
      const b = await account({ priority: 2 });
      const key = await keyFor(a.id, b.id);
      fake.script(a.upstreamKey, {
        kind: 'error',
        status: 400,
        code: 'context_length_exceeded',
        message: 'This model maximum context length is 1050000 tokens.',
      });
      const err = await key.client.chat.completions.create({ model: SOL, messages: HI }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      const e = err as InstanceType<typeof OpenAI.BadRequestError>;
      expect(e.error).toMatchObject({
        type: 'invalid_request_error',
        message: 'Upstream: This model maximum context length is 1050000 tokens.',
      });
      expect(e.headers.get('x-should-retry')).toBe('false');
      expect(fake.requests).toHaveLength(1);
    });

    it.each<[string, string, unknown, number, string]>([
      [
        'chat without messages',
        '/openai/v1/chat/completions',
        { model: SOL },
        400,
        'messages: a non-empty array is required.',
      ],
      [
        'chat without a model',
        '/openai/v1/chat/completions',
        { messages: HI },
        400,
        'model: a non-empty string is required.',
      ],
      [
        'responses with a number for input',
        '/openai/v1/responses',
        { model: SOL, input: 5 },
        400,
        'input: a string or an array of input items is required.',
      ],
      [
        'embeddings without input',
        '/openai/v1/embeddings',
        { model: 'text-embedding-3-small' },
        400,
        'input: a non-empty string or array is required.',
      ],
      [
        'a body that is not JSON',
        '/openai/v1/chat/completions',
        '{"model": ',
        400,
        'The request body is not valid JSON',
      ],
    ])('bad input (%s) is refused before any upstream call', async (_name, path, body, status, message) => {
      const a = await account();
      const key = await keyFor(a.id);
      const res = await fetch(relay.url + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const json = (await res.json()) as { error: { message: string; type: string; param: unknown; code: string } };
      expect(res.status).toBe(status);
      expect(json.error.type).toBe('invalid_request_error');
      expect(json.error.message).toContain(message);
      expect(Object.keys(json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(fake.requests).toHaveLength(0);
      expect((await relay.admin.keyUsage(key.id)).total.requests).toBe(0);
    });

    it('a key without the openai permission is refused in OpenAI shape', async () => {
      const a = await account();
      const key = await relay.admin.createKey({ name: 'claude only', permissions: ['claude'], accountIds: [a.id] });
      const res = await fetch(`${relay.url}/openai/v1/chat/completions`, {
        method: 'POST',
        headers: { 'x-api-key': key.key, 'content-type': 'application/json' },
        body: JSON.stringify({ model: SOL, messages: HI }),
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('platform_not_allowed');
    });
  });

  it('the relay key is accepted in x-api-key too; only allowed headers reach the upstream', async () => {
    const a = await account();
    const key = await keyFor(a.id);
    const res = await fetch(`${relay.url}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'x-api-key': key.key,
        'content-type': 'application/json',
        'openai-organization': 'org-client',
        'openai-project': 'proj-client',
        cookie: 'session=secret',
        'x-forwarded-for': '10.1.2.3',
        'x-stainless-lang': 'js',
        'user-agent': 'OpenAI/JS 6.30.1',
      },
      body: JSON.stringify({ model: SOL, messages: HI }),
    });
    expect(res.status).toBe(200);
    const seen = fake.requests[0]?.headers ?? {};
    expect(seen.authorization).toBe(`Bearer ${a.upstreamKey}`);
    expect(seen['x-api-key']).toBeUndefined();
    expect(seen['openai-organization']).toBeUndefined();
    expect(seen['openai-project']).toBeUndefined();
    expect(seen.cookie).toBeUndefined();
    expect(seen['x-forwarded-for']).toBeUndefined();
    expect(seen['x-stainless-lang']).toBe('js');
    expect(seen['user-agent']).toBe('OpenAI/JS 6.30.1');
    expect(res.headers.get('x-request-id')).toMatch(/\S/);
    expect(res.headers.get('x-request-id')).not.toBe('req_fake');
  });

  it("an account's model mapping names the upstream model; the booking is by the model served", async () => {
    const a = await account({ modelMapping: { 'team-default': SOL } });
    const key = await keyFor(a.id);
    fake.script(a.upstreamKey, { kind: 'answer', usage: USAGE });
    const stream = await key.client.chat.completions.create({ model: 'team-default', messages: HI, stream: true });
    for await (const _ of stream);
    expect(fake.requests[0]?.body).toMatchObject({ model: SOL });
    const report = await untilBooked(() => relay.admin.keyUsage(key.id), 1);
    expect(report.models.map((m) => m.model)).toEqual([SOL]);
    expect(booked(report.total)).toEqual(openaiBooking(SOL, USAGE));
  });
});
