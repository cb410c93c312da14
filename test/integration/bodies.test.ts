import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from '../support/relay.js';

/**
 * A request the relay refuses from its headers (a wrong or missing key) must not cost it the
 * memory of its body: the answer comes at once, what keeps arriving is dropped, and the
 * connection closes, so many such uploads at once leave the worker as it was.
 */

const MB = 1024 * 1024;

interface Upload {
  /** The status line's code. */
  status: number;
  /** Bytes of body the client managed to send before the relay closed the connection. */
  sent: number;
  /** The answer came before the body was sent whole, and asked the client to close. */
  askedToClose: boolean;
}

/**
 * A chunked POST of up to `total` bytes of filler (or of `content`), 256 KB at a time, stopping
 * once a whole answer has come.
 */
function upload(
  port: number,
  path: string,
  headers: Record<string, string>,
  total: number,
  content?: Buffer,
): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const filler = Buffer.alloc(256 * 1024, 0x61);
    const size = content?.length ?? total;
    const piece = (at: number) => (content ? content.subarray(at, at + filler.length) : filler);
    let sent = 0;
    let answer = '';
    let closed = false;
    let askedToClose = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(
        new Error(
          `upload still running after 20 s (sent ${sent} bytes, answer ${JSON.stringify(answer.slice(0, 80))})`,
        ),
      );
    }, 20_000);
    const finish = () => {
      clearTimeout(timer);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0), sent, askedToClose });
    };
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      answer += d;
      // A whole answer: stop sending and close (as HTTP clients do when it says `connection: close`).
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? -1);
      if (length >= 0 && body.length >= length) {
        askedToClose = /\r\nconnection: close/i.test(head) && sent < size;
        closed = true;
        sock.destroy();
      }
    });
    sock.on('end', () => {
      closed = true;
    });
    sock.on('close', finish);
    sock.on('error', () => {
      closed = true;
    });
    const head = Object.entries({ 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    sock.write(`POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${head}\r\n`);
    const pump = () => {
      while (!closed && !sock.destroyed && sent < size) {
        const chunk = piece(sent);
        sent += chunk.length;
        // One write per chunk: a chunk cut in two by backpressure would corrupt the framing.
        if (!sock.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]))) {
          sock.once('drain', pump);
          return;
        }
      }
      if (!closed && !sock.destroyed) sock.write('0\r\n\r\n');
    };
    pump();
  });
}

describe('a refused request does not cost the memory of its body', () => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await startTestRelay();
  });
  afterAll(async () => {
    await relay?.close();
  });

  it('40 uploads of 31 MB with a wrong key: each gets its 401 at once, asking to close; nothing is held', async () => {
    const wrong = `cr_${'0'.repeat(64)}`;
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, relay.instance.app.bodyBytesHeld)), 5);
    const total = 31 * MB;
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, () =>
          upload(relay.instance.port, '/api/v1/messages', { 'x-api-key': wrong }, total),
        ),
      );
      for (const r of results) {
        expect(r.status).toBe(401);
        expect(r.askedToClose).toBe(true);
      }
      // Far less than one body each was ever sent, let alone held.
      const sent = results.reduce((n, r) => n + r.sent, 0);
      expect(sent).toBeLessThan(40 * total * 0.5);
    } finally {
      clearInterval(watch);
    }
    // A large body is not read until the key is accepted: of these, at most what one read of each
    // socket brought in before it was paused (about 128 KB) was ever held; 40 × 31 MB were, before.
    expect(peak).toBeLessThan(40 * 256 * 1024);
    expect(relay.instance.app.bodyBytesHeld).toBe(0);
  });

  it('a missing key on the OpenAI surface: the same', async () => {
    const r = await upload(relay.instance.port, '/openai/v1/chat/completions', {}, 31 * MB);
    expect(r.status).toBe(401);
    expect(r.askedToClose).toBe(true);
  });

  it('a good key still has its body read whole, a large chunked one too', async () => {
    const { key } = await relay.admin.createKey();
    const big = JSON.stringify({ model: 5, padding: 'x'.repeat(3 * MB) });
    const r = await upload(relay.instance.port, '/api/v1/messages', { 'x-api-key': key }, 0, Buffer.from(big));
    // The whole body was read and judged: a 400 about it, not a 401.
    expect(r.status).toBe(400);
    expect(relay.instance.app.bodyBytesHeld).toBe(0);
  });

  it('a good key with a 100 MB chunked body: 413 past BODY_LIMIT (32 MB), refused while reading, never held whole', async () => {
    const { key } = await relay.admin.createKey();
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, relay.instance.app.bodyBytesHeld)), 5);
    try {
      const r = await upload(relay.instance.port, '/api/v1/messages', { 'x-api-key': key }, 100 * MB);
      expect(r.status).toBe(413);
      // Asked to close, not closed under it (a reset could destroy the 413 before it is read).
      expect(r.askedToClose).toBe(true);
      // Refused once the limit was passed: the client did not get to send the rest.
      expect(r.sent).toBeLessThan(64 * MB);
    } finally {
      clearInterval(watch);
    }
    expect(peak).toBeLessThanOrEqual(32 * MB + 256 * 1024);
    expect(relay.instance.app.bodyBytesHeld).toBe(0);
  });

  it('a good key still has its body read whole (a small one)', async () => {
    const { key } = await relay.admin.createKey();
    const res = await fetch(`${relay.url}/api/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: '{"model": 5}',
    });
    // The body was read and judged: a 400 about it, not a 401.
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('model');
    expect(relay.instance.app.bodyBytesHeld).toBe(0);
  });
});
