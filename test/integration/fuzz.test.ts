import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { waitFor } from '../support/wait.js';

/**
 * Property-based fuzzing (fast-check) of the JSON bodies of every relay surface and of the admin
 * API's writes, bounded in runs and time. Whatever the body: never a 500, the relay keeps serving,
 * every error is JSON, and only answered requests are booked, once each.
 */

const SURFACES = [
  '/api/v1/messages',
  '/claude/v1/messages',
  '/api/v1/messages/count_tokens',
  '/openai/v1/chat/completions',
  '/openai/v1/responses',
  '/openai/responses',
  '/openai/claude/v1/chat/completions',
  '/openai/gemini/v1/chat/completions',
  '/openai/v1/embeddings',
  '/gemini/v1beta/models/gemini-2.5-pro:generateContent',
  '/gemini/v1beta/models/claude-sonnet-4-5:streamGenerateContent',
  '/gemini/v1internal:generateContent',
  '/gemini/v1internal:countTokens',
  '/azure/openai/deployments/d1/chat/completions',
  '/azure/openai/v1/responses',
] as const;
/** Surfaces whose answers are not usage (token counts). */
const NOT_BOOKED = new Set(['/api/v1/messages/count_tokens', '/gemini/v1internal:countTokens']);

const MODELS = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'gemini-2.5-pro', 'gpt-5', 'no-such-model', ''];

