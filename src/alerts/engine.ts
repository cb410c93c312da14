import type { FencedOp } from './fence.js';
import { buildMessage, itemOf } from './message.js';
import type { Rule } from './rules.js';
import { SIGNALS, type SignalContext } from './signals/index.js';
import { covers, type Silence } from './silences.js';
import { step, type AlertState, type NoticeKind, type Observation } from './state.js';
import { atLeast, type AlertItem, type AlertMessage, type ChannelConfig } from './types.js';
import type { Store } from '../store/index.js';
import type { Logger } from '../util/log.js';

/** Transitions waiting for their rule's group window. */
interface PendingGroup {
  rule: string;
  kind: NoticeKind;
  first: number;
  items: AlertItem[];
}

/** A message for one channel, waiting in the outbox (or being sent). */
export interface OutboxItem {
  /** `<message id>:<channel id>`: what marks it sent, once. */
  id: string;
  channelId: string;
  message: AlertMessage;
  attempt: number;
  /** Epoch ms before which it is not tried (backoff, rate limit). */
  notBefore: number;
}

/** What one evaluation did (for the log and the tests). */
export interface EvaluationReport {
  rules: number;
  transitions: { fingerprint: string; from: AlertState['status'] | null; to: AlertState['status'] | null }[];
  messages: AlertMessage[];
  written: boolean;
  /** When the earliest group still waiting is due (the next evaluation should come by then); null: none. */
  groupsDueAt: number | null;
}

export const HISTORY_KEPT = 1_000;
export const INBOX_KEPT = 500;

/** The channels a message of `rule` goes to. */
export function routeTo(rule: Rule, channels: readonly ChannelConfig[]): ChannelConfig[] {
  const all = rule.channels.includes('*');
  return channels.filter(
    (c) => c.enabled && (all || rule.channels.includes(c.id)) && atLeast(rule.severity, c.minSeverity),
  );
}

/**
 * One evaluation of every rule, on the node holding the jobs lease: read the states, measure the
 * signals, step each fingerprint, buffer notices in their rule's group window, turn due groups
 * into messages (the console inbox and one outbox item per channel), and write it all in one
 * fenced call. A node that lost the lease writes nothing, so nothing is announced twice.
 */
export async function evaluate(deps: {
  store: Store;
  rules: readonly Rule[];
  silences: readonly Silence[];
  channels: readonly ChannelConfig[];
  context: Omit<SignalContext, 'now'>;
  fenced(ops: readonly FencedOp[]): Promise<boolean>;
  now: number;
  node: string;
  publicUrl: string | null;
  timeZone: string;
  log: Logger;
}): Promise<EvaluationReport> {
  const { store, now } = deps;
  const k = store.keys;
  const [rawStates, rawGroups] = await Promise.all([
    store.redis.hgetall(k.alertStates()),
    store.redis.hgetall(k.alertGroups()),
  ]);
  const states = new Map(Object.entries(rawStates).map(([fp, raw]) => [fp, JSON.parse(raw) as AlertState]));
  const groups = new Map(Object.entries(rawGroups).map(([f, raw]) => [f, JSON.parse(raw) as PendingGroup]));
  const ops: FencedOp[] = [];
  const report: EvaluationReport = { rules: 0, transitions: [], messages: [], written: false, groupsDueAt: null };
  const ctx: SignalContext = { ...deps.context, now };
  const byRule = new Map(deps.rules.map((r) => [r.id, r]));

  for (const [fp, s] of states) {
    const rule = byRule.get(s.rule);
    if (!rule || !rule.enabled) {
      // A rule removed or switched off takes its alerts with it, without a word.
      ops.push(['HDEL', k.alertStates(), fp]);
      states.delete(fp);
    }
  }

  for (const rule of deps.rules) {
    if (!rule.enabled) continue;
    const signal = SIGNALS[rule.signal as keyof typeof SIGNALS];
    if (!signal) continue;
    let observations: Observation[];
    try {
      observations = await signal(ctx, rule);
    } catch (err) {
      // A signal that cannot be read now leaves its alerts as they are.
      deps.log.warn('alert signal not read', { rule: rule.id, signal: rule.signal, err });
      continue;
    }
    report.rules++;
    const seen = new Map(observations.map((o) => [`${rule.id}|${o.key}`, o]));
    const fingerprints = new Set([
      ...seen.keys(),
      ...[...states.keys()].filter((fp) => states.get(fp)?.rule === rule.id),
    ]);
    for (const fp of fingerprints) {
      const prev = states.get(fp);
      const obs = seen.get(fp);
      const labels = obs?.labels ?? prev?.labels ?? {};
      const silenced = deps.silences.some((s) => covers(s, rule.id, labels, now));
      const { next, notice } = step(rule, prev, obs, now, silenced, fp);
      if (next === null) {
        if (prev) ops.push(['HDEL', k.alertStates(), fp]);
      } else if (!prev || JSON.stringify(prev) !== JSON.stringify(next)) {
        ops.push(['HSET', k.alertStates(), fp, JSON.stringify(next)]);
      }
      if ((prev?.status ?? null) !== (next?.status ?? null)) {
        const t = { fingerprint: fp, from: prev?.status ?? null, to: next?.status ?? null };
        report.transitions.push(t);
        ops.push([
          'LPUSH',
          k.alertHistory(),
          JSON.stringify({
            ...t,
            rule: rule.id,
            subject: obs?.subject ?? prev?.subject,
            at: now,
            value: obs?.value ?? null,
          }),
        ]);
      }
      if (notice && next) {
        const field = `${rule.id}|${notice}`;
        const group = groups.get(field) ?? { rule: rule.id, kind: notice, first: now, items: [] };
        group.items.push(itemOf(rule, next, notice));
        groups.set(field, group);
        ops.push(['HSET', k.alertGroups(), field, JSON.stringify(group)]);
      }
    }
  }

  for (const [field, group] of groups) {
    const rule = byRule.get(group.rule);
    if (rule && now - group.first < rule.groupMs) {
      const due = group.first + rule.groupMs;
      report.groupsDueAt = Math.min(report.groupsDueAt ?? due, due);
      continue;
    }
    ops.push(['HDEL', k.alertGroups(), field]);
    if (!rule || group.items.length === 0) continue;
    const message = buildMessage({
      rule,
      kind: group.kind,
      items: group.items,
      node: deps.node,
      at: now,
      publicUrl: deps.publicUrl,
      timeZone: deps.timeZone,
    });
    report.messages.push(message);
    ops.push(['LPUSH', k.alertInbox(), JSON.stringify(message)]);
    for (const channel of routeTo(rule, deps.channels)) {
      const item: OutboxItem = {
        id: `${message.id}:${channel.id}`,
        channelId: channel.id,
        message,
        attempt: 0,
        notBefore: 0,
      };
      ops.push(['RPUSH', k.alertOutbox(), JSON.stringify(item)]);
    }
  }
  if (ops.length === 0) return { ...report, written: true };
  ops.push(['LTRIM', k.alertHistory(), 0, HISTORY_KEPT - 1], ['LTRIM', k.alertInbox(), 0, INBOX_KEPT - 1]);
  report.written = await deps.fenced(ops);
  return report;
}
