import { describe, expect, it } from 'vitest';
import type { AlertItem, AlertMessage } from '../types.js';
import { formatTime, formatValue, measure, renderHtml, renderMarkdown, renderText, truncate } from './render.js';

const AT = Date.UTC(2025, 2, 1, 10, 40, 5);

function item(over: Partial<AlertItem> = {}): AlertItem {
  return {
    subject: 'claude account "team-a" (acc_1)',
    labels: { platform: 'claude' },
    value: 0.853,
    threshold: 0.8,
    unit: '%',
    startsAt: AT - 60_000,
    endsAt: null,
    ...over,
  };
}

function message(items: AlertItem[], over: Partial<AlertMessage> = {}): AlertMessage {
  return {
    id: 'ntf_1',
    kind: 'firing',
    rule: {
      id: 'rul_err',
      name: 'Error rate high',
      severity: 'P1',
      category: 'performance',
      description: 'Too many 5xx',
    },
    title: `[P1 FIRING] ${items.length} claude accounts erroring`,
    items,
    node: 'relay-2',
    at: AT,
    url: 'https://relay.example.com/admin/alerts/rul_err',
    timeZone: 'Asia/Shanghai',
    ...over,
  };
}

describe('formatValue', () => {
  it('prints each unit', () => {
    expect(formatValue(0.853, '%')).toBe('85.3%');
    expect(formatValue(0.8, '%')).toBe('80%');
    expect(formatValue(1, '%')).toBe('100%');
    expect(formatValue(12.5, 's')).toBe('12.5 s');
    expect(formatValue(1234.4, 'ms')).toBe('1,234 ms');
    expect(formatValue(12.3, 'USD')).toBe('$12.30');
    expect(formatValue(-5, 'USD')).toBe('-$5.00');
    expect(formatValue(512, 'bytes')).toBe('512 B');
    expect(formatValue(1536, 'bytes')).toBe('1.5 KiB');
    expect(formatValue(3 * 1024 ** 3, 'bytes')).toBe('3 GiB');
    expect(formatValue(1234567, 'tokens')).toBe('1,234,567 tokens');
    expect(formatValue(3.14159, '')).toBe('3.14');
  });
});

describe('formatTime', () => {
  it('prints wall time in the zone with its offset', () => {
    expect(formatTime(AT, 'Asia/Shanghai')).toBe('2025-03-01 18:40:05 GMT+08:00');
    expect(formatTime(AT, 'UTC')).toBe('2025-03-01 10:40:05 GMT+00:00');
    expect(formatTime(AT, 'America/New_York')).toBe('2025-03-01 05:40:05 GMT-05:00');
    expect(formatTime(Date.UTC(2025, 0, 1, 16, 0, 0), 'Asia/Shanghai')).toBe('2025-01-02 00:00:00 GMT+08:00');
  });
  it('falls back to UTC for an unknown zone', () => {
    expect(formatTime(AT, 'Mars/Olympus')).toBe('2025-03-01 10:40:05 GMT+00:00');
  });
});

describe('truncate', () => {
  it('never splits a multi-byte character', () => {
    const s = '账号团队未授权'.repeat(50);
    for (let max = 1; max < 60; max++) {
      const out = truncate(s, { max, unit: 'bytes' });
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(max);
      expect(out).not.toContain('\uFFFD');
      expect(Buffer.from(out, 'utf8').toString('utf8')).toBe(out);
      if (out.length > 1) expect(s.startsWith(out.slice(0, -1))).toBe(true);
    }
  });
  it('keeps emoji and surrogate pairs whole when counting characters', () => {
    const out = truncate('🔥🔥🔥🔥', { max: 4, unit: 'chars' });
    expect(out).toBe('🔥…');
  });
});

describe('rendering', () => {
  it('names the rule, severity, kind, subjects, values, node, time and link', () => {
    const m = message([item(), item({ subject: 'key "ci" (key_2)', value: 1234, threshold: 1000, unit: 'ms' })]);
    const text = renderText(m);
    for (const part of [
      '[P1 FIRING] 2 claude accounts erroring',
      'Error rate high',
      'rul_err',
      'P1',
      'FIRING',
      'claude account "team-a" (acc_1)',
      'value 85.3% (threshold 80%)',
      'value 1,234 ms (threshold 1,000 ms)',
      'relay-2',
      '2025-03-01 18:40:05 GMT+08:00',
      'https://relay.example.com/admin/alerts/rul_err',
    ])
      expect(text).toContain(part);
    expect(renderText({ ...m, url: null })).not.toContain('Link');
    expect(renderText({ ...m, kind: 'resolved' })).toContain('RESOLVED');
  });

  it('prints state rules without numbers', () => {
    const text = renderText(message([item({ value: null, threshold: null, detail: 'HTTP 401' })]));
    expect(text).not.toContain('value');
    expect(text).toContain('HTTP 401');
  });

  it('cuts whole items and says how many are left out, within the byte limit', () => {
    const items = Array.from({ length: 500 }, (_, i) => item({ subject: `账号 "团队-${i}" 未授权` }));
    const m = message(items);
    for (const max of [2048, 4096, 20000]) {
      const md = renderMarkdown(m, 'wecom', { limit: { max, unit: 'bytes' } });
      expect(Buffer.byteLength(md)).toBeLessThanOrEqual(max);
      const more = /… and (\d+) more/.exec(md);
      expect(more).not.toBeNull();
      const shown = md.split('\n').filter((l) => l.startsWith('- ')).length;
      expect(shown + Number(more![1])).toBe(500);
      // The footer survives the cut.
      expect(md).toContain('relay-2');
    }
  });

  it('escapes alert text for HTML and for Telegram and Slack', () => {
    const m = message([item({ subject: '<script>alert(1)</script> & co' })]);
    const html = renderHtml(m);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; co');
    expect(html).not.toContain('<script>');
    expect(renderMarkdown(m, 'telegram')).toContain('&lt;script&gt;');
    expect(renderMarkdown(m, 'slack')).toContain('&lt;script&gt;');
  });

  it('measures characters as UTF-16 units', () => {
    expect(measure('🔥', 'chars')).toBe(2);
    expect(measure('账', 'bytes')).toBe(3);
  });
});
