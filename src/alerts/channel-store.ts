import { randomBytes } from 'node:crypto';
import type { Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';
import type { Secrets } from '../util/secrets.js';
import { driverFor } from './channels/index.js';
import {
  CHANNEL_TYPES,
  ChannelError,
  SEVERITIES,
  SEVERITY_ALIASES,
  type ChannelConfig,
  type ChannelType,
  type Severity,
} from './types.js';

/**
 * Channels in Redis: plain settings as they are, secrets encrypted as one blob (AES-GCM under
 * ENCRYPTION_KEY). The API writes secrets and never reads them back: views carry only which
 * secrets are set.
 */
export interface ChannelStore {
  list(): Promise<ChannelConfig[]>;
  get(id: string): Promise<ChannelConfig | null>;
  create(input: ChannelInput & { type: ChannelType; name: string }): Promise<ChannelConfig>;
  update(id: string, patch: ChannelInput): Promise<ChannelConfig | null>;
  remove(id: string): Promise<boolean>;
}

export interface ChannelInput {
  name?: string;
  enabled?: boolean;
  minSeverity?: string;
  ratePerMinute?: number;
  settings?: Record<string, string>;
  /** Merged into the stored ones; an empty string removes one. */
  secrets?: Record<string, string>;
}

/** What the API shows of a channel: everything but the secrets' values. */
export type ChannelView = Omit<ChannelConfig, 'secrets'> & { secretsSet: string[] };

export const channelView = ({ secrets, ...rest }: ChannelConfig): ChannelView => ({
  ...rest,
  secretsSet: Object.keys(secrets).sort(),
});

/** The console channel: the inbox the admin API (and the panel) read. Always there, never stored. */
export const CONSOLE_CHANNEL: ChannelConfig = Object.freeze({
  id: 'console',
  type: 'console',
  name: 'Console inbox',
  enabled: true,
  minSeverity: 'P3',
  ratePerMinute: 0,
  settings: {},
  secrets: {},
  createdAt: 0,
  updatedAt: 0,
}) as ChannelConfig;

const withoutEmpty = (m: Readonly<Record<string, string>>) =>
  Object.fromEntries(Object.entries(m).filter(([, v]) => v !== ''));

function severityOf(raw: string): Severity {
  const s = SEVERITY_ALIASES[raw.toLowerCase()] ?? raw.toUpperCase();
  if (!(SEVERITIES as readonly string[]).includes(s)) {
    throw new ChannelError(`minSeverity: expected P0–P3 or critical/warning/info, got "${raw}"`, false);
  }
  return s as Severity;
}

/** Checks a channel against its type's fields; throws ChannelError (not retryable) naming what is wrong. */
export function validateChannel(c: ChannelConfig): void {
  if (!(CHANNEL_TYPES as readonly string[]).includes(c.type)) {
    throw new ChannelError(`type: expected one of ${CHANNEL_TYPES.join(', ')}`, false);
  }
  if (c.type === 'console') throw new ChannelError('the console channel is built in', false);
  const driver = driverFor(c.type);
  if (!driver) throw new ChannelError(`type ${c.type} cannot be configured`, false);
  const known = new Set(driver.fields.map((f) => f.name));
  for (const [where, values] of [
    ['settings', c.settings],
    ['secrets', c.secrets],
  ] as const) {
    for (const name of Object.keys(values)) {
      const field = driver.fields.find((f) => f.name === name);
      if (!known.has(name)) throw new ChannelError(`${where}.${name}: ${c.type} has no such field`, false);
      if (field && field.secret !== (where === 'secrets')) {
        throw new ChannelError(`${name} belongs in ${field.secret ? 'secrets' : 'settings'}`, false);
      }
    }
  }
  for (const f of driver.fields) {
    const v = f.secret ? c.secrets[f.name] : c.settings[f.name];
    if (f.required && !v) throw new ChannelError(`${f.secret ? 'secrets' : 'settings'}.${f.name} is required`, false);
  }
  driver.validate?.(c);
}

export function createChannelStore(deps: { store: Store; secrets: Secrets; clock: Clock }): ChannelStore {
  const { store, secrets, clock } = deps;
  const key = store.keys.alertChannels();

  const decode = (raw: string): ChannelConfig => {
    const stored = JSON.parse(raw) as Omit<ChannelConfig, 'secrets'> & { secrets: string };
    let plain: Record<string, string> = {};
    try {
      plain = stored.secrets ? (JSON.parse(secrets.decrypt(stored.secrets)) as Record<string, string>) : {};
    } catch {
      // encrypted under another ENCRYPTION_KEY: the channel cannot send until its secrets are set again
    }
    return { ...stored, secrets: plain };
  };
  const encode = (c: ChannelConfig) =>
    JSON.stringify({ ...c, secrets: Object.keys(c.secrets).length ? secrets.encrypt(JSON.stringify(c.secrets)) : '' });

  const get = async (id: string) => {
    const raw = await store.redis.hget(key, id);
    return raw ? decode(raw) : null;
  };
  const save = async (c: ChannelConfig) => {
    validateChannel(c);
    await store.redis.hset(key, c.id, encode(c));
    return c;
  };
  const merged = (current: ChannelConfig, input: ChannelInput): ChannelConfig => ({
    ...current,
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
    ...(input.minSeverity !== undefined ? { minSeverity: severityOf(input.minSeverity) } : {}),
    ...(input.ratePerMinute !== undefined ? { ratePerMinute: input.ratePerMinute } : {}),
    settings: input.settings ? withoutEmpty({ ...current.settings, ...input.settings }) : current.settings,
    secrets: input.secrets ? withoutEmpty({ ...current.secrets, ...input.secrets }) : current.secrets,
    updatedAt: clock.now(),
  });

  return {
    async list() {
      const all = Object.values(await store.redis.hgetall(key)).map(decode);
      return all.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    },
    get: async (id) => (id === CONSOLE_CHANNEL.id ? CONSOLE_CHANNEL : get(id)),
    async create(input) {
      const now = clock.now();
      const blank: ChannelConfig = {
        id: `ch_${randomBytes(8).toString('hex')}`,
        type: input.type,
        name: input.name,
        enabled: true,
        minSeverity: 'P3',
        ratePerMinute: 0,
        settings: {},
        secrets: {},
        createdAt: now,
        updatedAt: now,
      };
      return save(merged(blank, input));
    },
    async update(id, patch) {
      const current = await get(id);
      return current ? save(merged(current, patch)) : null;
    },
    async remove(id) {
      return (await store.redis.hdel(key, id)) > 0;
    },
  };
}
