import type { ApiKeyId } from '../../ids.js';
import type { Observation } from '../state.js';
import type { Signal, SignalContext } from './types.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** Per address: the sum of the minute counters covering the rule's window. */
function perAddress(keyOf: (ctx: SignalContext, minuteMs: number) => string, what: string): Signal {
  return async (ctx, rule) => {
    const last = Math.floor(ctx.now / MINUTE) * MINUTE;
    const minutes: number[] = [];
    // The window's minutes and the one before it: a burst just before a minute turned still counts.
    for (let t = last - Math.ceil(rule.windowMs / MINUTE) * MINUTE; t <= last; t += MINUTE) minutes.push(t);
    const hashes = await Promise.all(minutes.map((t) => ctx.store.redis.hgetall(keyOf(ctx, t))));
    const totals = new Map<string, number>();
    for (const h of hashes)
      for (const [address, n] of Object.entries(h)) totals.set(address, (totals.get(address) ?? 0) + Number(n));
    return [...totals].map(([address, n]) => ({
      key: address,
      labels: { address },
      subject: `address ${address}`,
      value: n,
      detail: `${n} ${what}`,
    }));
  };
}

export const invalidKeysPerAddress = perAddress((ctx, t) => ctx.store.keys.securityBadKeys(t), 'refused relay keys');
export const adminLoginFailures = perAddress(
  (ctx, t) => ctx.store.keys.securityAdminFailures(t),
  'failed admin logins',
);

/** Per relay key used this hour: how many client addresses it came from (HyperLogLog estimate). */
export const keyAddressesPerHour: Signal = async (ctx) => {
  const hour = Math.floor(ctx.now / HOUR) * HOUR;
  const ids = (await ctx.store.redis.smembers(ctx.store.keys.securityKeysSeen(hour))) as ApiKeyId[];
  const counts = await Promise.all(
    ids.map((id) => ctx.store.redis.pfcount(ctx.store.keys.securityKeyAddresses(id, hour))),
  );
  const names = new Map((await ctx.keys.list()).map((k) => [k.id as string, k.name]));
  return ids.map((id, i): Observation => ({
    key: id,
    labels: { keyId: id, key: names.get(id) ?? '' },
    subject: `key "${names.get(id) ?? '?'}" (${id})`,
    value: counts[i] ?? 0,
    detail: `${counts[i] ?? 0} addresses this hour`,
  }));
};
