import { describe, expect, it } from 'vitest';
import { keyFromHeaders } from './service.js';

const KEY = 'cr_' + 'ab'.repeat(32);

describe('keyFromHeaders', () => {
  // Header names arrive lower-cased from the server.
  it.each<[string, Record<string, string>, string | undefined]>([
    ['x-api-key', { 'x-api-key': KEY }, KEY],
    ['x-api-key with spaces', { 'x-api-key': `  ${KEY} ` }, KEY],
    ['Authorization: Bearer', { authorization: `Bearer ${KEY}` }, KEY],
    ['Authorization: bearer (lower case)', { authorization: `bearer ${KEY}` }, KEY],
    ['Authorization: BEARER with extra spaces', { authorization: `  BEARER    ${KEY}  ` }, KEY],
    ['x-api-key wins over Authorization', { 'x-api-key': KEY, authorization: 'Bearer other' }, KEY],
    ['empty x-api-key falls back to Authorization', { 'x-api-key': '', authorization: `Bearer ${KEY}` }, KEY],
    ['neither header', { 'content-type': 'application/json' }, undefined],
    ['Basic auth is not a relay key', { authorization: 'Basic dXNlcjpwYXNz' }, undefined],
    ['Bearer without a token', { authorization: 'Bearer ' }, undefined],
    ['Bearer with no space', { authorization: `Bearer${KEY}` }, undefined],
  ])('%s', (_name, headers, expected) => {
    expect(keyFromHeaders(headers)).toBe(expected);
  });
});
