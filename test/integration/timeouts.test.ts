import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { addAccount, ask, health, resetAccount, servedKeys, SONNET, type PoolAccount } from '../support/pool.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { untilBooked } from '../support/usage-math.js';

/**
 * Each way an answer can stop coming is named for what it was: an upstream that answers and then
 * falls silent is a timeout (504, the account cools, failover while nothing reached the client),
 * not a "broken stream" or a "cut" success; and a stream the relay itself ends because its drain
 * ran out of time tells the client so and is booked as such, not as the client leaving.
 */

interface Rec {
  outcome: string;
  status: number;
  usage: { inputTokens: number; outputTokens: number };
}

async function records(relay: TestRelay, keyId: string): Promise<Rec[]> {
  return (await relay.admin.request<{ items: Rec[] }>('GET', `/admin/api-keys/${keyId}/records?limit=20`)).body.items;
}

describe('timeouts are timeouts (UPSTREAM_TIMEOUT=1s)', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let first: PoolAccount;
  let second: PoolAccount;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay({ env: { UPSTREAM_TIMEOUT: '1s', BREAKER_VOLUME: '100000' } });
    first = await addAccount(relay.admin, fake, 'first', { priority: 1 });
    second = await addAccount(relay.admin, fake, 'second', { priority: 10 });
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    fake.reset();
    await resetAccount(relay.admin, first.id);
    await resetAccount(relay.admin, second.id);
  });

  it('a stream silent after its headers: the other account serves it, the first cools as timed out', async () => {
    const key = await relay.admin.createKey();
    fake.script(first.apiKey, { kind: 'stall', afterEvents: 0 });
    const res = await ask(relay.url, key.key, { stream: true });
    expect(res.status, res.text).toBe(200);
    expect(res.text).toContain('event: message_stop');
    expect(servedKeys(fake)).toEqual([first.apiKey, second.apiKey]);
    const h = await health(relay.admin, first.id, SONNET);
    expect(h.blockers).toEqual([expect.objectContaining({ reason: 'timeout', scope: '*' })]);
  });

  it('a JSON body that stalls half-way: not booked as a success; the other account serves it', async () => {
    const key = await relay.admin.createKey();
    fake.script(first.apiKey, { kind: 'stall', afterBytes: 60 });
    const res = await ask(relay.url, key.key);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ type: 'message' });
    expect(servedKeys(fake)).toEqual([first.apiKey, second.apiKey]);
    expect((await health(relay.admin, first.id, SONNET)).blockers).toEqual([
      expect.objectContaining({ reason: 'timeout', scope: '*' }),
    ]);
    await untilBooked(() => relay.admin.keyUsage(key.id), 1);
    expect((await records(relay, key.id)).map((r) => [r.outcome, r.status])).toEqual([['ok', 200]]);
  });

  it('with no account left: 504 upstream_timeout in the caller shape, booked as a timeout', async () => {
    const key = await relay.admin.createKey();
    fake.script(first.apiKey, { kind: 'stall', afterBytes: 10 });
    fake.script(second.apiKey, { kind: 'stall', afterEvents: 0 });
    const res = await ask(relay.url, key.key);
    expect(res.status, res.text).toBe(504);
    expect(res.type).toBe('timeout_error');
    await untilBooked(() => relay.admin.keyUsage(key.id), 1);
    expect((await records(relay, key.id)).map((r) => [r.outcome, r.status])).toEqual([['timeout', 504]]);
    expect((await relay.admin.keyUsage(key.id)).total).toMatchObject({ requests: 1, errors: 1, inputTokens: 0 });
  });

  it('a stream that stalls after its first events: the client is told it timed out, the input is booked, the account cools', async () => {
    const key = await relay.admin.createKey({ accountIds: [first.id] });
    fake.script(first.apiKey, { kind: 'stall', afterEvents: 2, usage: { input_tokens: 77 } });
    const res = await ask(relay.url, key.key, { stream: true });
    expect(res.status).toBe(200);
    expect(res.text).toContain('event: message_start');
    expect(res.text).toContain('event: error');
    expect(res.text).toContain('timed out');
    expect(res.text).not.toContain('event: message_stop');
    await untilBooked(() => relay.admin.keyUsage(key.id), 1);
    const [rec] = await records(relay, key.id);
    expect(rec).toMatchObject({ outcome: 'timeout', status: 200, usage: { inputTokens: 77 } });
    // It cost something (the input was reported), so it is not counted among the answerless errors.
    expect((await relay.admin.keyUsage(key.id)).total).toMatchObject({ requests: 1, errors: 0, inputTokens: 77 });
    expect((await health(relay.admin, first.id, SONNET)).blockers).toEqual([
      expect.objectContaining({ reason: 'timeout', scope: '*' }),
    ]);
  });
});

describe('a drain that runs out of time', () => {
  it('ends a running stream with an error event saying why, and books it as shutdown with what was reported', async () => {
    const fake = await startFakeAnthropic();
    const relay = await startTestRelay();
    try {
      const account = await addAccount(relay.admin, fake, 'slow');
      const key = await relay.admin.createKey();
      fake.script(account.apiKey, {
        kind: 'message',
        text: 'a long answer '.repeat(40),
        deltas: 40,
        chunkDelayMs: 100,
        usage: { input_tokens: 31, output_tokens: 9 },
      });
      const res = await fetch(`${relay.url}/api/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key.key, 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: SONNET,
          max_tokens: 50,
          stream: true,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      expect(res.status).toBe(200);
      const reading = res.text();
      await new Promise((r) => setTimeout(r, 300)); // well into the stream
      const clean = await relay.instance.drain(300);
      expect(clean).toBe(false);
      const text = await reading;
      expect(text).toContain('event: message_start');
      expect(text).toContain('event: error');
      expect(text).toContain('The relay is restarting');
      expect(text).not.toContain('event: message_stop');
      // Booked before the relay stopped (the store is closed now): read it from a second relay.
      const reader = await startTestRelay({ prefix: relay.config.redisKeyPrefix });
      try {
        const [rec] = await records(reader, key.id);
        expect(rec).toMatchObject({ outcome: 'shutdown', status: 200, usage: { inputTokens: 31 } });
      } finally {
        await reader.close();
      }
    } finally {
      await relay.close();
      await fake.close();
    }
  });
});
