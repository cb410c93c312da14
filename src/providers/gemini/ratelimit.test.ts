import { describe, expect, it } from 'vitest';
import { googleResetTime, parseGoogleDuration } from './ratelimit.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const S = 1000;

describe('parseGoogleDuration', () => {
  it.each<[string, number | undefined]>([
    ['37s', 37 * S],
    ['1.5s', 1500],
    ['0.000001s', 1],
    ['35.727431184s', 35_728],
    ['500ms', 500],
    ['2m', 120 * S],
    ['1h2m3.5s', 3_723_500],
    ['20h16m36.48s', (20 * 3600 + 16 * 60 + 36.48) * S],
    ['', undefined],
    ['soon', undefined],
    ['37', undefined],
    ['-5s', undefined],
    ['1e3s', undefined],
  ])('%j → %j', (value, expected) => {
    expect(parseGoogleDuration(value)).toBe(expected);
  });
});

const quota429 = (details: unknown[], message = 'Resource has been exhausted (e.g. check quota).') => ({
  error: { code: 429, message, status: 'RESOURCE_EXHAUSTED', details },
});
const retryInfo = (d: string) => ({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: d });
const errorInfo = (metadata: Record<string, string>) => ({
  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
  reason: 'RATE_LIMIT_EXCEEDED',
  domain: 'cloudcode-pa.googleapis.com',
  metadata,
});

describe('googleResetTime', () => {
  it.each<[string, Record<string, string>, unknown, number | undefined]>([
    ['nothing', {}, undefined, undefined],
    [
      'a body without details',
      {},
      { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } },
      undefined,
    ],
    ['retry-after seconds', { 'retry-after': '30' }, undefined, NOW + 30 * S],
    ['retry-after wins over the body', { 'retry-after': '5' }, quota429([retryInfo('60s')]), NOW + 5 * S],
    [
      'RetryInfo (Gemini API)',
      {},
      quota429([{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] }, retryInfo('37s')]),
      NOW + 37 * S,
    ],
    ['RetryInfo with fractions', {}, quota429([retryInfo('1.25s')]), NOW + 1250],
    ['ErrorInfo quotaResetDelay (Code Assist)', {}, quota429([errorInfo({ quotaResetDelay: '2m30s' })]), NOW + 150 * S],
    [
      'ErrorInfo quotaResetTimeStamp',
      {},
      quota429([errorInfo({ quotaResetTimeStamp: '2026-11-27T13:00:00Z' })]),
      NOW + 3600 * S,
    ],
    [
      'the latest of several',
      {},
      quota429([retryInfo('10s'), errorInfo({ quotaResetDelay: '45s', quotaResetTimeStamp: '2026-11-27T12:00:20Z' })]),
      NOW + 45 * S,
    ],
    [
      '"Please retry in" in the message',
      {},
      quota429([], 'You exceeded your current quota. Please retry in 12.5s.'),
      NOW + 12_500,
    ],
    ['the message only counts without details', {}, quota429([retryInfo('3s')], 'Please retry in 99s.'), NOW + 3 * S],
    ["Google's one-element array form", {}, [quota429([retryInfo('8s')])], NOW + 8 * S],
    ['a reset in the past', {}, quota429([errorInfo({ quotaResetTimeStamp: '2026-11-27T11:00:00Z' })]), undefined],
    [
      'garbage delays',
      {},
      quota429([retryInfo('later'), errorInfo({ quotaResetDelay: 'x', quotaResetTimeStamp: 'tomorrow' })]),
      undefined,
    ],
    ['not an error body', {}, 'Too many requests', undefined],
  ])('%s', (_name, headers, body, expected) => {
    expect(googleResetTime(headers, NOW, body)).toBe(expected);
  });
});
