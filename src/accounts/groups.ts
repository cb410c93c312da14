import { randomBytes } from 'node:crypto';
import type { AccountId } from '../ids.js';
import { createSnapshot, type Store } from '../store/index.js';
import { decodeFields, encodeFields, field } from '../store/codec.js';
import type { Clock } from '../util/clock.js';
import type { Platform } from './service.js';

import { STRATEGY_NAMES, type Strategy } from '../config/index.js';

/** Scheduling strategies; a group may override the deployment's default. */
export const STRATEGIES = STRATEGY_NAMES;
export type { Strategy };

/** A named set of accounts of one platform that keys can be bound to. */
export interface Group {
  id: string;
  name: string;
  description: string;
  platform: Platform;
  /** Overrides the deployment's default strategy for this group; null = default. */
  strategy: Strategy | null;
  accountIds: AccountId[];
  createdAt: number;
  updatedAt: number;
}

export type GroupInput = Partial<Pick<Group, 'name' | 'description' | 'strategy' | 'accountIds'>>;

export interface GroupService {
  create(input: GroupInput & { name: string; platform: Platform }): Promise<Group>;
  get(id: string): Promise<Group | null>;
  list(): Promise<Group[]>;
  update(id: string, patch: GroupInput): Promise<Group | null>;
  remove(id: string): Promise<boolean>;
  /** Cached snapshot for the scheduler. */
  snapshot(): Promise<ReadonlyMap<string, Group>>;
}

export function createGroupService(deps: { store: Store; clock: Clock; cacheTtlMs: number }): GroupService {
  const { store, clock } = deps;
  const { redis, keys, bus } = store;

  const decode = (raw: Record<string, string>): Group | null => {
    if (!raw.id) return null;
    const r = decodeFields(raw);
    const strategy = field.str(r, 'strategy');
    return {
      id: field.str(r, 'id'),
      name: field.str(r, 'name'),
      description: field.str(r, 'description'),
      platform: field.str(r, 'platform') as Platform,
      strategy: (STRATEGIES as readonly string[]).includes(strategy) ? (strategy as Strategy) : null,
      accountIds: field.strList(r, 'accountIds') as AccountId[],
      createdAt: field.num(r, 'createdAt'),
      updatedAt: field.num(r, 'updatedAt'),
    };
  };
  const load = async (id: string) => decode(await redis.hgetall(keys.group(id)));
  const list = async () => {
    const ids = await redis.smembers(keys.groupIndex());
    return (await Promise.all(ids.sort().map(load))).filter((g): g is Group => g !== null);
  };

  const save = async (g: Group) => {
    await redis.hset(keys.group(g.id), encodeFields(g));
    await bus.publish('group', g.id);
  };

  return {
    async create(input) {
      const now = clock.now();
      const group: Group = {
        id: `g_${randomBytes(8).toString('hex')}`,
        name: input.name,
        description: input.description ?? '',
        platform: input.platform,
        strategy: input.strategy ?? null,
        accountIds: [...new Set(input.accountIds ?? [])],
        createdAt: now,
        updatedAt: now,
      };
      await redis.sadd(keys.groupIndex(), group.id);
      await save(group);
      return group;
    },
    get: load,
    list,
    async update(id, patch) {
      const current = await load(id);
      if (!current) return null;
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as GroupInput;
      const next: Group = { ...current, ...defined, updatedAt: clock.now() };
      if (defined.accountIds) next.accountIds = [...new Set(defined.accountIds)];
      await save(next);
      return next;
    },
    async remove(id) {
      const removed = await redis.srem(keys.groupIndex(), id);
      await redis.del(keys.group(id));
      await bus.publish('group', id);
      return removed > 0;
    },
    snapshot: createSnapshot({
      bus,
      kind: 'group',
      ttlMs: deps.cacheTtlMs,
      now: () => clock.now(),
      load: async () => new Map((await list()).map((g) => [g.id, g] as const)),
    }),
  };
}
