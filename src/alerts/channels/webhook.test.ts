import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature, webhookKey } from './webhook.js';

const ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
const TS = 1674087231;
const BODY = '{"type":"alert.firing","id":"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}';
const KEY_BYTES = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64');
const SECRET = `whsec_${KEY_BYTES.toString('base64')}`;

/** Computed here independently: HMAC-SHA256 over "<id>.<ts>.<body>" with the decoded key. */
const expected = (key: Buffer | string) =>
  `v1,${createHmac('sha256', key).update(`${ID}.${TS}.${BODY}`).digest('base64')}`;

describe('webhook signatures', () => {
  it('signs with the decoded whsec_ key', () => {
    expect(webhookKey(SECRET).equals(KEY_BYTES)).toBe(true);
    expect(signWebhook(SECRET, ID, TS, BODY)).toBe(expected(KEY_BYTES));
  });

  it('uses the UTF-8 bytes of any other secret', () => {
    expect(signWebhook('plain-secret-密钥', ID, TS, BODY)).toBe(expected(Buffer.from('plain-secret-密钥', 'utf8')));
  });

  const verify = (over: Partial<Parameters<typeof verifyWebhookSignature>[0]> = {}) =>
    verifyWebhookSignature({
      secret: SECRET,
      id: ID,
      timestamp: String(TS),
      body: BODY,
      signatureHeader: expected(KEY_BYTES),
      now: TS * 1000,
      ...over,
    });

  it('accepts a good signature, also among several (rotation)', () => {
    expect(verify()).toEqual({ ok: true });
    expect(verify({ signatureHeader: `v1,${Buffer.alloc(32).toString('base64')} ${expected(KEY_BYTES)}` })).toEqual({
      ok: true,
    });
    expect(verify({ body: Buffer.from(BODY) })).toEqual({ ok: true });
    expect(verify({ now: (TS + 300) * 1000 })).toEqual({ ok: true });
  });

  it('rejects a tampered body, another secret, a wrong id and a skewed timestamp', () => {
    expect(verify({ body: BODY.replace('firing', 'resolved') })).toEqual({ ok: false, reason: 'signature' });
    expect(verify({ secret: 'whsec_' + Buffer.from('other').toString('base64') })).toEqual({
      ok: false,
      reason: 'signature',
    });
    expect(verify({ id: 'msg_other' })).toEqual({ ok: false, reason: 'signature' });
    expect(verify({ now: (TS + 301) * 1000 })).toEqual({ ok: false, reason: 'timestamp' });
    expect(verify({ now: (TS - 301) * 1000 })).toEqual({ ok: false, reason: 'timestamp' });
    expect(verify({ timestamp: 'yesterday' })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify({ signatureHeader: 'v2,abc' })).toEqual({ ok: false, reason: 'signature' });
  });
});
