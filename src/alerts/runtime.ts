import type { GroupService } from '../accounts/groups.js';
import type { HealthService } from '../accounts/health.js';
import type { AccountService } from '../accounts/service.js';
import type { ApiKeyService } from '../keys/service.js';
import { pingWithin, type Store } from '../store/index.js';
import type { Buckets } from '../usage/buckets.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { createDeliverer, sendDirect } from './deliver.js';
import { evaluate, routeTo, type EvaluationReport } from './engine.js';
import type { Fence } from './fence.js';
import { buildMessage } from './message.js';
import type { Rule } from './rules.js';
import type { AlertService } from './service.js';
import type { SignalContext } from './signals/index.js';
import type { AlertMessage, ChannelConfig } from './types.js';

/**
 * The alert engine as the jobs run it, on the node holding the lease: evaluation cycles with the
 * signals' memory (memos, counter growth), the deliveries, and the one alert that cannot go
 * through Redis — Redis being down, announced by the last lease holder alone.
 */
export interface AlertRunner {
  evaluate(): Promise<EvaluationReport>;
  deliver(): Promise<{ sent: number; failed: number; deferred: number }>;
  /** After taking the lease: resume what the previous holder was sending. */
  takeOver(): Promise<void>;
  /** This node held the lease when Redis stopped answering: it alone announces it (and its return). */
  redisUnreachable(): Promise<void>;
  redisReachable(): Promise<void>;
}

export function createAlertRunner(deps: {
  store: Store;
  service: AlertService;
  accounts: AccountService;
  health: HealthService;
  groups: GroupService;
  keys: ApiKeyService;
  bucketsOf(ms: number): Buckets;
  fence: Fence;
  node: string;
  publicUrl: string | null;
  timeZone: string;
  clock: Clock;
  log: Logger;
}): AlertRunner {
  const { store, service, clock, log } = deps;
  const kept = new Map<string, { at: number; value: Promise<unknown> }>();
  const series = new Map<string, { at: number; v: number }[]>();
  const deliverer = createDeliverer({
    store,
    channels: service.channels,
    fence: deps.fence,
    log,
    now: () => clock.now(),
  });
  // What the last good cycle knew, for the Redis-down notice (no Redis to read it from then).
  let lastRules: readonly Rule[] = [];
  let lastChannels: readonly ChannelConfig[] = [];
  let down: { since: number; announced: AlertMessage | null } | null = null;

  const growth = (name: string, subject: string, value: number, windowMs: number, now: number) => {
    const key = `${name}|${subject}`;
    const points = series.get(key) ?? [];
    points.push({ at: now, v: value });
    // Keep one point at or before the window's start as the baseline.
    while (points.length > 1 && (points[1]?.at ?? now) <= now - windowMs) points.shift();
    series.set(key, points);
    return Math.max(0, value - (points[0]?.v ?? value));
  };

  const announce = async (kind: 'firing' | 'resolved', rule: Rule, since: number) => {
    const now = clock.now();
    const message = buildMessage({
      rule,
      kind,
      items: [
        {
          subject: 'Redis',
          labels: { component: 'redis' },
          value: kind === 'firing' ? 1 : 0,
          threshold: 1,
          unit: '',
          startsAt: since,
          endsAt: kind === 'resolved' ? now : null,
          detail: `unreachable from ${deps.node} since ${new Date(since).toISOString()}`,
        },
      ],
      node: deps.node,
      at: now,
      publicUrl: deps.publicUrl,
      timeZone: deps.timeZone,
    });
    for (const channel of routeTo(rule, lastChannels)) {
      const r = await sendDirect(channel, message, Date.now);
      log[r.ok ? 'info' : 'warn']('alert delivery', {
        rule: rule.id,
        kind,
        channelId: channel.id,
        status: r.ok ? 'sent' : 'failed',
        detail: r.detail,
      });
    }
    return message;
  };

  return {
    async evaluate() {
      const now = clock.now();
      const cycle = new Map<string, Promise<unknown>>();
      const latencyMs = await pingWithin(store.redis, 1_000).catch(() => null);
      const context: Omit<SignalContext, 'now'> = {
        store,
        accounts: deps.accounts,
        health: deps.health,
        groups: deps.groups,
        keys: deps.keys,
        bucketsOf: deps.bucketsOf,
        redis: { reachable: latencyMs !== null, latencyMs },
        memo<T>(name: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
          if (ttlMs === 0) {
            if (!cycle.has(name)) cycle.set(name, load());
            return cycle.get(name) as Promise<T>;
          }
          const hit = kept.get(name);
          if (hit && now - hit.at < ttlMs) return hit.value as Promise<T>;
          const value = load();
          kept.set(name, { at: now, value });
          value.catch(() => kept.delete(name));
          return value;
        },
        growth: (name, subject, value, windowMs) => growth(name, subject, value, windowMs, now),
      };
      const [rules, silences, channels] = await Promise.all([
        service.rules(),
        service.silences(),
        service.channels.list(),
      ]);
      lastRules = rules;
      lastChannels = channels;
      const report = await evaluate({
        store,
        rules,
        silences,
        channels,
        context,
        fenced: deps.fence.write,
        now,
        node: deps.node,
        publicUrl: deps.publicUrl,
        timeZone: deps.timeZone,
        log,
      });
      for (const m of report.messages)
        log.info('alert', { title: m.title, kind: m.kind, rule: m.rule.id, items: m.items.length });
      return report;
    },
    deliver: () => deliverer.run(),
    async takeOver() {
      const moved = await deliverer.recover();
      if (moved > 0) log.info('alert deliveries resumed from the previous lease holder', { items: moved });
    },
    async redisUnreachable() {
      const rule = lastRules.find((r) => r.signal === 'redis_down' && r.enabled);
      const now = clock.now();
      down ??= { since: now, announced: null };
      if (!rule || down.announced || now - down.since < rule.forMs) return;
      down.announced = await announce('firing', rule, down.since);
    },
    async redisReachable() {
      if (!down) return;
      const { since, announced } = down;
      down = null;
      const rule = lastRules.find((r) => r.signal === 'redis_down');
      if (announced && rule) await announce('resolved', rule, since);
    },
  };
}
