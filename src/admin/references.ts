import type { GroupInput, GroupService } from '../accounts/groups.js';
import type { HealthService } from '../accounts/health.js';
import type { AccountService } from '../accounts/service.js';
import type { AccountId } from '../ids.js';
import type { ApiKeyInput, ApiKeyService } from '../keys/service.js';
import { invalid } from './validate.js';

/**
 * References between keys, groups and accounts, kept valid the same way by every front door (the
 * admin API and `crs`): a key may bind only accounts and groups that exist, a group holds only
 * accounts of its platform, and deleting an account or a group leaves no reference behind.
 */

/** Bindings must name accounts and groups that exist. */
export async function checkKeyBindings<T extends ApiKeyInput>(
  deps: { accounts: AccountService; groups: GroupService },
  input: T,
): Promise<T> {
  if (input.accountIds?.length) {
    const known = new Set((await deps.accounts.snapshot()).map((a) => a.id as string));
    const unknown = input.accountIds.filter((id) => !known.has(id));
    if (unknown.length > 0) throw invalid(`accountIds: no such account: ${unknown.join(', ')}.`);
  }
  if (input.groupIds?.length) {
    const groups = await deps.groups.snapshot();
    const unknown = input.groupIds.filter((id) => !groups.has(id));
    if (unknown.length > 0) throw invalid(`groupIds: no such group: ${unknown.join(', ')}.`);
  }
  return input;
}

/** Members must exist and be of the group's platform. */
export async function checkGroupMembers<T extends GroupInput>(
  deps: { accounts: AccountService },
  input: T,
  platform: string,
): Promise<T> {
  if (!input.accountIds?.length) return input;
  const byId = new Map((await deps.accounts.snapshot()).map((a) => [a.id as string, a]));
  const bad = input.accountIds.filter((id) => byId.get(id)?.platform !== platform);
  if (bad.length > 0) throw invalid(`accountIds: not ${platform} accounts: ${bad.join(', ')}.`);
  return input;
}

/** After an account is deleted: groups and key bindings forget it, and its health state goes. */
export async function forgetAccount(
  deps: { groups: GroupService; keys: ApiKeyService; health: HealthService },
  id: AccountId,
): Promise<void> {
  for (const g of await deps.groups.list()) {
    if (g.accountIds.includes(id)) await deps.groups.update(g.id, { accountIds: g.accountIds.filter((a) => a !== id) });
  }
  for (const k of await deps.keys.list()) {
    if (k.accountIds.includes(id)) await deps.keys.update(k.id, { accountIds: k.accountIds.filter((a) => a !== id) });
  }
  await deps.health.reset(id);
}

/** After a group is deleted: keys bound to it forget it. */
export async function forgetGroup(deps: { keys: ApiKeyService }, id: string): Promise<void> {
  for (const k of await deps.keys.list()) {
    if (k.groupIds.includes(id)) await deps.keys.update(k.id, { groupIds: k.groupIds.filter((g) => g !== id) });
  }
}
