import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIUsage } from '../fakes/openai.js';
import { openaiBooking, type OpenAIPricedModel } from '../support/openai.js';
import { startTestRelay, type TestRelay, type UsageReport } from '../support/relay.js';
import { booked, byModel, sumBooked, untilBooked, type Booked } from '../support/usage-math.js';

/**
 * The official `openai` SDK (a real client) against the relay: `OpenAI` through `/openai/v1` to an
 * API-key account, and `AzureOpenAI` through `/azure` to an Azure account, both relayed to the
 * fake upstream. Chat (stream and not), Responses (stream and not) and Embeddings; what each key
 * is booked is exactly what the upstream reported.
 */

const OPENAI_KEY = 'sk-proj-e2e-openai-sdk-0000000000000000';
const AZURE_KEY = 'azure-e2e-resource-key-00000000000000';
const SOL: OpenAIPricedModel = 'gpt-6.2-sol';
const EMBED: OpenAIPricedModel = 'text-embedding-3-small';
const USAGE: FakeOpenAIUsage = { input: 2400, cached: 2048, output: 321, reasoning: 200 };
const WITH_WRITES: FakeOpenAIUsage = { input: 5000, cached: 1000, cacheWrite: 3000, output: 70 };

/** The text of a response's message items (a streamed final response has no `output_text`). */
const outputText = (r: OpenAI.Responses.Response) =>
  r.output
    .flatMap((item) =>
      item.type === 'message' ? item.content.map((c) => (c.type === 'output_text' ? c.text : '')) : [],
    )
    .join('');

async function expectBooked(read: () => Promise<UsageReport>, want: Record<string, Booked>): Promise<void> {
  const total = sumBooked(Object.values(want));
  const report = await untilBooked(read, total.requests);
  expect(booked(report.total)).toEqual(total);
  expect(byModel(report)).toEqual(want);
}

