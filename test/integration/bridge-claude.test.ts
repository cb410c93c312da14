import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic, type FakeUsage } from '../fakes/anthropic.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { readReply, type Reply } from '../support/reply.js';
import { booked, expectedBooking, NOTHING, untilBooked, type Booked } from '../support/usage-math.js';

/**
 * The OpenAI Chat → Anthropic bridge on the wire (`/openai/claude/v1/...`): exactly what goes
 * upstream, exactly what the client gets back (JSON, SSE, errors in OpenAI's shape), and usage
 * booked from the upstream's own numbers.
 */
const MODEL = 'claude-sonnet-5-5';
const CHAT = '/openai/claude/v1/chat/completions';

describe('OpenAI chat → Claude bridge', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let upstreamKey: string;
  let key: { id: string; key: string };

  const post = async (
    body: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${key.key}` },
    path = CHAT,
  ): Promise<Reply<Record<string, unknown>>> => {
    const res = await fetch(relay.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return readReply(res, {});
  };

  /** Each test's key starts from zero; returns its report once `requests` are booked. */
  const usageOf = (id: string, requests: number) => untilBooked(() => relay.admin.keyUsage(id), requests);

  const freshKey = async () =>
    (key = await relay.admin.createKey({ name: `bridge ${randomBytes(3).toString('hex')}` }));

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay();
    upstreamKey = `sk-ant-bridge-${randomBytes(8).toString('hex')}`;
    await relay.admin.createAccount({ name: 'claude for bridges', apiKey: upstreamKey, baseUrl: fake.url });
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  it('sends the client system prompt as it is, the model, a default max_tokens, and no Claude Code identity', async () => {
    await freshKey();
    fake.reset();
    const r = await post({
      model: MODEL,
      messages: [
        { role: 'system', content: 'You are a terse librarian.' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(r.status, r.text).toBe(200);
    expect(fake.requests).toHaveLength(1);
    const sent = fake.requests[0]!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.apiKey).toBe(upstreamKey);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toEqual({
      model: MODEL,
      max_tokens: 8192,
      system: 'You are a terse librarian.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    });
    expect(sent.rawBody).not.toMatch(/Claude Code/);
  });

  it('non-stream: a chat.completion with the upstream text and usage, booked exactly as reported', async () => {
    await freshKey();
    const usage: FakeUsage = {
      input_tokens: 321,
      output_tokens: 54,
      cache_creation_input_tokens: 600,
      cache_read_input_tokens: 4000,
    };
    fake.script(upstreamKey, { kind: 'message', text: 'Quiet, please.', usage });
    const r = await post({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.json).toMatchObject({
      id: 'chatcmpl-msg_fake01',
      object: 'chat.completion',
      model: MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Quiet, please.' }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: 4921,
        completion_tokens: 54,
        total_tokens: 4975,
        prompt_tokens_details: { cached_tokens: 4000 },
      },
    });
    const report = await usageOf(key.id, 1);
    expect(booked(report.total)).toEqual(expectedBooking(MODEL, usage));
  });

  it('stream with include_usage: role, content, finish, usage chunk, [DONE]; booked exactly once', async () => {
    await freshKey();
    const usage: FakeUsage = { input_tokens: 40, output_tokens: 17, cache_read_input_tokens: 900 };
    fake.script(upstreamKey, { kind: 'message', text: 'one two three four', usage, deltas: 4 });
    const r = await post({
      model: MODEL,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'count' }],
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = r.text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map(
      (e) =>
        JSON.parse(e.replace(/^data: /, '')) as {
          choices: { delta: { content?: string; role?: string }; finish_reason: string | null }[];
          usage: unknown;
        },
    );
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('one two three four');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: {
        prompt_tokens: 940,
        completion_tokens: 17,
        total_tokens: 957,
        prompt_tokens_details: { cached_tokens: 900 },
      },
    });
    const report = await usageOf(key.id, 1);
    expect(booked(report.total)).toEqual(expectedBooking(MODEL, usage));
  });

  it('stream without include_usage: no usage chunk reaches the client, the upstream usage is booked anyway', async () => {
    await freshKey();
    const usage: FakeUsage = { input_tokens: 11, output_tokens: 22 };
    fake.script(upstreamKey, { kind: 'message', text: 'hello', usage });
    const r = await post({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'x' }] });
    expect(r.status).toBe(200);
    expect(r.text).not.toMatch(/"usage"/);
    expect(r.text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(booked((await usageOf(key.id, 1)).total)).toEqual(expectedBooking(MODEL, usage));
  });

  it('a stream the upstream cut ends with an in-stream error and no [DONE]; the input it reported is booked', async () => {
    await freshKey();
    fake.reset();
    const usage: FakeUsage = { input_tokens: 70, output_tokens: 50 };
    fake.script(upstreamKey, { kind: 'cut', afterEvents: 5, usage });
    const r = await post({
      model: MODEL,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(r.status).toBe(200);
    const events = r.text.split('\n\n').filter(Boolean);
    expect(events).not.toContain('data: [DONE]');
    expect(JSON.parse(events.at(-1)!.slice(6))).toEqual({
      error: {
        message: 'The upstream stream ended before the answer was complete.',
        type: 'server_error',
        param: null,
        code: null,
      },
    });
    expect(JSON.parse(events.at(-2)!.slice(6))).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 70, completion_tokens: 1 },
    });
    const reported = fake.reported.at(-1)!;
    expect(reported.complete).toBe(false);
    expect(booked((await usageOf(key.id, 1)).total)).toEqual(expectedBooking(MODEL, reported.usage));
  });

  it('bad input is a 400 in OpenAI shape, sent nowhere and booked nowhere', async () => {
    await freshKey();
    fake.reset();
    const cases: [unknown, RegExp][] = [
      [{ model: MODEL, n: 2, messages: [{ role: 'user', content: 'x' }] }, /^n: /],
      [{ model: MODEL, messages: [] }, /^messages: /],
      [
        {
          model: MODEL,
          messages: [
            { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA==', format: 'wav' } }] },
          ],
        },
        /Claude does not accept audio/,
      ],
      [{ messages: [{ role: 'user', content: 'x' }] }, /^model: /],
      ['{not json', /not valid JSON/],
    ];
    for (const [body, message] of cases) {
      const r = await post(body);
      expect(r.status, r.text).toBe(400);
      expect(r.json).toEqual({
        error: {
          message: expect.stringMatching(message),
          type: 'invalid_request_error',
          param: null,
          code: expect.any(String),
        },
      });
    }
    expect(fake.requests).toHaveLength(0);
    const report = await relay.admin.keyUsage(key.id);
    expect(booked(report.total)).toEqual(NOTHING);
  });

  it('the key comes from Authorization: Bearer or x-api-key; without one the error is OpenAI-shaped', async () => {
    await freshKey();
    const body = { model: MODEL, messages: [{ role: 'user', content: 'x' }] };
    expect((await post(body, { 'x-api-key': key.key })).status).toBe(200);
    const missing = await post(body, {});
    expect(missing.status).toBe(401);
    expect(missing.json).toEqual({
      error: { message: expect.any(String), type: 'authentication_error', param: null, code: 'missing_api_key' },
    });
    const wrong = await post(body, { authorization: 'Bearer cr_wrong' });
    expect(wrong.status).toBe(401);
    expect((wrong.json.error as { code: string }).code).toBe('invalid_api_key');
  });

  it('a key without the claude permission is refused in OpenAI shape', async () => {
    const geminiOnly = await relay.admin.createKey({ name: 'gemini only', permissions: ['gemini'] });
    const r = await post(
      { model: MODEL, messages: [{ role: 'user', content: 'x' }] },
      { authorization: `Bearer ${geminiOnly.key}` },
    );
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ error: { type: 'permission_error', code: 'platform_not_allowed' } });
  });

  it('upstream errors come back in OpenAI shape with the upstream status, booked as an error that cost nothing', async () => {
    await freshKey();
    fake.reset();
    fake.script(upstreamKey, { kind: 'error', status: 400, message: 'messages.0.content: bad block' });
    const r = await post({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      error: {
        message: 'Upstream: messages.0.content: bad block',
        type: 'invalid_request_error',
        param: null,
        code: 'upstream_error',
      },
    });
    expect(fake.requests).toHaveLength(1);
    const report = await usageOf(key.id, 1);
    expect(booked(report.total)).toEqual<Booked>({ ...NOTHING, requests: 1, errors: 1 });
  });

  it('GET /openai/claude/v1/models lists the Claude models in OpenAI list format', async () => {
    const res = await fetch(`${relay.url}/openai/claude/v1/models`, {
      headers: { authorization: `Bearer ${key.key}` },
    });
    expect(res.status).toBe(200);
    const list = (await res.json()) as {
      object: string;
      data: { id: string; object: string; owned_by: string; created: number }[];
    };
    expect(list.object).toBe('list');
    expect(list.data.map((m) => m.id)).toContain(MODEL);
    expect(
      list.data.every(
        (m) =>
          m.id.startsWith('claude-') && m.object === 'model' && m.owned_by === 'anthropic' && m.created > 1_700_000_000,
      ),
    ).toBe(true);
    const denied = await fetch(`${relay.url}/openai/claude/v1/models`);
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ error: { type: 'authentication_error' } });
  });
});
