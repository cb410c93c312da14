import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/util/clock.js';
import { retryInfo, startFakeGemini, type FakeGemini, type GeminiUsage } from '../fakes/gemini.js';
import { expectedTokens, flashCostPico } from '../fakes/gemini-wire.js';
import { health, iso, resetAccount } from '../support/pool.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { readReply, type Reply } from '../support/reply.js';

/**
 * The native Gemini surface (`/gemini/v1beta/models/{model}:{method}`) served by Gemini API-key
 * accounts, over plain HTTP so every byte and header can be checked: the key in each of its
 * places, both stream framings, usage booked exactly as the upstream reported it, errors in
 * Google's shape, failover and cooldowns from Google's RetryInfo.
 */

const SEC = 1000;
const MODEL = 'gemini-2.5-flash';
const KEY_A = 'AIzaSy-fake-native-account-a-0001';
const KEY_B = 'AIzaSy-fake-native-account-b-0002';
const CONTENTS = [{ role: 'user', parts: [{ text: 'Say hi.' }] }];
/** Every kind of token at once, so a dropped or double-counted kind shows. */
const USAGE: GeminiUsage = {
  promptTokenCount: 9_000,
  cachedContentTokenCount: 8_192,
  candidatesTokenCount: 40,
  thoughtsTokenCount: 260,
  toolUsePromptTokenCount: 15,
};

