import { randomBytes } from 'node:crypto';
import OpenAI, { APIError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic, type FakeUsage } from '../fakes/anthropic.js';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.js';
import { startFakeGemini, type FakeGemini, type GeminiUsage } from '../fakes/gemini.js';
import { startTestRelay, type TestRelay, type UsageReport } from '../support/relay.js';
import { booked, expectedBooking, sumBooked, untilBooked } from '../support/usage-math.js';

/**
 * The real `openai` SDK pointed at the relay's format bridges: `/openai/claude/v1` served by a
 * Claude API-key account and by a Bedrock account, `/openai/gemini/v1` by a Gemini API-key account
 * and by a Google OAuth (Code Assist) account. Chat with a system prompt, an image and tools, streaming and not; the
 * upstream sees what the client meant, the SDK gets what it expects, and every key is booked
 * exactly what the fake upstream reported.
 */
const CLAUDE = 'claude-sonnet-5-5';
const GEMINI = 'gemini-2.5-flash';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const SYSTEM = 'You are a weather assistant. Answer in one short sentence.';

const WEATHER_TOOL: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};

const waitForRequests = (read: () => Promise<UsageReport>, requests: number) => untilBooked(read, requests, 10_000);

/** gemini-2.5-flash by hand, in picodollars per token: $0.30 in, $2.50 out (thinking too), $0.03 cached. */
function geminiFlashCost(u: GeminiUsage): bigint {
  const cached = u.cachedContentTokenCount ?? 0;
  const input = u.promptTokenCount - cached + (u.toolUsePromptTokenCount ?? 0);
  const output = u.candidatesTokenCount + (u.thoughtsTokenCount ?? 0);
  return BigInt(input) * 300_000n + BigInt(output) * 2_500_000n + BigInt(cached) * 30_000n;
}

