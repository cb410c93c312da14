import { describe, expect, it } from 'vitest';
import { ConfigError, parseBoolean, parseDuration, parseHostList, parseInteger, parseSize } from './parse.js';

describe('parseSize', () => {
  it.each([
    ['32mb', 32 * 1024 ** 2],
    ['512kb', 512 * 1024],
    ['512KB', 512 * 1024],
    ['1gb', 1024 ** 3],
    ['1.5mb', 1.5 * 1024 ** 2],
    ['2048', 2048],
    ['4096b', 4096],
    ['8 kb', 8 * 1024],
  ])('%s = %d bytes', (raw, bytes) => {
    expect(parseSize('X', raw)).toBe(bytes);
  });

  it.each(['lots', '', 'mb', '-1mb', '1tb', '1000', '0.5kb'])('rejects %j', (raw) => {
    expect(() => parseSize('BODY_LIMIT', raw)).toThrow(ConfigError);
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['10m', 600_000],
    ['24h', 86_400_000],
    ['2d', 172_800_000],
    ['0', 0],
    ['10M', 600_000],
  ])('%s = %d ms', (raw, ms) => {
    expect(parseDuration('X', raw)).toBe(ms);
  });

  it.each(['5 minutes', '', 's', '1w', '-1s', '10 sec'])('rejects %j', (raw) => {
    expect(() => parseDuration('DRAIN_TIMEOUT', raw)).toThrow(ConfigError);
  });

  it.each(['30', '1500', '0.5'])('refuses the bare number %j, naming the units', (raw) => {
    expect(() => parseDuration('DRAIN_TIMEOUT', raw)).toThrow(
      /DRAIN_TIMEOUT: a duration needs a unit \(ms, s, m, h or d\)/,
    );
  });

  it('enforces the minimum', () => {
    expect(() => parseDuration('X', '999ms', 1000)).toThrow(/at least 1000ms/);
    expect(parseDuration('X', '1s', 1000)).toBe(1000);
  });
});

describe('parseInteger and parseBoolean', () => {
  it.each([
    ['0', 0],
    ['65535', 65535],
    ['007', 7],
  ])('parseInteger(%s) = %d', (raw, n) => {
    expect(parseInteger('PORT', raw, 0, 65535)).toBe(n);
  });

  it.each(['65536', '-1', '1.0', '1e3', '0x10', 'abc', ''])('parseInteger rejects %j', (raw) => {
    expect(() => parseInteger('PORT', raw, 0, 65535)).toThrow(ConfigError);
  });

  it.each([
    ['true', true],
    ['ON', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['Off', false],
    ['0', false],
    ['no', false],
  ])('parseBoolean(%s) = %s', (raw, b) => {
    expect(parseBoolean('TRUST_PROXY', raw)).toBe(b);
  });

  it.each(['maybe', '', '2', 'enabled'])('parseBoolean rejects %j', (raw) => {
    expect(() => parseBoolean('TRUST_PROXY', raw)).toThrow(ConfigError);
  });
});

describe('parseHostList', () => {
  it.each([
    ['10.0.0.1:7000', [{ host: '10.0.0.1', port: 7000 }]],
    [
      'a:1,b:2',
      [
        { host: 'a', port: 1 },
        { host: 'b', port: 2 },
      ],
    ],
    [
      ' a:1 , , b:2 ',
      [
        { host: 'a', port: 1 },
        { host: 'b', port: 2 },
      ],
    ],
    ['[::1]:7000', [{ host: '::1', port: 7000 }]],
    [
      '[2001:db8::7]:6379,redis.local:6380',
      [
        { host: '2001:db8::7', port: 6379 },
        { host: 'redis.local', port: 6380 },
      ],
    ],
  ])('%s', (raw, nodes) => {
    expect(parseHostList('REDIS_CLUSTER_NODES', raw)).toEqual(nodes);
  });

  it.each(['', ',', 'host', 'host:', ':7000', '[::1]', 'a:1,b', 'a:99999', 'a:0'])('rejects %j', (raw) => {
    expect(() => parseHostList('REDIS_CLUSTER_NODES', raw)).toThrow(ConfigError);
  });
});
