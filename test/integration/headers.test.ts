import Anthropic from '@anthropic-ai/sdk';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic, type RecordedRequest } from '../fakes/anthropic.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

const MODEL = 'claude-sonnet-5-5';
const BODY = JSON.stringify({ model: MODEL, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });

/** A raw HTTP/1.1 request, so the test decides every header (fetch refuses hop-by-hop ones). */
function rawPost(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent: false });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('what the relay sends upstream, and the surfaces around /v1/messages', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let upstreamKey: string;
  let key: { id: string; key: string };

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay();
    upstreamKey = `sk-ant-headers-${randomBytes(12).toString('hex')}`;
    await relay.admin.createAccount({ apiKey: upstreamKey, baseUrl: fake.url });
    key = await relay.admin.createKey();
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  /** The upstream request a client request caused (exactly one). */
  async function upstreamOf(send: () => Promise<{ status: number }>, status = 200): Promise<RecordedRequest> {
    const before = fake.requests.length;
    const res = await send();
    expect(res.status).toBe(status);
    expect(fake.requests.length).toBe(before + 1);
    return fake.requests[before]!;
  }

  const noHeaderCarries = (r: RecordedRequest, secret: string) =>
    Object.entries(r.headers)
      .filter(([, v]) => (Array.isArray(v) ? v.join() : String(v)).includes(secret))
      .map(([k]) => k);

  it('the relay key never goes upstream; the account key goes as x-api-key', async () => {
    for (const auth of [{ 'x-api-key': key.key }, { authorization: `Bearer ${key.key}` }] as Record<string, string>[]) {
      const up = await upstreamOf(() =>
        fetch(`${relay.url}/api/v1/messages`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: BODY,
        }),
      );
      expect(up.headers['x-api-key']).toBe(upstreamKey);
      expect(up.headers.authorization).toBeUndefined();
      expect(noHeaderCarries(up, key.key)).toEqual([]);
      expect(noHeaderCarries(up, key.key.slice(3))).toEqual([]);
      expect(up.rawBody).toBe(BODY);
    }
  });

  it('anthropic-version defaults to 2023-06-01 when absent, and passes when given', async () => {
    const without = await upstreamOf(() =>
      fetch(`${relay.url}/api/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key.key, 'content-type': 'application/json' },
        body: BODY,
      }),
    );
    expect(without.headers['anthropic-version']).toBe('2023-06-01');
    const given = await upstreamOf(() =>
      fetch(`${relay.url}/api/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key.key, 'content-type': 'application/json', 'anthropic-version': '2024-10-22' },
        body: BODY,
      }),
    );
    expect(given.headers['anthropic-version']).toBe('2024-10-22');
  });

  it('passes API headers through; drops cookies, forwarding and hop-by-hop headers', async () => {
    const up = await upstreamOf(() =>
      rawPost(
        `${relay.url}/api/v1/messages`,
        {
          'x-api-key': key.key,
          'content-type': 'application/json; charset=utf-8',
          'anthropic-version': '2023-06-01',
          'anthropic-beta': 'prompt-caching-2024-07-31,fine-grained-tool-streaming-2025-05-14',
          'user-agent': 'claude-cli/2.1.332 (external, cli)',
          'x-stainless-lang': 'js',
          'x-stainless-package-version': '0.70.0',
          'x-stainless-retry-count': '0',
          cookie: 'session=supersecret-cookie',
          'x-forwarded-for': '203.0.113.9',
          'x-real-ip': '203.0.113.9',
          connection: 'close',
          'keep-alive': 'timeout=9, max=99',
          'transfer-encoding': 'chunked',
        },
        BODY,
      ),
    );
    expect(up.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'prompt-caching-2024-07-31,fine-grained-tool-streaming-2025-05-14',
      'user-agent': 'claude-cli/2.1.332 (external, cli)',
      'x-stainless-lang': 'js',
      'x-stainless-package-version': '0.70.0',
      'x-stainless-retry-count': '0',
    });
    for (const dropped of ['cookie', 'x-forwarded-for', 'x-real-ip', 'keep-alive', 'transfer-encoding'])
      expect(up.headers[dropped], dropped).toBeUndefined();
    expect(up.headers.connection).not.toBe('close');
    expect(noHeaderCarries(up, 'supersecret-cookie')).toEqual([]);
    expect(noHeaderCarries(up, '203.0.113.9')).toEqual([]);
    // The chunked upload arrives whole, with its length.
    expect(up.rawBody).toBe(BODY);
    expect(up.headers['content-length']).toBe(String(Buffer.byteLength(BODY)));
  });

  it('the official SDK: its headers reach the upstream, ?beta=true is forwarded, and /claude works like /api', async () => {
    const sdk = new Anthropic({ apiKey: key.key, baseURL: `${relay.url}/claude`, maxRetries: 0 });
    const up = await upstreamOf(async () => {
      const msg = await sdk.beta.messages.create(
        { model: MODEL, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }], betas: ['context-1m-2025-08-07'] },
        { query: { beta: 'true' } }, // as Claude Code sends it
      );
      expect(msg.content[0]).toMatchObject({ type: 'text' });
      return { status: 200 };
    });
    expect(up.path).toBe('/v1/messages?beta=true');
    expect(up.headers['anthropic-beta']).toBe('context-1m-2025-08-07');
    expect(up.headers['user-agent']).toMatch(/^Anthropic\/JS /);
    expect(up.headers['x-stainless-lang']).toBe('js');
    expect(up.headers['x-stainless-package-version']).toBeDefined();
    expect(up.headers['x-api-key']).toBe(upstreamKey);
  });

  it('a query string on /api/v1/messages is forwarded as is', async () => {
    const up = await upstreamOf(() =>
      fetch(`${relay.url}/api/v1/messages?beta=true&x=1`, {
        method: 'POST',
        headers: { 'x-api-key': key.key, 'content-type': 'application/json' },
        body: BODY,
      }),
    );
    expect(up.path).toBe('/v1/messages?beta=true&x=1');
  });

  it('/claude/v1/messages relays and books like /api/v1/messages', async () => {
    const k = await relay.admin.createKey();
    for (const prefix of ['/api', '/claude']) {
      const up = await upstreamOf(() =>
        fetch(`${relay.url}${prefix}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': k.key, 'content-type': 'application/json' },
          body: BODY,
        }),
      );
      expect(up.path).toBe('/v1/messages');
    }
    expect((await relay.admin.keyUsage(k.id)).total).toMatchObject({ requests: 2, inputTokens: 50, outputTokens: 24 });
  });

  it('every response carries its own x-request-id, errors included', async () => {
    const ids: string[] = [];
    const statuses: number[] = [];
    const collect = async (res: Response) => {
      statuses.push(res.status);
      const id = res.headers.get('x-request-id') ?? '';
      ids.push(id || `(none on ${new URL(res.url).pathname} ${res.status})`);
      const text = await res.text();
      if (res.status >= 400 && res.headers.get('content-type')?.startsWith('application/json')) {
        const body = JSON.parse(text) as { request_id?: string };
        if ('request_id' in body) expect(body.request_id, text).toBe(id);
      }
    };
    const post = (path: string, headers: Record<string, string>, body = BODY) =>
      fetch(`${relay.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    for (let i = 0; i < 3; i++) await collect(await post('/api/v1/messages', { 'x-api-key': key.key }));
    await collect(
      await post(
        '/api/v1/messages',
        { 'x-api-key': key.key },
        JSON.stringify({ model: MODEL, max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'x' }] }),
      ),
    );
    fake.script(upstreamKey, { kind: 'error', status: 400, message: 'messages: roles must alternate' });
    await collect(await post('/api/v1/messages', { 'x-api-key': key.key }));
    await collect(await post('/api/v1/messages', {}));
    await collect(await post('/api/v1/messages', { 'x-api-key': key.key }, '{'));
    await collect(await post('/api/v1/messages/count_tokens', { 'x-api-key': key.key }));
    await collect(await fetch(`${relay.url}/api/v1/models`, { headers: { 'x-api-key': key.key } }));
    expect(statuses).toEqual([200, 200, 200, 200, 400, 401, 400, 200, 200]);
    expect(ids.filter((id) => !/^req_\w+$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('the 404 of an unknown route carries a request id too', async () => {
    const res = await fetch(`${relay.url}/api/v1/no-such-route`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { request_id?: string };
    expect(res.headers.get('x-request-id')).toMatch(/^req_\w+$/);
    expect(body.request_id).toBe(res.headers.get('x-request-id'));
  });

  it('count_tokens is relayed to the account and not booked', async () => {
    const k = await relay.admin.createKey();
    const sdk = new Anthropic({ apiKey: k.key, baseURL: `${relay.url}/api`, maxRetries: 0 });
    const up = await upstreamOf(async () => {
      const counted = await sdk.messages.countTokens({
        model: MODEL,
        messages: [{ role: 'user', content: 'count these tokens please' }],
      });
      expect(counted.input_tokens).toBeGreaterThan(0);
      return { status: 200 };
    });
    expect(up.path).toBe('/v1/messages/count_tokens');
    expect(up.headers['x-api-key']).toBe(upstreamKey);
    const usage = await relay.admin.keyUsage(k.id);
    expect(usage.total).toMatchObject({ requests: 0, inputTokens: 0 });
    expect(usage.models).toEqual([]);
  });

  it('GET /v1/models lists Claude models in Anthropic format, for a valid key only', async () => {
    const sdk = new Anthropic({ apiKey: key.key, baseURL: `${relay.url}/api`, maxRetries: 0 });
    const ids: string[] = [];
    for await (const m of sdk.models.list()) {
      expect(m).toMatchObject({
        type: 'model',
        id: expect.stringMatching(/^claude-/),
        display_name: expect.any(String),
        created_at: expect.any(String),
      });
      ids.push(m.id);
    }
    expect(ids).toContain('claude-sonnet-5-5');
    expect(ids).toContain('claude-opus-5-5');
    const page = (await (
      await fetch(`${relay.url}/claude/v1/models`, { headers: { 'x-api-key': key.key } })
    ).json()) as Record<string, unknown>;
    expect(page).toMatchObject({ has_more: false, first_id: ids[0], last_id: ids[ids.length - 1] });

    const upstreamBefore = fake.requests.length;
    for (const headers of [{}, { 'x-api-key': `cr_${randomBytes(32).toString('hex')}` }] as Record<string, string>[]) {
      const res = await fetch(`${relay.url}/api/v1/models`, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    }
    expect(fake.requests.length).toBe(upstreamBefore);
  });
});