describe('the openai SDK through the format bridges', () => {
  let anthropic: FakeAnthropic;
  let google: FakeGemini;
  let bedrock: FakeBedrock;
  let relay: TestRelay;

  beforeAll(async () => {
    anthropic = await startFakeAnthropic();
    google = await startFakeGemini();
    bedrock = await startFakeBedrock();
    relay = await startTestRelay({
      env: { GEMINI_API_URL: google.url, CODE_ASSIST_URL: google.url, GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl },
    });
  });
  afterAll(async () => {
    await relay?.close();
    await anthropic?.close();
    await google?.close();
    await bedrock?.close();
  });

  describe('to a Claude account: /openai/claude/v1', () => {
    const upstreamKey = `sk-ant-sdk-${randomBytes(8).toString('hex')}`;
    let key: { id: string; key: string };
    let client: OpenAI;
    const reported: FakeUsage[] = [];

    beforeAll(async () => {
      const account = await relay.admin.createAccount({
        name: 'claude (sdk)',
        apiKey: upstreamKey,
        baseUrl: anthropic.url,
      });
      key = await relay.admin.createKey({ name: 'openai sdk → claude', accountIds: [account.id] });
      client = new OpenAI({ apiKey: key.key, baseURL: `${relay.url}/openai/claude/v1`, maxRetries: 0 });
    });

    it('chat with a system prompt and an image: the upstream gets both, the SDK gets the answer', async () => {
      const usage: FakeUsage = {
        input_tokens: 1500,
        output_tokens: 20,
        cache_creation_input_tokens: 300,
        cache_read_input_tokens: 2200,
      };
      anthropic.script(upstreamKey, { kind: 'message', text: 'A single red pixel.', usage });
      const completion = await client.chat.completions.create({
        model: CLAUDE,
        messages: [
          { role: 'system', content: SYSTEM },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this image?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            ],
          },
        ],
        max_tokens: 300,
      });
      reported.push(usage);
      expect(completion.object).toBe('chat.completion');
      expect(completion.model).toBe(CLAUDE);
      expect(completion.choices[0]?.message.content).toBe('A single red pixel.');
      expect(completion.choices[0]?.finish_reason).toBe('stop');
      expect(completion.usage).toMatchObject({
        prompt_tokens: 4000,
        completion_tokens: 20,
        total_tokens: 4020,
        prompt_tokens_details: { cached_tokens: 2200 },
      });
      const sent = anthropic.requests.at(-1)!;
      expect(sent.body).toEqual({
        model: CLAUDE,
        max_tokens: 300,
        system: SYSTEM,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this image?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            ],
          },
        ],
      });
    });

    it('a streamed tool call, then the tool result: the SDK assembles the call, the upstream gets tool_use and tool_result', async () => {
      const first: FakeUsage = { input_tokens: 410, output_tokens: 38 };
      anthropic.script(upstreamKey, {
        kind: 'message',
        usage: first,
        stopReason: 'tool_use',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'toolu_sdk01', name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } },
        ],
      });
      const messages: ChatCompletionMessageParam[] = [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: 'Weather in Paris?' },
      ];
      const stream = client.chat.completions.stream({
        model: CLAUDE,
        messages,
        tools: [WEATHER_TOOL],
        stream_options: { include_usage: true },
      });
      const chunks: ChatCompletionChunk[] = [];
      stream.on('chunk', (c) => chunks.push(c));
      const final = await stream.finalChatCompletion();
      reported.push(first);
      const message = final.choices[0]!.message;
      expect(final.choices[0]?.finish_reason).toBe('tool_calls');
      expect(message.content).toBe('Let me check.');
      expect(message.tool_calls).toHaveLength(1);
      const call = message.tool_calls![0]!;
      expect(call.type === 'function' && call.function.name).toBe('get_weather');
      expect(call.id).toBe('toolu_sdk01');
      expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({
        city: 'Paris',
        unit: 'celsius',
      });
      // The arguments came in fragments, as the upstream sent them.
      expect(chunks.filter((c) => c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments).length).toBeGreaterThan(1);
      expect(chunks.at(-1)).toMatchObject({
        choices: [],
        usage: { prompt_tokens: 410, completion_tokens: 38, total_tokens: 448 },
      });

      const second: FakeUsage = { input_tokens: 480, output_tokens: 12 };
      anthropic.script(upstreamKey, { kind: 'message', text: 'It is 18°C in Paris.', usage: second });
      const answer = await client.chat.completions.create({
        model: CLAUDE,
        tools: [WEATHER_TOOL],
        messages: [
          ...messages,
          message,
          { role: 'tool', tool_call_id: call.id, content: '{"temp": 18, "unit": "celsius"}' },
        ],
      });
      reported.push(second);
      expect(answer.choices[0]?.message.content).toBe('It is 18°C in Paris.');
      const sent = anthropic.requests.at(-1)!.body as { system: string; messages: unknown[]; tools: unknown[] };
      expect(sent.system).toBe(SYSTEM);
      expect(sent.tools).toEqual([
        {
          name: 'get_weather',
          description: 'Current weather for a city',
          input_schema: WEATHER_TOOL.type === 'function' ? WEATHER_TOOL.function.parameters : undefined,
        },
      ]);
      expect(sent.messages).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me check.' },
            { type: 'tool_use', id: 'toolu_sdk01', name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } },
          ],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_sdk01', content: '{"temp": 18, "unit": "celsius"}' }],
        },
      ]);
    });

    it('a non-streamed tool call comes back as tool_calls with JSON arguments', async () => {
      const usage: FakeUsage = { input_tokens: 300, output_tokens: 25 };
      anthropic.script(upstreamKey, {
        kind: 'message',
        usage,
        stopReason: 'tool_use',
        content: [{ type: 'tool_use', id: 'toolu_sdk02', name: 'get_weather', input: { city: 'Rome' } }],
      });
      const completion = await client.chat.completions.create({
        model: CLAUDE,
        messages: [{ role: 'user', content: 'Rome?' }],
        tools: [WEATHER_TOOL],
        tool_choice: 'required',
      });
      reported.push(usage);
      const call = completion.choices[0]?.message.tool_calls?.[0];
      expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
      expect(completion.choices[0]?.message.content).toBeNull();
      expect(call?.type === 'function' && [call.id, call.function.name, JSON.parse(call.function.arguments)]).toEqual([
        'toolu_sdk02',
        'get_weather',
        { city: 'Rome' },
      ]);
      expect((anthropic.requests.at(-1)!.body as { tool_choice: unknown }).tool_choice).toEqual({ type: 'any' });
    });

    it('a plain stream, iterated chunk by chunk, ends normally', async () => {
      const usage: FakeUsage = { input_tokens: 60, output_tokens: 9, cache_read_input_tokens: 700 };
      anthropic.script(upstreamKey, { kind: 'message', text: 'Sunny and mild today.', usage, deltas: 5 });
      const stream = await client.chat.completions.create({
        model: CLAUDE,
        stream: true,
        messages: [{ role: 'user', content: 'Weather?' }],
      });
      let text = '';
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        expect(chunk.usage ?? undefined).toBeUndefined();
      }
      reported.push(usage);
      expect(text).toBe('Sunny and mild today.');
      expect(finish).toBe('stop');
    });

    it('a stream the upstream cut makes the SDK throw, not return a truncated answer', async () => {
      anthropic.script(upstreamKey, { kind: 'cut', afterEvents: 5, usage: { input_tokens: 90, output_tokens: 40 } });
      const before = anthropic.reported.length;
      const stream = await client.chat.completions.create({
        model: CLAUDE,
        stream: true,
        messages: [{ role: 'user', content: 'Long story?' }],
      });
      let text = '';
      const consume = async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      };
      await expect(consume()).rejects.toThrow(/The upstream stream ended before the answer was complete/);
      expect(text.length).toBeGreaterThan(0);
      const cut = anthropic.reported.slice(before);
      expect(cut).toHaveLength(1);
      reported.push(cut[0]!.usage);
    });

    it('models.list() shows the Claude models', async () => {
      const ids: string[] = [];
      for await (const m of client.models.list()) ids.push(m.id);
      expect(ids).toContain(CLAUDE);
      expect(ids.every((id) => id.startsWith('claude-'))).toBe(true);
    });

    it('bad input is an SDK BadRequestError, nothing booked for it', async () => {
      const err = await client.chat.completions
        .create({ model: CLAUDE, n: 2, messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
      expect((err as APIError).status).toBe(400);
      expect((err as APIError).message).toMatch(/n: only one choice/);
    });

    it('the key is booked exactly what the upstream reported, cache tokens included', async () => {
      const report = await waitForRequests(() => relay.admin.keyUsage(key.id), reported.length);
      expect(booked(report.total)).toEqual(sumBooked(reported.map((u) => expectedBooking(CLAUDE, u))));
    });
  });

  describe('to a Bedrock account: /openai/claude/v1', () => {
    const bearer = `ABSK${randomBytes(30).toString('base64')}`;
    let key: { id: string; key: string };
    let client: OpenAI;
    const reported: FakeUsage[] = [];

    beforeAll(async () => {
      bedrock.addApiKey(bearer);
      const account = await relay.admin.createAccount({
        platform: 'bedrock',
        type: 'bearer',
        name: 'bedrock (sdk)',
        baseUrl: bedrock.url,
        region: 'us-east-1',
        apiKey: bearer,
      });
      key = await relay.admin.createKey({ name: 'openai sdk → bedrock', accountIds: [account.id] });
      client = new OpenAI({ apiKey: key.key, baseURL: `${relay.url}/openai/claude/v1`, maxRetries: 0 });
    });

    it('a tool call, non-streamed, with the system prompt and the end user carried to Bedrock', async () => {
      const usage: FakeUsage = {
        input_tokens: 210,
        output_tokens: 33,
        cache_creation_input_tokens: 1200,
        cache_read_input_tokens: 9000,
      };
      bedrock.script(bearer, {
        kind: 'message',
        text: 'Looking it up.',
        usage,
        tool: { id: 'toolu_bdrk1', name: 'get_weather', input: { city: 'Lima' } },
      });
      const completion = await client.chat.completions.create({
        model: CLAUDE,
        user: 'end-user-7',
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'system', content: SYSTEM },
          { role: 'user', content: 'Lima?' },
        ],
      });
      reported.push(usage);
      const choice = completion.choices[0];
      expect(choice?.finish_reason).toBe('tool_calls');
      expect(choice?.message.content).toBe('Looking it up.');
      const call = choice?.message.tool_calls?.[0];
      expect(call?.type === 'function' && [call.id, call.function.name, JSON.parse(call.function.arguments)]).toEqual([
        'toolu_bdrk1',
        'get_weather',
        { city: 'Lima' },
      ]);
      expect(completion.usage).toMatchObject({
        prompt_tokens: 10_410,
        completion_tokens: 33,
        prompt_tokens_details: { cached_tokens: 9000 },
      });
      const sent = bedrock.requests.at(-1)!;
      expect(sent.body).toMatchObject({
        system: SYSTEM,
        max_tokens: 8192,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Lima?' }] }],
      });
    });

    it('a stream with include_usage, from the binary event stream', async () => {
      const usage: FakeUsage = { input_tokens: 44, output_tokens: 21, cache_read_input_tokens: 3000 };
      bedrock.script(bearer, { kind: 'message', text: 'Mild and cloudy in Lima.', usage });
      const stream = await client.chat.completions.create({
        model: CLAUDE,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Lima?' }],
      });
      let text = '';
      let last: ChatCompletionChunk | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        last = chunk;
      }
      reported.push(usage);
      expect(text).toBe('Mild and cloudy in Lima.');
      expect(last).toMatchObject({ choices: [], usage: { prompt_tokens: 3044, completion_tokens: 21 } });
    });

    it('the key is booked exactly what Bedrock reported, cache tokens included', async () => {
      const report = await waitForRequests(() => relay.admin.keyUsage(key.id), reported.length);
      expect(booked(report.total)).toEqual(sumBooked(reported.map((u) => expectedBooking(CLAUDE, u))));
    });
  });

  describe('to Gemini accounts: /openai/gemini/v1', () => {
    const tools: ChatCompletionTool[] = [WEATHER_TOOL];
    const history: ChatCompletionMessageParam[] = [
      { role: 'system', content: SYSTEM },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather where this photo was taken?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_g1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_g1', content: '{"temp": -3}' },
    ];
    const expectedContents = [
      {
        role: 'user',
        parts: [{ text: 'Weather where this photo was taken?' }, { inlineData: { mimeType: 'image/png', data: PNG } }],
      },
      {
        role: 'model',
        parts: [
          {
            functionCall: { name: 'get_weather', args: { city: 'Oslo' } },
            thoughtSignature: 'skip_thought_signature_validator',
          },
        ],
      },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: -3 } } }] },
    ];

    describe('an API-key account (native generateContent)', () => {
      const apiKey = `AIza-sdk-${randomBytes(8).toString('hex')}`;
      let key: { id: string; key: string };
      let client: OpenAI;
      const reported: GeminiUsage[] = [];

      beforeAll(async () => {
        const account = await relay.admin.createAccount({
          platform: 'gemini',
          type: 'api-key',
          name: 'gemini (sdk)',
          apiKey,
        });
        // Each key is bound to its account: the two Gemini accounts would otherwise share the pool.
        key = await relay.admin.createKey({ name: 'openai sdk → gemini', accountIds: [account.id] });
        client = new OpenAI({ apiKey: key.key, baseURL: `${relay.url}/openai/gemini/v1`, maxRetries: 0 });
      });

      it('chat with a system prompt, an image, tools and a tool round trip: mapped to Gemini, answered to the SDK', async () => {
        const usage: GeminiUsage = {
          promptTokenCount: 2400,
          cachedContentTokenCount: 2000,
          candidatesTokenCount: 14,
          thoughtsTokenCount: 30,
        };
        google.script(apiKey, { kind: 'message', text: 'It is -3°C in Oslo.', usage });
        const completion = await client.chat.completions.create({
          model: GEMINI,
          messages: history,
          tools,
          temperature: 0.2,
        });
        reported.push(usage);
        expect(completion.model).toBe(GEMINI);
        expect(completion.choices[0]?.message.content).toBe('It is -3°C in Oslo.');
        expect(completion.choices[0]?.finish_reason).toBe('stop');
        expect(completion.usage).toEqual({
          prompt_tokens: 2400,
          completion_tokens: 44,
          total_tokens: 2444,
          prompt_tokens_details: { cached_tokens: 2000 },
          completion_tokens_details: { reasoning_tokens: 30 },
        });
        const sent = google.requests.at(-1)!;
        expect(sent.pathname).toBe(`/v1beta/models/${GEMINI}:generateContent`);
        expect(sent.headers['x-goog-api-key']).toBe(apiKey);
        expect(sent.headers.authorization).toBeUndefined();
        expect(sent.body).toEqual({
          contents: expectedContents,
          systemInstruction: { parts: [{ text: SYSTEM }] },
          tools: [
            {
              functionDeclarations: [
                {
                  name: 'get_weather',
                  description: 'Current weather for a city',
                  parameters: {
                    type: 'object',
                    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
                    required: ['city'],
                  },
                },
              ],
            },
          ],
          generationConfig: { temperature: 0.2 },
        });
      });

      it('a stream with include_usage: text deltas, finish, the usage chunk; SSE asked of the upstream', async () => {
        const usage: GeminiUsage = {
          promptTokenCount: 800,
          cachedContentTokenCount: 512,
          candidatesTokenCount: 40,
          thoughtsTokenCount: 8,
        };
        google.script(apiKey, {
          kind: 'message',
          text: 'Cold and clear, with light wind from the north.',
          usage,
          parts: 4,
        });
        const stream = await client.chat.completions.create({
          model: GEMINI,
          stream: true,
          stream_options: { include_usage: true },
          messages: history,
          tools,
        });
        let text = '';
        const chunks: ChatCompletionChunk[] = [];
        for await (const chunk of stream) {
          chunks.push(chunk);
          text += chunk.choices[0]?.delta.content ?? '';
        }
        reported.push(usage);
        expect(text).toBe('Cold and clear, with light wind from the north.');
        expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
        expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
        expect(chunks.at(-1)).toMatchObject({
          choices: [],
          usage: {
            prompt_tokens: 800,
            completion_tokens: 48,
            total_tokens: 848,
            prompt_tokens_details: { cached_tokens: 512 },
            completion_tokens_details: { reasoning_tokens: 8 },
          },
        });
        const sent = google.requests.at(-1)!;
        expect(sent.pathname).toBe(`/v1beta/models/${GEMINI}:streamGenerateContent`);
        expect(sent.query.get('alt')).toBe('sse');
      });

      it('models.list() shows the Gemini models', async () => {
        const ids: string[] = [];
        for await (const m of client.models.list()) {
          ids.push(m.id);
          expect(m.owned_by).toBe('google');
        }
        expect(ids).toContain(GEMINI);
        expect(ids.filter((id) => id.startsWith('claude-') || id.startsWith('gpt-'))).toEqual([]);
      });

      it('an upstream error reaches the SDK as an APIError with Google’s status and message', async () => {
        google.script(apiKey, { kind: 'error', status: 400, message: 'Invalid value at contents[0]' });
        const err = await client.chat.completions
          .create({ model: GEMINI, messages: [{ role: 'user', content: 'x' }] })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(APIError);
        expect((err as APIError).status).toBe(400);
        expect((err as APIError).message).toMatch(/Invalid value at contents\[0\]/);
      });

      it('the key is booked exactly what Gemini reported, cached and thinking tokens included', async () => {
        const report = await waitForRequests(() => relay.admin.keyUsage(key.id), reported.length + 1);
        const cached = reported.reduce((a, u) => a + (u.cachedContentTokenCount ?? 0), 0);
        expect(report.total).toMatchObject({
          requests: reported.length + 1,
          errors: 1,
          inputTokens: reported.reduce((a, u) => a + u.promptTokenCount - (u.cachedContentTokenCount ?? 0), 0),
          outputTokens: reported.reduce((a, u) => a + u.candidatesTokenCount + (u.thoughtsTokenCount ?? 0), 0),
          cacheReadTokens: cached,
          cacheCreateTokens: 0,
        });
        expect(report.total.costPico).toBe(String(reported.reduce((a, u) => a + geminiFlashCost(u), 0n)));
      });
    });

    describe('a Google OAuth account (Code Assist)', () => {
      const userId = `sdk-user-${randomBytes(4).toString('hex')}`;
      let key: { id: string; key: string };
      let client: OpenAI;
      const reported: GeminiUsage[] = [];

      beforeAll(async () => {
        const user = google.addUser({ id: userId, refreshToken: `1//sdk-refresh-${userId}` });
        const account = await relay.admin.createAccount({
          platform: 'gemini',
          type: 'oauth',
          name: 'gemini oauth (sdk)',
          refreshToken: user.refreshToken,
        });
        key = await relay.admin.createKey({ name: 'openai sdk → code assist', accountIds: [account.id] });
        client = new OpenAI({ apiKey: key.key, baseURL: `${relay.url}/openai/gemini/v1`, maxRetries: 0 });
      });

      it('the same chat, wrapped for Code Assist in the account’s project, streaming and not', async () => {
        const usage: GeminiUsage = { promptTokenCount: 1000, cachedContentTokenCount: 600, candidatesTokenCount: 10 };
        google.script(
          userId,
          { kind: 'message', text: 'Brrr.', usage },
          { kind: 'message', text: 'Brrr, still.', usage },
        );
        const completion = await client.chat.completions.create({ model: GEMINI, messages: history, tools });
        reported.push(usage);
        expect(completion.choices[0]?.message.content).toBe('Brrr.');
        expect(completion.usage).toMatchObject({
          prompt_tokens: 1000,
          completion_tokens: 10,
          prompt_tokens_details: { cached_tokens: 600 },
        });
        const sent = google.requests.filter((r) => r.pathname === '/v1internal:generateContent').at(-1)!;
        expect(sent.body).toMatchObject({
          model: GEMINI,
          project: `fake-project-${userId}`,
          request: { contents: expectedContents, systemInstruction: { parts: [{ text: SYSTEM }] } },
        });

        const stream = await client.chat.completions.create({ model: GEMINI, stream: true, messages: history });
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        reported.push(usage);
        expect(text).toBe('Brrr, still.');
      });

      it('the key is booked exactly what Code Assist reported', async () => {
        const report = await waitForRequests(() => relay.admin.keyUsage(key.id), reported.length);
        expect(report.total).toMatchObject({
          requests: 2,
          errors: 0,
          inputTokens: 800,
          outputTokens: 20,
          cacheReadTokens: 1200,
        });
        expect(report.total.costPico).toBe(String(reported.reduce((a, u) => a + geminiFlashCost(u), 0n)));
      });
    });
  });
});
