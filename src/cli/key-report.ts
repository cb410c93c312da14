import type { keyView } from '../admin/views.js';
import type { KeyLimitUsage } from '../limits/index.js';
import { count, usd, when, yesNo, type Output } from './output.js';

export type KeyView = ReturnType<typeof keyView>;

const anyOf = (items: readonly string[] | null): string => (items && items.length > 0 ? items.join(', ') : 'any');
const noneOf = (items: readonly string[]): string => (items.length > 0 ? items.join(', ') : '-');
/** A limit of 0 means none. */
const capped = (n: number, show: (n: number) => string): string => (n > 0 ? show(n) : 'unlimited');

function expiry(k: KeyView): string {
  if (k.expiryMode === 'after-first-use') {
    const base = `${k.activationDays} days after first use`;
    return k.activatedAt
      ? `${base} (first used ${when(k.activatedAt)}, expires ${when(k.expiresAt)})`
      : `${base} (not used yet)`;
  }
  return k.expiresAt === null ? 'never' : when(k.expiresAt);
}

function models(k: KeyView): string {
  if (!k.modelAllow && k.modelDeny.length === 0) return 'any';
  const parts: string[] = [];
  if (k.modelAllow) parts.push(`only ${k.modelAllow.join(', ')}`);
  if (k.modelDeny.length > 0) parts.push(`not ${k.modelDeny.join(', ')}`);
  return parts.join('; ');
}

function rateWindow(k: KeyView): string {
  const limits = [
    k.rateLimitRequests > 0 ? `${count(k.rateLimitRequests)} requests` : '',
    k.rateLimitTokens > 0 ? `${count(k.rateLimitTokens)} tokens` : '',
    k.rateLimitCost > 0 ? usd(k.rateLimitCost) : '',
  ].filter(Boolean);
  if (k.rateWindowMinutes <= 0 || limits.length === 0) return 'none';
  return `${limits.join(', ')} per ${k.rateWindowMinutes} minutes`;
}

/** Every setting of a key (never its secret). */
export function printKey(out: Output, k: KeyView): void {
  const concurrency = capped(k.concurrencyLimit, (n) =>
    k.concurrencyWaitSeconds > 0 ? `${n} (waits up to ${k.concurrencyWaitSeconds} s for a slot)` : String(n),
  );
  out.fields([
    ['id', k.id],
    ['name', k.name],
    ['description', k.description || '-'],
    ['active', yesNo(k.active)],
    ['key', k.keyPreview],
    ['expires', expiry(k)],
    ['platforms', anyOf(k.permissions)],
    ['models', models(k)],
    ['clients', anyOf(k.allowedClients)],
    ['accounts', noneOf(k.accountIds)],
    ['groups', noneOf(k.groupIds)],
    [
      'pool fallback',
      k.accountIds.length + k.groupIds.length > 0 ? yesNo(k.poolFallback) : '- (not bound: uses the shared pool)',
    ],
    ['concurrency', concurrency],
    ['rate window', rateWindow(k)],
    ['daily cost', capped(k.dailyCostLimit, usd)],
    [
      'weekly cost',
      capped(k.weeklyCostLimit, (n) => (k.weeklyCostFamily ? `${usd(n)} (${k.weeklyCostFamily} models only)` : usd(n))),
    ],
    ['total cost', capped(k.totalCostLimit, usd)],
    ['last used', when(k.lastUsedAt)],
    ['created', when(k.createdAt)],
    ['updated', when(k.updatedAt)],
  ]);
}

/** The current use of each limit, and when it resets (GET /admin/api-keys/:id/limits as a table). */
export function printLimits(out: Output, title: string, u: KeyLimitUsage, timeZone: string): void {
  const w = u.window;
  const windowReset = w.minutes <= 0 ? '-' : w.resetsAt ? when(w.resetsAt) : `${w.minutes} min after the next request`;
  const rows: string[][] = [
    ['concurrency', count(u.concurrency.inFlight), capped(u.concurrency.limit, count), 'as requests finish'],
  ];
  if (w.minutes > 0) {
    rows.push(
      [`window requests`, count(w.requests), capped(w.limits.requests, count), windowReset],
      [`window tokens`, count(w.tokens), capped(w.limits.tokens, count), windowReset],
      [`window cost`, usd(w.cost), capped(w.limits.cost, usd), windowReset],
    );
  } else {
    rows.push(['rate window', '-', 'none', '-']);
  }
  rows.push(
    ['daily cost', usd(u.daily.cost), capped(u.daily.limit, usd), `${when(u.daily.resetsAt)} (midnight ${timeZone})`],
    [
      'weekly cost',
      usd(u.weekly.cost),
      capped(u.weekly.limit, (n) => (u.weekly.family ? `${usd(n)} ${u.weekly.family}` : usd(n))),
      `${when(u.weekly.resetsAt)} (Monday ${timeZone})`,
    ],
    ['total cost', usd(u.total.cost), capped(u.total.limit, usd), 'never'],
  );
  out.line(title);
  out.line();
  out.table(['LIMIT', 'USED', 'OF', 'RESETS'], rows);
  if (w.minutes > 0)
    out.line(
      `\nRate window: ${w.minutes} minutes${w.startedAt ? `, this one started ${when(w.startedAt)}` : ', none open'}.`,
    );
}
