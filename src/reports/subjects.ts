import type { AccountId } from '../ids.js';
import type { ReportDeps } from './deps.js';

/** A key, account or model a report or export reads, live or deleted. */
export interface Subject {
  id: string;
  name: string;
  /** The account's platform; empty for keys and models. */
  platform: string;
  deleted: boolean;
}

type Deps = Pick<ReportDeps, 'store' | 'keys' | 'accounts'>;

async function retired(deps: Deps, hash: string): Promise<Subject[]> {
  const raw = await deps.store.redis.hgetall(hash);
  return Object.entries(raw).map(([id, v]) => {
    const r = JSON.parse(v) as { name?: string; platform?: string };
    return { id, name: r.name ?? '', platform: r.platform ?? '', deleted: true };
  });
}

/**
 * Every key (or account, or model) with usage to report: the live ones, then the deleted ones
 * (their buckets stay, so what they spent still counts), then, for models, every model name an
 * account has booked.
 */
export async function listSubjects(deps: Deps, kind: 'key' | 'account' | 'model'): Promise<Subject[]> {
  const k = deps.store.keys;
  if (kind === 'key')
    return [
      ...(await deps.keys.list()).map((x) => ({ id: x.id as string, name: x.name, platform: '', deleted: false })),
      ...(await retired(deps, k.apiKeyRetired())),
    ];
  const accounts = [
    ...(await deps.accounts.list()).map((a) => ({
      id: a.id as string,
      name: a.name,
      platform: a.platform as string,
      deleted: false,
    })),
    ...(await retired(deps, k.accountRetired())),
  ];
  if (kind === 'account') return accounts;
  const sets = await Promise.all(
    accounts.map((a) => deps.store.redis.smembers(k.accountUsageModels(a.id as AccountId))),
  );
  return [...new Set(sets.flat())].sort().map((m) => ({ id: m, name: m, platform: '', deleted: false }));
}
