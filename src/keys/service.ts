import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { newApiKeyId, type ApiKeyId } from '../ids.js';
import { createRecordCache, type CacheStats, type Store } from '../store/index.js';
import { decodeFields, encodeFields, field } from '../store/codec.js';
import type { Clock } from '../util/clock.js';
import type { Secrets } from '../util/secrets.js';

export const KEY_PREFIX = 'cr_';
const KEY_PATTERN = /^cr_[0-9a-f]{64}$/;

/**
 * Everything an admin sets on a key. Limits of 0 mean "no limit". Allow lists (permissions,
 * modelAllow, allowedClients) are null for "any"; a list names the only ones allowed, and is never
 * empty (the admin API refuses `[]`, which would refuse every request).
 */
export interface KeySettings {
  name: string;
  description: string;
  active: boolean;
  /** Epoch ms after which the key stops working; null = never (with `fixed` expiry). */
  expiresAt: number | null;
  /** `after-first-use`: the key expires `activationDays` after its first request. */
  expiryMode: 'fixed' | 'after-first-use';
  activationDays: number;
  /** Platforms the key may use (claude, gemini, openai, azure, bedrock); null = all. */
  permissions: string[] | null;
  /** Model globs the key may use (null = any) and may not use (empty = none denied). */
  modelAllow: string[] | null;
  modelDeny: string[];
  /** Clients the key may be used from (claude-code, gemini-cli, codex-cli); null = any. */
  allowedClients: string[] | null;
  /** Dedicated accounts, tried first. */
  accountIds: string[];
  /** Groups, tried after the dedicated accounts. */
  groupIds: string[];
  /** With bindings: may fall back to the shared pool when every bound account is unavailable. */
  poolFallback: boolean;
  concurrencyLimit: number;
  /** When the concurrency limit is reached, wait up to this long for a slot (0 = refuse at once). */
  concurrencyWaitSeconds: number;
  rateWindowMinutes: number;
  rateLimitRequests: number;
  /** All tokens (input, output, cache writes and reads) per window. */
  rateLimitTokens: number;
  /** USD per window. */
  rateLimitCost: number;
  /** USD per day (STATS_TIMEZONE), per week (from Monday), in total. */
  dailyCostLimit: number;
  weeklyCostLimit: number;
  /** Count only this model family (e.g. `opus`) toward the weekly limit, and gate only its requests. */
  weeklyCostFamily: string;
  totalCostLimit: number;
}

export const KEY_SETTING_DEFAULTS: KeySettings = Object.freeze({
  name: '',
  description: '',
  active: true,
  expiresAt: null,
  expiryMode: 'fixed',
  activationDays: 0,
  permissions: null,
  modelAllow: null,
  modelDeny: [],
  allowedClients: null,
  accountIds: [],
  groupIds: [],
  poolFallback: false,
  concurrencyLimit: 0,
  concurrencyWaitSeconds: 0,
  rateWindowMinutes: 0,
  rateLimitRequests: 0,
  rateLimitTokens: 0,
  rateLimitCost: 0,
  dailyCostLimit: 0,
  weeklyCostLimit: 0,
  weeklyCostFamily: '',
  totalCostLimit: 0,
}) as KeySettings;

/** A relay API key as stored. The secret itself is never stored, only its keyed hash. */
export interface ApiKeyRecord extends KeySettings {
  id: ApiKeyId;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
  /** First use, for `after-first-use` expiry. */
  activatedAt: number | null;
  /** HMAC of the secret (the lookup key). */
  hash: string;
  /** `cr_1a2b…9z8y`, enough to recognise a key in a list. */
  preview: string;
}

export type ApiKeyInput = Partial<KeySettings>;

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'disabled' | 'expired';
export type AuthResult = { ok: true; key: ApiKeyRecord } | { ok: false; reason: AuthFailure; key?: ApiKeyRecord };

export interface ApiKeyService {
  /** Hits and misses of the key cache the hot path reads through. */
  readonly cacheStats: CacheStats;
  create(input: ApiKeyInput & { name: string }): Promise<{ record: ApiKeyRecord; plaintext: string }>;
  get(id: ApiKeyId): Promise<ApiKeyRecord | null>;
  list(): Promise<ApiKeyRecord[]>;
  update(id: ApiKeyId, patch: ApiKeyInput): Promise<ApiKeyRecord | null>;
  remove(id: ApiKeyId): Promise<boolean>;
  /** Checks a presented secret: format, hash lookup (cached), active, expiry. */
  authenticate(secret: string | undefined): Promise<AuthResult>;
}

