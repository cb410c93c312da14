import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

/**
 * Clients that break HTTP on purpose or by accident, spoken byte by byte over raw sockets: each
 * gets a clean refusal (or a clean answer), and none of them stops the relay serving the others
 * or books anything.
 */

interface Raw {
  /** Everything the relay sent, as latin1. */
  text: string;
  /** The status codes of the answers, in order. */
  statuses: number[];
  /** The relay closed the connection (rather than the test giving up waiting). */
  closed: boolean;
}

/** Sends `bytes` on a fresh connection and collects what comes back until the relay closes or `waitMs` pass. */
function raw(port: number, bytes: string | Buffer, waitMs = 2_000): Promise<Raw> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      resolve({ text, statuses, closed });
    };
    const timer = setTimeout(done, waitMs);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (text += d));
    sock.on('end', () => {
      closed = true;
      done();
    });
    sock.on('error', () => {
      closed = true;
      done();
    });
    sock.write(bytes);
  });
}

const post = (path: string, headers: Record<string, string>, body: string | Buffer) =>
  Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
        Object.entries({
          'content-type': 'application/json',
          'content-length': String(body.length),
          connection: 'close',
          ...headers,
        })
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('') +
        '\r\n',
    ),
    Buffer.isBuffer(body) ? body : Buffer.from(body),
  ]);

describe('hostile and broken clients', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let key: string;
  let keyId: string;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay();
    await relay.admin.createAccount({ apiKey: `sk-ant-api03-${'h'.repeat(40)}`, baseUrl: fake.url });
    ({ key, id: keyId } = await relay.admin.createKey());
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  const port = () => relay.instance.port;
  const booked = async () => (await relay.admin.keyUsage(keyId)).total.requests;

  it('invalid UTF-8 in a JSON body: 400 in the caller shape, nothing sent upstream, nothing booked', async () => {
    const before = fake.requests.length;
    // {"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"\xff\xfe"}]}
    const body = Buffer.concat([
      Buffer.from('{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}]}'),
    ]);
    const anthropic = await raw(port(), post('/api/v1/messages', { 'x-api-key': key }, body));
    expect(anthropic.statuses).toEqual([400]);
    expect(anthropic.text).toContain('"type":"error"');
    expect(anthropic.text).toContain('not valid UTF-8');
    const openai = await raw(port(), post('/openai/v1/chat/completions', { authorization: `Bearer ${key}` }, body));
    expect(openai.statuses).toEqual([400]);
    expect(openai.text).toContain('"error":{');
    expect(openai.text).toContain('not valid UTF-8');
    const adminBody = Buffer.concat([
      Buffer.from('{"username":"'),
      Buffer.from([0xff]),
      Buffer.from('","password":"x"}'),
    ]);
    const admin = await raw(port(), post('/admin/login', {}, adminBody));
    expect(admin.statuses).toEqual([400]);
    expect(admin.text).toContain('not valid JSON');
    expect(fake.requests.length).toBe(before);
    expect(await booked()).toBe(0);
  });

  it('JSON that is not an object: 400 saying so, for each kind of value', async () => {
    for (const body of ['[]', '42', '"text"', 'null', 'true']) {
      const r = await raw(port(), post('/api/v1/messages', { 'x-api-key': key }, body));
      expect(r.statuses, body).toEqual([400]);
      expect(r.text, body).toContain('must be a JSON object');
    }
    expect(await booked()).toBe(0);
  });

  it('Content-Length and Transfer-Encoding together: refused, the connection closed', async () => {
    const r = await raw(
      port(),
      'POST /api/v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n' +
        `x-api-key: ${key}\r\n\r\n0\r\n\r\nGET /health/live HTTP/1.1\r\nhost: x\r\n\r\n`,
    );
    expect(r.closed).toBe(true);
    // Never two answers: the smuggled request behind the body is not served.
    expect(r.statuses.length).toBeLessThanOrEqual(1);
    if (r.statuses.length === 1) expect(r.statuses[0]).toBe(400);
    expect(await booked()).toBe(0);
  });

  it('slowloris: 200 connections sending a header byte a second do not stop normal requests, and are closed', async () => {
    const slow = Array.from({ length: 200 }, () => {
      const sock = net.connect(port(), '127.0.0.1');
      const head = `POST /api/v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: ${key}\r\nx-pad: ${'a'.repeat(60)}`;
      let sent = 0;
      const closed = new Promise<number>((resolve) => sock.on('close', () => resolve(Date.now())));
      sock.on('error', () => {});
      const drip = setInterval(() => {
        if (sock.destroyed || sent >= head.length) return clearInterval(drip);
        sock.write(head[sent++] ?? '');
      }, 1_000);
      return { sock, closed, drip };
    });
    const t0 = Date.now();
    try {
      // Meanwhile, normal requests are served as usual.
      for (let i = 0; i < 20; i++) {
        const started = Date.now();
        const res = await fetch(`${relay.url}/api/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': key },
          body: JSON.stringify({
            model: 'claude-sonnet-4-5',
            max_tokens: 5,
            messages: [{ role: 'user', content: 'hi' }],
          }),
        });
        expect(res.status).toBe(200);
        await res.text();
        expect(Date.now() - started).toBeLessThan(1_000);
        await new Promise((r) => setTimeout(r, 200));
      }
      // A request whose headers never finish is dropped after the server's idle timeout (10 s),
      // however steadily its bytes trickle in.
      const closedAt = await Promise.race([
        Promise.all(slow.map((c) => c.closed)),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('slow connections still open')), 20_000)),
      ]);
      for (const at of closedAt) expect(at - t0).toBeLessThan(15_000);
    } finally {
      for (const c of slow) {
        clearInterval(c.drip);
        c.sock.destroy();
      }
    }
    expect((await relay.admin.keyUsage(keyId)).total.requests).toBe(20);
  }, 40_000);

  it('HTTP/1.0 and a request with 60 headers: never served, closed by the header timeout (what the README says of uWS)', async () => {
    const many = Array.from({ length: 60 }, (_, i) => `x-h${i}: ${i}\r\n`).join('');
    const bookedBefore = await booked();
    const started = Date.now();
    const [old, crowded] = await Promise.all([
      raw(
        port(),
        `POST /api/v1/messages HTTP/1.0\r\nhost: x\r\nx-api-key: ${key}\r\ncontent-length: 2\r\n\r\n{}`,
        20_000,
      ),
      raw(
        port(),
        `POST /api/v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: ${key}\r\n${many}content-length: 2\r\n\r\n{}`,
        20_000,
      ),
    ]);
    for (const r of [old, crowded]) {
      expect(r.statuses).toEqual([]);
      expect(r.closed).toBe(true);
    }
    expect(Date.now() - started).toBeLessThan(16_000);
    expect(await booked()).toBe(bookedBefore);
  }, 30_000);

  it('pipelined requests are answered in order on one connection', async () => {
    const r = await raw(
      port(),
      'GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n' +
        `GET /api/v1/models HTTP/1.1\r\nhost: x\r\nx-api-key: wrong\r\n\r\n` +
        'GET /health/live HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
    );
    expect(r.statuses).toEqual([200, 401, 200]);
    expect(r.closed).toBe(true);
  });
});
