import { randomBytes } from 'node:crypto';
import type { Rule } from './rules.js';
import type { AlertState, NoticeKind } from './state.js';
import type { AlertItem, AlertMessage, MessageKind } from './types.js';

/** How each signal's value reads (ratios are printed as percentages). */
const UNITS: Readonly<Record<string, AlertItem['unit']>> = {
  error_ratio: '%',
  ttfb_p95_ms: 'ms',
  event_loop_lag_p99_ms: 'ms',
  cpu_ratio: '%',
  memory_used_ratio: '%',
  pool_available_ratio: '%',
  key_budget_used: '%',
  disk_free_ratio: '%',
  redis_memory_ratio: '%',
  redis_latency_ms: 'ms',
  node_heartbeat_age_s: 's',
};

export const newNotificationId = (): string => `ntf_${randomBytes(10).toString('hex')}`;

export function itemOf(rule: Rule, s: AlertState, kind: NoticeKind): AlertItem {
  return {
    subject: s.subject,
    labels: s.labels,
    value: s.value,
    threshold: rule.threshold,
    unit: UNITS[rule.signal] ?? '',
    startsAt: s.firingSince ?? s.pendingSince,
    endsAt: kind === 'resolved' ? s.resolvedAt : null,
    ...(s.detail ? { detail: s.detail } : {}),
  };
}

const KIND_WORD: Record<MessageKind, string> = {
  firing: 'FIRING',
  resolved: 'RESOLVED',
  reminder: 'STILL FIRING',
  test: 'TEST',
  report: 'REPORT',
};

/** `3 claude accounts`, `2 nodes`, or the one subject itself. */
function subjects(items: readonly AlertItem[]): string {
  const first = items[0];
  if (items.length === 1 && first) return first.subject;
  const platforms = new Set(items.map((i) => i.labels.platform));
  if (items.every((i) => i.labels.accountId) && platforms.size === 1)
    return `${items.length} ${[...platforms][0]} accounts`;
  if (items.every((i) => i.labels.node)) return `${items.length} nodes`;
  if (items.every((i) => i.labels.keyId)) return `${items.length} keys`;
  if (items.every((i) => i.labels.address)) return `${items.length} addresses`;
  return `${items.length} subjects`;
}

export function buildMessage(opts: {
  id?: string;
  rule: Rule;
  kind: MessageKind;
  items: readonly AlertItem[];
  node: string;
  at: number;
  publicUrl: string | null;
  timeZone: string;
}): AlertMessage {
  const { rule, kind, items } = opts;
  return {
    id: opts.id ?? newNotificationId(),
    kind,
    rule: {
      id: rule.id,
      name: rule.name,
      severity: rule.severity,
      category: rule.category,
      description: rule.description,
    },
    title: `[${rule.severity} ${KIND_WORD[kind]}] ${rule.name}: ${subjects(items)}`,
    items,
    node: opts.node,
    at: opts.at,
    url: opts.publicUrl ? `${opts.publicUrl}/admin/alerts?rule=${encodeURIComponent(rule.id)}` : null,
    timeZone: opts.timeZone,
  };
}