describe('Gemini API-key accounts through /gemini', () => {
  const clock = manualClock();
  let fake: FakeGemini;
  let relay: TestRelay;
  let a: string;
  let b: string;
  let key: { id: string; key: string };

  beforeAll(async () => {
    fake = await startFakeGemini();
    relay = await startTestRelay({ clock, env: { GEMINI_API_URL: fake.url, BREAKER_VOLUME: '100000' } });
    a = (
      await relay.admin.createAccount({
        platform: 'gemini',
        type: 'api-key',
        name: 'gemini a',
        apiKey: KEY_A,
        priority: 1,
      })
    ).id;
    b = (
      await relay.admin.createAccount({
        platform: 'gemini',
        type: 'api-key',
        name: 'gemini b',
        apiKey: KEY_B,
        priority: 10,
      })
    ).id;
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    fake.reset();
    await resetAccount(relay.admin, a);
    await resetAccount(relay.admin, b);
    key = await relay.admin.createKey({ name: `gemini ${Date.now()}` });
  });

  async function call(
    method: string,
    opts: { query?: string; headers?: Record<string, string>; body?: unknown; version?: string; model?: string } = {},
  ): Promise<Reply<unknown>> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...(opts.query?.includes('key=') ? {} : { 'x-goog-api-key': key.key }),
      ...opts.headers,
    };
    const res = await fetch(
      `${relay.url}/gemini/${opts.version ?? 'v1beta'}/models/${opts.model ?? MODEL}:${method}${opts.query ? `?${opts.query}` : ''}`,
      {
        method: 'POST',
        headers,
        body: JSON.stringify(opts.body ?? { contents: CONTENTS }),
      },
    );
    return readReply<unknown>(res, undefined);
  }

  const booked = async () => (await relay.admin.keyUsage(key.id)).total;
  const reportedBy = (apiKey: string) => fake.reported.filter((r) => r.account === apiKey).map((r) => r.usage);

  /** The upstream saw the account's key, and the relay key nowhere. */
  function expectAccountCredentialOnly(apiKey: string) {
    expect(fake.requests.length).toBeGreaterThan(0);
    for (const r of fake.requests) {
      expect(r.headers['x-goog-api-key']).toBe(apiKey);
      expect(r.query.get('key')).toBeNull();
      expect(r.headers.authorization).toBeUndefined();
      expect(JSON.stringify(r.headers) + r.path + r.rawBody).not.toContain(key.key);
    }
  }

  it('generateContent: the answer as the upstream gave it; booked exactly what it reported', async () => {
    fake.setDefault({ kind: 'message', text: 'Hi there.', usage: USAGE });
    const res = await call('generateContent');
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      candidates: [{ content: { parts: [{ text: 'Hi there.' }] }, finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 9_000, cachedContentTokenCount: 8_192 },
    });
    expect(fake.requests.map((r) => r.path)).toEqual([`/v1beta/models/${MODEL}:generateContent`]);
    expect(fake.requests[0]?.body).toEqual({ contents: CONTENTS });
    expectAccountCredentialOnly(KEY_A);
    expect(await booked()).toMatchObject({
      requests: 1,
      errors: 0,
      ...expectedTokens([USAGE]),
      cacheCreateTokens: 0,
      costPico: flashCostPico([USAGE]),
    });
  });

  it("streamGenerateContent?alt=sse: Google's SSE framing back; booked from the last chunk's usage", async () => {
    fake.setDefault({ kind: 'message', text: 'A streamed answer in parts.', usage: USAGE, parts: 4 });
    const res = await call('streamGenerateContent', { query: 'alt=sse' });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = res.text.split('\r\n\r\n').filter(Boolean);
    expect(events).toHaveLength(4);
    for (const e of events) expect(e.startsWith('data: {')).toBe(true);
    const chunks = events.map(
      (e) => JSON.parse(e.slice(6)) as { candidates: { content: { parts: { text: string }[] } }[] },
    );
    expect(chunks.map((c) => c.candidates[0]?.content.parts[0]?.text).join('')).toBe('A streamed answer in parts.');
    expect(fake.requests.map((r) => r.path)).toEqual([`/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`]);
    expect(await booked()).toMatchObject({ requests: 1, ...expectedTokens([USAGE]), costPico: flashCostPico([USAGE]) });
  });

  it('streamGenerateContent without alt=sse: the upstream still streams SSE; the client gets one JSON array', async () => {
    fake.setDefault({ kind: 'message', text: 'An array of chunks.', usage: USAGE, parts: 3 });
    const res = await call('streamGenerateContent');
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const chunks = res.json as { candidates: { content: { parts: { text: string }[] }; finishReason?: string }[] }[];
    expect(chunks).toHaveLength(3);
    expect(chunks.map((c) => c.candidates[0]?.content.parts[0]?.text).join('')).toBe('An array of chunks.');
    expect(chunks[2]?.candidates[0]?.finishReason).toBe('STOP');
    expect(fake.requests[0]?.query.get('alt')).toBe('sse');
    expect(await booked()).toMatchObject({ requests: 1, ...expectedTokens([USAGE]) });
  });

  it('the key in ?key= and the v1 path work too; the relay key never goes upstream', async () => {
    const res = await call('generateContent', { query: `key=${encodeURIComponent(key.key)}`, version: 'v1' });
    expect(res.status, res.text).toBe(200);
    expect(fake.requests.map((r) => r.path)).toEqual([`/v1beta/models/${MODEL}:generateContent`]);
    expectAccountCredentialOnly(KEY_A);
    // The client's own `key=` (the relay key) is not forwarded with the rest of its query either.
    const streamed = await call('streamGenerateContent', { query: `alt=sse&key=${encodeURIComponent(key.key)}` });
    expect(streamed.status).toBe(200);
    expectAccountCredentialOnly(KEY_A);
  });

  it('countTokens: answered by the upstream, not booked', async () => {
    const res = await call('countTokens', { body: { contents: CONTENTS } });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ totalTokens: expect.any(Number) as unknown });
    expect(fake.requests.map((r) => r.path)).toEqual([`/v1beta/models/${MODEL}:countTokens`]);
    expect(await booked()).toMatchObject({ requests: 0, inputTokens: 0 });
  });

  it("the account's model mapping names the upstream model in the URL", async () => {
    const mapped = (
      await relay.admin.createAccount({
        platform: 'gemini',
        type: 'api-key',
        name: 'mapped',
        apiKey: 'AIzaSy-fake-mapped-0003',
        priority: 1,
        modelMapping: { 'my-flash': MODEL },
      })
    ).id;
    try {
      const res = await call('generateContent', { model: 'my-flash' });
      expect(res.status, res.text).toBe(200);
      expect(fake.requests.map((r) => r.path)).toEqual([`/v1beta/models/${MODEL}:generateContent`]);
    } finally {
      await relay.admin.request('DELETE', `/admin/accounts/${mapped}`);
    }
  });

  describe("errors in Google's shape", () => {
    it.each<[string, Record<string, string>, string, number, string]>([
      ['no key', { 'x-goog-api-key': '' }, '', 401, 'UNAUTHENTICATED'],
      ['a key the relay never issued', { 'x-goog-api-key': 'cr_' + 'x'.repeat(64) }, '', 401, 'UNAUTHENTICATED'],
    ])('%s → %i %s, nothing sent upstream', async (_name, headers, query, status, googleStatus) => {
      const res = await call('generateContent', { headers, query });
      expect(res.status).toBe(status);
      expect(res.json).toEqual({
        error: { code: status, message: expect.any(String) as unknown, status: googleStatus },
      });
      expect(fake.requests).toHaveLength(0);
    });

    it.each<[string, unknown, RegExp]>([
      ['no contents', { generationConfig: {} }, /contents/],
      ['empty contents', { contents: [] }, /contents/],
      ['not an object', [1, 2], /JSON object/],
    ])(
      'a bad body (%s) → 400 INVALID_ARGUMENT naming the problem; nothing sent, nothing booked',
      async (_name, body, message) => {
        const res = await call('generateContent', { body });
        expect(res.status).toBe(400);
        expect(res.json).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
        expect((res.json as { error: { message: string } }).error.message).toMatch(message);
        expect(fake.requests).toHaveLength(0);
        expect(await booked()).toMatchObject({ requests: 0, errors: 0 });
      },
    );

    it('an unknown method → 404 NOT_FOUND', async () => {
      const res = await call('embedContent');
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    });

    it("the upstream's 400 comes back in its shape, without trying another account", async () => {
      fake.script(KEY_A, { kind: 'error', status: 400, message: "Invalid value at 'contents[0].role'" });
      const res = await call('generateContent');
      expect(res.status).toBe(400);
      expect(res.json).toEqual({
        error: { code: 400, message: "Upstream: Invalid value at 'contents[0].role'", status: 'INVALID_ARGUMENT' },
      });
      expect(fake.requests.map((r) => r.account)).toEqual([KEY_A]);
      expect(await booked()).toMatchObject({ requests: 1, errors: 1, inputTokens: 0 });
    });
  });

  describe('rate limits and failover', () => {
    it.each<[string, Parameters<FakeGemini['script']>[1], number]>([
      [
        'RetryInfo in the body',
        { kind: 'error', status: 429, message: 'Resource has been exhausted.', details: retryInfo('37s') },
        37 * SEC,
      ],
      ['retry-after', { kind: 'error', status: 429, headers: { 'retry-after': '90' } }, 90 * SEC],
      ['nothing said (the short default)', { kind: 'error', status: 429 }, 60 * SEC],
    ])(
      '429 with %s: the other account answers; the first cools down for the model that long',
      async (_name, step, ms) => {
        const now = clock.now();
        fake.script(KEY_A, step);
        const res = await call('generateContent');
        expect(res.status, res.text).toBe(200);
        expect(fake.requests.map((r) => r.account)).toEqual([KEY_A, KEY_B]);
        expect((await health(relay.admin, a, MODEL)).blockers).toEqual([
          { reason: 'rate_limited', scope: MODEL, until: iso(now + ms), detail: 'HTTP 429' },
        ]);
        expect((await health(relay.admin, a, 'gemini-2.5-pro')).routable).toBe(true);
        // While it cools, requests for that model go to the other account only.
        await call('generateContent');
        expect(fake.requests.map((r) => r.account)).toEqual([KEY_A, KEY_B, KEY_B]);
      },
    );

    it('503 (the model is overloaded): the other account answers', async () => {
      fake.script(KEY_A, { kind: 'error', status: 503, message: 'The model is overloaded. Please try again later.' });
      const res = await call('streamGenerateContent', { query: 'alt=sse' });
      expect(res.status, res.text).toBe(200);
      expect(fake.requests.map((r) => r.account)).toEqual([KEY_A, KEY_B]);
      expect((await health(relay.admin, a, MODEL)).blockers[0]).toMatchObject({ reason: 'overloaded', scope: MODEL });
    });

    it("a 400 API_KEY_INVALID is the account's fault: it is marked unauthorized and the other account answers", async () => {
      const details = [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
      ];
      fake.script(KEY_A, {
        kind: 'error',
        status: 400,
        message: 'API key not valid. Please pass a valid API key.',
        details,
      });
      const res = await call('generateContent');
      expect(res.status, res.text).toBe(200);
      expect(fake.requests.map((r) => r.account)).toEqual([KEY_A, KEY_B]);
      expect((await health(relay.admin, a, MODEL)).blockers[0]).toMatchObject({
        reason: 'unauthorized',
        scope: '*',
        until: null,
      });
    });

    it.each<[number, string]>([
      [503, 'overloaded'],
      [429, 'rate_limited'],
    ])(
      'an error body (%i) before the first chunk of a 200 stream: nothing reached the client, the other account answers; the first is %s',
      async (status, reason) => {
        fake.script(KEY_A, { kind: 'stream-error', afterChunks: 0, status });
        const res = await call('streamGenerateContent', { query: 'alt=sse' });
        expect(res.status, res.text).toBe(200);
        expect(res.text).not.toContain('"error"');
        expect(fake.requests.map((r) => r.account)).toEqual([KEY_A, KEY_B]);
        expect((await health(relay.admin, a, MODEL)).blockers[0]).toMatchObject({ reason, scope: MODEL });
      },
    );

    it("every account limited: 429 in Google's shape with retry-after", async () => {
      fake.script(KEY_A, { kind: 'error', status: 429, details: retryInfo('30s') });
      fake.script(KEY_B, { kind: 'error', status: 429, details: retryInfo('45s') });
      const first = await call('generateContent');
      expect(first.status).toBe(429);
      expect(first.json).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } });
      const res = await call('generateContent');
      expect(res.status).toBe(429);
      expect(res.json).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } });
      expect(res.headers.get('retry-after')).toBe('30');
      expect(fake.requests).toHaveLength(2);
    });
  });

  describe('streams that end badly', () => {
    it.each(['alt=sse', ''])(
      'cut after two chunks (%s): the client is told, the usage reported so far is booked',
      async (query) => {
        fake.script(KEY_A, { kind: 'cut', afterChunks: 2, usage: USAGE });
        const res = await call('streamGenerateContent', { query });
        expect(res.status).toBe(200);
        const sent = reportedBy(KEY_A);
        expect(sent).toHaveLength(1);
        expect(sent[0]?.promptTokenCount).toBe(USAGE.promptTokenCount);
        if (query) {
          const tail = res.text.slice(res.text.lastIndexOf('\r\n\r\n') + 4);
          expect(JSON.parse(tail)).toMatchObject({ error: { code: 502, status: 'UNAVAILABLE' } });
        } else {
          const chunks = res.json as unknown[];
          expect(chunks).toHaveLength(3);
          expect(chunks[2]).toMatchObject({ error: { code: 502 } });
        }
        expect(await booked()).toMatchObject({ requests: 1, ...expectedTokens(sent) });
      },
    );

    it('an error body mid-stream: passed on as Google sends it, the usage so far booked', async () => {
      fake.script(KEY_A, { kind: 'stream-error', afterChunks: 2, status: 503, usage: USAGE });
      const res = await call('streamGenerateContent', { query: 'alt=sse' });
      expect(res.status).toBe(200);
      const events = res.text.split('\r\n\r\n').filter((e) => e.startsWith('data: '));
      expect(events).toHaveLength(2);
      const tail = res.text.slice(res.text.lastIndexOf('\r\n\r\n') + 4);
      expect(JSON.parse(tail)).toEqual({
        error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' },
      });
      expect(fake.requests).toHaveLength(1);
      expect(await booked()).toMatchObject({ requests: 1, ...expectedTokens(reportedBy(KEY_A)) });
    });
  });

  describe('model lists (answered by the relay)', () => {
    const get = async (path: string, headers: Record<string, string> = { 'x-goog-api-key': key.key }) => {
      const res = await fetch(`${relay.url}/gemini${path}`, { headers });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };

    it("GET /v1beta/models lists the Gemini models in Google's format", async () => {
      const res = await get('/v1beta/models');
      expect(res.status).toBe(200);
      const models = res.json.models as { name: string; supportedGenerationMethods: string[] }[];
      expect(models.map((m) => m.name)).toEqual(
        expect.arrayContaining(['models/gemini-2.5-pro', 'models/gemini-2.5-flash', 'models/gemini-3.1-pro-preview']),
      );
      expect(models.every((m) => m.name.startsWith('models/gemini-') || m.name.startsWith('models/gemma-'))).toBe(true);
      expect(models[0]?.supportedGenerationMethods).toContain('generateContent');
      expect((await get('/v1/models')).json).toEqual(res.json);
    });

    it("GET /v1beta/models/{model}: one model, or 404 in Google's shape", async () => {
      expect((await get('/v1beta/models/gemini-2.5-pro')).json).toMatchObject({
        name: 'models/gemini-2.5-pro',
        displayName: 'Gemini 2.5 Pro',
      });
      const missing = await get('/v1beta/models/gemini-0-nope');
      expect(missing).toMatchObject({ status: 404, json: { error: { code: 404, status: 'NOT_FOUND' } } });
    });

    it('needs the relay key', async () => {
      expect(await get('/v1beta/models', {})).toMatchObject({
        status: 401,
        json: { error: { code: 401, status: 'UNAUTHENTICATED' } },
      });
    });
  });
});
