import type { HealthService } from '../accounts/health.js';
import type { Account, AccountInput, AccountService } from '../accounts/service.js';
import { accountTypeSpec } from '../providers/registry.js';

/** Whether a patch gives the account a new secret (an API key, a token pair…), not merely a new setting. */
export function rotatesCredentials(account: Pick<Account, 'platform' | 'type'>, patch: AccountInput): boolean {
  const secrets = new Set(
    accountTypeSpec(account.platform, account.type)
      ?.fields.filter((f) => f.secret)
      .map((f) => f.name),
  );
  return Object.keys(patch.credentials ?? {}).some((name) => secrets.has(name));
}

/**
 * Applies an account PATCH, the same for the admin API and `crs`. A new secret clears the
 * unauthorized mark and the breaker: they judged the old credential, not the new one (cooldowns
 * stay, since rate limits belong to the upstream account, whatever its key).
 */
export async function updateAccount(
  deps: { accounts: AccountService; health: HealthService },
  current: Account,
  patch: AccountInput,
): Promise<Account | null> {
  const account = await deps.accounts.update(current.id, patch);
  if (account && rotatesCredentials(current, patch)) await deps.health.credentialsRotated(current.id);
  return account;
}