/** Sets activatedAt and expiresAt unless the key was activated already (fields are JSON: 'null' is unset). */
const ACTIVATE = `
local cur = redis.call('HGET', KEYS[1], 'activatedAt')
if cur and cur ~= 'null' then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'activatedAt', ARGV[1], 'expiresAt', ARGV[2])
return 1
`;

/** An allow list as stored: null for "any" (keys written before lists could be null stored `[]` for it). */
function allowList(r: Record<string, unknown>, name: string): string[] | null {
  const list = field.strList(r, name);
  return list.length > 0 ? list : null;
}

function fromHash(raw: Record<string, string>): ApiKeyRecord | null {
  if (!raw.id) return null;
  const r = decodeFields(raw);
  const d = KEY_SETTING_DEFAULTS;
  return {
    id: field.str(r, 'id') as ApiKeyId,
    name: field.str(r, 'name'),
    description: field.str(r, 'description'),
    active: field.bool(r, 'active', true),
    expiresAt: field.numOrNull(r, 'expiresAt'),
    expiryMode: field.str(r, 'expiryMode') === 'after-first-use' ? 'after-first-use' : 'fixed',
    activationDays: field.num(r, 'activationDays', d.activationDays),
    permissions: allowList(r, 'permissions'),
    modelAllow: allowList(r, 'modelAllow'),
    modelDeny: field.strList(r, 'modelDeny'),
    allowedClients: allowList(r, 'allowedClients'),
    accountIds: field.strList(r, 'accountIds'),
    groupIds: field.strList(r, 'groupIds'),
    poolFallback: field.bool(r, 'poolFallback', d.poolFallback),
    concurrencyLimit: field.num(r, 'concurrencyLimit', 0),
    concurrencyWaitSeconds: field.num(r, 'concurrencyWaitSeconds', 0),
    rateWindowMinutes: field.num(r, 'rateWindowMinutes', 0),
    rateLimitRequests: field.num(r, 'rateLimitRequests', 0),
    rateLimitTokens: field.num(r, 'rateLimitTokens', 0),
    rateLimitCost: field.num(r, 'rateLimitCost', 0),
    dailyCostLimit: field.num(r, 'dailyCostLimit', 0),
    weeklyCostLimit: field.num(r, 'weeklyCostLimit', 0),
    weeklyCostFamily: field.str(r, 'weeklyCostFamily'),
    totalCostLimit: field.num(r, 'totalCostLimit', 0),
    createdAt: field.num(r, 'createdAt'),
    updatedAt: field.num(r, 'updatedAt'),
    lastUsedAt: field.numOrNull(r, 'lastUsedAt'),
    activatedAt: field.numOrNull(r, 'activatedAt'),
    hash: field.str(r, 'hash'),
    preview: field.str(r, 'preview'),
  };
}

