import { toView, type Account } from '../accounts/service.js';
import type { ApiKeyRecord } from '../keys/service.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** An API key as the admin API shows it: never the secret, never its hash. */
export function keyView(k: ApiKeyRecord) {
  return {
    id: k.id,
    name: k.name,
    description: k.description,
    active: k.active,
    keyPreview: k.preview,
    createdAt: iso(k.createdAt),
    updatedAt: iso(k.updatedAt),
    expiresAt: iso(k.expiresAt),
    lastUsedAt: iso(k.lastUsedAt),
  };
}

/** An upstream account as the admin API shows it: credentials reduced to their last characters. */
export function accountView(a: Account) {
  const v = toView(a);
  return {
    id: v.id,
    platform: v.platform,
    type: v.type,
    name: v.name,
    description: v.description,
    baseUrl: v.baseUrl,
    priority: v.priority,
    active: v.active,
    schedulable: v.schedulable,
    credentialHints: v.credentialHints,
    createdAt: iso(v.createdAt),
    updatedAt: iso(v.updatedAt),
    lastUsedAt: iso(v.lastUsedAt),
  };
}
