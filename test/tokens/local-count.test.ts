import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { addAccount, ask, SONNET } from '../support/pool.js';
import { startTestRelay, uniquePrefix, type TestRelay } from '../support/relay.js';

/**
 * count_tokens is answered by the upstream where an account can count, and by the estimator,
 * marked `x-crs-token-estimate: true`, where none can.
 */
describe('count_tokens where the upstream has none', () => {
  let fake: FakeAnthropic;
  let bare: TestRelay;
  let served: TestRelay;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    bare = await startTestRelay({ prefix: uniquePrefix() });
    served = await startTestRelay({ prefix: uniquePrefix() });
    await addAccount(served.admin, fake, 'counts');
  });
  afterAll(async () => {
    await bare?.close();
    await served?.close();
    await fake?.close();
  });

  const body = { model: SONNET, messages: [{ role: 'user', content: 'How many tokens is this sentence?' }] };

  it('answers from the estimator, in the Anthropic shape, marked as an estimate', async () => {
    const { id, key } = await bare.admin.createKey({});
    const res = await ask(bare.url, key, { path: '/api/v1/messages/count_tokens', body });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('x-crs-token-estimate')).toBe('true');
    const text = countTokens('How many tokens is this sentence?');
    expect((res.json as { input_tokens: number }).input_tokens).toBe(Math.ceil(text * 1.2) + 3);
    expect(fake.requests).toHaveLength(0);
    expect((await bare.admin.keyUsage(id)).total.requests).toBe(0);
  });

  it('passes through where an account counts', async () => {
    const { key } = await served.admin.createKey({});
    const res = await ask(served.url, key, { path: '/api/v1/messages/count_tokens', body });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('x-crs-token-estimate')).toBeNull();
    expect(fake.requests).toHaveLength(1);
  });
});
