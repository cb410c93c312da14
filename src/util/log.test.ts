import { describe, expect, it } from 'vitest';
import { createLogger } from './log.js';

describe('the logger', () => {
  const capture = (format: 'json' | 'pretty') => {
    const lines: string[] = [];
    return { lines, log: createLogger('info', { pid: 7 }, (l) => lines.push(l), format) };
  };

  it('writes one JSON object per line, below its level nothing', () => {
    const { lines, log } = capture('json');
    log.debug('hidden');
    log.info('request', { status: 200, durationMs: 1.5 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 'info', msg: 'request', pid: 7, status: 200 });
  });

  it('redacts fields that would carry a secret, whatever their case, in both formats', () => {
    for (const format of ['json', 'pretty'] as const) {
      const { lines, log } = capture(format);
      log.warn('oops', { apiKey: 'cr_secret1', Authorization: 'Bearer secret2', password: 'secret3', keyId: 'k_1' });
      expect(lines[0]).not.toMatch(/secret\d/);
      expect(lines[0]).toContain('[redacted]');
      expect(lines[0]).toContain('k_1');
    }
  });

  it('pretty: time, level and message first, then key=value pairs', () => {
    const { lines, log } = capture('pretty');
    log.info('request', { status: 200, model: 'claude-sonnet-4-5', note: 'two words', tokens: { in: 3 } });
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}request {2}pid=7 status=200 model=claude-sonnet-4-5 note="two words" tokens=\{"in":3\}$/,
    );
  });
});
