import { assess, type AccountHealth } from '../../accounts/health.js';
import type { Account } from '../../accounts/service.js';
import type { RelayEvent } from '../../events/index.js';
import type { Observation } from '../state.js';
import type { Signal, SignalContext } from './types.js';

const DAY_MS = 86_400_000;

interface AccountRow {
  account: Account;
  health: AccountHealth;
}

/** Every account with its shared health, read once per cycle. */
const rows = (ctx: SignalContext) =>
  ctx.memo('accounts', 0, async (): Promise<AccountRow[]> => {
    const accounts = await ctx.accounts.list();
    const health = await Promise.all(accounts.map((a) => ctx.health.get(a.id)));
    return accounts.map((account, i) => ({ account, health: health[i] as AccountHealth }));
  });

const subjectOf = (a: Account) => `${a.platform} account "${a.name}" (${a.id})`;
const labelsOf = (a: Account) => ({ platform: a.platform, accountId: a.id, account: a.name });

/** 1 or 0 per enabled account: whether `has` holds, with its detail. */
function perAccount(has: (r: AccountRow, now: number) => string | null): Signal {
  return async (ctx) =>
    (await rows(ctx))
      .filter((r) => r.account.active)
      .map((r): Observation => {
        const detail = has(r, ctx.now);
        return {
          key: r.account.id,
          labels: labelsOf(r.account),
          subject: subjectOf(r.account),
          value: detail === null ? 0 : 1,
          ...(detail ? { detail } : {}),
        };
      });
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16) + ' UTC';

export const accountUnauthorized = perAccount((r) =>
  r.health.unauthorized ? `HTTP ${r.health.unauthorized.status}` : null,
);

export const accountRateLimited = perAccount((r, now) => {
  const c = r.health.cooldowns.filter((x) => x.reason === 'rate_limited' && x.until > now);
  if (c.length === 0) return null;
  const until = Math.max(...c.map((x) => x.until));
  const scopes = c.map((x) => (x.scope === '*' ? 'all models' : x.scope)).join(', ');
  return `${scopes} until ${clock(until)}`;
});

export const accountAutoDisabled = perAccount((r) => r.health.autoDisabled?.reason ?? null);

/** Days until the subscription behind the account ends (accounts without an end date say nothing). */
export const accountExpiresInDays: Signal = async (ctx) =>
  (await rows(ctx))
    .filter((r) => r.account.active && r.account.subscriptionExpiresAt !== null)
    .map((r) => {
      const ends = r.account.subscriptionExpiresAt as number;
      const days = Math.round(((ends - ctx.now) / DAY_MS) * 10) / 10;
      return {
        key: r.account.id,
        labels: labelsOf(r.account),
        subject: subjectOf(r.account),
        value: days,
        detail: `ends ${new Date(ends).toISOString().slice(0, 10)}`,
      };
    });

/** Account events of the window, oldest first (the stream's ids are their times). */
async function recentEvents(ctx: SignalContext, windowMs: number): Promise<RelayEvent[]> {
  const entries = await ctx.store.redis.xrange(
    ctx.store.keys.events(),
    String(ctx.now - windowMs),
    '+',
    'COUNT',
    10_000,
  );
  const events: RelayEvent[] = [];
  for (const [, fields] of entries) {
    const i = fields.indexOf('event');
    try {
      if (i >= 0) events.push(JSON.parse(fields[i + 1] ?? '') as RelayEvent);
    } catch {
      // not ours
    }
  }
  return events;
}

/** 1 for an account whose last refresh in the window failed (a success or a reset since clears it). */
export const accountRefreshFailed: Signal = async (ctx, rule) => {
  const last = new Map<string, RelayEvent>();
  for (const e of await recentEvents(ctx, rule.windowMs)) {
    if (e.type === 'account.refresh_failed' || e.type === 'account.refreshed' || e.type === 'account.reset') {
      last.set(String(e.accountId), e);
    }
  }
  const byId = new Map((await rows(ctx)).map((r) => [r.account.id as string, r.account]));
  const out: Observation[] = [];
  for (const [id, account] of byId) {
    const e = last.get(id);
    out.push({
      key: id,
      labels: labelsOf(account),
      subject: subjectOf(account),
      value: e?.type === 'account.refresh_failed' ? 1 : 0,
      ...(e?.type === 'account.refresh_failed' && e.status ? { detail: `HTTP ${e.status}` } : {}),
    });
  }
  return out;
};

interface Pool {
  key: string;
  labels: Record<string, string>;
  subject: string;
  total: number;
  available: number;
}

/**
 * The pools requests are picked from: each platform's shared pool, and each group. Only enabled
 * accounts count; an account is available when nothing blocks it for all of its models.
 */
const pools = (ctx: SignalContext) =>
  ctx.memo('pools', 0, async (): Promise<Pool[]> => {
    const all = await rows(ctx);
    const usable = (r: AccountRow) => r.account.schedulable && assess(r.health, '*', ctx.now).blockers.length === 0;
    const byId = new Map(all.map((r) => [r.account.id as string, r]));
    const out: Pool[] = [];
    const platforms = new Set(all.map((r) => r.account.platform));
    for (const platform of platforms) {
      const members = all.filter((r) => r.account.platform === platform && r.account.active && r.account.shared);
      if (members.length === 0) continue;
      out.push({
        key: `${platform}:shared`,
        labels: { platform, group: 'shared' },
        subject: `${platform} shared pool`,
        total: members.length,
        available: members.filter(usable).length,
      });
    }
    for (const group of await ctx.groups.list()) {
      const members = group.accountIds.flatMap((id) => {
        const r = byId.get(id);
        return r && r.account.active ? [r] : [];
      });
      if (members.length === 0) continue;
      out.push({
        key: `${group.platform}:${group.id}`,
        labels: { platform: group.platform, group: group.name, groupId: group.id },
        subject: `${group.platform} group "${group.name}"`,
        total: members.length,
        available: members.filter(usable).length,
      });
    }
    return out;
  });

export const poolAvailableRatio: Signal = async (ctx) =>
  (await pools(ctx)).map((p) => ({
    key: p.key,
    labels: p.labels,
    subject: p.subject,
    value: p.available / p.total,
    detail: `${p.available} of ${p.total} accounts available`,
  }));

export const poolAvailable: Signal = async (ctx) =>
  (await pools(ctx)).map((p) => ({
    key: p.key,
    labels: p.labels,
    subject: p.subject,
    value: p.available,
    detail: `${p.available} of ${p.total} accounts available`,
  }));
