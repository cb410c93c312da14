import { describe, expect, it } from 'vitest';
import { anthropicResetTime, parseRetryAfter } from './ratelimit.js';

const NOW = Date.parse('2026-11-27T12:00:00Z'); // a Friday
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();
const httpDate = (ms: number) => new Date(ms).toUTCString();

describe('parseRetryAfter', () => {
  it.each<[string, string, number]>([
    ['integer seconds', '30', NOW + 30 * S],
    ['zero', '0', NOW],
    ['large integer', '86400', NOW + 86_400 * S],
    ['fractional seconds', '1.5', NOW + 1500],
    ['fractional seconds, two places', '2.25', NOW + 2250],
    ['sub-millisecond rounds up (never early)', '0.0001', NOW + 1],
    ['surrounding whitespace', '  30 ', NOW + 30 * S],
    ['HTTP-date', 'Fri, 27 Nov 2026 12:01:00 GMT', NOW + MIN],
    ['HTTP-date, next day', 'Sat, 28 Nov 2026 00:00:00 GMT', NOW + 12 * HOUR],
  ])('%s: %j', (_name, value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  it('HTTP-dates round-trip', () => {
    for (const ms of [NOW + 5 * S, NOW + HOUR, NOW + 7 * 24 * HOUR])
      expect(parseRetryAfter(httpDate(ms), NOW)).toBe(ms);
  });

  it.each<[string, string | undefined]>([
    ['missing', undefined],
    ['empty', ''],
    ['blank', '   '],
    ['a word', 'soon'],
    ['seconds with a unit', '30s'],
    ['exponent notation', '1e3'],
    ['an explicit plus sign', '+30'],
    ['Infinity', 'Infinity'],
    ['NaN', 'NaN'],
    ['an impossible date', 'Sun, 99 Nov 2026 12:00:00 GMT'],
    // Neither delta-seconds nor an HTTP-date (RFC 9110 §10.2.3); V8's lenient Date.parse reads
    // these as dates in 2001.
    ['negative seconds', '-5'],
    ['words and a number', 'tomorrow 5'],
  ])('garbage (%s) → undefined', (_name, value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});

type Headers = Record<string, string>;

describe('anthropicResetTime', () => {
  it.each<[string, Headers, number | undefined]>([
    ['no headers', {}, undefined],
    // retry-after
    ['retry-after seconds', { 'retry-after': '30' }, NOW + 30 * S],
    ['retry-after fractional', { 'retry-after': '0.5' }, NOW + 500],
    ['retry-after HTTP-date', { 'retry-after': httpDate(NOW + 2 * MIN) }, NOW + 2 * MIN],
    [
      'retry-after wins over a later unified reset',
      { 'retry-after': '10', 'anthropic-ratelimit-unified-reset': String((NOW + HOUR) / S) },
      NOW + 10 * S,
    ],
    [
      'retry-after wins over an earlier exhausted limit',
      {
        'retry-after': '600',
        'anthropic-ratelimit-requests-remaining': '0',
        'anthropic-ratelimit-requests-reset': iso(NOW + MIN),
      },
      NOW + 600 * S,
    ],
    // unified reset (subscriptions)
    ['unified reset, epoch seconds', { 'anthropic-ratelimit-unified-reset': String((NOW + HOUR) / S) }, NOW + HOUR],
    [
      'unified reset, fractional epoch seconds',
      { 'anthropic-ratelimit-unified-reset': String((NOW + 1500) / S) },
      NOW + 1500,
    ],
    ['unified reset, epoch milliseconds', { 'anthropic-ratelimit-unified-reset': String(NOW + HOUR) }, NOW + HOUR],
    ['unified reset, ISO', { 'anthropic-ratelimit-unified-reset': '2026-11-27T17:00:00Z' }, NOW + 5 * HOUR],
    [
      'unified reset, ISO with offset',
      { 'anthropic-ratelimit-unified-reset': '2026-11-27T13:30:00+01:00' },
      NOW + 30 * MIN,
    ],
    [
      'unified reset counts without any -remaining header',
      { 'anthropic-ratelimit-unified-reset': iso(NOW + MIN) },
      NOW + MIN,
    ],
    // per-limit resets
    [
      'tokens exhausted',
      { 'anthropic-ratelimit-tokens-remaining': '0', 'anthropic-ratelimit-tokens-reset': iso(NOW + 40 * S) },
      NOW + 40 * S,
    ],
    [
      'tokens not exhausted',
      { 'anthropic-ratelimit-tokens-remaining': '1', 'anthropic-ratelimit-tokens-reset': iso(NOW + 40 * S) },
      undefined,
    ],
    ['tokens reset without -remaining', { 'anthropic-ratelimit-tokens-reset': iso(NOW + 40 * S) }, undefined],
    [
      'the latest of several exhausted limits',
      {
        'anthropic-ratelimit-requests-remaining': '0',
        'anthropic-ratelimit-requests-reset': iso(NOW + 10 * S),
        'anthropic-ratelimit-input-tokens-remaining': '0',
        'anthropic-ratelimit-input-tokens-reset': iso(NOW + 50 * S),
        'anthropic-ratelimit-output-tokens-remaining': '0',
        'anthropic-ratelimit-output-tokens-reset': iso(NOW + 30 * S),
      },
      NOW + 50 * S,
    ],
    [
      'a later reset of a limit that is not exhausted does not count',
      {
        'anthropic-ratelimit-requests-remaining': '0',
        'anthropic-ratelimit-requests-reset': iso(NOW + 10 * S),
        'anthropic-ratelimit-tokens-remaining': '25000',
        'anthropic-ratelimit-tokens-reset': iso(NOW + HOUR),
      },
      NOW + 10 * S,
    ],
    [
      'unified and per-limit: the latest',
      {
        'anthropic-ratelimit-unified-reset': String((NOW + 20 * MIN) / S),
        'anthropic-ratelimit-output-tokens-remaining': '0',
        'anthropic-ratelimit-output-tokens-reset': iso(NOW + 45 * MIN),
      },
      NOW + 45 * MIN,
    ],
    [
      'unified later than the per-limit reset',
      {
        'anthropic-ratelimit-unified-reset': String((NOW + 3 * HOUR) / S),
        'anthropic-ratelimit-requests-remaining': '0',
        'anthropic-ratelimit-requests-reset': iso(NOW + MIN),
      },
      NOW + 3 * HOUR,
    ],
    // the past
    ['unified reset in the past', { 'anthropic-ratelimit-unified-reset': String((NOW - HOUR) / S) }, undefined],
    ['unified reset exactly now', { 'anthropic-ratelimit-unified-reset': String(NOW / S) }, undefined],
    [
      'exhausted limit resetting in the past',
      { 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': iso(NOW - S) },
      undefined,
    ],
    [
      'one past and one future reset: the future one',
      {
        'anthropic-ratelimit-unified-reset': iso(NOW - MIN),
        'anthropic-ratelimit-requests-remaining': '0',
        'anthropic-ratelimit-requests-reset': iso(NOW + MIN),
      },
      NOW + MIN,
    ],
    // garbage
    ['garbage unified reset', { 'anthropic-ratelimit-unified-reset': 'soon' }, undefined],
    [
      'garbage per-limit reset',
      { 'anthropic-ratelimit-tokens-remaining': '0', 'anthropic-ratelimit-tokens-reset': 'later' },
      undefined,
    ],
    [
      'garbage retry-after falls through to the reset headers',
      { 'retry-after': 'soon', 'anthropic-ratelimit-unified-reset': iso(NOW + HOUR) },
      NOW + HOUR,
    ],
    ['garbage retry-after alone', { 'retry-after': 'soon' }, undefined],
    ['negative retry-after', { 'retry-after': '-5' }, undefined],
    // A retry-after date already past says nothing about the future; the reset headers still do.
    ['retry-after HTTP-date in the past', { 'retry-after': httpDate(NOW - MIN) }, undefined],
    [
      'retry-after HTTP-date in the past, unified reset ahead',
      { 'retry-after': httpDate(NOW - MIN), 'anthropic-ratelimit-unified-reset': iso(NOW + HOUR) },
      NOW + HOUR,
    ],
  ])('%s', (_name, headers, expected) => {
    expect(anthropicResetTime(headers, NOW)).toBe(expected);
  });

  it.each(['requests', 'tokens', 'input-tokens', 'output-tokens'])(
    '%s: counted only when its -remaining is "0"',
    (limit) => {
      const reset = { [`anthropic-ratelimit-${limit}-reset`]: iso(NOW + 90 * S) };
      expect(anthropicResetTime({ ...reset, [`anthropic-ratelimit-${limit}-remaining`]: '0' }, NOW)).toBe(NOW + 90 * S);
      expect(anthropicResetTime({ ...reset, [`anthropic-ratelimit-${limit}-remaining`]: '3' }, NOW)).toBeUndefined();
      expect(anthropicResetTime(reset, NOW)).toBeUndefined();
      // Another limit's exhaustion does not make this one count.
      const other = limit === 'requests' ? 'tokens' : 'requests';
      expect(anthropicResetTime({ ...reset, [`anthropic-ratelimit-${other}-remaining`]: '0' }, NOW)).toBeUndefined();
    },
  );
});
