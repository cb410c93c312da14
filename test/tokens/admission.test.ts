import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/util/clock.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { addAccount, ask, SONNET } from '../support/pool.js';
import { startTestRelay, uniquePrefix, type TestRelay } from '../support/relay.js';

/**
 * The token window refuses on the prompt's estimate before the upstream: booked tokens plus the
 * estimates reserved by requests in flight plus this prompt's estimate must fit the limit. The
 * fake answers slowly, so the burst's admitted requests are all in flight at once, and reports its
 * own usage (25 in + 12 out), which is what gets booked, never the estimate.
 */

interface Window {
  window: { tokens: number; requests: number };
}

/** About 2,000 tokens of varied English-like text (o200k_base). */
const bigPrompt = (seed: string) =>
  Array.from({ length: 400 }, (_, i) => `${seed} sentence number ${i} talks about relays.`).join(' ');

describe('token window admission on the prompt estimate', () => {
  const clock = manualClock();
  let fake: FakeAnthropic;
  let relay: TestRelay;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay({ prefix: uniquePrefix(), clock });
    await addAccount(relay.admin, fake, 'only');
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const window = async (keyId: string) =>
    (await relay.admin.request<Window>('GET', `/admin/api-keys/${keyId}/limits`)).body.window;

  it('refuses a concurrent burst of large prompts before the upstream; releases at booking', async () => {
    const { id, key } = await relay.admin.createKey({ rateWindowMinutes: 5, rateLimitTokens: 10_000 });
    fake.setDefault({ kind: 'message', delayMs: 400 });
    const burst = await Promise.all(
      Array.from({ length: 6 }, (_, i) => ask(relay.url, key, { model: SONNET, content: bigPrompt(`b${i}`) })),
    );
    const admitted = burst.filter((r) => r.status === 200);
    const refused = burst.filter((r) => r.status === 429);
    // Each prompt estimates above 3,300 tokens (claude factor), so at most two fit 10,000 at once.
    expect(admitted.length).toBeGreaterThanOrEqual(1);
    expect(admitted.length).toBeLessThanOrEqual(2);
    expect(refused.length).toBe(6 - admitted.length);
    expect(refused[0]!.type).toBe('rate_limit_error');
    expect(refused[0]!.message).toContain('10000 tokens per 5 minutes');
    expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(fake.requests).toHaveLength(admitted.length);
    // Booked is the fake's usage, never the estimate; the reservations are gone with the bookings.
    const w = await window(id);
    const reported = fake.reported.reduce((s, r) => s + r.usage.input_tokens + r.usage.output_tokens, 0);
    expect(w.tokens).toBe(reported);
    expect(w.tokens).toBe(admitted.length * 37);
    expect((await relay.admin.keyUsage(id)).total.requests).toBe(admitted.length);
    // There is room again: a following large prompt passes.
    const next = await ask(relay.url, key, { model: SONNET, content: bigPrompt('after') });
    expect(next.status, next.text).toBe(200);
  });

  it('refuses a prompt larger than the whole limit, saying so', async () => {
    const { key } = await relay.admin.createKey({ rateWindowMinutes: 5, rateLimitTokens: 500 });
    const res = await ask(relay.url, key, { model: SONNET, content: bigPrompt('huge') });
    expect(res.status).toBe(429);
    expect(res.message).toContain('can never be admitted');
    expect(fake.requests).toHaveLength(0);
  });

  it('releases the reservation of a request that ends without a booking', async () => {
    // A relay of its own, with no account yet: admitted, then refused for want of an account.
    const bare = await startTestRelay({ prefix: uniquePrefix(), clock });
    try {
      const { id, key } = await bare.admin.createKey({ rateWindowMinutes: 5, rateLimitTokens: 5_000 });
      const lost = await ask(bare.url, key, { model: SONNET, content: bigPrompt('x') });
      expect(lost.status).toBe(503);
      await addAccount(bare.admin, fake, 'late');
      // Had the first estimate stayed reserved, two of them would not fit 5,000.
      const next = await ask(bare.url, key, { model: SONNET, content: bigPrompt('y') });
      expect(next.status, next.text).toBe(200);
      expect((await bare.admin.request<Window>('GET', `/admin/api-keys/${id}/limits`)).body.window.tokens).toBe(37);
    } finally {
      await bare.close();
    }
  });

  it('keys without a token window do not count prompts', async () => {
    const { key } = await relay.admin.createKey({ rateWindowMinutes: 5, rateLimitRequests: 100 });
    const res = await ask(relay.url, key, { model: SONNET, content: bigPrompt('free') });
    expect(res.status).toBe(200);
  });
});
