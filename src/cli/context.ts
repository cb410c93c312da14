import { createAccountService, type AccountService } from '../accounts/service.js';
import { createAdminAuth, type AdminAuth } from '../admin/auth.js';
import type { Config } from '../config/index.js';
import { createApiKeyService, type ApiKeyService } from '../keys/service.js';
import { openStore, type Store } from '../store/index.js';
import { bucketer } from '../usage/buckets.js';
import { createUsageQueries, type UsageQueries } from '../usage/queries.js';
import { systemClock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { createSecrets, type Secrets } from '../util/secrets.js';
import { checkReachable, cliEncryptionKey, describeTarget, resolveRedisTarget } from './connect.js';
import { CliError } from './errors.js';

/**
 * What commands use, built on first use: a command that needs no Redis (help, a pricing dry
 * run) opens no connection, and one that needs no secrets needs no encryption key.
 */
export interface CliContext {
  readonly config: Config;
  readonly log: Logger;
  store(): Promise<Store>;
  keys(): Promise<ApiKeyService>;
  accounts(): Promise<AccountService>;
  auth(): Promise<AdminAuth>;
  usage(): Promise<UsageQueries>;
  /** Closes the Redis connections, if any were opened. */
  close(): Promise<void>;
}

export function createCliContext(config: Config, log: Logger): CliContext {
  let opening: Promise<Store> | undefined;
  let secrets: Secrets | undefined;

  const store = () => {
    opening ??= (async () => {
      const target = resolveRedisTarget(config);
      await checkReachable(target);
      try {
        return await openStore({ target, keyPrefix: config.redisKeyPrefix, log, name: 'crs-cli' });
      } catch (err) {
        throw new CliError(`Cannot connect to ${describeTarget(target)}: ${(err as Error).message}`, 1, { cause: err });
      }
    })();
    return opening;
  };
  const getSecrets = () => (secrets ??= createSecrets(cliEncryptionKey(config, log)));
  // Redis first: without a relay running there is neither Redis nor key, and "start the relay
  // first" is the message that helps.
  const deps = async () => {
    const opened = await store();
    return { store: opened, secrets: getSecrets(), clock: systemClock };
  };

  return {
    config,
    log,
    store,
    keys: async () => createApiKeyService({ ...(await deps()), cacheTtlMs: config.cacheTtlMs }),
    accounts: async () => createAccountService({ ...(await deps()), log, cacheTtlMs: config.cacheTtlMs }),
    auth: async () => createAdminAuth({ ...(await deps()), sessionTtlMs: config.adminSessionTtlMs }),
    usage: async () => createUsageQueries({ store: await store(), bucketsOf: bucketer(config.statsTimezone), now: () => systemClock.now() }),
    async close() {
      if (!opening) return;
      const s = await opening.catch(() => undefined);
      await s?.close();
    },
  };
}
