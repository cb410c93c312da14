import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_USAGE,
  messageEvents,
  startFakeAnthropic,
  type FakeAnthropic,
  type FakeUsage,
} from '../fakes/anthropic.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { startTcpProxy, type ProxiedConnection, type TcpProxy } from '../support/tcp-proxy.js';
import { untilBooked } from '../support/usage-math.js';
import { waitFor } from '../support/wait.js';

const MODEL = 'claude-sonnet-5-5';
/** The texts the fake uses for its cut and stream-error answers (see test/fakes/anthropic.ts). */
const CUT_TEXT = 'This answer will be cut off somewhere in the middle.';
const STREAM_ERROR_TEXT = 'An answer interrupted by an error event.';

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

describe('SSE streams through the relay', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay();
  });
  afterAll(async () => {
    await relay?.close();
    for (const p of proxies) await p.close();
    await fake?.close();
  });

  /**
   * A fresh key and a fresh account (its own upstream key), so usage and fake counters are per
   * test. Accounts of earlier tests are disabled: each test knows which account serves it.
   * `proxied` puts a TCP proxy between the relay and the fake, to watch the upstream connection.
   */
  async function lane(opts: { proxied?: boolean } = {}) {
    for (const a of (await relay.admin.request<{ items: { id: string }[] }>('GET', '/admin/accounts')).body.items) {
      await relay.admin.request('PATCH', `/admin/accounts/${a.id}`, { active: false });
    }
    const proxy = opts.proxied ? await startTcpProxy(fake.url) : undefined;
    if (proxy) proxies.push(proxy);
    const upstreamKey = `sk-ant-stream-${randomBytes(12).toString('hex')}`;
    const account = await relay.admin.createAccount({ apiKey: upstreamKey, baseUrl: proxy?.url ?? fake.url });
    const key = await relay.admin.createKey();
    const send = (body: Record<string, unknown>, signal?: AbortSignal) =>
      fetch(`${relay.url}/api/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key.key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: MODEL,
          max_tokens: 100,
          stream: true,
          messages: [{ role: 'user', content: 'hi' }],
          ...body,
        }),
        signal,
      });
    const bookedOnce = () => untilBooked(() => relay.admin.keyUsage(key.id), 1);
    const lastRecord = async () =>
      (
        await relay.admin.request<{ items: Record<string, unknown>[] }>(
          'GET',
          `/admin/api-keys/${key.id}/records?limit=5`,
        )
      ).body.items;
    return { upstreamKey, account, key, proxy, send, bookedOnce, lastRecord };
  }

  it('passes the upstream SSE bytes through unchanged', async () => {
    const l = await lane();
    const usage: FakeUsage = { input_tokens: 42, output_tokens: 17, cache_read_input_tokens: 5 };
    const text = 'Bytes: "quotes", back\\slash, new\nline, ünïcödé, 漢字 and an emoji 🚀 split over deltas.';
    fake.script(l.upstreamKey, { kind: 'message', text, usage, deltas: 9 });

    const res = await l.send({});
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const received = Buffer.from(await res.arrayBuffer());
    const sent = Buffer.from(messageEvents(MODEL, text, { ...DEFAULT_USAGE, ...usage }, 9).join(''));
    expect(received.equals(sent)).toBe(true);
    expect(received.toString('utf8')).toBe(sent.toString('utf8'));

    const u = await l.bookedOnce();
    expect(u.total).toMatchObject({ requests: 1, errors: 0, inputTokens: 42, outputTokens: 17, cacheReadTokens: 5 });
  });

  it('a stream the upstream cuts after message_start books its input and ends with an Anthropic error event', async () => {
    const l = await lane();
    const usage: FakeUsage = { input_tokens: 321, output_tokens: 999, cache_read_input_tokens: 40 };
    fake.script(l.upstreamKey, { kind: 'cut', afterEvents: 3, usage });

    const res = await l.send({});
    expect(res.status).toBe(200);
    const body = await res.text();
    const passed = messageEvents(MODEL, CUT_TEXT, { ...DEFAULT_USAGE, ...usage }, 6)
      .slice(0, 3)
      .join('');
    expect(body.startsWith(passed)).toBe(true);
    const tail = body.slice(passed.length);
    const m = /^event: error\ndata: (.*)\n\n$/.exec(tail);
    expect(m, `tail after the upstream's events: ${JSON.stringify(tail)}`).not.toBeNull();
    expect(JSON.parse(m![1]!)).toMatchObject({
      type: 'error',
      error: { type: 'api_error', message: expect.any(String) },
    });

    const reported = fake.reported.filter((r) => r.apiKey === l.upstreamKey);
    expect(reported).toHaveLength(1);
    const u = await l.bookedOnce();
    expect(u.total).toMatchObject({
      requests: 1,
      inputTokens: reported[0]!.usage.input_tokens,
      outputTokens: reported[0]!.usage.output_tokens,
      cacheReadTokens: 40,
    });
    expect(u.total).toMatchObject({ inputTokens: 321, outputTokens: 1 });
    expect((await l.lastRecord())[0]).toMatchObject({ outcome: 'cut', stream: true, status: 200 });
  });

  it('an upstream error event mid-stream is passed through as sent, and the partial usage is booked', async () => {
    const l = await lane();
    const usage: FakeUsage = { input_tokens: 77, output_tokens: 500 };
    fake.script(l.upstreamKey, {
      kind: 'stream-error',
      afterEvents: 4,
      type: 'overloaded_error',
      message: 'Overloaded right now',
      usage,
    });

    const res = await l.send({});
    expect(res.status).toBe(200);
    const body = await res.text();
    const expected =
      messageEvents(MODEL, STREAM_ERROR_TEXT, { ...DEFAULT_USAGE, ...usage }, 6)
        .slice(0, 4)
        .join('') +
      sse('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded right now' } });
    expect(body).toBe(expected);

    const u = await l.bookedOnce();
    expect(u.total).toMatchObject({ requests: 1, inputTokens: 77, outputTokens: 1 });
  });

  it('a client that disconnects mid-stream makes the relay abort the upstream call, and what was reported is booked', async () => {
    const l = await lane({ proxied: true });
    // 60 deltas, 100 ms apart: the whole answer would take over 6 seconds.
    fake.script(l.upstreamKey, {
      kind: 'message',
      usage: { input_tokens: 777, output_tokens: 600 },
      text: 'x'.repeat(600),
      deltas: 60,
      chunkDelayMs: 100,
    });

    const ac = new AbortController();
    const res = await l.send({}, ac.signal);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let seen = '';
    while (!seen.includes('content_block_delta')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += Buffer.from(value).toString('utf8');
    }
    expect(seen).toContain('event: message_start');
    const abortedAt = Date.now();
    ac.abort();

    // The relay hangs up on the upstream long before the upstream would have finished.
    const upstream: ProxiedConnection = await waitFor(
      () => l.proxy!.connections.find((c) => c.bytesDown > 0 && c.closedAt !== null),
      {
        timeoutMs: 2_000,
        what: 'the relay to close its upstream connection',
      },
    );
    expect(upstream.closedBy).toBe('client');
    console.log(`upstream connection closed ${upstream.closedAt! - abortedAt} ms after the client went away`);

    const u = await l.bookedOnce();
    expect(u.total).toMatchObject({ requests: 1, errors: 0, inputTokens: 777, outputTokens: 1 });
    expect((await l.lastRecord())[0]).toMatchObject({ outcome: 'client_abort', stream: true });
    expect(fake.served(l.upstreamKey)).toBe(0);
    expect(fake.reported.filter((r) => r.apiKey === l.upstreamKey)).toEqual([]);
  });

  it('a slow reader holds the upstream back (backpressure) and still receives every byte', async () => {
    const l = await lane({ proxied: true });
    const text = randomBytes(36 * 1024 * 1024).toString('base64'); // 48 MiB of text
    const usage: FakeUsage = { input_tokens: 11, output_tokens: 4096 };
    fake.script(l.upstreamKey, { kind: 'message', text, usage, deltas: 6144 });
    const expected = Buffer.from(messageEvents(MODEL, text, { ...DEFAULT_USAGE, ...usage }, 6144).join(''));

    const req = http.request(`${relay.url}/api/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': l.key.key, 'content-type': 'application/json' },
    });
    req.end(
      JSON.stringify({ model: MODEL, max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    );
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      req.once('response', resolve).once('error', reject),
    );
    expect(res.statusCode).toBe(200);
    res.pause();

    // While the client reads nothing, the upstream gets only as far as the socket buffers allow.
    const conn = await waitFor(() => l.proxy!.connections.find((c) => c.bytesDown > 0), {
      what: 'the upstream connection',
    });
    let last = -1;
    let stableSince = Date.now();
    await waitFor(
      () => {
        if (conn.bytesDown !== last) {
          last = conn.bytesDown;
          stableSince = Date.now();
          return false;
        }
        return Date.now() - stableSince >= 300;
      },
      { timeoutMs: 20_000, intervalMs: 20, what: 'the upstream to stall behind the paused client' },
    );
    console.log(`paused client: upstream stalled after ${conn.bytesDown} of ${expected.length} bytes`);
    expect(conn.bytesDown).toBeLessThan(expected.length / 2);
    expect(fake.served(l.upstreamKey)).toBe(0);

    // Now read, slowly at first, then to the end.
    const chunks: Buffer[] = [];
    let reads = 0;
    res.on('data', (c: Buffer) => {
      chunks.push(c);
      if (++reads <= 20) {
        res.pause();
        setTimeout(() => res.resume(), 5);
      }
    });
    res.resume();
    await new Promise<void>((resolve, reject) => res.once('end', resolve).once('error', reject));
    const received = Buffer.concat(chunks);
    expect(received.length).toBe(expected.length);
    expect(createHash('sha256').update(received).digest('hex')).toBe(
      createHash('sha256').update(expected).digest('hex'),
    );

    const u = await l.bookedOnce();
    expect(u.total).toMatchObject({ requests: 1, inputTokens: 11, outputTokens: 4096 });
    expect(fake.served(l.upstreamKey)).toBe(1);
  });
});
