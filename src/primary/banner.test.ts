import { describe, expect, it } from 'vitest';
import { isLoopback, readyBanner } from './banner.js';

describe('the start banner', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
  ])('%s is loopback: %s', (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });

  it('says where to reach the relay and its admin API, and what to do next', () => {
    const text = readyBanner({ host: '0.0.0.0', port: 3000, workers: 2, redis: 'embedded', dataDir: '/srv/crs/data' });
    expect(text).toContain(
      'Relay ready on every address of this machine, port 3000 (2 workers, embedded Redis in /srv/crs/data).',
    );
    expect(text).toContain('Admin API: http://127.0.0.1:3000/admin');
    expect(text).toContain('http://127.0.0.1:3000/api (Anthropic)');
    expect(text).toMatch(/Next: +log in, add an upstream account \(POST \/admin\/accounts\), create a relay key/);
    expect(text).toContain('Stop:');
  });

  it('names a specific address as it is bound', () => {
    expect(readyBanner({ host: '10.0.0.5', port: 8080, workers: 1, redis: 'cluster', dataDir: 'd' })).toContain(
      'Relay ready on 10.0.0.5:8080 (1 worker, cluster Redis).',
    );
  });
});
