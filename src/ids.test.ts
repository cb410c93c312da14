import { describe, expect, it } from 'vitest';
import { isAccountId, isApiKeyId, newAccountId, newApiKeyId, requestIdFactory } from './ids.js';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

describe('ids', () => {
  it.each<[string, () => string, string, (s: string) => boolean, (s: string) => boolean]>([
    ['api key', newApiKeyId, 'k_', isApiKeyId, isAccountId],
    ['account', newAccountId, 'a_', isAccountId, isApiKeyId],
  ])(
    '%s ids: prefix, alphabet, uniqueness, and only their own guard accepts them',
    (_name, make, prefix, own, other) => {
      const ids = Array.from({ length: 2000 }, () => make());
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) {
        expect(id.startsWith(prefix)).toBe(true);
        expect(id).toHaveLength(18);
        expect([...id.slice(2)].every((c) => ALPHABET.includes(c))).toBe(true);
        expect(own(id)).toBe(true);
        expect(other(id)).toBe(false);
      }
    },
  );

  it('every alphabet symbol occurs (the random source reaches all 32 values)', () => {
    const seen = new Set(Array.from({ length: 500 }, () => newApiKeyId().slice(2)).join(''));
    expect(seen.size).toBe(32);
  });

  it.each([
    '',
    'k_',
    'k_0123456789abcde',
    'k_0123456789abcdefg',
    'K_0123456789abcdef',
    'k_0123456789ABCDEF',
    'k_0123456789abcde!',
    ' k_0123456789abcdef',
  ])('isApiKeyId rejects %j', (s) => {
    expect(isApiKeyId(s)).toBe(false);
  });
});

describe('requestIdFactory', () => {
  it('makes unique ids within one factory and across factories', () => {
    const f1 = requestIdFactory();
    const f2 = requestIdFactory();
    const ids = [...Array.from({ length: 1000 }, f1), ...Array.from({ length: 1000 }, f2)];
    expect(new Set(ids).size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{12}[0-9a-z]{6,}$/);
  });
});
