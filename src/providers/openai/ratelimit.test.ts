import { describe, expect, it } from 'vitest';
import { openaiResetTime, parseDurationText } from './ratelimit.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const S = 1000;

describe('parseDurationText', () => {
  it.each<[string, number | undefined]>([
    ['1s', 1000],
    ['6m0s', 360_000],
    ['20ms', 20],
    ['1h2m3.5s', 3_723_500],
    ['0.5s', 500],
    ['', undefined],
    ['soon', undefined],
    ['5', undefined],
    ['-1s', undefined],
  ])('%j → %s', (text, ms) => {
    expect(parseDurationText(text)).toBe(ms);
  });
});

describe('openaiResetTime', () => {
  it.each<[string, Record<string, string>, unknown, number | undefined]>([
    ['nothing', {}, undefined, undefined],
    ['retry-after seconds', { 'retry-after': '20' }, undefined, NOW + 20 * S],
    ['retry-after-ms wins over retry-after', { 'retry-after-ms': '1500', 'retry-after': '20' }, undefined, NOW + 1500],
    [
      'exhausted requests limit',
      { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '6m0s' },
      undefined,
      NOW + 360 * S,
    ],
    [
      'a limit not exhausted does not count',
      { 'x-ratelimit-remaining-tokens': '1000', 'x-ratelimit-reset-tokens': '6m0s' },
      undefined,
      undefined,
    ],
    [
      'the latest exhausted limit',
      {
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '1s',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '30s',
      },
      undefined,
      NOW + 30 * S,
    ],
    [
      'ChatGPT window at 100%',
      { 'x-codex-primary-used-percent': '100', 'x-codex-primary-reset-after-seconds': '3600' },
      undefined,
      NOW + 3600 * S,
    ],
    [
      'ChatGPT window below 100% does not count',
      { 'x-codex-primary-used-percent': '80', 'x-codex-primary-reset-after-seconds': '3600' },
      undefined,
      undefined,
    ],
    [
      'ChatGPT weekly window',
      { 'x-codex-secondary-used-percent': '100.0', 'x-codex-secondary-reset-after-seconds': '86400' },
      undefined,
      NOW + 86_400 * S,
    ],
    [
      'ChatGPT body resets_in_seconds',
      {},
      { error: { type: 'usage_limit_reached', resets_in_seconds: 900 } },
      NOW + 900 * S,
    ],
    [
      'ChatGPT body resets_at',
      {},
      { error: { type: 'usage_limit_reached', resets_at: (NOW + 7200 * S) / 1000 } },
      NOW + 7200 * S,
    ],
    ['resets_at in the past', {}, { error: { resets_at: (NOW - S) / 1000 } }, undefined],
    [
      'garbage',
      { 'retry-after': 'soon', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': 'later' },
      'not json',
      undefined,
    ],
  ])('%s', (_name, headers, body, want) => {
    expect(openaiResetTime(headers, NOW, body)).toBe(want);
  });
});
