import type { Group } from '../accounts/groups.js';
import type { Blocker } from '../accounts/health.js';
import { toView, type Account } from '../accounts/service.js';
import type { ApiKeyRecord } from '../keys/service.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** An API key as the admin API shows it: every setting, never the secret, never its hash. */
export function keyView(k: ApiKeyRecord) {
  const { hash: _hash, preview, createdAt, updatedAt, expiresAt, lastUsedAt, activatedAt, ...settings } = k;
  return {
    ...settings,
    keyPreview: preview,
    createdAt: iso(createdAt),
    updatedAt: iso(updatedAt),
    expiresAt: iso(expiresAt),
    activatedAt: iso(activatedAt),
    lastUsedAt: iso(lastUsedAt),
  };
}

/** Whether an account can take requests now, and if not, why and until when. */
export interface HealthView {
  routable: boolean;
  /** Past its breaker's open period, not yet proven healthy (the half-open tier). */
  recoverable: boolean;
  inFlight: number;
  blockers: { reason: string; scope: string; until: string | null; detail?: string }[];
}

export function healthView(h: {
  routable: boolean;
  recoverable: boolean;
  inFlight: number;
  blockers: Blocker[];
}): HealthView {
  return {
    routable: h.routable,
    recoverable: h.recoverable,
    inFlight: h.inFlight,
    blockers: h.blockers.map((b) => ({
      reason: b.reason,
      scope: b.scope,
      until: iso(b.until),
      ...(b.detail ? { detail: b.detail } : {}),
    })),
  };
}

/** An upstream account as the admin API shows it: credentials reduced to their last characters. */
export function accountView(a: Account, health?: HealthView) {
  const { createdAt, updatedAt, lastUsedAt, subscriptionExpiresAt, ...rest } = toView(a);
  return {
    ...rest,
    subscriptionExpiresAt: iso(subscriptionExpiresAt),
    createdAt: iso(createdAt),
    updatedAt: iso(updatedAt),
    lastUsedAt: iso(lastUsedAt),
    ...(health ? { health } : {}),
  };
}

export function groupView(g: Group) {
  return { ...g, createdAt: iso(g.createdAt), updatedAt: iso(g.updatedAt) };
}
