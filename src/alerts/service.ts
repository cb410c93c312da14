import { randomBytes } from 'node:crypto';
import type { Config } from '../config/index.js';
import type { Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';
import type { Secrets } from '../util/secrets.js';
import {
  channelView,
  CONSOLE_CHANNEL,
  createChannelStore,
  type ChannelStore,
  type ChannelView,
} from './channel-store.js';
import { sendDirect, type Delivery } from './deliver.js';
import { buildMessage } from './message.js';
import { applyPatch, loadRulesFile, ruleToFile, type Rule, type RulePatch } from './rules.js';
import type { Silence } from './silences.js';
import type { AlertState } from './state.js';
import type { AlertMessage, ChannelType } from './types.js';

/** A rule as the API shows it: the file form, and what an admin changed. */
export type RuleView = ReturnType<typeof ruleToFile> & { overridden: string[] };

/** One recorded transition of an alert. */
export interface AlertTransition {
  fingerprint: string;
  rule: string;
  subject?: string;
  from: AlertState['status'] | null;
  to: AlertState['status'] | null;
  at: number;
  value: number | null;
}

/**
 * What the admin API and the CLI manage: rules (the shipped file plus overrides in Redis),
 * channels (secrets write-only), silences, and what happened (alerts, history, deliveries, the
 * console inbox). Used by workers; the engine itself runs in the primary holding the jobs lease.
 */
export interface AlertService {
  /** The shipped rules with the admin's changes on top. */
  rules(): Promise<Rule[]>;
  ruleViews(): Promise<RuleView[]>;
  /** Throws RuleError if the patched rule cannot work; null = no such rule. */
  patchRule(id: string, patch: RulePatch): Promise<RuleView | null>;
  /** Back to the file's version. */
  resetRule(id: string): Promise<RuleView | null>;
  readonly channels: ChannelStore;
  channelViews(): Promise<ChannelView[]>;
  /** Sends a test message through the channel now; logged like any delivery. */
  testSend(id: string, by: string): Promise<{ ok: boolean; detail: string } | null>;
  silences(): Promise<Silence[]>;
  silence(input: Omit<Silence, 'id' | 'createdAt'>): Promise<Silence>;
  unsilence(id: string): Promise<boolean>;
  /** Alerts pending or firing now (resolved ones in `history`). */
  active(): Promise<AlertState[]>;
  history(limit: number): Promise<AlertTransition[]>;
  deliveries(limit: number): Promise<Delivery[]>;
  inbox(limit: number): Promise<AlertMessage[]>;
}

const list = async <T>(store: Store, key: string, limit: number): Promise<T[]> =>
  (await store.redis.lrange(key, 0, Math.max(0, limit - 1))).map((raw) => JSON.parse(raw) as T);

/** The alert service as configured (rules file, node, links, time zone). */
export function alertServiceFor(config: Config, deps: { store: Store; secrets: Secrets; clock: Clock }): AlertService {
  return createAlertService({
    ...deps,
    rulesFile: config.alerts.rulesFile,
    node: config.nodeId,
    publicUrl: config.publicUrl,
    timeZone: config.statsTimezone,
  });
}

export function createAlertService(deps: {
  store: Store;
  secrets: Secrets;
  clock: Clock;
  rulesFile: string;
  node: string;
  publicUrl: string | null;
  timeZone: string;
}): AlertService {
  const { store, clock } = deps;
  const k = store.keys;
  const shipped = loadRulesFile(deps.rulesFile);
  const channels = createChannelStore({ store, secrets: deps.secrets, clock });

  const overrides = async () =>
    new Map(
      Object.entries(await store.redis.hgetall(k.alertRuleOverrides())).map(([id, raw]) => [
        id,
        JSON.parse(raw) as RulePatch,
      ]),
    );
  const effective = (rule: Rule, patch: RulePatch | undefined): Rule => {
    if (!patch) return rule;
    try {
      return applyPatch(rule, patch);
    } catch {
      // A patch the current file no longer accepts: the file's rule stands.
      return rule;
    }
  };
  const view = (rule: Rule, patch: RulePatch | undefined): RuleView => ({
    ...ruleToFile(effective(rule, patch)),
    overridden: Object.keys(patch ?? {}),
  });

  return {
    async rules() {
      const o = await overrides();
      return shipped.map((r) => effective(r, o.get(r.id)));
    },
    async ruleViews() {
      const o = await overrides();
      return shipped.map((r) => view(r, o.get(r.id)));
    },
    async patchRule(id, patch) {
      const rule = shipped.find((r) => r.id === id);
      if (!rule) return null;
      const merged = { ...(await overrides()).get(id), ...patch };
      applyPatch(rule, merged);
      await store.redis.hset(k.alertRuleOverrides(), id, JSON.stringify(merged));
      return view(rule, merged);
    },
    async resetRule(id) {
      const rule = shipped.find((r) => r.id === id);
      if (!rule) return null;
      await store.redis.hdel(k.alertRuleOverrides(), id);
      return view(rule, undefined);
    },
    channels,
    async channelViews() {
      return [CONSOLE_CHANNEL, ...(await channels.list())].map(channelView);
    },
    async testSend(id, by) {
      const channel = await channels.get(id);
      if (!channel) return null;
      const rule: Rule = {
        id: 'test',
        name: 'Test message',
        category: 'system',
        description: `Sent by ${by} to check the channel.`,
        signal: 'redis_down',
        op: '==',
        threshold: 1,
        windowMs: 0,
        min: 0,
        forMs: 0,
        severity: 'P3',
        cooldownMs: 0,
        groupMs: 0,
        channels: [id],
        enabled: true,
      };
      const now = clock.now();
      const message = buildMessage({
        rule,
        kind: 'test',
        items: [
          {
            subject: `channel "${channel.name}"`,
            labels: { channel: id },
            value: null,
            threshold: null,
            unit: '',
            startsAt: now,
            endsAt: null,
          },
        ],
        node: deps.node,
        at: now,
        publicUrl: deps.publicUrl,
        timeZone: deps.timeZone,
      });
      if (channel.type === 'console') {
        await store.redis.lpush(k.alertInbox(), JSON.stringify(message));
        return { ok: true, detail: 'in the console inbox' };
      }
      // Sent at once, outside the outbox (no lease needed): the admin is waiting for the answer.
      const { ok, detail } = await sendDirect(channel, message, Date.now);
      const result = { ok, detail };
      const d: Delivery = {
        at: now,
        itemId: `${message.id}:${id}`,
        messageId: message.id,
        channelId: id,
        channelType: channel.type as ChannelType,
        rule: 'test',
        kind: 'test',
        status: result.ok ? 'sent' : 'failed',
        attempt: 1,
        detail: result.detail,
      };
      await store.redis.lpush(k.alertDeliveries(), JSON.stringify(d));
      return result;
    },
    async silences() {
      const all = Object.values(await store.redis.hgetall(k.alertSilences())).map((raw) => JSON.parse(raw) as Silence);
      return all.sort((a, b) => a.createdAt - b.createdAt);
    },
    async silence(input) {
      const s: Silence = { ...input, id: `sil_${randomBytes(8).toString('hex')}`, createdAt: clock.now() };
      await store.redis.hset(k.alertSilences(), s.id, JSON.stringify(s));
      return s;
    },
    async unsilence(id) {
      return (await store.redis.hdel(k.alertSilences(), id)) > 0;
    },
    async active() {
      const all = Object.values(await store.redis.hgetall(k.alertStates())).map((raw) => JSON.parse(raw) as AlertState);
      return all.filter((s) => s.status !== 'resolved').sort((a, b) => a.pendingSince - b.pendingSince);
    },
    history: (limit) => list<AlertTransition>(store, k.alertHistory(), limit),
    deliveries: (limit) => list<Delivery>(store, k.alertDeliveries(), limit),
    inbox: (limit) => list<AlertMessage>(store, k.alertInbox(), limit),
  };
}
