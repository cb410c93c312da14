import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGemini, type FakeGemini, type GeminiUsage } from '../fakes/gemini.js';
import { expectedTokens } from '../fakes/gemini-wire.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

/**
 * The official `@google/genai` SDK pointed at the relay's `/gemini`, with the relay key as its API
 * key: generateContent, generateContentStream and countTokens work the same whether an API-key
 * account (native Gemini API) or a Google OAuth account (Code Assist, bridged) serves them, and
 * what is booked is what the upstream reported.
 */

const MODEL = 'gemini-2.5-flash';
const USAGE: GeminiUsage = {
  promptTokenCount: 4_321,
  cachedContentTokenCount: 4_096,
  candidatesTokenCount: 17,
  thoughtsTokenCount: 120,
  toolUsePromptTokenCount: 3,
};
const ANSWER = 'Hi! (from the fake Gemini, through the relay)';

describe('@google/genai through the relay', () => {
  let fake: FakeGemini;
  let relay: TestRelay;
  const kinds: Record<string, { key: { id: string; key: string }; account: string }> = {};

  beforeAll(async () => {
    fake = await startFakeGemini();
    relay = await startTestRelay({
      env: { GEMINI_API_URL: fake.url, CODE_ASSIST_URL: fake.url, GOOGLE_OAUTH_TOKEN_URL: fake.tokenUrl },
    });
    const apiKey = 'AIzaSy-fake-genai-e2e-000000001';
    const native = await relay.admin.createAccount({
      platform: 'gemini',
      type: 'api-key',
      name: 'genai api key',
      apiKey,
    });
    kinds['an API-key account'] = {
      key: await relay.admin.createKey({ name: 'genai native', accountIds: [native.id] }),
      account: apiKey,
    };
    fake.addUser({ id: 'genai-user', refreshToken: '1//fake-refresh-genai-user' });
    const oauth = await relay.admin.createAccount({
      platform: 'gemini',
      type: 'oauth',
      name: 'genai oauth',
      refreshToken: '1//fake-refresh-genai-user',
    });
    kinds['a Google OAuth account'] = {
      key: await relay.admin.createKey({ name: 'genai oauth', accountIds: [oauth.id] }),
      account: 'genai-user',
    };
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });
  beforeEach(() => {
    fake.reset();
    fake.setDefault({ kind: 'message', text: ANSWER, usage: USAGE, parts: 4 });
  });

  const sdk = (key: string) => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: `${relay.url}/gemini` } });
  const reported = (account: string) => fake.reported.filter((r) => r.account === account);

  describe.each(['an API-key account', 'a Google OAuth account'])('served by %s', (kind) => {
    const of = () => kinds[kind] as { key: { id: string; key: string }; account: string };

    it('generateContent: the answer and its usage; booked exactly that', async () => {
      const { key, account } = of();
      const before = (await relay.admin.keyUsage(key.id)).total;
      const res = await sdk(key.key).models.generateContent({
        model: MODEL,
        contents: 'say hi',
        config: { systemInstruction: 'Be brief.', temperature: 0 },
      });
      expect(res.text).toBe(ANSWER);
      expect(res.usageMetadata).toMatchObject({
        promptTokenCount: 4_321,
        cachedContentTokenCount: 4_096,
        candidatesTokenCount: 17,
        thoughtsTokenCount: 120,
      });
      const sent = reported(account);
      expect(sent.map((r) => r.complete)).toEqual([true]);
      const after = (await relay.admin.keyUsage(key.id)).total;
      expect(after.requests - before.requests).toBe(1);
      const t = expectedTokens(sent.map((r) => r.usage));
      expect({
        input: after.inputTokens - before.inputTokens,
        output: after.outputTokens - before.outputTokens,
        read: after.cacheReadTokens - before.cacheReadTokens,
      }).toEqual({
        input: t.inputTokens,
        output: t.outputTokens,
        read: t.cacheReadTokens,
      });
    });

    it('generateContentStream: the chunks in order, the last with the finish reason; booked from the last usage', async () => {
      const { key, account } = of();
      const before = (await relay.admin.keyUsage(key.id)).total;
      const chunks = [];
      for await (const chunk of await sdk(key.key).models.generateContentStream({ model: MODEL, contents: 'say hi' }))
        chunks.push(chunk);
      expect(chunks).toHaveLength(4);
      expect(chunks.map((c) => c.text).join('')).toBe(ANSWER);
      expect(chunks[3]?.candidates?.[0]?.finishReason).toBe('STOP');
      expect(chunks[3]?.usageMetadata?.thoughtsTokenCount).toBe(120);
      const after = (await relay.admin.keyUsage(key.id)).total;
      const t = expectedTokens(reported(account).map((r) => r.usage));
      expect({
        requests: after.requests - before.requests,
        input: after.inputTokens - before.inputTokens,
        output: after.outputTokens - before.outputTokens,
        read: after.cacheReadTokens - before.cacheReadTokens,
      }).toEqual({
        requests: 1,
        input: t.inputTokens,
        output: t.outputTokens,
        read: t.cacheReadTokens,
      });
    });

    it('tools: the function call comes back to the SDK, streamed or not', async () => {
      const { key } = of();
      const call = { functionCall: { name: 'get_weather', args: { city: 'Paris' } } };
      fake.script(
        of().account,
        { kind: 'message', content: [call] },
        { kind: 'message', content: [{ text: 'Let me check.' }, call] },
      );
      const tools = [
        {
          functionDeclarations: [
            {
              name: 'get_weather',
              description: 'Weather of a city',
              parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } },
            },
          ],
        },
      ];
      const res = await sdk(key.key).models.generateContent({
        model: MODEL,
        contents: 'weather in Paris?',
        config: { tools },
      });
      expect(res.functionCalls).toEqual([{ name: 'get_weather', args: { city: 'Paris' } }]);
      const chunks = [];
      for await (const chunk of await sdk(key.key).models.generateContentStream({
        model: MODEL,
        contents: 'weather in Paris?',
        config: { tools },
      }))
        chunks.push(chunk);
      expect(chunks.map((c) => c.text ?? '').join('')).toBe('Let me check.');
      expect(chunks.flatMap((c) => c.functionCalls ?? [])).toEqual([{ name: 'get_weather', args: { city: 'Paris' } }]);
      // The tools went upstream as the SDK sent them (inside Code Assist's wrapper for an OAuth account).
      const sent = fake.requests
        .filter((r) => /Content/.test(r.pathname))
        .map((r) => (r.body as { request?: unknown }).request ?? r.body);
      expect(sent).toHaveLength(2);
      for (const body of sent)
        expect(body).toMatchObject({ tools: [{ functionDeclarations: [{ name: 'get_weather' }] }] });
    });

    it('countTokens: a count, nothing booked', async () => {
      const { key } = of();
      const before = (await relay.admin.keyUsage(key.id)).total;
      const res = await sdk(key.key).models.countTokens({ model: MODEL, contents: 'how many tokens is this?' });
      expect(res.totalTokens).toBeGreaterThan(0);
      expect(fake.requests.some((r) => r.pathname.endsWith(':countTokens'))).toBe(true);
      expect((await relay.admin.keyUsage(key.id)).total.requests).toBe(before.requests);
    });

    it('the upstream never sees the relay key', async () => {
      const { key } = of();
      await sdk(key.key).models.generateContent({ model: MODEL, contents: 'say hi' });
      expect(fake.requests.length).toBeGreaterThan(0);
      for (const r of fake.requests) expect(JSON.stringify(r.headers) + r.path + r.rawBody).not.toContain(key.key);
    });
  });

  it("a wrong relay key: the SDK raises Google's 401", async () => {
    const key = kinds['an API-key account']?.key.key ?? '';
    const wrong = key.slice(0, -6) + (key.endsWith('000000') ? '111111' : '000000');
    const error = await sdk(wrong)
      .models.generateContent({ model: MODEL, contents: 'say hi' })
      .then(
        () => undefined,
        (e: unknown) => e as { status?: number; message?: string },
      );
    expect(error?.status).toBe(401);
    expect(error?.message).toMatch(/UNAUTHENTICATED/);
    expect(fake.requests).toHaveLength(0);
  });

  it('an error body in the middle of a stream reaches the SDK as an error', async () => {
    const { key, account } = kinds['an API-key account'] as { key: { key: string }; account: string };
    fake.script(account, { kind: 'stream-error', afterChunks: 2, status: 503 });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of await sdk(key.key).models.generateContentStream({ model: MODEL, contents: 'say hi' }))
        seen.push(chunk.text ?? '');
    })().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    // The two chunks before the error, then the error: never a short answer taken for a whole one.
    expect(seen).toHaveLength(2);
    expect('Hello from the fake Gemini.'.startsWith(seen.join(''))).toBe(true);
    expect(error).toBeInstanceOf(Error);
    // As with Google itself: an ApiError when the body arrives alone, else the SDK's framing error.
    expect(error?.message).toMatch(/got status: UNAVAILABLE|Incomplete JSON segment/);
  });
});
