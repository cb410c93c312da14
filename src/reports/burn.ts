import { picoToUsd } from '../usage/pricing.js';

/** A key's way towards one of its cost limits. */
export interface Burn {
  limit: 'daily' | 'weekly' | 'total';
  limitUsd: number;
  used: { cost: number; costPico: string };
  /** Whether the limit is reached already (the key is refused until it resets). */
  reached: boolean;
  /** When the limit is reached at the current pace, before it resets; null: not before then. */
  projectedAt: string | null;
  /** When the limit starts afresh; null for the total limit. */
  resetsAt: string | null;
}

/**
 * Projects when `usedPico` reaches `limitUsd` at `picoPerMs` from `at`: null when the pace is
 * nothing or the limit resets first; `at` itself once reached.
 */
export function burn(
  limit: Burn['limit'],
  limitUsd: number,
  usedPico: bigint,
  picoPerMs: number,
  at: number,
  resetsAt: number | null,
): Burn {
  const limitPico = BigInt(Math.round(limitUsd * 1e12));
  const reached = usedPico >= limitPico;
  let projected: number | null = null;
  if (reached) projected = at;
  else if (picoPerMs > 0) {
    const when = Math.round(at + Number(limitPico - usedPico) / picoPerMs);
    if (resetsAt === null || when < resetsAt) projected = when;
  }
  return {
    limit,
    limitUsd,
    used: { cost: picoToUsd(usedPico), costPico: usedPico.toString() },
    reached,
    projectedAt: projected === null ? null : new Date(projected).toISOString(),
    resetsAt: resetsAt === null ? null : new Date(resetsAt).toISOString(),
  };
}
