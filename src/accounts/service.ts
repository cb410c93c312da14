import { newAccountId, type AccountId } from '../ids.js';
import { createSnapshot, type CacheStats, type Store } from '../store/index.js';
import { decodeFields, encodeFields, field } from '../store/codec.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { Secrets } from '../util/secrets.js';

/** The upstream platforms the product knows. Providers register under these names. */
export const PLATFORMS = ['claude', 'gemini', 'openai', 'azure', 'bedrock'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** Credentials are a flat map of strings (API key, tokens…); encrypted as one blob at rest. */
export type Credentials = Readonly<Record<string, string>>;

/** An upstream account as the relay uses it, credentials decrypted (never serialised out). */
export interface Account {
  id: AccountId;
  platform: Platform;
  /** How it authenticates upstream: `api-key`, `oauth`, … (per platform). */
  type: string;
  name: string;
  description: string;
  baseUrl: string;
  /** 1..100, lower is preferred (as in the project we replace, so imports keep their meaning). */
  priority: number;
  active: boolean;
  schedulable: boolean;
  /** In the shared pool of its platform; false = reachable only through a key's binding or a group. */
  shared: boolean;
  /** Used only when no other candidate is routable. */
  backup: boolean;
  /** Weight for weighted round robin (1..1000). */
  weight: number;
  /** Most requests in flight at once across all nodes; 0 = unlimited. */
  maxConcurrency: number;
  /** Allow list of models (globs); empty = every model of the platform. */
  models: string[];
  /** Requested model → upstream model. */
  modelMapping: Record<string, string>;
  /** The subscription behind the account ends here (epoch ms); null = no end. */
  subscriptionExpiresAt: number | null;
  /** Probed when idle or suspect (src/probes/); false = never probed, so never disabled or re-enabled by probes. */
  probe: boolean;
  /** Time between two of its probes; null = PROBE_INTERVAL. */
  probeIntervalMs: number | null;
  /** Settings of the account's type that are not secret (region, API version, project…). */
  options: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
  credentials: Credentials;
}

/** What the admin API shows: everything but the secrets. */
export type AccountView = Omit<Account, 'credentials'> & {
  credentialHints: Record<string, string>;
  proxy: string | null;
};

/** The fields an admin sets. */
export const ACCOUNT_SETTINGS = [
  'name',
  'description',
  'baseUrl',
  'priority',
  'active',
  'schedulable',
  'shared',
  'backup',
  'weight',
  'maxConcurrency',
  'models',
  'modelMapping',
  'subscriptionExpiresAt',
  'probe',
  'probeIntervalMs',
] as const;

/** Credentials and options are merged on update; an empty string removes a field. */
export type AccountInput = Partial<Pick<Account, (typeof ACCOUNT_SETTINGS)[number]>> & {
  credentials?: Credentials;
  options?: Record<string, string>;
};

export interface AccountService {
  create(
    input: AccountInput & { platform: Platform; type: string; name: string; baseUrl: string; credentials: Credentials },
  ): Promise<Account>;
  get(id: AccountId): Promise<Account | null>;
  list(): Promise<Account[]>;
  update(id: AccountId, patch: AccountInput): Promise<Account | null>;
  remove(id: AccountId): Promise<boolean>;
  /** Cached snapshot of every account, for the scheduler's hot path. */
  snapshot(): Promise<readonly Account[]>;
  /** Hits and misses of that snapshot. */
  readonly cacheStats: CacheStats;
}

const withoutEmpty = (m: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(m).filter(([, v]) => v !== ''));

export function toView(a: Account): AccountView {
  const { credentials, ...rest } = a;
  const credentialHints: Record<string, string> = {};
  for (const [k, v] of Object.entries(credentials)) if (k !== 'proxy') credentialHints[k] = maskSecret(v);
  return { ...rest, credentialHints, proxy: credentials.proxy ? maskProxy(credentials.proxy) : null };
}

/** `socks5://user:secret@host:1080` → `socks5://user:***@host:1080`. */
export function maskProxy(proxy: string): string {
  try {
    const url = new URL(proxy);
    return `${url.protocol}//${url.username ? `${decodeURIComponent(url.username)}:***@` : ''}${url.host}`;
  } catch {
    return '…';
  }
}

/** `sk-ant-api03-…wxyz` → `…wxyz`: enough to tell two keys apart, useless to steal. */
export function maskSecret(secret: string): string {
  if (secret.length < 16) return '…';
  return `…${secret.slice(-4)}`;
}

export function createAccountService(deps: {
  store: Store;
  secrets: Secrets;
  clock: Clock;
  log: Logger;
  cacheTtlMs: number;
}): AccountService {
  const { store, secrets, clock, log } = deps;
  const { redis, keys, bus } = store;
  const cacheStats: CacheStats = { hits: 0, misses: 0 };

  const decode = (raw: Record<string, string>): Account | null => {
    if (!raw.id) return null;
    const r = decodeFields(raw);
    let credentials: Credentials = {};
    const blob = field.str(r, 'credentials');
    if (blob) {
      try {
        credentials = JSON.parse(secrets.decrypt(blob)) as Credentials;
      } catch (err) {
        log.error('account credentials cannot be decrypted (was ENCRYPTION_KEY changed?)', { accountId: raw.id, err });
      }
    }
    return {
      id: field.str(r, 'id') as AccountId,
      platform: field.str(r, 'platform') as Platform,
      type: field.str(r, 'type'),
      name: field.str(r, 'name'),
      description: field.str(r, 'description'),
      baseUrl: field.str(r, 'baseUrl'),
      priority: field.num(r, 'priority', 50),
      active: field.bool(r, 'active', true),
      schedulable: field.bool(r, 'schedulable', true),
      shared: field.bool(r, 'shared', true),
      backup: field.bool(r, 'backup', false),
      weight: field.num(r, 'weight', 1),
      maxConcurrency: field.num(r, 'maxConcurrency', 0),
      models: field.strList(r, 'models'),
      modelMapping: field.strMap(r, 'modelMapping'),
      subscriptionExpiresAt: field.numOrNull(r, 'subscriptionExpiresAt'),
      probe: field.bool(r, 'probe', true),
      probeIntervalMs: field.numOrNull(r, 'probeIntervalMs'),
      options: field.strMap(r, 'options'),
      createdAt: field.num(r, 'createdAt'),
      updatedAt: field.num(r, 'updatedAt'),
      lastUsedAt: field.numOrNull(r, 'lastUsedAt'),
      credentials,
    };
  };

  const encode = (a: Account) => encodeFields({ ...a, credentials: secrets.encrypt(JSON.stringify(a.credentials)) });
  const load = async (id: AccountId) => decode(await redis.hgetall(keys.account(id)));

  const list = async (): Promise<Account[]> => {
    const ids = await redis.smembers(keys.accountIndex());
    const all = await Promise.all(ids.sort().map((id) => load(id as AccountId)));
    return all.filter((a): a is Account => a !== null);
  };

  return {
    async create(input) {
      const now = clock.now();
      const account: Account = {
        id: newAccountId(),
        platform: input.platform,
        type: input.type,
        name: input.name,
        description: input.description ?? '',
        baseUrl: input.baseUrl,
        priority: input.priority ?? 50,
        active: input.active ?? true,
        schedulable: input.schedulable ?? true,
        shared: input.shared ?? true,
        backup: input.backup ?? false,
        weight: input.weight ?? 1,
        maxConcurrency: input.maxConcurrency ?? 0,
        models: input.models ?? [],
        modelMapping: input.modelMapping ?? {},
        subscriptionExpiresAt: input.subscriptionExpiresAt ?? null,
        probe: input.probe ?? true,
        probeIntervalMs: input.probeIntervalMs ?? null,
        options: withoutEmpty(input.options ?? {}),
        createdAt: now,
        updatedAt: now,
        lastUsedAt: null,
        credentials: withoutEmpty(input.credentials),
      };
      await redis.hset(keys.account(account.id), encode(account));
      await redis.sadd(keys.accountIndex(), account.id);
      await bus.publish('account', account.id);
      return account;
    },
    get: load,
    list,
    async update(id, patch) {
      const current = await load(id);
      if (!current) return null;
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as AccountInput;
      const next: Account = {
        ...current,
        ...defined,
        credentials: defined.credentials
          ? withoutEmpty({ ...current.credentials, ...defined.credentials })
          : current.credentials,
        options: defined.options ? withoutEmpty({ ...current.options, ...defined.options }) : current.options,
        updatedAt: clock.now(),
      };
      await redis.hset(keys.account(id), encode(next));
      await bus.publish('account', id);
      return next;
    },
    async remove(id) {
      const [name, platform] = await redis.hmget(keys.account(id), 'name', 'platform');
      // Its usage buckets stay; reports still count what went through it (src/reports/subjects.ts).
      if (platform) {
        const r = decodeFields({ name: name ?? '""', platform });
        const retired = { name: field.str(r, 'name'), platform: field.str(r, 'platform'), deletedAt: clock.now() };
        await redis.hset(keys.accountRetired(), id, JSON.stringify(retired));
      }
      const removed = await redis.srem(keys.accountIndex(), id);
      await redis.del(keys.account(id));
      await bus.publish('account', id);
      return removed > 0;
    },
    snapshot: createSnapshot({
      bus,
      kind: 'account',
      ttlMs: deps.cacheTtlMs,
      now: () => clock.now(),
      load: list,
      stats: cacheStats,
    }),
    cacheStats,
  };
}
