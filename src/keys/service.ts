import { randomBytes } from 'node:crypto';
import { newApiKeyId, type ApiKeyId } from '../ids.js';
import { createRecordCache, type Store } from '../store/index.js';
import { decodeFields, encodeFields, field } from '../store/codec.js';
import type { Clock } from '../util/clock.js';
import type { Secrets } from '../util/secrets.js';

export const KEY_PREFIX = 'cr_';
const KEY_PATTERN = /^cr_[0-9a-f]{64}$/;

/** A relay API key as stored. The secret itself is never stored, only its keyed hash. */
export interface ApiKeyRecord {
  id: ApiKeyId;
  name: string;
  description: string;
  active: boolean;
  createdAt: number;
  updatedAt: number;
  /** Epoch ms after which the key stops working; null = never. */
  expiresAt: number | null;
  lastUsedAt: number | null;
  /** HMAC of the secret (the lookup key). */
  hash: string;
  /** `cr_1a2b…9z8y`, enough to recognise a key in a list. */
  preview: string;
}

export type ApiKeyInput = Partial<Pick<ApiKeyRecord, 'name' | 'description' | 'active' | 'expiresAt'>>;

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'disabled' | 'expired';
export type AuthResult = { ok: true; key: ApiKeyRecord } | { ok: false; reason: AuthFailure; key?: ApiKeyRecord };

export interface ApiKeyService {
  create(input: ApiKeyInput & { name: string }): Promise<{ record: ApiKeyRecord; plaintext: string }>;
  get(id: ApiKeyId): Promise<ApiKeyRecord | null>;
  list(): Promise<ApiKeyRecord[]>;
  update(id: ApiKeyId, patch: ApiKeyInput): Promise<ApiKeyRecord | null>;
  remove(id: ApiKeyId): Promise<boolean>;
  /** Checks a presented secret: format, hash lookup (cached), active, expiry. */
  authenticate(secret: string | undefined): Promise<AuthResult>;
}

function fromHash(raw: Record<string, string>): ApiKeyRecord | null {
  if (!raw.id) return null;
  const r = decodeFields(raw);
  return {
    id: field.str(r, 'id') as ApiKeyId,
    name: field.str(r, 'name'),
    description: field.str(r, 'description'),
    active: field.bool(r, 'active', true),
    createdAt: field.num(r, 'createdAt'),
    updatedAt: field.num(r, 'updatedAt'),
    expiresAt: field.numOrNull(r, 'expiresAt'),
    lastUsedAt: field.numOrNull(r, 'lastUsedAt'),
    hash: field.str(r, 'hash'),
    preview: field.str(r, 'preview'),
  };
}

export function createApiKeyService(deps: { store: Store; secrets: Secrets; clock: Clock; cacheTtlMs: number }): ApiKeyService {
  const { store, secrets, clock } = deps;
  const { redis, keys, bus } = store;

  const load = async (id: ApiKeyId) => fromHash(await redis.hgetall(keys.apiKey(id)));

  // Keyed by the secret's hash: the hot path has the hash, not the id.
  const byHash = createRecordCache<ApiKeyRecord>({
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

  return {
    async create(input) {
      const plaintext = KEY_PREFIX + randomBytes(32).toString('hex');
      const now = clock.now();
      const record: ApiKeyRecord = {
        id: newApiKeyId(),
        name: input.name,
        description: input.description ?? '',
        active: input.active ?? true,
        createdAt: now,
        updatedAt: now,
        expiresAt: input.expiresAt ?? null,
        lastUsedAt: null,
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
      await redis.zrem(keys.apiKeyIndex(), id);
      await redis.del(keys.apiKey(id));
      await bus.publish('apikey', current.hash);
      return true;
    },

    async authenticate(secret) {
      if (!secret) return { ok: false, reason: 'missing' };
      if (!KEY_PATTERN.test(secret)) return { ok: false, reason: 'malformed' };
      const key = await byHash.get(secrets.hashApiKey(secret));
      if (!key) return { ok: false, reason: 'unknown' };
      if (!key.active) return { ok: false, reason: 'disabled', key };
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
