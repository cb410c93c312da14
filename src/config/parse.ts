import { isIP } from 'node:net';

/**
 * Parsers for configuration values. Each throws a ConfigError naming the variable, so a bad value
 * stops the boot with a message the operator can act on instead of silently becoming a default.
 */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

export function parseInteger(name: string, raw: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `expected an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function parseBoolean(name: string, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** "32mb", "512kb", "1048576" → bytes. */
export function parseSize(name: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(raw.trim());
  if (!m) throw new ConfigError(name, `expected a size such as 32mb or 512kb, got "${raw}"`);
  const bytes = Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] ?? 'b').toLowerCase()] ?? 1));
  if (bytes < 1024) throw new ConfigError(name, `must be at least 1kb, got "${raw}"`);
  return bytes;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * "30s", "10m", "24h", "250ms" → milliseconds. A bare number is refused (but 0): `DRAIN_TIMEOUT=30`
 * could mean 30 ms or 30 s, and guessing wrong silently is worse than stopping the boot.
 */
export function parseDuration(name: string, raw: string, minMs = 0): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(raw.trim());
  if (!m) throw new ConfigError(name, `expected a duration such as 30s, 10m or 24h, got "${raw}"`);
  const unit = m[2]?.toLowerCase();
  if (unit === undefined && Number(m[1]) !== 0) {
    throw new ConfigError(
      name,
      `a duration needs a unit (ms, s, m, h or d): write ${m[1]}s or ${m[1]}ms, not "${raw}"`,
    );
  }
  const ms = Math.round(Number(m[1]) * (DURATION_UNITS[unit ?? 'ms'] ?? 1));
  if (ms < minMs) throw new ConfigError(name, `must be at least ${minMs}ms, got "${raw}"`);
  return ms;
}

export function parseEnum<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  const v = raw.trim().toLowerCase() as T;
  if (!allowed.includes(v)) throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`);
  return v;
}

export interface HostPort {
  host: string;
  port: number;
}

/** "10.0.0.1:7000,10.0.0.2:7000" → [{host, port}, ...] */
export function parseHostList(name: string, raw: string): HostPort[] {
  const nodes = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^(.+):(\d+)$/.exec(entry);
      if (!m?.[1] || !m[2]) throw new ConfigError(name, `expected host:port entries, got "${entry}"`);
      return { host: m[1].replace(/^\[|\]$/g, ''), port: parseInteger(name, m[2], 1, 65535) };
    });
  if (nodes.length === 0) throw new ConfigError(name, 'needs at least one host:port');
  return nodes;
}

export function parseTimezone(name: string, raw: string): string {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: raw });
  } catch {
    throw new ConfigError(name, `unknown IANA time zone "${raw}"`);
  }
  return raw;
}

/** An address or a CIDR block (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`). */
export interface Subnet {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** "127.0.0.0/8,::1,10.1.2.3" → subnets; a bare address is a block of one. */
export function parseSubnets(name: string, raw: string): Subnet[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [address = '', bits] = entry.split('/');
      const version = isIP(address);
      if (version === 0) throw new ConfigError(name, `expected IP addresses or CIDR blocks, got "${entry}"`);
      const max = version === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : parseInteger(name, bits, 0, max);
      return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
    });
}