/** Values that look like what clients send, and anything else in their place. */
const anyJson = fc.jsonValue({ maxDepth: 3 });
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constant(''), fc.constant('\u0000\ud83d'));
const message = fc.record(
  {
    role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'tool'), anyJson),
    content: fc.oneof(
      text,
      fc.array(fc.record({ type: fc.constantFrom('text', 'image', 'tool_result', 'x'), text }, { requiredKeys: [] })),
      anyJson,
    ),
  },
  { requiredKeys: [] },
);
const requestBody = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        model: fc.oneof(fc.constantFrom(...MODELS), anyJson),
        messages: fc.oneof(fc.array(message, { maxLength: 3 }), anyJson),
        max_tokens: fc.oneof(fc.integer({ min: -5, max: 100_000 }), anyJson),
        stream: fc.oneof(fc.boolean(), anyJson),
        system: fc.oneof(text, anyJson),
        input: fc.oneof(text, fc.array(message, { maxLength: 2 }), anyJson),
        contents: fc.oneof(
          fc.array(fc.record({ role: text, parts: fc.array(fc.record({ text })) }), { maxLength: 2 }),
          anyJson,
        ),
        request: anyJson,
        tools: anyJson,
        metadata: anyJson,
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: anyJson },
);
/** A request every surface family could take (Anthropic, OpenAI, Gemini fields), with odd extras. */
const nearlyValid = fc.record(
  {
    model: fc.constantFrom('claude-sonnet-4-5', 'claude-haiku-4-5'),
    max_tokens: fc.integer({ min: 1, max: 1000 }),
    messages: fc.array(
      fc.record({
        role: fc.constantFrom('user', 'assistant'),
        content: fc.oneof(
          text,
          fc.array(fc.record({ type: fc.constant('text'), text }), { minLength: 1, maxLength: 2 }),
        ),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    input: text,
    contents: fc.constant([{ role: 'user', parts: [{ text: 'hi' }] }]),
    stream: fc.boolean(),
    temperature: fc.oneof(fc.double(), anyJson),
    system: fc.oneof(text, anyJson),
    tools: anyJson,
    tool_choice: anyJson,
    stop_sequences: anyJson,
    thinking: anyJson,
    metadata: anyJson,
    generationConfig: anyJson,
  },
  { requiredKeys: ['model', 'max_tokens', 'messages', 'input', 'contents'] },
);
const body = fc.oneof(
  { weight: 3, arbitrary: requestBody.map((v) => JSON.stringify(v)) },
  { weight: 3, arbitrary: nearlyValid.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

describe('fuzzed bodies', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let key: { id: string; key: string };

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay();
    await relay.admin.createAccount({ apiKey: 'sk-ant-api03-fuzz-000000000000000000', baseUrl: fake.url });
    key = await relay.admin.createKey({ name: 'fuzz' });
  });

  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  it('every relay surface: never a 500, errors in JSON, only answered requests booked', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SURFACES), body, async (path, payload) => {
        const res = await fetch(`${relay.url}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-api-key': key.key,
            authorization: `Bearer ${key.key}`,
            'x-goog-api-key': key.key,
            'api-key': key.key,
          },
          body: payload,
        });
        const answer = await res.text();
        expect(res.status, `${path} ${payload}\n${answer}`).not.toBe(500);
        if (res.status >= 400) {
          expect(res.headers.get('content-type'), answer).toMatch(/json/);
          expect(() => JSON.parse(answer) as unknown, answer).not.toThrow();
        }
        if (res.status === 200 && !NOT_BOOKED.has(path)) answered++;
      }),
      { numRuns: 1500, interruptAfterTimeLimit: 60_000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
    // Booked once each, and nothing for the rest (the usage is written in the background).
    await waitFor(async () => (await relay.admin.keyUsage(key.id)).total.requests === answered || undefined, {
      timeoutMs: 10_000,
      what: `${answered} booked requests`,
    }).catch(() => undefined);
    expect((await relay.admin.keyUsage(key.id)).total.requests).toBe(answered);
    expect((await fetch(`${relay.url}/health`)).status).toBe(200);
  }, 120_000);

  it('admin writes: never a 500; a refused one changes nothing', async () => {
    const count = async () =>
      ((await relay.admin.request('GET', '/admin/api-keys')).body as { items?: unknown[] }).items?.length;
    const accounts = async () =>
      ((await relay.admin.request('GET', '/admin/accounts')).body as { items?: unknown[] }).items?.length;
    const { id } = await relay.admin.createKey({ name: 'target' });
    let created = 0;
    let createdAccounts = 0;
    const before = { keys: await count(), accounts: await accounts() };
    const fields = fc.record(
      {
        name: fc.oneof(text, anyJson),
        active: anyJson,
        platform: fc.oneof(fc.constantFrom('claude', 'gemini', 'openai', 'azure', 'bedrock', 'mars'), anyJson),
        type: fc.oneof(fc.constantFrom('api-key', 'oauth', 'x'), anyJson),
        apiKey: fc.oneof(text, anyJson),
        baseUrl: fc.oneof(fc.constantFrom('http://127.0.0.1:1', 'not a url', 'ftp://x'), anyJson),
        rateLimitRequests: fc.oneof(fc.integer({ min: -10, max: 10 }), anyJson),
        dailyCostLimit: fc.oneof(fc.double(), anyJson),
        expiresAt: anyJson,
        permissions: anyJson,
        modelAllow: anyJson,
        tags: anyJson,
        priority: anyJson,
      },
      { requiredKeys: [] },
    );
    const write = fc.constantFrom(
      ['POST', '/admin/api-keys'],
      ['PATCH', `/admin/api-keys/${id}`],
      ['POST', '/admin/accounts'],
      ['PATCH', '/admin/accounts/a_nosuchaccount0000'],
      ['PUT', '/admin/alerts/rules/invalid_keys_burst'],
      ['POST', '/admin/alerts/channels'],
      ['PUT', '/admin/reports/schedules/daily'],
    );
    await fc.assert(
      fc.asyncProperty(
        write,
        fc.oneof({ weight: 4, arbitrary: fields }, { weight: 1, arbitrary: anyJson }),
        async ([method, path], value) => {
          const res = await relay.admin.request(method, path, value);
          expect(res.status, `${method} ${path} ${JSON.stringify(value)}\n${JSON.stringify(res.body)}`).not.toBe(500);
          if (res.status >= 200 && res.status < 300 && method === 'POST' && path === '/admin/api-keys') created++;
          if (res.status >= 200 && res.status < 300 && method === 'POST' && path === '/admin/accounts')
            createdAccounts++;
        },
      ),
      { numRuns: 800, interruptAfterTimeLimit: 45_000 },
    );
    expect(await count()).toBe((before.keys ?? 0) + created);
    expect(await accounts()).toBe((before.accounts ?? 0) + createdAccounts);
  }, 120_000);
});
