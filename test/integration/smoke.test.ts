import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

describe('relay smoke', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let client: Anthropic;
  let keyId: string;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay();
    await relay.admin.createAccount({ apiKey: 'sk-ant-smoke-0000000000000000', baseUrl: fake.url });
    const key = await relay.admin.createKey();
    keyId = key.id;
    client = new Anthropic({ apiKey: key.key, baseURL: `${relay.url}/api`, maxRetries: 0 });
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  it('answers through the SDK, streaming and not, and books the usage', async () => {
    const msg = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'Hello from the fake upstream.' });
    const stream = client.messages.stream({
      model: 'claude-sonnet-4-5',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const final = await stream.finalMessage();
    expect(final.usage.output_tokens).toBe(12);
    const usage = await relay.admin.keyUsage(keyId);
    expect(usage.total).toMatchObject({ requests: 2, inputTokens: 50, outputTokens: 24 });
  });
});
