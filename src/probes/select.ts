import type { AccountHealth } from '../accounts/health.js';
import type { Account } from '../accounts/service.js';
import type { AccountTraffic } from '../accounts/traffic.js';
import type { AccountId } from '../ids.js';
import type { ProbeWhy } from './types.js';

/**
 * Which accounts a tick probes. Never: an account an admin disabled (`active` false), one marked
 * unauthorized (an admin must act), one that opted out (`probe` false). Otherwise an account is
 * probed when it is suspect (automatically disabled, its breaker open or not yet proven since,
 * cooling after a 5xx or a timeout, its real traffic failing) or idle (no real traffic for
 * PROBE_IDLE), and its own interval has passed since its last probe, give or take 10% (spread
 * per account and per probe, so a fleet created at once does not probe in lockstep).
 */

export type ProbeAccount = Pick<Account, 'id' | 'active' | 'probe' | 'probeIntervalMs' | 'lastUsedAt'>;

export interface Candidate {
  account: ProbeAccount;
  health: AccountHealth;
  /** Real traffic in PASSIVE_WINDOW. */
  passive: AccountTraffic | undefined;
  /** The last real traffic seen (minute resolution), null: none recently. */
  lastSeenAt: number | null;
  lastProbeAt: number | null;
}

export interface SelectConfig {
  intervalMs: number;
  idleMs: number;
  passiveErrorPercent: number;
}

const COOLING_SICK = new Set(['server_error', 'overloaded', 'unreachable', 'timeout']);

/** Probes may look at the account at all (ticks, and passive health). */
export function probeable(a: ProbeAccount, h: AccountHealth): boolean {
  return a.active && a.probe && !h.unauthorized;
}

/** Why the account looks unwell, or null. */
export function suspicion(c: Candidate, now: number, cfg: Pick<SelectConfig, 'passiveErrorPercent'>): string | null {
  const h = c.health;
  if (h.autoDisabled) return 'auto_disabled';
  if (h.breaker) return 'breaker';
  if (h.cooldowns.some((cd) => cd.until > now && COOLING_SICK.has(cd.reason))) return 'cooling';
  const t = c.passive;
  if (t && t.errors > 0 && t.errors * 100 >= cfg.passiveErrorPercent * t.requests) return 'errors';
  return null;
}

export function isIdle(c: Pick<Candidate, 'account' | 'lastSeenAt'>, now: number, idleMs: number): boolean {
  const last = Math.max(c.lastSeenAt ?? 0, c.account.lastUsedAt ?? 0);
  return last === 0 || now - last >= idleMs;
}

/** FNV-1a: a stable spread for the jitter, the same on every node. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** -0.1..+0.1, fixed for one account's one last probe. */
export function jitter(id: AccountId, lastProbeAt: number): number {
  return (hash32(`${id}:${lastProbeAt}`) / 0xffffffff) * 0.2 - 0.1;
}

export const intervalOf = (a: Pick<ProbeAccount, 'probeIntervalMs'>, cfg: Pick<SelectConfig, 'intervalMs'>): number =>
  a.probeIntervalMs ?? cfg.intervalMs;

/** When the account's next probe is due (its interval ±10% after its last one); now if never probed. */
export function dueAt(
  a: Pick<ProbeAccount, 'id' | 'probeIntervalMs'>,
  lastProbeAt: number | null,
  cfg: Pick<SelectConfig, 'intervalMs'>,
): number | null {
  if (lastProbeAt === null) return null;
  const interval = intervalOf(a, cfg);
  return Math.round(lastProbeAt + interval * (1 + jitter(a.id, lastProbeAt)));
}

/** The accounts to probe now and why: suspect ones first, then the longest unprobed. */
export function selectProbes(
  candidates: readonly Candidate[],
  now: number,
  cfg: SelectConfig,
): { id: AccountId; why: Exclude<ProbeWhy, 'manual'> }[] {
  const chosen: { id: AccountId; why: Exclude<ProbeWhy, 'manual'>; last: number }[] = [];
  for (const c of candidates) {
    if (!probeable(c.account, c.health)) continue;
    const due = dueAt(c.account, c.lastProbeAt, cfg);
    if (due !== null && due > now) continue;
    const why = suspicion(c, now, cfg) ? 'suspect' : isIdle(c, now, cfg.idleMs) ? 'idle' : null;
    if (why) chosen.push({ id: c.account.id, why, last: c.lastProbeAt ?? 0 });
  }
  chosen.sort((a, b) => (a.why === b.why ? a.last - b.last : a.why === 'suspect' ? -1 : 1));
  return chosen.map(({ id, why }) => ({ id, why }));
}