export function createApiKeyService(deps: {
  store: Store;
  secrets: Secrets;
  clock: Clock;
  cacheTtlMs: number;
}): ApiKeyService {
  const { store, secrets, clock } = deps;
  const { redis, keys, bus } = store;
  redis.defineCommand('crsActivateKey', { numberOfKeys: 1, lua: ACTIVATE });
  const activation = redis as unknown as {
    crsActivateKey(key: string, activatedAt: string, expiresAt: string): Promise<number>;
  };

  const load = async (id: ApiKeyId) => fromHash(await redis.hgetall(keys.apiKey(id)));

  // The HMAC of a presented key, remembered for the keys this worker sees (bounded).
  const hashes = new LRUCache<string, string>({ max: 20_000 });
  const hashOf = (secret: string) => {
    let h = hashes.get(secret);
    if (h === undefined) {
      h = secrets.hashApiKey(secret);
      hashes.set(secret, h);
    }
    return h;
  };

  // Keyed by the secret's hash: the hot path has the hash, not the id.
  const cacheStats: CacheStats = { hits: 0, misses: 0 };
  const byHash = createRecordCache<ApiKeyRecord>({
    stats: cacheStats,
    max: 50_000,
    ttlMs: deps.cacheTtlMs,
    missTtlMs: 5_000,
    async load(hash) {
      const id = await redis.hget(keys.apiKeyHashMap(), hash);
      return id ? load(id as ApiKeyId) : null;
    },
  });
  bus.on('apikey', (hash) => byHash.invalidate(hash));
  bus.onReset(() => byHash.clear());

  const save = async (record: ApiKeyRecord) => {
    await redis.hset(keys.apiKey(record.id), encodeFields(record));
    await bus.publish('apikey', record.hash);
  };

  /** First use of an `after-first-use` key: its lifetime starts now (once, across all nodes). */
  const activate = async (key: ApiKeyRecord): Promise<ApiKeyRecord> => {
    const now = clock.now();
    const expiresAt = now + key.activationDays * 86_400_000;
    const won = await activation.crsActivateKey(keys.apiKey(key.id), JSON.stringify(now), JSON.stringify(expiresAt));
    if (won === 1) {
      await bus.publish('apikey', key.hash);
      return { ...key, activatedAt: now, expiresAt };
    }
    return (await load(key.id)) ?? key;
  };

  return {
    cacheStats,
    async create(input) {
      const plaintext = KEY_PREFIX + randomBytes(32).toString('hex');
      const now = clock.now();
      const record: ApiKeyRecord = {
        ...KEY_SETTING_DEFAULTS,
        ...definedOnly(input),
        id: newApiKeyId(),
        createdAt: now,
        updatedAt: now,
        lastUsedAt: null,
        activatedAt: null,
        hash: secrets.hashApiKey(plaintext),
        preview: `${plaintext.slice(0, 7)}…${plaintext.slice(-4)}`,
      };
      await redis.hset(keys.apiKey(record.id), encodeFields(record));
      await redis.zadd(keys.apiKeyIndex(), now, record.id);
      await redis.hset(keys.apiKeyHashMap(), record.hash, record.id);
      await bus.publish('apikey', record.hash);
      return { record, plaintext };
    },

    get: load,

    async list() {
      const ids = await redis.zrange(keys.apiKeyIndex(), 0, -1);
      const records = await Promise.all(ids.map((id) => load(id as ApiKeyId)));
      return records.filter((r): r is ApiKeyRecord => r !== null);
    },

    async update(id, patch) {
      const current = await load(id);
      if (!current) return null;
      const next: ApiKeyRecord = { ...current, ...definedOnly(patch), updatedAt: clock.now() };
      await save(next);
      return next;
    },

    async remove(id) {
      const current = await load(id);
      if (!current) return false;
      await redis.hdel(keys.apiKeyHashMap(), current.hash);
      // Its usage buckets stay; reports still count what it spent.
      await redis.hset(keys.apiKeyRetired(), id, JSON.stringify({ name: current.name, deletedAt: clock.now() }));
      await redis.zrem(keys.apiKeyIndex(), id);
      await redis.del(keys.apiKey(id));
      await bus.publish('apikey', current.hash);
      return true;
    },

    async authenticate(secret) {
      if (!secret) return { ok: false, reason: 'missing' };
      if (!KEY_PATTERN.test(secret)) return { ok: false, reason: 'malformed' };
      let key = await byHash.get(hashOf(secret));
      if (!key) return { ok: false, reason: 'unknown' };
      if (!key.active) return { ok: false, reason: 'disabled', key };
      if (key.expiryMode === 'after-first-use' && key.activatedAt === null) key = await activate(key);
      if (key.expiresAt !== null && key.expiresAt <= clock.now()) return { ok: false, reason: 'expired', key };
      return { ok: true, key };
    },
  };
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Picks the relay key from `x-api-key` or `Authorization: Bearer` (Claude Code sends either). */
export function keyFromHeaders(headers: Readonly<Record<string, string>>): string | undefined {
  const direct = headers['x-api-key'];
  if (direct) return direct.trim();
  const auth = headers['authorization'];
  if (auth) {
    const m = /^bearer\s+(.+)$/i.exec(auth.trim());
    if (m?.[1]) return m[1].trim();
  }
  return undefined;
}
