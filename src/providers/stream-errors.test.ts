import { describe, expect, it } from 'vitest';
import { streamErrorByName } from './stream-errors.js';

describe('an error event that opens a stream', () => {
  it.each([
    ['rate_limit_error', 'rate_limited'],
    ['rate_limit_exceeded', 'rate_limited'],
    ['insufficient_quota', 'rate_limited'],
    ['ThrottlingException', 'rate_limited'],
    ['RESOURCE_EXHAUSTED', 'rate_limited'],
    ['overloaded_error', 'overloaded'],
    ['UNAVAILABLE', 'overloaded'],
    ['api_error', 'server_error'],
    ['INTERNAL', 'server_error'],
    ['', 'server_error'],
  ])('%s is %s', (type, expected) => {
    expect(streamErrorByName(type)).toBe(expected);
  });
});
