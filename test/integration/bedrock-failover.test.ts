import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/util/clock.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.js';
import { addAccount, ask, health, iso, resetAccount, type PoolAccount } from '../support/pool.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { booked, expectedBooking } from '../support/usage-math.js';

/**
 * One key, a Bedrock account (priority 1) and a Claude API-key account (priority 10): Bedrock's
 * throttling, overload and stream exceptions before the first event fail over to Claude and cool
 * Bedrock for the right scope; Claude's failures fail over to Bedrock; the booking is the serving
 * upstream's own numbers.
 */

const MODEL = 'claude-sonnet-5-5';
const SEC = 1000;

describe('failover between a Bedrock account and a Claude API-key account', () => {
  const clock = manualClock();
  let bedrock: FakeBedrock;
  let anthropic: FakeAnthropic;
  let relay: TestRelay;
  const aws = {
    accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  };
  let bedrockAccount: string;
  let claude: PoolAccount;
  let key: { id: string; key: string };

  beforeAll(async () => {
    bedrock = await startFakeBedrock();
    anthropic = await startFakeAnthropic();
    relay = await startTestRelay({ clock, env: { BREAKER_VOLUME: '100000' } });
    bedrock.addAccessKey(aws);
    bedrockAccount = (
      await relay.admin.createAccount({
        platform: 'bedrock',
        type: 'access-key',
        name: 'bedrock',
        baseUrl: bedrock.url,
        priority: 1,
        ...aws,
      })
    ).id;
    claude = await addAccount(relay.admin, anthropic, 'claude', { priority: 10 });
  });
  afterAll(async () => {
    await relay?.close();
    await bedrock?.close();
    await anthropic?.close();
  });
  beforeEach(async () => {
    bedrock.reset();
    anthropic.reset();
    await resetAccount(relay.admin, bedrockAccount);
    await resetAccount(relay.admin, claude.id);
    key = await relay.admin.createKey({ accountIds: [bedrockAccount, claude.id] });
  });

  /** Who answered: the Bedrock fake's and the Anthropic fake's request counts. */
  const tried = () => ({ bedrock: bedrock.requests.length, claude: anthropic.requests.length });

  it("Bedrock serves first when healthy (priority), at its default region's profile", async () => {
    const res = await ask(relay.url, key.key, { model: MODEL });
    expect(res.status, res.text).toBe(200);
    expect(tried()).toEqual({ bedrock: 1, claude: 0 });
    expect(bedrock.requests[0]).toMatchObject({ region: 'us-east-1', modelId: `us.anthropic.${MODEL}` });
  });

  it.each([false, true])(
    "429 ThrottlingException: Claude serves; Bedrock's sonnet family cools as long as retry-after says (stream %s)",
    async (stream) => {
      const now = clock.now();
      const bedrockBefore = booked((await relay.admin.accountUsage(bedrockAccount)).total);
      bedrock.script(aws.accessKeyId, {
        kind: 'error',
        status: 429,
        type: 'ThrottlingException',
        message: 'Too many requests, please wait before trying again.',
        headers: { 'retry-after': '90' },
      });
      const res = await ask(relay.url, key.key, { model: MODEL, stream });
      expect(res.status, res.text).toBe(200);
      expect(tried()).toEqual({ bedrock: 1, claude: 1 });
      expect((await health(relay.admin, bedrockAccount, MODEL)).blockers).toEqual([
        { reason: 'rate_limited', scope: 'sonnet', until: iso(now + 90 * SEC), detail: 'HTTP 429' },
      ]);
      // Booked once, from the upstream that served (the Anthropic fake's default usage).
      expect(booked((await relay.admin.keyUsage(key.id)).total)).toEqual(
        expectedBooking(MODEL, { input_tokens: 25, output_tokens: 12 }),
      );
      // The refused attempt cost nothing and is not booked against Bedrock.
      expect(booked((await relay.admin.accountUsage(bedrockAccount)).total)).toEqual(bedrockBefore);
    },
  );

  it('400 ServiceQuotaExceededException is a rate limit too: Claude serves', async () => {
    bedrock.script(aws.accessKeyId, {
      kind: 'error',
      status: 400,
      type: 'ServiceQuotaExceededException',
      message: 'quota',
    });
    expect((await ask(relay.url, key.key, { model: MODEL })).status).toBe(200);
    expect(tried()).toEqual({ bedrock: 1, claude: 1 });
    expect((await health(relay.admin, bedrockAccount, MODEL)).blockers).toMatchObject([
      { reason: 'rate_limited', scope: 'sonnet' },
    ]);
  });

  it.each<[string, number]>([
    ['ServiceUnavailableException', 503],
    ['ModelNotReadyException', 429],
  ])('%s (%i) is an overload: Claude serves; the family cools briefly', async (type, status) => {
    const now = clock.now();
    bedrock.script(aws.accessKeyId, { kind: 'error', status, type });
    expect((await ask(relay.url, key.key, { model: MODEL })).status).toBe(200);
    expect(tried()).toEqual({ bedrock: 1, claude: 1 });
    expect((await health(relay.admin, bedrockAccount, MODEL)).blockers).toEqual([
      { reason: 'overloaded', scope: 'sonnet', until: iso(now + 30 * SEC), detail: 'HTTP 503' },
    ]);
  });

  it('500 InternalServerException: Claude serves; the whole Bedrock account cools', async () => {
    bedrock.script(aws.accessKeyId, { kind: 'error', status: 500, type: 'InternalServerException' });
    expect((await ask(relay.url, key.key, { model: MODEL })).status).toBe(200);
    expect(tried()).toEqual({ bedrock: 1, claude: 1 });
    expect((await health(relay.admin, bedrockAccount, MODEL)).blockers).toMatchObject([
      { reason: 'server_error', scope: '*' },
    ]);
  });

  it("a throttlingException as the stream's first message: nothing reached the client, Claude serves the whole stream", async () => {
    bedrock.script(aws.accessKeyId, { kind: 'exception', afterEvents: 0, name: 'throttlingException' });
    const res = await ask(relay.url, key.key, { model: MODEL, stream: true });
    expect(res.status).toBe(200);
    expect(tried()).toEqual({ bedrock: 1, claude: 1 });
    expect(res.text).not.toContain('throttlingException');
    expect(res.text.startsWith('event: message_start')).toBe(true);
    expect(res.text).toContain('event: message_stop');
  });

  it('after the first event a Bedrock exception is passed through, not failed over', async () => {
    bedrock.script(aws.accessKeyId, {
      kind: 'exception',
      afterEvents: 2,
      name: 'throttlingException',
      message: 'slow down',
    });
    const res = await ask(relay.url, key.key, { model: MODEL, stream: true });
    expect(res.status).toBe(200);
    expect(tried()).toEqual({ bedrock: 1, claude: 0 });
    expect(res.text).toContain('"type":"rate_limit_error","message":"throttlingException: slow down"');
  });

  it('the other way round: Claude first and overloaded (529) → Bedrock serves the stream and books it', async () => {
    const bedrockBefore = booked((await relay.admin.accountUsage(bedrockAccount)).total);
    const claudeFirst = await relay.admin.createKey({ accountIds: [claude.id, bedrockAccount] });
    await relay.admin.request('PATCH', `/admin/accounts/${claude.id}`, { priority: 1 });
    await relay.admin.request('PATCH', `/admin/accounts/${bedrockAccount}`, { priority: 10 });
    try {
      anthropic.script(claude.apiKey, { kind: 'error', status: 529 });
      const res = await ask(relay.url, claudeFirst.key, { model: MODEL, stream: true });
      expect(res.status, res.text).toBe(200);
      expect(tried()).toEqual({ bedrock: 1, claude: 1 });
      expect(res.text).toContain('"text":"Hello from the"');
      expect(res.text).toContain('"text":" fake Bedrock."');
      const bedrockAfter = booked((await relay.admin.accountUsage(bedrockAccount)).total);
      expect(bedrockAfter.requests - bedrockBefore.requests).toBe(1);
      expect(bedrockAfter.inputTokens - bedrockBefore.inputTokens).toBe(25);
      expect(bedrockAfter.outputTokens - bedrockBefore.outputTokens).toBe(12);
      expect(booked((await relay.admin.keyUsage(claudeFirst.id)).total)).toEqual(
        expectedBooking(MODEL, {
          input_tokens: 25,
          output_tokens: 12,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        }),
      );
    } finally {
      await relay.admin.request('PATCH', `/admin/accounts/${claude.id}`, { priority: 10 });
      await relay.admin.request('PATCH', `/admin/accounts/${bedrockAccount}`, { priority: 1 });
    }
  });

  it("Bedrock's credentials rejected (403): Claude serves; Bedrock is unauthorized until reset", async () => {
    const broken = (
      await relay.admin.createAccount({
        platform: 'bedrock',
        type: 'access-key',
        name: 'broken',
        baseUrl: bedrock.url,
        priority: 1,
        ...aws,
        secretAccessKey: 'not-the-secret-at-all',
      })
    ).id;
    const k = await relay.admin.createKey({ accountIds: [broken, claude.id] });
    expect((await ask(relay.url, k.key, { model: MODEL })).status).toBe(200);
    expect(tried()).toEqual({ bedrock: 1, claude: 1 });
    expect((await health(relay.admin, broken, MODEL)).blockers).toEqual([
      { reason: 'unauthorized', scope: '*', until: null, detail: expect.stringContaining('InvalidSignatureException') },
    ]);
    clock.advance(86_400 * SEC);
    expect((await ask(relay.url, k.key, { model: MODEL })).status).toBe(200);
    expect(tried()).toEqual({ bedrock: 1, claude: 2 });
    await relay.admin.request('DELETE', `/admin/accounts/${broken}`);
  });
});
