import { describe, expect, it } from 'vitest';
import { redactCredentials } from './redact.js';

describe('redactCredentials', () => {
  it.each([
    ['invalid x-api-key: sk-ant-api03-AbCdEfGhIjKlMnOp-0000', 'invalid x-api-key: [redacted …0000]'],
    [
      'Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwx1234.',
      'Incorrect API key provided: [redacted …1234].',
    ],
    ['API key not valid: AIzaSyA-abcdefghijklmnopqrstuvwxyz12', 'API key not valid: [redacted …yz12]'],
    ['token ya29.a0AfH6SMBxyz-abc_def rejected', 'token [redacted …_def] rejected'],
    ['refresh 1//0gAbCdEfGhIjKlMnOpQrStUvWx bad', 'refresh [redacted …UvWx] bad'],
    ['The security token AKIAIOSFODNN7EXAMPLE is invalid', 'The security token [redacted …MPLE] is invalid'],
    ['Authorization: Bearer abc.def-ghi_jkl9', 'Authorization: [redacted …jkl9]'],
    [`relay key cr_${'ab'.repeat(32)}`, 'relay key [redacted …abab]'],
  ])('%s', (input, expected) => {
    expect(redactCredentials(input)).toBe(expected);
  });

  it('leaves ordinary error text alone', () => {
    const text = 'messages.0.content: Input should be a valid list (model claude-sonnet-4-5, max_tokens 1024)';
    expect(redactCredentials(text)).toBe(text);
  });
});
