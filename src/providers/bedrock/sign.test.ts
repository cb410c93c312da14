import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signRequest } from './sign.js';

/**
 * SigV4 worked out independently from AWS's published algorithm (canonical request → string to
 * sign → HMAC chain), so the test does not merely compare the signer with itself.
 */
function expectedSignature(opts: {
  secret: string;
  date: string;
  region: string;
  canonicalUri: string;
  headers: Record<string, string>;
  body: string;
}): { signature: string; signedHeaders: string } {
  const names = Object.keys(opts.headers)
    .map((h) => h.toLowerCase())
    .sort();
  const canonicalHeaders = names.map((n) => `${n}:${(opts.headers[n] ?? '').trim()}\n`).join('');
  const signedHeaders = names.join(';');
  const hash = (s: string) => createHash('sha256').update(s).digest('hex');
  const canonical = ['POST', opts.canonicalUri, '', canonicalHeaders, signedHeaders, hash(opts.body)].join('\n');
  const day = opts.date.slice(0, 8);
  const scope = `${day}/${opts.region}/bedrock/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', opts.date, scope, hash(canonical)].join('\n');
  const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${opts.secret}`, day), opts.region), 'bedrock'), 'aws4_request');
  return { signature: createHmac('sha256', key).update(toSign).digest('hex'), signedHeaders };
}

const KEYS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const DATE = new Date('2026-11-27T12:34:56Z');
const BODY = JSON.stringify({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 10,
  messages: [{ role: 'user', content: 'hi' }],
});
const URL_ = new URL(
  'https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke',
);

describe('signRequest (SigV4 for Bedrock Runtime)', () => {
  it('signs host, content type, accept and date with the bedrock scope of the region', async () => {
    const headers = await signRequest(
      { url: URL_, body: BODY, headers: { 'content-type': 'application/json', accept: 'application/json' } },
      KEYS,
      'us-east-1',
      DATE,
    );
    expect(headers.host).toBe('bedrock-runtime.us-east-1.amazonaws.com');
    expect(headers['x-amz-date']).toBe('20261127T123456Z');
    expect(headers).not.toHaveProperty('x-amz-security-token');
    expect(headers).not.toHaveProperty('x-amz-content-sha256');
    // AWS signs the path with each segment encoded once more: %3A → %253A.
    const want = expectedSignature({
      secret: KEYS.secretAccessKey,
      date: '20261127T123456Z',
      region: 'us-east-1',
      canonicalUri: '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%253A0/invoke',
      headers: {
        accept: 'application/json',
        'content-type': 'application/json',
        host: 'bedrock-runtime.us-east-1.amazonaws.com',
        'x-amz-date': '20261127T123456Z',
      },
      body: BODY,
    });
    expect(headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261127/us-east-1/bedrock/aws4_request, SignedHeaders=${want.signedHeaders}, Signature=${want.signature}`,
    );
  });

  it('temporary credentials sign and send x-amz-security-token', async () => {
    const token = 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==';
    const url = new URL(
      'http://127.0.0.1:4567/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke-with-response-stream',
    );
    const headers = await signRequest(
      { url, body: BODY, headers: { 'content-type': 'application/json' } },
      { ...KEYS, sessionToken: token },
      'eu-west-1',
      DATE,
    );
    expect(headers.host).toBe('127.0.0.1:4567');
    expect(headers['x-amz-security-token']).toBe(token);
    const want = expectedSignature({
      secret: KEYS.secretAccessKey,
      date: '20261127T123456Z',
      region: 'eu-west-1',
      canonicalUri: '/model/anthropic.claude-3-haiku-20240307-v1%253A0/invoke-with-response-stream',
      headers: {
        'content-type': 'application/json',
        host: '127.0.0.1:4567',
        'x-amz-date': '20261127T123456Z',
        'x-amz-security-token': token,
      },
      body: BODY,
    });
    expect(headers.authorization).toContain(`Credential=AKIAIOSFODNN7EXAMPLE/20261127/eu-west-1/bedrock/aws4_request`);
    expect(headers.authorization).toContain(`SignedHeaders=${want.signedHeaders}, Signature=${want.signature}`);
  });

  it('a different secret, body or date gives a different signature', async () => {
    const sig = async (keys: typeof KEYS, body: string, date: Date) =>
      /Signature=([0-9a-f]{64})$/.exec(
        (await signRequest({ url: URL_, body, headers: {} }, keys, 'us-east-1', date)).authorization ?? '',
      )?.[1];
    const base = await sig(KEYS, BODY, DATE);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(await sig({ ...KEYS, secretAccessKey: `${KEYS.secretAccessKey}x` }, BODY, DATE)).not.toBe(base);
    expect(await sig(KEYS, `${BODY} `, DATE)).not.toBe(base);
    expect(await sig(KEYS, BODY, new Date(DATE.getTime() + 1000))).not.toBe(base);
  });
});
