import type { Store } from '../store/index.js';
import type { Logger } from '../util/log.js';
import type { ChannelStore } from './channel-store.js';
import { driverFor } from './channels/index.js';
import type { OutboxItem } from './engine.js';
import type { Fence } from './fence.js';
import { ChannelError, type AlertMessage, type ChannelConfig } from './types.js';

/** One line of the delivery log. */
export interface Delivery {
  at: number;
  itemId: string;
  messageId: string;
  channelId: string;
  channelType: string;
  rule: string;
  kind: AlertMessage['kind'];
  status: 'sent' | 'retrying' | 'failed' | 'deferred' | 'dropped';
  attempt: number;
  /** The channel's receipt, or why it failed: secret-free (drivers never quote URLs or tokens). */
  detail: string;
}

export const DELIVERIES_KEPT = 1_000;
/** Waits between tries of one message on one channel; after the last, it failed. */
export const BACKOFF_MS = [2_000, 10_000, 60_000, 300_000] as const;
const SEND_TIMEOUT_MS = 15_000;
/** A claim outlives any send: a node that died holding one lets it go after this. */
const CLAIM_MS = 2 * SEND_TIMEOUT_MS + 30_000;
const SENT_KEPT_S = 2 * 86_400;

export interface Deliverer {
  /** Works through the outbox once (items not due yet go back); stops early when the lease is lost. */
  run(): Promise<{ sent: number; failed: number; deferred: number }>;
  /** After taking the lease: what a previous holder was sending goes back to the outbox. */
  recover(): Promise<number>;
}

/** Sends one message through one channel now; never throws. */
export async function sendDirect(
  channel: ChannelConfig,
  message: AlertMessage,
  now: () => number,
  timeoutMs = SEND_TIMEOUT_MS,
): Promise<{ ok: boolean; detail: string; retryable?: boolean }> {
  const driver = driverFor(channel.type);
  if (!driver) return { ok: false, detail: `${channel.type} channels do not send` };
  try {
    const receipt = await driver.send(channel, message, { now, signal: AbortSignal.timeout(timeoutMs) });
    return { ok: true, detail: receipt };
  } catch (err) {
    const detail = err instanceof ChannelError ? err.message : `${channel.type}: ${(err as Error).name}`;
    return { ok: false, detail, retryable: !(err instanceof ChannelError) || err.retryable };
  }
}

export function createDeliverer(deps: {
  store: Store;
  channels: ChannelStore;
  fence: Fence;
  log: Logger;
  now: () => number;
  backoffMs?: readonly number[];
  sendTimeoutMs?: number;
}): Deliverer {
  const { store, channels, fence, log, now } = deps;
  const k = store.keys;
  const backoff = deps.backoffMs ?? BACKOFF_MS;
  const timeoutMs = deps.sendTimeoutMs ?? SEND_TIMEOUT_MS;

  // Signatures carry wall-clock time (receivers compare it with theirs), whatever clock schedules retries.
  const sendNow = (channel: ChannelConfig, message: AlertMessage) => sendDirect(channel, message, Date.now, timeoutMs);

  const logDelivery = async (
    item: OutboxItem,
    channel: ChannelConfig | null,
    status: Delivery['status'],
    detail: string,
  ) => {
    const d: Delivery = {
      at: now(),
      itemId: item.id,
      messageId: item.message.id,
      channelId: item.channelId,
      channelType: channel?.type ?? 'unknown',
      rule: item.message.rule.id,
      kind: item.message.kind,
      status,
      attempt: item.attempt + 1,
      detail,
    };
    const level = status === 'failed' ? 'warn' : 'info';
    log[level]('alert delivery', { ...d, at: new Date(d.at).toISOString() });
    await store.redis
      .multi()
      .lpush(k.alertDeliveries(), JSON.stringify(d))
      .ltrim(k.alertDeliveries(), 0, DELIVERIES_KEPT - 1)
      .exec();
  };

  /** Puts an item back at the end of the outbox, as it is now. */
  const requeue = (raw: string, item: OutboxItem) =>
    fence.write([
      ['RPUSH', k.alertOutbox(), JSON.stringify(item)],
      ['LREM', k.alertSending(), 1, raw],
    ]);
  const done = (raw: string) => store.redis.lrem(k.alertSending(), 1, raw);

  const one = async (raw: string): Promise<'sent' | 'failed' | 'deferred' | 'dropped'> => {
    const item = JSON.parse(raw) as OutboxItem;
    const at = now();
    if (item.notBefore > at) {
      await requeue(raw, item);
      return 'deferred';
    }
    const channel = await channels.get(item.channelId);
    const driver = channel && driverFor(channel.type);
    if (!channel || !channel.enabled || !driver) {
      await done(raw);
      await logDelivery(item, channel, 'dropped', channel ? 'channel disabled' : 'channel deleted');
      return 'dropped';
    }
    const minute = Math.floor(at / 60_000) * 60_000;
    const limit = channel.ratePerMinute || driver.defaultRatePerMinute;
    const rateKey = k.alertRate(channel.id, minute);
    const [[, used]] = ((await store.redis.multi().incr(rateKey).expire(rateKey, 120).exec()) ?? [[null, 0]]) as [
      [unknown, number],
    ];
    if (used > limit) {
      await requeue(raw, { ...item, notBefore: minute + 60_000 });
      await logDelivery(item, channel, 'deferred', `rate limit of ${limit} a minute reached; next minute`);
      return 'deferred';
    }
    const marker = k.alertSent(item.id);
    if ((await store.redis.set(marker, 'claimed', 'PX', CLAIM_MS, 'NX')) !== 'OK') {
      const state = await store.redis.get(marker);
      if (state === 'claimed') {
        // Someone (a previous holder, mid-send) has it: wait for its claim to end.
        await requeue(raw, { ...item, notBefore: at + 30_000 });
        return 'deferred';
      }
      await done(raw);
      return 'dropped';
    }
    const result = await sendNow(channel, item.message);
    if (result.ok) {
      await store.redis.set(marker, 'sent', 'EX', SENT_KEPT_S);
      await done(raw);
      await logDelivery(item, channel, 'sent', result.detail);
      return 'sent';
    }
    const retryable = result.retryable === true;
    const wait = backoff[item.attempt];
    if (retryable && wait !== undefined) {
      await store.redis.del(marker);
      await requeue(raw, { ...item, attempt: item.attempt + 1, notBefore: at + wait });
      await logDelivery(item, channel, 'retrying', `${result.detail}; again in ${Math.round(wait / 1000)} s`);
      return 'deferred';
    }
    await store.redis.set(marker, 'failed', 'EX', SENT_KEPT_S);
    await done(raw);
    await logDelivery(item, channel, 'failed', result.detail);
    return 'failed';
  };

  return {
    async run() {
      const counts = { sent: 0, failed: 0, deferred: 0 };
      const pending = await store.redis.llen(k.alertOutbox());
      for (let i = 0; i < pending; i++) {
        const raw = await fence.move(k.alertOutbox(), k.alertSending());
        if (!raw) break;
        try {
          const outcome = await one(raw);
          if (outcome !== 'dropped') counts[outcome]++;
        } catch (err) {
          // Redis went away mid-item: it stays in `sending`, and recover() puts it back.
          log.warn('alert delivery interrupted', { err });
          break;
        }
      }
      return counts;
    },
    async recover() {
      let moved = 0;
      while ((await fence.move(k.alertSending(), k.alertOutbox())) && moved < 100_000) moved++;
      return moved;
    },
  };
}
