import { describe, expect, it } from 'vitest';
import { createSecrets, hashPassword, randomSecret, verifyPassword } from './secrets.js';

const KEY_A = 'a'.repeat(32) + '-first-deployment';
const KEY_B = 'b'.repeat(32) + '-second-deployment';
const a = createSecrets(KEY_A);
const b = createSecrets(KEY_B);

type Part = 'iv' | 'tag' | 'ct';
const PARTS: Record<Part, number> = { iv: 1, tag: 2, ct: 3 };

/** Re-encodes one base64url part of a `v1.<iv>.<tag>.<ct>` blob after changing its bytes. */
function mutate(blob: string, part: Part, change: (bytes: Buffer) => Buffer): string {
  const pieces = blob.split('.');
  pieces[PARTS[part]] = change(Buffer.from(pieces[PARTS[part]] ?? '', 'base64url')).toString('base64url');
  return pieces.join('.');
}

const flipFirstBit = (bytes: Buffer) => {
  const copy = Buffer.from(bytes);
  copy[0] = (copy[0] ?? 0) ^ 1;
  return copy;
};

describe('hashApiKey', () => {
  it('is deterministic per key', () => {
    expect(a.hashApiKey('cr_abc')).toBe(createSecrets(KEY_A).hashApiKey('cr_abc'));
  });

  it('differs across encryption keys, across inputs, and from hashToken', () => {
    const h = a.hashApiKey('cr_abc');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(b.hashApiKey('cr_abc')).not.toBe(h);
    expect(a.hashApiKey('cr_abd')).not.toBe(h);
    expect(a.hashToken('cr_abc')).not.toBe(h);
  });
});

describe('encrypt / decrypt', () => {
  it.each([
    ['ascii', 'sk-ant-api03-secret'],
    ['unicode', 'héllo 世界 🎉 — ключ'],
    ['empty', ''],
    ['json with dots', JSON.stringify({ accessToken: 'a.b.c', refreshToken: 'd.e' })],
    ['long', 'x'.repeat(100_000)],
  ])('round trip: %s', (_name, plaintext) => {
    const blob = a.encrypt(plaintext);
    expect(blob.startsWith('v1.')).toBe(true);
    expect(a.decrypt(blob)).toBe(plaintext);
  });

  it('uses a fresh IV: the same plaintext encrypts differently each time', () => {
    expect(a.encrypt('same')).not.toBe(a.encrypt('same'));
  });

  it.each<[string, (blob: string) => string]>([
    ['flipped ciphertext bit', (blob) => mutate(blob, 'ct', flipFirstBit)],
    ['flipped tag bit', (blob) => mutate(blob, 'tag', flipFirstBit)],
    ['flipped iv bit', (blob) => mutate(blob, 'iv', flipFirstBit)],
    ['ciphertext with a byte appended', (blob) => mutate(blob, 'ct', (ct) => Buffer.concat([ct, Buffer.from([0])]))],
    ['ciphertext truncated', (blob) => mutate(blob, 'ct', (ct) => ct.subarray(0, ct.length - 1))],
    // GCM can be told to accept a short tag; a 4-byte tag can be forged in ~2^32 tries.
    ['tag truncated to its first 4 bytes', (blob) => mutate(blob, 'tag', (tag) => tag.subarray(0, 4))],
    ['tag truncated to its first 12 bytes', (blob) => mutate(blob, 'tag', (tag) => tag.subarray(0, 12))],
    ['unknown version', (blob) => blob.replace(/^v1\./, 'v2.')],
    ['missing part', (blob) => blob.split('.').slice(0, 3).join('.')],
    ['not a blob', () => 'plaintext-token'],
  ])('tampered blob throws: %s', (_name, tamper) => {
    const blob = a.encrypt('refresh-token-123');
    expect(() => a.decrypt(tamper(blob))).toThrow();
  });

  it('a blob encrypted under another key throws', () => {
    expect(() => b.decrypt(a.encrypt('refresh-token-123'))).toThrow();
  });
});

describe('passwords', () => {
  it('verifies the right password and rejects a wrong one', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^scrypt\$[\w-]+\$[\w-]+$/);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts: the same password hashes differently, both verify', async () => {
    const [h1, h2] = await Promise.all([hashPassword('pässwörd'), hashPassword('pässwörd')]);
    expect(h1).not.toBe(h2);
    expect(await verifyPassword('pässwörd', h1)).toBe(true);
    expect(await verifyPassword('pässwörd', h2)).toBe(true);
  });

  it.each(['', 'plain', 'bcrypt$abc$def', 'scrypt$$', 'scrypt$salt'])(
    'a malformed stored hash %j never verifies',
    async (stored) => {
      expect(await verifyPassword('anything', stored)).toBe(false);
    },
  );
});

describe('randomSecret', () => {
  it('is url-safe and unique', () => {
    const s = new Set(Array.from({ length: 100 }, () => randomSecret()));
    expect(s.size).toBe(100);
    for (const v of s) expect(v).toMatch(/^[\w-]{24}$/);
  });
});
