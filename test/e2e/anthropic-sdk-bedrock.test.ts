import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBedrock, type BedrockUsage, type FakeBedrock } from '../fakes/bedrock.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { booked, expectedBooking, sumBooked, type Booked } from '../support/usage-math.js';

/**
 * The official Anthropic SDK, unchanged, pointed at the relay's /api, served by Bedrock accounts
 * of both kinds (SigV4-signed access keys with a session token, and a Bedrock API key) through a
 * fake Bedrock that verifies every signature and streams the binary event stream. A whole tool
 * round trip (tool call, tool result, answer) with prompt caching, streamed and not; the key's
 * books equal the sum of what Bedrock reported, cache reads and writes included.
 */

const MODEL = 'claude-opus-5-5';
const TOOLS: Anthropic.Tool[] = [
  {
    name: 'get_weather',
    description: 'Current weather for a city',
    input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
];
const SYSTEM: Anthropic.TextBlockParam[] = [
  { type: 'text', text: 'You are a weather bot. '.repeat(50), cache_control: { type: 'ephemeral' } },
];

describe('@anthropic-ai/sdk through the relay to Bedrock', () => {
  let fake: FakeBedrock;
  let relay: TestRelay;
  const aws = {
    accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: `FwoGZXIvYXdzE${randomBytes(40).toString('base64')}`,
  };
  const apiKey = `ABSK${randomBytes(40).toString('base64')}`;
  const accounts: Record<'access-key' | 'bearer', { id: string; identity: string }> = {
    'access-key': { id: '', identity: aws.accessKeyId },
    bearer: { id: '', identity: apiKey },
  };

  beforeAll(async () => {
    fake = await startFakeBedrock();
    fake.addAccessKey({ ...aws, region: 'eu-central-1' });
    fake.addApiKey(apiKey);
    relay = await startTestRelay();
    accounts['access-key'].id = (
      await relay.admin.createAccount({
        platform: 'bedrock',
        type: 'access-key',
        name: 'sdk signed',
        baseUrl: fake.url,
        region: 'eu-central-1',
        ...aws,
      })
    ).id;
    accounts.bearer.id = (
      await relay.admin.createAccount({
        platform: 'bedrock',
        type: 'bearer',
        name: 'sdk bearer',
        baseUrl: fake.url,
        region: 'us-east-2',
        apiKey,
      })
    ).id;
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  describe.each(['access-key', 'bearer'] as const)('a %s account', (type) => {
    it.each([false, true])(
      'a tool round trip with prompt caching (stream %s): answers and books exactly',
      async (stream) => {
        const account = accounts[type];
        const key = await relay.admin.createKey({ accountIds: [account.id] });
        const client = new Anthropic({ apiKey: key.key, baseURL: `${relay.url}/api`, maxRetries: 0 });
        const first: BedrockUsage = {
          input_tokens: 41,
          output_tokens: 27,
          cache_creation_input_tokens: 1100,
          cache_read_input_tokens: 0,
        };
        const second: BedrockUsage = {
          input_tokens: 9,
          output_tokens: 15,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 1100,
        };
        fake.script(
          account.identity,
          {
            kind: 'message',
            text: 'Checking.',
            usage: first,
            tool: { id: 'toolu_bdrk_42', name: 'get_weather', input: { city: 'Lisbon' } },
          },
          { kind: 'message', text: 'Sunny, 24°C in Lisbon.', usage: second },
        );
        const from = fake.requests.length;

        const ask = async (messages: Anthropic.MessageParam[]) => {
          const req = { model: MODEL, max_tokens: 512, system: SYSTEM, tools: TOOLS, messages };
          return stream ? client.messages.stream(req).finalMessage() : client.messages.create(req);
        };
        const question: Anthropic.MessageParam = {
          role: 'user',
          content: `Weather in Lisbon? (${type}, ${stream}, ${randomBytes(4).toString('hex')})`,
        };
        const call = await ask([question]);
        expect(call.stop_reason).toBe('tool_use');
        const toolUse = call.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
        expect(toolUse).toMatchObject({ id: 'toolu_bdrk_42', name: 'get_weather', input: { city: 'Lisbon' } });
        expect(call.usage).toMatchObject(first);

        const answer = await ask([
          question,
          { role: 'assistant', content: call.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_bdrk_42', content: 'sunny, 24C' }] },
        ]);
        expect(answer.content).toEqual([{ type: 'text', text: 'Sunny, 24°C in Lisbon.' }]);
        expect(answer.usage).toMatchObject(second);

        // What Bedrock received: InvokeModel bodies at the account's profile, signed or with the key.
        const got = fake.requests.slice(from);
        expect(got.map((r) => [r.auth, r.identity, r.action])).toEqual(
          Array.from({ length: 2 }, () => [
            type === 'bearer' ? 'bearer' : 'sigv4',
            account.identity,
            stream ? 'invoke-with-response-stream' : 'invoke',
          ]),
        );
        expect(got.map((r) => r.modelId)).toEqual(
          Array.from({ length: 2 }, () => `${type === 'bearer' ? 'us' : 'eu'}.anthropic.${MODEL}`),
        );
        expect(got[1]?.body).toMatchObject({ anthropic_version: 'bedrock-2023-05-31', system: SYSTEM, tools: TOOLS });
        expect((got[1]?.body?.messages as unknown[]).at(-1)).toEqual({
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_bdrk_42', content: 'sunny, 24C' }],
        });

        const expected: Booked = sumBooked([expectedBooking(MODEL, first), expectedBooking(MODEL, second)]);
        expect(booked((await relay.admin.keyUsage(key.id)).total)).toEqual(expected);
      },
    );
  });

  it("count_tokens through the SDK is answered by Bedrock's CountTokens", async () => {
    const key = await relay.admin.createKey({ accountIds: [accounts.bearer.id] });
    const client = new Anthropic({ apiKey: key.key, baseURL: `${relay.url}/api`, maxRetries: 0 });
    const from = fake.requests.length;
    const counted = await client.messages.countTokens({
      model: MODEL,
      system: SYSTEM,
      tools: TOOLS,
      messages: [{ role: 'user', content: 'How many tokens is this?' }],
    });
    const r = fake.requests[from];
    expect(r).toMatchObject({ action: 'count-tokens', modelId: `anthropic.${MODEL}` });
    expect(counted.input_tokens).toBe(Math.ceil(JSON.stringify(r?.body?.messages).length / 4));
  });

  it("a throttled Bedrock answers the SDK with a 429 RateLimitError in Anthropic's shape", async () => {
    const key = await relay.admin.createKey({ accountIds: [accounts['access-key'].id] });
    const client = new Anthropic({ apiKey: key.key, baseURL: `${relay.url}/api`, maxRetries: 0 });
    fake.script(aws.accessKeyId, {
      kind: 'error',
      status: 429,
      type: 'ThrottlingException',
      message: 'Too many requests, please wait before trying again.',
    });
    const err = await client.messages
      .create({
        model: MODEL,
        max_tokens: 10,
        messages: [{ role: 'user', content: `hi ${randomBytes(4).toString('hex')}` }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect((err as InstanceType<typeof Anthropic.RateLimitError>).message).toContain(
      'ThrottlingException: Too many requests',
    );
  });
});
