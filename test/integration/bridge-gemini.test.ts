import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGemini, type FakeGemini, type GeminiUsage } from '../fakes/gemini.js';
import { sseEvent, usageMetadata } from '../fakes/gemini-wire.js';
import { listen, withBody } from '../fakes/server-kit.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { readReply, type Reply } from '../support/reply.js';
import { untilBooked } from '../support/usage-math.js';

/**
 * The OpenAI Chat → Gemini bridge on the wire (`/openai/gemini/v1/...`): cut and failed streams,
 * function calls coming back, bad input, and usage booked from Gemini's own numbers.
 */
const MODEL = 'gemini-2.5-flash';
const CHAT = '/openai/gemini/v1/chat/completions';

/** The data payloads of an SSE answer, in order. */
const events = (text: string) =>
  text
    .split('\n\n')
    .filter(Boolean)
    .map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      const d = e.slice(6);
      return d === '[DONE]' ? d : (JSON.parse(d) as Record<string, unknown>);
    });

/**
 * A Gemini answer with function calls, exactly as the API streams it (Google's SSE framing), from
 * a one-route server: the shared fake answers text only.
 */
async function startFunctionCallUpstream(usage: GeminiUsage) {
  const calls = [
    { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'CiQBjz1rX2sig' },
    { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
  ];
  const chunks = [
    {
      candidates: [{ content: { role: 'model', parts: [{ text: 'Checking both.' }] }, index: 0 }],
      usageMetadata: usageMetadata({ promptTokenCount: usage.promptTokenCount, candidatesTokenCount: 3 }),
      modelVersion: MODEL,
      responseId: 'fc-resp',
    },
    {
      candidates: [{ content: { role: 'model', parts: calls }, finishReason: 'STOP', index: 0 }],
      usageMetadata: usageMetadata(usage),
      modelVersion: MODEL,
      responseId: 'fc-resp',
    },
  ];
  const bodies: unknown[] = [];
  const server = http.createServer(
    withBody((req, res, rawBody) => {
      bodies.push(JSON.parse(rawBody));
      if (new URL(req.url ?? '/', 'http://x').searchParams.get('alt') === 'sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(chunks.map(sseEvent).join(''));
      } else {
        res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(
          JSON.stringify({
            ...chunks[1],
            candidates: [
              {
                content: { role: 'model', parts: [{ text: 'Checking both.' }, ...calls] },
                finishReason: 'STOP',
                index: 0,
              },
            ],
          }),
        );
      }
    }),
  );
  return {
    url: `http://127.0.0.1:${await listen(server)}`,
    bodies,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('OpenAI chat → Gemini bridge', () => {
  let fake: FakeGemini;
  let relay: TestRelay;
  const apiKey = `AIza-bridge-${randomBytes(6).toString('hex')}`;
  let accountId: string;

  const post = async (body: unknown, key: string, path = CHAT): Promise<Reply<Record<string, unknown>>> => {
    const res = await fetch(relay.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    return readReply(res, {});
  };
  const freshKey = (accountIds = [accountId]) =>
    relay.admin.createKey({ name: `gemini bridge ${randomBytes(3).toString('hex')}`, accountIds });
  const usageOf = (id: string, requests: number) => untilBooked(() => relay.admin.keyUsage(id), requests);

  beforeAll(async () => {
    fake = await startFakeGemini();
    relay = await startTestRelay({ env: { GEMINI_API_URL: fake.url } });
    accountId = (
      await relay.admin.createAccount({ platform: 'gemini', type: 'api-key', name: 'gemini for bridges', apiKey })
    ).id;
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  it('a stream cut before its finish reason ends with an in-stream error and no [DONE]; the last snapshot is booked', async () => {
    const key = await freshKey();
    fake.reset();
    fake.script(apiKey, {
      kind: 'cut',
      afterChunks: 2,
      usage: { promptTokenCount: 500, cachedContentTokenCount: 100, candidatesTokenCount: 60 },
    });
    const r = await post(
      {
        model: MODEL,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'tell me a story' }],
      },
      key.key,
    );
    expect(r.status).toBe(200);
    const out = events(r.text);
    expect(out).not.toContain('[DONE]');
    expect(out.at(-1)).toEqual({
      error: {
        message: 'The upstream stream ended before the answer was complete.',
        type: 'server_error',
        param: null,
        code: null,
      },
    });
    const snapshot = fake.reported.at(-1)!;
    expect(snapshot.complete).toBe(false);
    expect(out.at(-2)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: snapshot.usage.promptTokenCount, completion_tokens: snapshot.usage.candidatesTokenCount },
    });
    const report = await usageOf(key.id, 1);
    expect(report.total).toMatchObject({
      requests: 1,
      inputTokens: snapshot.usage.promptTokenCount - (snapshot.usage.cachedContentTokenCount ?? 0),
      outputTokens: snapshot.usage.candidatesTokenCount,
      cacheReadTokens: snapshot.usage.cachedContentTokenCount ?? 0,
    });
  });

  it("Google's error written mid-stream outside the SSE framing reaches the client as an in-stream error", async () => {
    const key = await freshKey();
    fake.script(apiKey, {
      kind: 'stream-error',
      afterChunks: 1,
      status: 503,
      message: 'The model is overloaded. Please try again later.',
    });
    const r = await post({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'x' }] }, key.key);
    expect(r.status).toBe(200);
    const out = events(r.text);
    expect(out.at(-1)).toEqual({
      error: {
        message: 'Upstream: The model is overloaded. Please try again later.',
        type: 'server_error',
        param: null,
        code: null,
      },
    });
    expect(out.filter((e) => e !== '[DONE]' && 'error' in e)).toHaveLength(1);
    expect(out).not.toContain('[DONE]');
  });

  it('a stream without include_usage sends no usage chunk, and books what Gemini reported', async () => {
    const key = await freshKey();
    const usage: GeminiUsage = {
      promptTokenCount: 321,
      cachedContentTokenCount: 300,
      candidatesTokenCount: 9,
      thoughtsTokenCount: 4,
    };
    fake.script(apiKey, { kind: 'message', text: 'plain', usage });
    const r = await post({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'x' }] }, key.key);
    expect(r.text).not.toMatch(/"usage"/);
    expect(r.text.endsWith('data: [DONE]\n\n')).toBe(true);
    const report = await usageOf(key.id, 1);
    expect(report.total).toMatchObject({
      requests: 1,
      errors: 0,
      inputTokens: 21,
      outputTokens: 13,
      cacheReadTokens: 300,
    });
  });

  it('bad input is a 400 in OpenAI shape and never reaches Gemini', async () => {
    const key = await freshKey();
    fake.reset();
    const cases: [unknown, RegExp][] = [
      [
        {
          model: MODEL,
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/render?id=1' } }] },
          ],
        },
        /Gemini needs the image's type/,
      ],
      [
        {
          model: MODEL,
          messages: [
            { role: 'user', content: 'x' },
            { role: 'tool', tool_call_id: 'ghost', content: '1' },
          ],
        },
        /answers no tool call/,
      ],
      [{ model: MODEL, n: 4, messages: [{ role: 'user', content: 'x' }] }, /^n: /],
    ];
    for (const [body, message] of cases) {
      const r = await post(body, key.key);
      expect(r.status, r.text).toBe(400);
      expect(r.json).toEqual({
        error: {
          message: expect.stringMatching(message),
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_request',
        },
      });
    }
    expect(fake.requests).toHaveLength(0);
  });

  describe('function calls coming back', () => {
    const usage: GeminiUsage = {
      promptTokenCount: 700,
      cachedContentTokenCount: 256,
      candidatesTokenCount: 31,
      thoughtsTokenCount: 12,
    };
    let upstream: Awaited<ReturnType<typeof startFunctionCallUpstream>>;
    let key: { id: string; key: string };
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];

    beforeAll(async () => {
      upstream = await startFunctionCallUpstream(usage);
      const account = await relay.admin.createAccount({
        platform: 'gemini',
        type: 'api-key',
        name: 'function calls',
        apiKey: 'AIza-function-calls',
        baseUrl: upstream.url,
      });
      key = await freshKey([account.id]);
    });
    afterAll(async () => {
      await upstream?.close();
    });

    it('streamed: each call one tool call delta with its id, name, arguments and thought signature; finish tool_calls', async () => {
      const r = await post(
        {
          model: MODEL,
          stream: true,
          stream_options: { include_usage: true },
          tools,
          messages: [{ role: 'user', content: 'Paris and Rome?' }],
        },
        key.key,
      );
      const out = events(r.text) as (Record<string, unknown> | '[DONE]')[];
      const deltas = out.flatMap((e) =>
        e === '[DONE]' ? [] : ((e.choices as { delta: Record<string, unknown>; finish_reason: string | null }[]) ?? []),
      );
      const calls = deltas.flatMap((d) => (d.delta.tool_calls as Record<string, unknown>[] | undefined) ?? []);
      expect(calls).toEqual([
        {
          index: 0,
          id: expect.stringMatching(/^call_/),
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          extra_content: { google: { thought_signature: 'CiQBjz1rX2sig' } },
        },
        {
          index: 1,
          id: expect.stringMatching(/^call_/),
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
        },
      ]);
      expect(deltas.map((d) => d.delta.content ?? '').join('')).toBe('Checking both.');
      expect(deltas.at(-1)?.finish_reason).toBe('tool_calls');
      expect(out.at(-2)).toMatchObject({
        usage: {
          prompt_tokens: 700,
          completion_tokens: 43,
          prompt_tokens_details: { cached_tokens: 256 },
          completion_tokens_details: { reasoning_tokens: 12 },
        },
      });
      expect(out.at(-1)).toBe('[DONE]');

      // The client sends the calls back with the results: Gemini gets the signature it gave, and names for the results.
      const assistant = {
        role: 'assistant',
        content: 'Checking both.',
        tool_calls: calls.map(({ index: _i, ...c }) => c),
      };
      const again = await post(
        {
          model: MODEL,
          tools,
          messages: [
            { role: 'user', content: 'Paris and Rome?' },
            assistant,
            { role: 'tool', tool_call_id: (calls[0] as { id: string }).id, content: '{"temp":18}' },
            { role: 'tool', tool_call_id: (calls[1] as { id: string }).id, content: '{"temp":24}' },
          ],
        },
        key.key,
      );
      expect(again.status, again.text).toBe(200);
      expect((upstream.bodies.at(-1) as { contents: unknown[] }).contents).toEqual([
        { role: 'user', parts: [{ text: 'Paris and Rome?' }] },
        {
          role: 'model',
          parts: [
            { text: 'Checking both.' },
            { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'CiQBjz1rX2sig' },
            { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_weather', response: { temp: 18 } } },
            { functionResponse: { name: 'get_weather', response: { temp: 24 } } },
          ],
        },
      ]);
    });

    it('non-streamed: tool_calls on the message, content kept, finish tool_calls', async () => {
      const r = await post({ model: MODEL, tools, messages: [{ role: 'user', content: 'Paris and Rome?' }] }, key.key);
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({
        id: 'chatcmpl-fc-resp',
        choices: [
          {
            finish_reason: 'tool_calls',
            message: {
              content: 'Checking both.',
              tool_calls: [
                {
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
                  extra_content: { google: { thought_signature: 'CiQBjz1rX2sig' } },
                },
                { type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
              ],
            },
          },
        ],
      });
    });
  });

  it('GET /openai/gemini/v1/models needs the key and answers in OpenAI list format', async () => {
    const key = await freshKey();
    const ok = await fetch(`${relay.url}/openai/gemini/v1/models`, { headers: { 'x-api-key': key.key } });
    expect(ok.status).toBe(200);
    const list = (await ok.json()) as { object: string; data: { id: string; object: string; owned_by: string }[] };
    expect(list.object).toBe('list');
    expect(list.data.map((m) => m.id)).toContain(MODEL);
    expect(list.data.every((m) => m.object === 'model' && m.owned_by === 'google')).toBe(true);
    const denied = await fetch(`${relay.url}/openai/gemini/v1/models`, {
      headers: { authorization: 'Bearer cr_nope' },
    });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ error: { type: 'authentication_error', code: 'invalid_api_key' } });
  });
});
