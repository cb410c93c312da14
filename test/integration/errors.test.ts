import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic, type Step } from '../fakes/anthropic.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { readReply, type Reply } from '../support/reply.js';
import { untilBooked } from '../support/usage-math.js';

const MODEL = 'claude-sonnet-5-5';
const GOOD = { model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] };

/** An answer in Anthropic's error shape, when it is one. */
type AnthropicReply = Reply<{ type?: string; error?: { type?: string; message?: string }; request_id?: string }>;

async function post(
  url: string,
  body: string | undefined,
  headers: Record<string, string> = {},
): Promise<AnthropicReply> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return readReply<AnthropicReply['json']>(res, {});
}

function expectAnthropicError(r: AnthropicReply, status: number, type: string, message?: RegExp | string): void {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  expect(r.json).toMatchObject({ type: 'error', error: { type, message: expect.any(String) } });
  if (typeof message === 'string') expect(r.json.error?.message).toBe(message);
  else if (message) expect(r.json.error?.message).toMatch(message);
}

/** A POST with a chunked body (no content-length), through a raw socket to see exactly what comes back. */
function postChunked(
  url: string,
  headers: Record<string, string>,
  chunks: Buffer[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    // The relay may answer and close before it has read the whole upload; that is fine.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    for (const c of chunks) req.write(c);
    req.end();
  });
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('errors: bad input changes nothing, upstream failures come back in Anthropic shape', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let upstreamKey: string;
  let accountId: string;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay({ env: { BODY_LIMIT: '64kb' } });
    upstreamKey = `sk-ant-errors-${randomBytes(12).toString('hex')}`;
    accountId = (await relay.admin.createAccount({ apiKey: upstreamKey, baseUrl: fake.url })).id;
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  const messagesUrl = () => `${relay.url}/api/v1/messages`;

  /** A relay (own deployment) with one account of its own on the fake. */
  async function isolated(env: Record<string, string> = {}) {
    const own = await startTestRelay({ env });
    const key = `sk-ant-errors-${randomBytes(12).toString('hex')}`;
    const { id } = await own.admin.createAccount({ apiKey: key, baseUrl: fake.url });
    return { relay: own, upstreamKey: key, accountId: id };
  }

  /** Runs `act` and checks it reached no upstream and booked nothing, for the key and the account. */
  async function changesNothing(keyId: string | undefined, act: () => Promise<void>): Promise<void> {
    const upstreamBefore = fake.requests.length;
    const accountBefore = (await relay.admin.accountUsage(accountId)).total.requests;
    await act();
    expect(fake.requests.length).toBe(upstreamBefore);
    if (keyId)
      expect((await relay.admin.keyUsage(keyId)).total).toMatchObject({ requests: 0, inputTokens: 0, costPico: '0' });
    expect((await relay.admin.accountUsage(accountId)).total.requests).toBe(accountBefore);
  }

  describe('bad request bodies → 400 invalid_request_error', () => {
    const cases: [string, string, RegExp][] = [
      ['malformed JSON', '{"model": "claude-sonnet-5-5", "messages": [', /not valid JSON/],
      ['an empty body', '', /empty/],
      ['a JSON array', '[{"model":"claude-sonnet-5-5"}]', /JSON object/],
      ['a JSON string', '"hello"', /JSON object/],
      ['JSON null', 'null', /JSON object/],
      ['a missing model', JSON.stringify({ max_tokens: 5, messages: GOOD.messages }), /^model:/],
      ['a model that is not a string', JSON.stringify({ ...GOOD, model: 42 }), /^model:/],
      ['empty messages', JSON.stringify({ ...GOOD, messages: [] }), /^messages:/],
      ['missing messages', JSON.stringify({ model: MODEL, max_tokens: 5 }), /^messages:/],
      ['max_tokens 0', JSON.stringify({ ...GOOD, max_tokens: 0 }), /^max_tokens:/],
    ];
    it.each(cases)('%s', async (_name, body, message) => {
      const key = await relay.admin.createKey();
      await changesNothing(key.id, async () => {
        const r = await post(messagesUrl(), body, { 'x-api-key': key.key });
        expectAnthropicError(r, 400, 'invalid_request_error', message);
        expect(r.json.request_id).toMatch(/^req_/);
        expect(r.headers.get('x-request-id')).toBe(r.json.request_id);
      });
    });
  });

  describe('bodies over BODY_LIMIT (64kb) → 413 request_too_large', () => {
    const bigBody = () => JSON.stringify({ ...GOOD, messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] });

    it('a body just under the limit still passes', async () => {
      const key = await relay.admin.createKey();
      const r = await post(
        messagesUrl(),
        JSON.stringify({ ...GOOD, messages: [{ role: 'user', content: 'x'.repeat(60 * 1024) }] }),
        { 'x-api-key': key.key },
      );
      expect(r.status, r.text).toBe(200);
    });

    it('declared with content-length (refused unread, without an unhandled rejection: that ends a worker)', async () => {
      const key = await relay.admin.createKey();
      // The relay runs in this process: a rejection it leaves unhandled shows up here. In a
      // worker (Node's default --unhandled-rejections=throw) it would kill the process.
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        await changesNothing(key.id, async () => {
          const r = await post(messagesUrl(), bigBody(), { 'x-api-key': key.key });
          expectAnthropicError(r, 413, 'request_too_large', /limit of 65536 bytes/);
        });
        await new Promise((r) => setImmediate(r));
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
      expect(unhandled.map(String)).toEqual([]);
    });

    it('sent chunked, without a length', async () => {
      const key = await relay.admin.createKey();
      await changesNothing(key.id, async () => {
        const body = Buffer.from(bigBody());
        const chunks: Buffer[] = [];
        for (let i = 0; i < body.length; i += 8 * 1024) chunks.push(body.subarray(i, i + 8 * 1024));
        const r = await postChunked(
          messagesUrl(),
          { 'x-api-key': key.key, 'content-type': 'application/json' },
          chunks,
        );
        expect(r.status, r.body).toBe(413);
        expect(JSON.parse(r.body)).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
      });
    });
  });

  it('unknown routes → 404 not_found_error', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/nothing-here'],
      ['POST', '/api/v2/messages'],
      ['GET', '/v1/messages'],
    ] as const) {
      const res = await fetch(`${relay.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: method === 'POST' ? '{}' : undefined,
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      const body = (await res.json()) as { error: { message: string } };
      expect(body).toMatchObject({
        type: 'error',
        error: { type: 'not_found_error', message: expect.stringContaining(path) },
      });
      // It says where clients should point instead (a 404 alone reads as "the model is wrong" in Claude Code).
      expect(body.error.message).toContain(`Point the client's base URL at ${relay.url}/api (Anthropic`);
      expect(body.error.message).toContain(`${relay.url}/openai/v1 (OpenAI)`);
    }
    // In the shape of the API the prefix belongs to.
    const openai = await fetch(`${relay.url}/openai/v2/chat/completions`, { method: 'POST', body: '{}' });
    expect(openai.status).toBe(404);
    expect(await openai.json()).toMatchObject({
      error: { message: expect.stringContaining('Point the client'), type: 'not_found_error' },
    });
  });

  it('the bare host serves the Anthropic API too: /v1/messages, /v1/messages/count_tokens, /v1/models', async () => {
    const key = await relay.admin.createKey();
    const r = await post(`${relay.url}/v1/messages`, JSON.stringify(GOOD), { 'x-api-key': key.key });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ type: 'message' });
    const counted = await post(`${relay.url}/v1/messages/count_tokens`, JSON.stringify(GOOD), { 'x-api-key': key.key });
    expect(counted.status, counted.text).toBe(200);
    expect(counted.json).toMatchObject({ input_tokens: expect.any(Number) });
    const models = await fetch(`${relay.url}/v1/models`, { headers: { 'x-api-key': key.key } });
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: unknown[] }).data.length).toBeGreaterThan(0);
    // The message is booked; count_tokens is free upstream and is not.
    expect((await untilBooked(() => relay.admin.keyUsage(key.id), 1)).total.requests).toBe(1);
  });

  describe('relay key problems → 401 authentication_error, nothing sent upstream', () => {
    it('missing key', async () => {
      await changesNothing(undefined, async () => {
        expectAnthropicError(
          await post(messagesUrl(), JSON.stringify(GOOD)),
          401,
          'authentication_error',
          /^Missing API key/,
        );
      });
    });

    it('malformed keys, in x-api-key and in Authorization: Bearer', async () => {
      await changesNothing(undefined, async () => {
        for (const headers of [
          { 'x-api-key': 'cr_123' },
          { 'x-api-key': 'sk-ant-api03-something' },
          { authorization: `Bearer cr_${'g'.repeat(64)}` },
        ] as Record<string, string>[]) {
          expectAnthropicError(
            await post(messagesUrl(), JSON.stringify(GOOD), headers),
            401,
            'authentication_error',
            'Invalid API key.',
          );
        }
      });
    });

    it('unknown key of the right form', async () => {
      await changesNothing(undefined, async () => {
        const unknown = `cr_${randomBytes(32).toString('hex')}`;
        expectAnthropicError(
          await post(messagesUrl(), JSON.stringify(GOOD), { 'x-api-key': unknown }),
          401,
          'authentication_error',
          'Invalid API key.',
        );
        expectAnthropicError(
          await post(messagesUrl(), JSON.stringify(GOOD), { authorization: `Bearer ${unknown}` }),
          401,
          'authentication_error',
          'Invalid API key.',
        );
      });
    });

    it('disabled key', async () => {
      const key = await relay.admin.createKey();
      expect((await post(messagesUrl(), JSON.stringify(GOOD), { 'x-api-key': key.key })).status).toBe(200);
      const before = (await relay.admin.keyUsage(key.id)).total.requests;
      expect((await relay.admin.request('PATCH', `/admin/api-keys/${key.id}`, { active: false })).status).toBe(200);
      const upstreamBefore = fake.requests.length;
      expectAnthropicError(
        await post(messagesUrl(), JSON.stringify(GOOD), { 'x-api-key': key.key }),
        401,
        'authentication_error',
        'This API key is disabled.',
      );
      expect(fake.requests.length).toBe(upstreamBefore);
      expect((await relay.admin.keyUsage(key.id)).total.requests).toBe(before);
    });

    it('expired key (created expired, or expired by PATCH)', async () => {
      const created = await relay.admin.createKey({ expiresAt: new Date(Date.now() - 60_000).toISOString() });
      const patched = await relay.admin.createKey();
      expect(
        (await relay.admin.request('PATCH', `/admin/api-keys/${patched.id}`, { expiresAt: Date.now() - 1 })).status,
      ).toBe(200);
      for (const key of [created, patched]) {
        await changesNothing(key.id, async () => {
          expectAnthropicError(
            await post(messagesUrl(), JSON.stringify(GOOD), { 'x-api-key': key.key }),
            401,
            'authentication_error',
            'This API key has expired.',
          );
        });
      }
    });
  });

  it('no upstream account configured → 503, nothing booked', async () => {
    const empty = await startTestRelay();
    try {
      const key = await empty.admin.createKey();
      const upstreamBefore = fake.requests.length;
      const r = await post(`${empty.url}/api/v1/messages`, JSON.stringify(GOOD), { 'x-api-key': key.key });
      expectAnthropicError(
        r,
        503,
        'api_error',
        /No claude or bedrock account is set up for this key and model claude-sonnet-5-5; the relay's admin must add or bind one\./,
      );
      expect(fake.requests.length).toBe(upstreamBefore);
      expect((await empty.admin.keyUsage(key.id)).total.requests).toBe(0);
    } finally {
      await empty.close();
    }
  });

  describe('upstream error responses pass with their status, in Anthropic shape, booked as errors', () => {
    const cases: {
      name: string;
      step: Step;
      status: number;
      type: string;
      message: RegExp;
      header?: [string, string];
      stream?: boolean;
    }[] = [
      {
        name: '429 with retry-after',
        step: {
          kind: 'error',
          status: 429,
          message: 'Number of request tokens has exceeded your per-minute rate limit',
          headers: { 'retry-after': '17' },
        },
        status: 429,
        type: 'rate_limit_error',
        message: /per-minute rate limit/,
        header: ['retry-after', '17'],
      },
      {
        name: '500',
        step: { kind: 'error', status: 500, message: 'Internal server error' },
        status: 500,
        type: 'api_error',
        message: /Internal server error/,
      },
      {
        name: '529',
        step: { kind: 'error', status: 529, message: 'Overloaded' },
        status: 529,
        type: 'overloaded_error',
        message: /Overloaded/,
      },
      {
        name: '529 to a streaming request',
        step: { kind: 'error', status: 529, message: 'Overloaded' },
        status: 529,
        type: 'overloaded_error',
        message: /Overloaded/,
        stream: true,
      },
      {
        name: '502 with a body that is not JSON',
        step: {
          kind: 'error',
          status: 502,
          rawBody: '<html><body>502 Bad Gateway from 10.20.30.40:8443</body></html>',
        },
        status: 502,
        type: 'api_error',
        message: /502/,
      },
    ];
    it.each(cases)('$name', async (c) => {
      // A relay of its own: an account that answered 429/529/5xx may be cooled down afterwards.
      const own = await isolated();
      try {
        const key = await own.relay.admin.createKey();
        fake.script(own.upstreamKey, c.step);
        const r = await post(
          `${own.relay.url}/api/v1/messages`,
          JSON.stringify({ ...GOOD, stream: c.stream === true }),
          { 'x-api-key': key.key },
        );
        expectAnthropicError(r, c.status, c.type, c.message);
        expect(r.json.request_id).toMatch(/^req_/);
        if (c.header) expect(r.headers.get(c.header[0])).toBe(c.header[1]);
        expect(r.text).not.toContain(own.upstreamKey);
        expect(r.text).not.toContain('10.20.30.40');
        expect(fake.requests.filter((x) => x.apiKey === own.upstreamKey)).toHaveLength(1);

        for (const read of [
          () => own.relay.admin.keyUsage(key.id),
          () => own.relay.admin.accountUsage(own.accountId),
        ]) {
          const booked = await untilBooked(read, 1);
          expect(booked.total).toMatchObject({
            requests: 1,
            errors: 1,
            inputTokens: 0,
            outputTokens: 0,
            cacheCreateTokens: 0,
            cacheReadTokens: 0,
            costPico: '0',
          });
        }
      } finally {
        await own.relay.close();
      }
    });
  });

  it('upstream unreachable → 502 api_error without the upstream address', async () => {
    const port = await closedPort();
    const lone = await startTestRelay();
    try {
      await lone.admin.createAccount({
        apiKey: `sk-ant-closed-${randomBytes(8).toString('hex')}`,
        baseUrl: `http://127.0.0.1:${port}`,
      });
      const key = await lone.admin.createKey();
      const r = await post(`${lone.url}/api/v1/messages`, JSON.stringify(GOOD), { 'x-api-key': key.key });
      expectAnthropicError(r, 502, 'api_error');
      expect(r.text).not.toContain(String(port));
      expect(r.text).not.toContain('ECONNREFUSED');
    } finally {
      await lone.close();
    }
  });

  it('upstream silent past UPSTREAM_TIMEOUT (1s) → 504 timeout_error', async () => {
    const own = await isolated({ UPSTREAM_TIMEOUT: '1s' });
    try {
      const key = await own.relay.admin.createKey();
      fake.script(own.upstreamKey, { kind: 'hang' });
      const started = Date.now();
      const r = await post(`${own.relay.url}/api/v1/messages`, JSON.stringify(GOOD), { 'x-api-key': key.key });
      const elapsed = Date.now() - started;
      expectAnthropicError(r, 504, 'timeout_error');
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(5_000);
    } finally {
      await own.relay.close();
    }
  });
});
