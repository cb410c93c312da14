import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { clientAddressResolver } from './client-address.js';

const defaults = loadConfig({});
const behindNginx = clientAddressResolver(true, defaults.trustedProxies);

describe('the client address', () => {
  it('is the socket peer when proxies are not trusted, whatever X-Forwarded-For says', () => {
    const direct = clientAddressResolver(false, defaults.trustedProxies);
    expect(direct('203.0.113.7', '198.51.100.1')).toBe('203.0.113.7');
    expect(direct('127.0.0.1', '198.51.100.1')).toBe('127.0.0.1');
  });

  it.each([
    ['nginx appended the client', '127.0.0.1', '203.0.113.7', '203.0.113.7'],
    ['a forged entry on the left is ignored', '127.0.0.1', '198.51.100.99, 203.0.113.7', '203.0.113.7'],
    ['many forged entries are ignored', '127.0.0.1', '1.1.1.1, 2.2.2.2, 3.3.3.3, 203.0.113.7', '203.0.113.7'],
    ['a chain of trusted proxies is walked through', '127.0.0.1', '203.0.113.7, 127.0.0.2, ::1', '203.0.113.7'],
    ['garbage a proxy would never write stops the walk', '127.0.0.1', '203.0.113.7, not-an-ip', '127.0.0.1'],
    ['IPv4-mapped IPv6 peers count as IPv4', '::ffff:127.0.0.1', '203.0.113.7', '203.0.113.7'],
    ['ports are dropped', '127.0.0.1', '203.0.113.7:51234', '203.0.113.7'],
    ['IPv6 clients', '::1', '[2001:db8::7]:443', '2001:db8::7'],
    ['only trusted hops: the leftmost', '127.0.0.1', '127.0.0.9', '127.0.0.9'],
  ])('%s', (_what, peer, xff, expected) => {
    expect(behindNginx(peer, xff)).toBe(expected);
  });

  it('is the peer when the peer is not a trusted proxy (a client talking to the relay directly)', () => {
    expect(behindNginx('203.0.113.50', '127.0.0.1')).toBe('203.0.113.50');
    expect(behindNginx('203.0.113.50', '198.51.100.1')).toBe('203.0.113.50');
  });

  it('is the peer without an X-Forwarded-For header', () => {
    expect(behindNginx('127.0.0.1', undefined)).toBe('127.0.0.1');
  });

  it('follows TRUSTED_PROXIES: a proxy on another host', () => {
    const config = loadConfig({ TRUST_PROXY: 'true', TRUSTED_PROXIES: '10.0.0.0/24' });
    const resolve = clientAddressResolver(config.trustProxy, config.trustedProxies);
    expect(resolve('10.0.0.5', '203.0.113.7')).toBe('203.0.113.7');
    // loopback is no longer trusted once the list names others
    expect(resolve('127.0.0.1', '203.0.113.7')).toBe('127.0.0.1');
  });
});