describe('the openai SDK through the relay', () => {
  let fake: FakeOpenAI;
  let relay: TestRelay;

  beforeAll(async () => {
    fake = await startFakeOpenAI({
      azureDeployments: { 'prod-4o': 'gpt-4o-2024-11-20', 'prod-embed': 'text-embedding-3-small' },
    });
    relay = await startTestRelay();
    await relay.admin.createAccount({
      platform: 'openai',
      type: 'api-key',
      name: 'openai key',
      apiKey: OPENAI_KEY,
      baseUrl: fake.url,
    });
    await relay.admin.createAccount({
      platform: 'azure',
      type: 'api-key',
      name: 'azure resource',
      apiKey: AZURE_KEY,
      baseUrl: fake.url,
      apiVersion: '2025-04-01-preview',
    });
  });

  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  const openaiClient = async (name: string) => {
    const key = await relay.admin.createKey({ name });
    return { key, client: new OpenAI({ apiKey: key.key, baseURL: `${relay.url}/openai/v1`, maxRetries: 0 }) };
  };

  it('chat, not streamed: the answer and its usage, booked exactly', async () => {
    const { key, client } = await openaiClient('sdk chat');
    fake.script(OPENAI_KEY, { kind: 'answer', text: 'Hello there.', usage: USAGE });
    const res = await client.chat.completions.create({ model: SOL, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0]?.message.content).toBe('Hello there.');
    expect(res.usage).toMatchObject({
      prompt_tokens: 2400,
      completion_tokens: 321,
      prompt_tokens_details: { cached_tokens: 2048 },
    });
    const call = fake.requests.at(-1);
    expect(call).toMatchObject({ path: '/v1/chat/completions', upstream: 'openai', key: OPENAI_KEY });
    expect(call?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(JSON.stringify(call?.headers)).not.toContain(key.key);
    await expectBooked(() => relay.admin.keyUsage(key.id), { [SOL]: openaiBooking(SOL, USAGE) });
  });

  it('chat, streamed without include_usage: the relay asks for the usage, the client never sees it', async () => {
    const { key, client } = await openaiClient('sdk chat stream');
    fake.script(OPENAI_KEY, { kind: 'answer', text: 'Streaming along nicely.', usage: USAGE, deltas: 4 });
    const stream = await client.chat.completions.create({
      model: SOL,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('Streaming along nicely.');
    expect(chunks.every((c) => c.choices.length > 0 && !c.usage)).toBe(true);
    expect(fake.requests.at(-1)?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    await expectBooked(() => relay.admin.keyUsage(key.id), { [SOL]: openaiBooking(SOL, USAGE) });
  });

  it('chat, streamed with include_usage: the client gets the usage chunk it asked for', async () => {
    const { key, client } = await openaiClient('sdk chat stream usage');
    fake.script(OPENAI_KEY, { kind: 'answer', usage: WITH_WRITES });
    const stream = await client.chat.completions.create({
      model: SOL,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toMatchObject({ prompt_tokens: 5000, completion_tokens: 70 });
    await expectBooked(() => relay.admin.keyUsage(key.id), { [SOL]: openaiBooking(SOL, WITH_WRITES) });
  });

  it('responses, not streamed and streamed', async () => {
    const { key, client } = await openaiClient('sdk responses');
    const second: FakeOpenAIUsage = { input: 900, cached: 0, output: 45 };
    fake.script(
      OPENAI_KEY,
      { kind: 'answer', text: 'Whole answer.', usage: USAGE },
      { kind: 'answer', text: 'Streamed answer.', usage: second },
    );
    const whole = await client.responses.create({ model: SOL, input: 'hi' });
    expect(whole.output_text).toBe('Whole answer.');
    expect(fake.requests.at(-1)).toMatchObject({ path: '/v1/responses', upstream: 'openai' });

    const stream = client.responses.stream({ model: SOL, input: [{ role: 'user', content: 'hi' }] });
    const types = new Set<string>();
    let text = '';
    for await (const ev of stream) {
      types.add(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
    }
    const final = await stream.finalResponse();
    expect(text).toBe('Streamed answer.');
    expect(outputText(final)).toBe('Streamed answer.');
    expect(final.usage).toMatchObject({ input_tokens: 900, output_tokens: 45 });
    expect([...types]).toEqual(
      expect.arrayContaining(['response.created', 'response.output_text.delta', 'response.completed']),
    );
    await expectBooked(() => relay.admin.keyUsage(key.id), {
      [SOL]: sumBooked([openaiBooking(SOL, USAGE), openaiBooking(SOL, second)]),
    });
  });

  it('embeddings (the SDK asks for base64 and decodes it)', async () => {
    const { key, client } = await openaiClient('sdk embeddings');
    const usage: FakeOpenAIUsage = { input: 17, output: 0 };
    fake.script(OPENAI_KEY, { kind: 'answer', usage });
    const res = await client.embeddings.create({ model: EMBED, input: ['one', 'two'], dimensions: 4 });
    expect(res.data).toHaveLength(2);
    expect(res.data[1]?.embedding).toHaveLength(4);
    expect(res.data[1]?.embedding[0]).toBeCloseTo(Math.sin(2), 5);
    expect(fake.requests.at(-1)).toMatchObject({ path: '/v1/embeddings', body: { encoding_format: 'base64' } });
    await expectBooked(() => relay.admin.keyUsage(key.id), { [EMBED]: openaiBooking(EMBED, usage) });
  });

  it("lists OpenAI's models", async () => {
    const { client } = await openaiClient('sdk models');
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining([SOL, 'gpt-4o', EMBED]));
    expect(ids.some((id) => id.startsWith('claude'))).toBe(false);
  });

  it('a wrong relay key is an OpenAI-shaped 401 and reaches no upstream', async () => {
    const before = fake.requests.length;
    const client = new OpenAI({
      apiKey: 'cr_not-a-key-the-relay-issued-000000000000000',
      baseURL: `${relay.url}/openai/v1`,
      maxRetries: 0,
    });
    const err = await client.chat.completions
      .create({ model: SOL, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).error).toMatchObject({
      type: 'authentication_error',
      code: 'invalid_api_key',
    });
    expect(fake.requests.length).toBe(before);
  });

  describe('AzureOpenAI through /azure', () => {
    const azureClient = async (name: string, deployment?: string) => {
      const key = await relay.admin.createKey({ name });
      return {
        key,
        client: new AzureOpenAI({
          endpoint: `${relay.url}/azure`,
          apiKey: key.key,
          apiVersion: '2024-10-21',
          ...(deployment ? { deployment } : {}),
          maxRetries: 0,
        }),
      };
    };

    it('chat on a deployment, streamed and not: Azure URL shape, api-key header, booked by the model served', async () => {
      const { key, client } = await azureClient('azure chat', 'prod-4o');
      const a: FakeOpenAIUsage = { input: 1500, cached: 1024, output: 80 };
      const b: FakeOpenAIUsage = { input: 300, output: 20 };
      fake.script(
        AZURE_KEY,
        { kind: 'answer', text: 'From Azure.', usage: a },
        { kind: 'answer', text: 'Streamed from Azure.', usage: b },
      );
      const res = await client.chat.completions.create({
        model: 'prod-4o',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.choices[0]?.message.content).toBe('From Azure.');
      const call = fake.requests.at(-1);
      expect(call).toMatchObject({
        path: '/openai/deployments/prod-4o/chat/completions',
        upstream: 'azure',
        key: AZURE_KEY,
      });
      // The account's api-version, not the client's.
      expect(call?.query.get('api-version')).toBe('2025-04-01-preview');
      expect(call?.headers['api-key']).toBe(AZURE_KEY);
      expect(call?.headers.authorization).toBeUndefined();

      const stream = await client.chat.completions.create({
        model: 'prod-4o',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      expect(text).toBe('Streamed from Azure.');
      await expectBooked(() => relay.admin.keyUsage(key.id), {
        'gpt-4o-2024-11-20': sumBooked([openaiBooking('gpt-4o', a), openaiBooking('gpt-4o', b)]),
      });
    });

    it('embeddings on a deployment', async () => {
      const { key, client } = await azureClient('azure embeddings', 'prod-embed');
      const usage: FakeOpenAIUsage = { input: 9, output: 0 };
      fake.script(AZURE_KEY, { kind: 'answer', usage });
      const res = await client.embeddings.create({ model: 'prod-embed', input: 'hello' });
      expect(res.data).toHaveLength(1);
      expect(fake.requests.at(-1)).toMatchObject({
        path: '/openai/deployments/prod-embed/embeddings',
        upstream: 'azure',
      });
      await expectBooked(() => relay.admin.keyUsage(key.id), { 'text-embedding-3-small': openaiBooking(EMBED, usage) });
    });

    it('responses on the resource, not streamed and streamed', async () => {
      const { key, client } = await azureClient('azure responses');
      const whole: FakeOpenAIUsage = { input: 100, output: 10 };
      const usage: FakeOpenAIUsage = { input: 640, cached: 512, output: 33 };
      fake.script(
        AZURE_KEY,
        { kind: 'answer', text: 'Whole from Azure.', usage: whole },
        { kind: 'answer', text: 'Azure responses.', usage },
      );
      expect((await client.responses.create({ model: 'prod-4o', input: 'hi' })).output_text).toBe('Whole from Azure.');
      const stream = client.responses.stream({ model: 'prod-4o', input: 'hi' });
      const final = await stream.finalResponse();
      expect(outputText(final)).toBe('Azure responses.');
      const call = fake.requests.at(-1);
      expect(call).toMatchObject({ path: '/openai/responses', upstream: 'azure', body: { model: 'prod-4o' } });
      expect(call?.query.get('api-version')).toBe('2025-04-01-preview');
      await expectBooked(() => relay.admin.keyUsage(key.id), {
        'gpt-4o-2024-11-20': sumBooked([openaiBooking('gpt-4o', whole), openaiBooking('gpt-4o', usage)]),
      });
    });
  });
});
