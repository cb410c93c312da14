import { setTimeout as sleep } from 'node:timers/promises';
import type { Account } from '../../accounts/service.js';
import type { AccountId } from '../../ids.js';
import type { ProviderDeps } from '../types.js';
import { isObject } from '../../util/json.js';

/** What Gemini CLI says of itself to Code Assist when it sets a user up. */
const CLIENT_METADATA = { ideType: 'IDE_UNSPECIFIED', platform: 'PLATFORM_UNSPECIFIED', pluginType: 'GEMINI' };
const CALL_TIMEOUT_MS = 30_000;
/** onboardUser is a long-running operation; Gemini CLI polls it every 5 s. */
const POLL_MS = 2_000;
const MAX_POLLS = 15;

type Json = Record<string, unknown>;
/** A project field: a bare id (loadCodeAssist) or `{id, name}` (onboardUser's answer). */
const projectIdOf = (v: unknown): string | undefined =>
  typeof v === 'string' && v ? v : isObject(v) && typeof v.id === 'string' && v.id ? v.id : undefined;

/**
 * The Google Cloud project a Code Assist account works in. Every generate call names one, and the
 * relay always names the account's own (a client's is meaningless for a pooled account). An admin
 * may set it (option `projectId`); otherwise it is found once, as Gemini CLI finds it —
 * `loadCodeAssist` → `cloudaicompanionProject`, or, for an account never set up, `onboardUser`
 * with the default tier (the free tier provisions a managed project) — and stored with the account.
 */
export function createProjectFinder(deps: ProviderDeps, baseOf: (account: Account) => string) {
  const found = new Map<AccountId, Promise<string>>();

  const call = async (url: string, token: string, proxy: string | undefined, body?: Json): Promise<Json> => {
    const res = await deps.http.send(
      {
        url,
        method: body ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
        ...(proxy ? { proxy } : {}),
      },
      AbortSignal.timeout(CALL_TIMEOUT_MS),
    );
    const text = await res.body.text();
    if (res.statusCode !== 200)
      throw new Error(`Code Assist ${url.slice(url.lastIndexOf('/') + 1)} answered ${res.statusCode}`);
    try {
      const json: unknown = JSON.parse(text);
      return isObject(json) ? json : {};
    } catch {
      return {};
    }
  };

  /** The project of the Google user behind `token`, undefined when it has none and needs one set. */
  const discover = async (base: string, token: string, proxy?: string): Promise<string | undefined> => {
    const loaded = await call(`${base}/v1internal:loadCodeAssist`, token, proxy, { metadata: CLIENT_METADATA });
    const known = projectIdOf(loaded.cloudaicompanionProject);
    if (known || isObject(loaded.currentTier)) return known;
    const tiers = Array.isArray(loaded.allowedTiers) ? loaded.allowedTiers.filter(isObject) : [];
    const tier = tiers.find((t) => t.isDefault === true) ?? { id: 'legacy-tier' };
    let op = await call(`${base}/v1internal:onboardUser`, token, proxy, { tierId: tier.id, metadata: CLIENT_METADATA });
    for (let polls = 0; op.done !== true && typeof op.name === 'string' && polls < MAX_POLLS; polls++) {
      await sleep(POLL_MS);
      op = await call(`${base}/v1internal/${op.name}`, token, proxy);
    }
    return isObject(op.response) ? projectIdOf(op.response.cloudaicompanionProject) : undefined;
  };

  return {
    /** For a fresh login, before its account exists (the admin's OAuth exchange). */
    discover: (base: string, token: string) => discover(base, token),

    /** The account's project; found (once per account, even with many requests at once) and stored. */
    projectOf(account: Account, token: string): Promise<string> {
      const own = account.options.projectId;
      if (own) return Promise.resolve(own);
      let pending = found.get(account.id);
      if (!pending) {
        pending = (async () => {
          const project = await discover(baseOf(account), token, account.credentials.proxy);
          if (!project) throw new Error('this Google account has no Code Assist project: set its projectId');
          await deps.accounts.update(account.id, { options: { projectId: project } });
          deps.log.info('code assist project found', { accountId: account.id, projectId: project });
          return project;
        })();
        found.set(account.id, pending);
        // A failure is tried again by a later request, not remembered.
        pending.catch(() => found.delete(account.id));
      }
      return pending;
    },
  };
}
