import type { accountView, HealthView } from '../admin/views.js';
import { when, yesNo, type Output } from './output.js';

export type AccountView = ReturnType<typeof accountView>;

/** Credential hints are the last four characters at most (`…wxyz`), never the secret. */
export const hints = (a: AccountView) =>
  Object.entries(a.credentialHints)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '-';

const mapping = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([from, to]) => `${from} → ${to}`)
    .join(', ') || '-';

/** `yes`, or `no (unauthorized)`: the ROUTABLE column. */
export function routable(h: HealthView | undefined): string {
  if (!h) return '-';
  if (h.routable) return h.recoverable ? 'yes (recovering)' : 'yes';
  return `no (${[...new Set(h.blockers.map((b) => b.reason))].join(', ')})`;
}

/** Until when a blocker holds; null means until something is changed. */
const until = (b: HealthView['blockers'][number]) =>
  b.until !== null ? when(b.until) : b.reason === 'unauthorized' ? 'until reset (crs accounts reset)' : 'until changed';

export function printAccount(out: Output, a: AccountView): void {
  out.fields([
    ['id', a.id],
    ['platform', a.platform],
    ['type', a.type],
    ['name', a.name],
    ['description', a.description || '-'],
    ['base url', a.baseUrl],
    ['priority', String(a.priority)],
    ['weight', String(a.weight)],
    ['max concurrency', a.maxConcurrency > 0 ? String(a.maxConcurrency) : 'unlimited'],
    ['models', a.models.length > 0 ? a.models.join(', ') : 'all'],
    ['model mapping', mapping(a.modelMapping)],
    ['shared pool', yesNo(a.shared)],
    ['backup', yesNo(a.backup)],
    ['active', yesNo(a.active)],
    ['schedulable', yesNo(a.schedulable)],
    ['subscription ends', a.subscriptionExpiresAt === null ? 'never' : when(a.subscriptionExpiresAt)],
    ...(a.health ? ([['routable', routable(a.health)]] as const) : []),
    ['credentials', hints(a)],
    ['last used', when(a.lastUsedAt)],
    ['created', when(a.createdAt)],
    ['updated', when(a.updatedAt)],
  ]);
}

/** Routable now? If not, each blocker with its scope and until when (GET /admin/accounts/:id/health). */
export function printHealth(
  out: Output,
  a: { id: string; name: string },
  h: HealthView,
  model: string | undefined,
): void {
  const subject = `Account ${a.id} (${a.name})${model ? ` for ${model}` : ''}`;
  out.line(
    `${subject}: ${h.routable ? 'routable' : 'not routable'}${h.recoverable ? ' (recovering: its breaker may let a probe through)' : ''}.`,
  );
  out.line(`In flight: ${h.inFlight}.`);
  if (h.blockers.length === 0) return;
  out.line();
  out.table(
    ['BLOCKER', 'SCOPE', 'UNTIL', 'DETAIL'],
    h.blockers.map((b) => [b.reason, b.scope === '*' ? '* (every model)' : b.scope, until(b), b.detail ?? '']),
  );
  if (h.blockers.some((b) => b.reason === 'unauthorized' || b.until !== null)) {
    out.line();
    out.line(`crs accounts reset ${a.id} clears cooldowns, the unauthorized mark and the breaker.`);
  }
}
