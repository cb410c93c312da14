import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeBedrock, type BedrockUsage, type FakeBedrock } from '../fakes/bedrock.js';
import { ask, fresh, health, resetAccount } from '../support/pool.js';
import { startHttpProxy, startSocks5Proxy } from '../support/proxies.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { booked, expectedBooking, NOTHING } from '../support/usage-math.js';

/**
 * Bedrock accounts behind the Anthropic Messages surface, against a fake Bedrock that checks every
 * SigV4 signature and speaks the binary event stream: requests arrive in InvokeModel's shape at
 * the right model id, answers come back as Anthropic's, usage (cache reads and writes included)
 * is booked exactly as the upstream reported it, and Bedrock's errors drive health and failover.
 */

const MODEL = 'claude-sonnet-5-5';

/** SSE text → the events' JSON, in order. */
const events = (text: string) =>
  text
    .split('\n\n')
    .filter((block) => block.includes('data: '))
    .map((block) => ({
      event: /^event: (.*)$/m.exec(block)?.[1],
      data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as Record<string, unknown>,
    }));

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}
const awsKeys = (): Keys => ({
  accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(30).toString('base64'),
  sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(40).toString('base64')}`,
});

describe('Bedrock accounts on the Anthropic surface', () => {
  let fake: FakeBedrock;
  let relay: TestRelay;
  const signed = awsKeys();
  const bearerKey = `ABSK${randomBytes(40).toString('base64')}`;
  let signedAccount: string;
  let bearerAccount: string;
  let signedKey: { id: string; key: string };
  let bearerKeyRec: { id: string; key: string };

  beforeAll(async () => {
    fake = await startFakeBedrock();
    relay = await startTestRelay({ env: { BREAKER_VOLUME: '100000' } });
    fake.addAccessKey({ ...signed, region: 'us-west-2' });
    fake.addApiKey(bearerKey);
    signedAccount = (
      await relay.admin.createAccount({
        platform: 'bedrock',
        type: 'access-key',
        name: 'bedrock signed',
        baseUrl: fake.url,
        region: 'us-west-2',
        ...signed,
      })
    ).id;
    bearerAccount = (
      await relay.admin.createAccount({
        platform: 'bedrock',
        type: 'bearer',
        name: 'bedrock bearer',
        baseUrl: fake.url,
        region: 'eu-west-1',
        apiKey: bearerKey,
      })
    ).id;
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    fake.reset();
    await resetAccount(relay.admin, signedAccount);
    await resetAccount(relay.admin, bearerAccount);
    signedKey = await relay.admin.createKey({ accountIds: [signedAccount] });
    bearerKeyRec = await relay.admin.createKey({ accountIds: [bearerAccount] });
  });

  const cacheUsage: BedrockUsage = {
    input_tokens: 31,
    output_tokens: 17,
    cache_creation_input_tokens: 1800,
    cache_read_input_tokens: 24_000,
  };

  it('the admin API never shows the secrets, and keeps the access key id and region as options', async () => {
    const view = (await relay.admin.request('GET', `/admin/accounts/${signedAccount}`)).body;
    const text = JSON.stringify(view);
    expect(text).not.toContain(signed.secretAccessKey);
    expect(text).not.toContain(signed.sessionToken);
    expect(view).toMatchObject({
      platform: 'bedrock',
      type: 'access-key',
      options: { accessKeyId: signed.accessKeyId, region: 'us-west-2' },
    });
    expect(JSON.stringify((await relay.admin.request('GET', `/admin/accounts/${bearerAccount}`)).body)).not.toContain(
      bearerKey,
    );
  });

  it("signed, not streamed: InvokeModel at the region's inference profile; the Claude message comes back; cache tokens booked", async () => {
    fake.script(signed.accessKeyId, { kind: 'message', text: 'Signed hello.', usage: cacheUsage });
    const system = [{ type: 'text', text: 'Long cached preamble', cache_control: { type: 'ephemeral' } }];
    const res = await ask(relay.url, signedKey.key, {
      body: {
        model: MODEL,
        max_tokens: 64,
        system,
        metadata: { user_id: 'u1' },
        messages: [{ role: 'user', content: fresh() }],
      },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      type: 'message',
      model: MODEL,
      content: [{ type: 'text', text: 'Signed hello.' }],
      usage: cacheUsage,
    });

    expect(fake.requests).toHaveLength(1);
    const r = fake.requests[0];
    expect(r).toMatchObject({
      auth: 'sigv4',
      identity: signed.accessKeyId,
      region: 'us-west-2',
      action: 'invoke',
      modelId: `us.anthropic.${MODEL}`,
    });
    expect(r?.headers['x-amz-security-token']).toBe(signed.sessionToken);
    expect(r?.body).toEqual({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 64,
      system,
      messages: expect.any(Array),
    });
    // Nothing of the client's credentials reaches AWS.
    expect(JSON.stringify(r?.headers)).not.toContain(signedKey.key);

    const usage = await relay.admin.keyUsage(signedKey.id);
    expect(booked(usage.total)).toEqual(expectedBooking(MODEL, cacheUsage));
    expect(usage.models.map((m) => m.model)).toEqual([MODEL]);
    expect(booked((await relay.admin.accountUsage(signedAccount)).total)).toEqual(expectedBooking(MODEL, cacheUsage));
  });

  it('bearer, streamed: the event stream arrives as Anthropic SSE; usage with cache booked once', async () => {
    fake.script(bearerKey, { kind: 'message', text: 'Streamed through Bedrock.', usage: cacheUsage });
    const res = await ask(relay.url, bearerKeyRec.key, { stream: true, model: MODEL });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const got = events(res.text);
    expect(got.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(got.map((e) => e.data.type)).toEqual(got.map((e) => e.event));
    const text = got
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => (e.data.delta as { text: string }).text)
      .join('');
    expect(text).toBe('Streamed through Bedrock.');
    expect(got[0]?.data).toMatchObject({
      message: {
        model: MODEL,
        usage: { input_tokens: 31, cache_creation_input_tokens: 1800, cache_read_input_tokens: 24_000 },
      },
    });

    expect(fake.requests[0]).toMatchObject({
      auth: 'bearer',
      identity: bearerKey,
      action: 'invoke-with-response-stream',
      modelId: `eu.anthropic.${MODEL}`,
    });
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${bearerKey}`);
    expect(fake.requests[0]?.body).not.toHaveProperty('stream');
    expect(booked((await relay.admin.keyUsage(bearerKeyRec.id)).total)).toEqual(expectedBooking(MODEL, cacheUsage));
  });

  it.each([false, true])(
    'cache counts only in the invocation metrics / usage headers are still booked (stream %s)',
    async (stream) => {
      fake.script(signed.accessKeyId, { kind: 'message', usage: cacheUsage, metricsOnly: true });
      const res = await ask(relay.url, signedKey.key, { stream, model: MODEL });
      expect(res.status, res.text).toBe(200);
      const usage = stream
        ? (events(res.text).find((e) => e.event === 'message_delta')?.data.usage as Record<string, number>)
        : (res.json?.usage as Record<string, number>);
      // The client sees the same numbers the relay books.
      expect(usage).toMatchObject({ cache_creation_input_tokens: 1800, cache_read_input_tokens: 24_000 });
      expect(booked((await relay.admin.keyUsage(signedKey.id)).total)).toEqual(expectedBooking(MODEL, cacheUsage));
    },
  );

  it('tools: the definitions reach Bedrock unchanged and the tool call comes back (streamed)', async () => {
    const tools = [
      {
        name: 'get_weather',
        description: 'Current weather',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    ];
    fake.script(bearerKey, {
      kind: 'message',
      text: 'Let me check.',
      tool: { id: 'toolu_bdrk_7', name: 'get_weather', input: { city: 'Zürich' } },
    });
    const res = await ask(relay.url, bearerKeyRec.key, {
      stream: true,
      body: {
        model: MODEL,
        max_tokens: 256,
        stream: true,
        tools,
        tool_choice: { type: 'auto' },
        messages: [{ role: 'user', content: fresh('weather') }],
      },
    });
    expect(res.status, res.text).toBe(200);
    expect(fake.requests[0]?.body).toMatchObject({ tools, tool_choice: { type: 'auto' } });
    const got = events(res.text);
    expect(
      got.find(
        (e) => e.event === 'content_block_start' && (e.data.content_block as { type: string }).type === 'tool_use',
      )?.data.content_block,
    ).toMatchObject({ id: 'toolu_bdrk_7', name: 'get_weather' });
    const json = got
      .filter((e) => (e.data.delta as { type?: string } | undefined)?.type === 'input_json_delta')
      .map((e) => (e.data.delta as { partial_json: string }).partial_json)
      .join('');
    expect(JSON.parse(json)).toEqual({ city: 'Zürich' });
    expect(got.find((e) => e.event === 'message_delta')?.data.delta).toMatchObject({ stop_reason: 'tool_use' });
  });

  it('anthropic-beta: what Bedrock accepts goes in the body, first-party-only betas are dropped (Bedrock would refuse them)', async () => {
    const res = await ask(relay.url, signedKey.key, {
      model: MODEL,
      headers: { 'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14,oauth-2025-04-20' },
    });
    expect(res.status, res.text).toBe(200);
    expect(fake.requests[0]?.body?.anthropic_beta).toEqual(['interleaved-thinking-2025-05-14']);
  });

  it("count_tokens goes to CountTokens with the foundation model id, answered in Anthropic's shape, not booked", async () => {
    const res = await ask(relay.url, bearerKeyRec.key, {
      path: '/api/v1/messages/count_tokens',
      body: { model: MODEL, messages: [{ role: 'user', content: 'count these words please' }] },
    });
    expect(res.status, res.text).toBe(200);
    const r = fake.requests[0];
    expect(r).toMatchObject({ action: 'count-tokens', modelId: `anthropic.${MODEL}` });
    expect(r?.body).toMatchObject({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 1,
      messages: [{ role: 'user', content: 'count these words please' }],
    });
    const expected = Math.ceil(JSON.stringify(r?.body?.messages).length / 4);
    expect(res.json).toEqual({ input_tokens: expected });
    expect(booked((await relay.admin.keyUsage(bearerKeyRec.id)).total)).toEqual(NOTHING);
  });

  it("the account's modelMapping wins over the built-in table", async () => {
    const mapped = (
      await relay.admin.createAccount({
        platform: 'bedrock',
        type: 'bearer',
        name: 'mapped',
        baseUrl: fake.url,
        apiKey: bearerKey,
        modelMapping: { [MODEL]: 'global.anthropic.claude-sonnet-5-5' },
      })
    ).id;
    const key = await relay.admin.createKey({ accountIds: [mapped] });
    expect((await ask(relay.url, key.key, { model: MODEL })).status).toBe(200);
    expect(fake.requests[0]?.modelId).toBe('global.anthropic.claude-sonnet-5-5');
    await relay.admin.request('DELETE', `/admin/accounts/${mapped}`);
  });

  it("a ValidationException is the request's fault: a 400 in Anthropic's shape, no failover, the account stays healthy", async () => {
    fake.script(signed.accessKeyId, {
      kind: 'error',
      status: 400,
      type: 'ValidationException',
      message: 'messages.0.content: text content blocks must be non-empty',
    });
    const res = await ask(relay.url, signedKey.key, { model: MODEL });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(res.message).toContain('ValidationException: messages.0.content: text content blocks must be non-empty');
    expect(fake.requests).toHaveLength(1);
    expect((await health(relay.admin, signedAccount, MODEL)).routable).toBe(true);
  });

  it('an exception inside the stream after the first event reaches the client as an error event; the input is booked', async () => {
    const usage = { input_tokens: 40, output_tokens: 99, cache_read_input_tokens: 500, cache_creation_input_tokens: 0 };
    fake.script(bearerKey, {
      kind: 'exception',
      afterEvents: 3,
      name: 'modelStreamErrorException',
      message: 'The model stream broke.',
      usage,
    });
    const res = await ask(relay.url, bearerKeyRec.key, { stream: true, model: MODEL });
    expect(res.status).toBe(200);
    const got = events(res.text);
    expect(got.slice(0, 3).map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
    ]);
    expect(got[3]).toEqual({
      event: 'error',
      data: {
        type: 'error',
        error: { type: 'api_error', message: 'modelStreamErrorException: The model stream broke.' },
      },
    });
    expect(got).toHaveLength(4);
    const total = booked((await relay.admin.keyUsage(bearerKeyRec.id)).total);
    expect(total).toMatchObject({ requests: 1, inputTokens: 40, outputTokens: 1, cacheReadTokens: 500 });
  });

  it('a stream cut in the middle of a message books what message_start reported and tells the client', async () => {
    fake.script(signed.accessKeyId, { kind: 'cut', afterEvents: 2, usage: cacheUsage });
    const res = await ask(relay.url, signedKey.key, { stream: true, model: MODEL });
    expect(res.status).toBe(200);
    const got = events(res.text);
    expect(got[0]?.event).toBe('message_start');
    expect(got[got.length - 1]?.event).toBe('error');
    expect(booked((await relay.admin.keyUsage(signedKey.id)).total)).toMatchObject({
      inputTokens: 31,
      outputTokens: 1,
      cacheCreateTokens: 1800,
      cacheReadTokens: 24_000,
    });
  });

  describe('bad credentials put the account out of rotation (unauthorized)', () => {
    it.each<[string, () => Record<string, unknown>, string]>([
      [
        'a wrong secret (InvalidSignatureException)',
        () => ({ type: 'access-key', region: 'us-west-2', ...signed, secretAccessKey: `${signed.secretAccessKey}x` }),
        'InvalidSignatureException',
      ],
      [
        'an unknown access key (UnrecognizedClientException)',
        () => ({ type: 'access-key', region: 'us-west-2', ...awsKeys() }),
        'UnrecognizedClientException',
      ],
      [
        'a wrong session token (UnrecognizedClientException)',
        () => ({ type: 'access-key', region: 'us-west-2', ...signed, sessionToken: `${signed.sessionToken}x` }),
        'UnrecognizedClientException',
      ],
      [
        'an invalid Bedrock API key',
        () => ({ type: 'bearer', apiKey: `ABSK${randomBytes(20).toString('hex')}` }),
        'Authentication failed',
      ],
    ])('%s', async (_name, fields, detail) => {
      const bad = (
        await relay.admin.createAccount({ platform: 'bedrock', name: 'bad', baseUrl: fake.url, ...fields() })
      ).id;
      const key = await relay.admin.createKey({ accountIds: [bad] });
      const res = await ask(relay.url, key.key, { model: MODEL });
      // The account was refused, not the client's key: a 502 that says so.
      expect(res.status).toBe(502);
      expect(res.json).toMatchObject({ type: 'error', error: { type: 'api_error' } });
      expect(res.message).toContain('The upstream account was refused (HTTP 403)');
      // The upstream's words stay with the account's health (checked below), not in the client's error.
      expect(res.message).not.toContain(detail);
      expect(fake.requests.at(-1)?.identity).toBe('');
      const h = await health(relay.admin, bad, MODEL);
      expect(h.routable).toBe(false);
      expect(h.blockers).toEqual([
        { reason: 'unauthorized', scope: '*', until: null, detail: expect.stringContaining(detail) },
      ]);
      // Out of rotation: the next request does not reach Bedrock.
      const before = fake.requests.length;
      expect((await ask(relay.url, key.key, { model: MODEL })).status).not.toBe(200);
      expect(fake.requests.length).toBe(before);
      await relay.admin.request('DELETE', `/admin/accounts/${bad}`);
    });
  });

  describe.each([
    ['an HTTP proxy', startHttpProxy],
    ['a SOCKS5 proxy', startSocks5Proxy],
  ])("through %s (the account's own)", (_name, start) => {
    it('the signed request arrives intact (the signature covers the host) and is answered', async () => {
      const port = new URL(fake.url).port;
      // A name only the proxy resolves: the account reaches Bedrock through it or not at all.
      const proxy = await start({
        username: 'relay',
        password: 'proxy-secret-1',
        hosts: { 'bedrock.test': '127.0.0.1' },
      });
      try {
        const id = (
          await relay.admin.createAccount({
            platform: 'bedrock',
            type: 'access-key',
            name: 'proxied',
            baseUrl: `http://bedrock.test:${port}`,
            region: 'us-west-2',
            proxy: proxy.url,
            ...signed,
          })
        ).id;
        const key = await relay.admin.createKey({ accountIds: [id] });
        fake.script(signed.accessKeyId, { kind: 'message', text: 'Via the proxy.', usage: cacheUsage });
        const res = await ask(relay.url, key.key, { stream: true, model: MODEL });
        expect(res.status, res.text).toBe(200);
        expect(res.text).toContain('"text":"Via the"');
        expect(fake.requests[0]).toMatchObject({ auth: 'sigv4', identity: signed.accessKeyId });
        expect(fake.requests[0]?.headers.host).toBe(`bedrock.test:${port}`);
        expect(proxy.accepted(`bedrock.test:${port}`)).toBeGreaterThanOrEqual(1);
        expect(booked((await relay.admin.keyUsage(key.id)).total)).toEqual(expectedBooking(MODEL, cacheUsage));
        await relay.admin.request('DELETE', `/admin/accounts/${id}`);
      } finally {
        await proxy.close();
      }
    });
  });
});
