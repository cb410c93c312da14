import { alertServiceFor, type AlertService } from '../alerts/service.js';
import { createGroupService, type GroupService } from '../accounts/groups.js';
import { createHealthService, type HealthService } from '../accounts/health.js';
import { createAccountService, type Account, type AccountService } from '../accounts/service.js';
import { createAdminAuth, type AdminAuth } from '../admin/auth.js';
import type { Config } from '../config/index.js';
import { createApiKeyService, type ApiKeyService } from '../keys/service.js';
import { createLeases, type Leases } from '../leases/index.js';
import { createLimitService, type LimitService } from '../limits/index.js';
import { createExporter, type Exporter } from '../reports/export.js';
import { createReports, type Reports } from '../reports/index.js';
import type { ReportDeps } from '../reports/deps.js';
import { explainAccount, type Explanation } from '../scheduler/explain.js';
import { openStore, type Store } from '../store/index.js';
import { bucketer } from '../usage/buckets.js';
import { createUsageQueries, type UsageQueries } from '../usage/queries.js';
import { systemClock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { createWorkPool, type WorkPool } from '../work/pool.js';
import { createSecrets, type Secrets } from '../util/secrets.js';
import { checkReachable, cliEncryptionKey, describeTarget, resolveRedisTarget } from './connect.js';
import { CliError } from './errors.js';

/**
 * What commands use, built on first use (and once): a command that needs no Redis (help, a
 * pricing dry run) opens no connection, and one that needs no secrets needs no encryption key.
 */
export interface CliContext {
  readonly config: Config;
  readonly log: Logger;
  store(): Promise<Store>;
  keys(): Promise<ApiKeyService>;
  accounts(): Promise<AccountService>;
  groups(): Promise<GroupService>;
  health(): Promise<HealthService>;
  /** Per-key limits; the CLI only reads their current use. */
  limits(): Promise<LimitService>;
  /** Whether an account is routable now, and why not (as the admin API says it). */
  explain(): Promise<(account: Account, model?: string) => Promise<Explanation>>;
  auth(): Promise<AdminAuth>;
  usage(): Promise<UsageQueries>;
  /** Alert rules, channels, silences and what the engine did. */
  alerts(): Promise<AlertService>;
  /** Usage over time, rankings and trends (large sums on a thread pool of its own). */
  reports(): Promise<Reports>;
  /** Streamed exports of usage and records (`crs export`). */
  exporter(): Promise<Exporter>;
  /** Closes the Redis connections, if any were opened. */
  close(): Promise<void>;
}

/** Memoises an async factory: every command gets one instance of each service. */
const once = <T>(make: () => Promise<T>): (() => Promise<T>) => {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
};

export function createCliContext(config: Config, log: Logger): CliContext {
  let opening: Promise<Store> | undefined;
  let secrets: Secrets | undefined;
  let leaseKeeper: Leases | undefined;
  let work: WorkPool | undefined;
  const clock = systemClock;

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
  const getSecrets = () => (secrets ??= createSecrets(cliEncryptionKey(config)));
  // Redis first: without a relay running there is neither Redis nor key, and "start the relay
  // first" is the message that helps.
  const deps = async () => {
    const opened = await store();
    return { store: opened, secrets: getSecrets(), clock };
  };

  const keys = once(async () => createApiKeyService({ ...(await deps()), cacheTtlMs: config.cacheTtlMs }));
  const accounts = once(async () => createAccountService({ ...(await deps()), log, cacheTtlMs: config.cacheTtlMs }));
  const groups = once(async () => createGroupService({ store: await store(), clock, cacheTtlMs: config.cacheTtlMs }));
  const health = once(async () => createHealthService({ store: await store(), clock, cacheTtlMs: config.cacheTtlMs }));
  const leases = once(async () => {
    leaseKeeper = createLeases({ store: await store(), clock, log, leaseMs: config.leaseTtlMs });
    return leaseKeeper;
  });

  const reportDeps = once(async (): Promise<ReportDeps> => {
    const [opened, k, a, g] = await Promise.all([store(), keys(), accounts(), groups()]);
    work ??= createWorkPool({ maxThreads: config.workThreads });
    return {
      store: opened,
      keys: k,
      accounts: a,
      groups: g,
      work,
      redisTarget: resolveRedisTarget(config),
      timeZone: config.statsTimezone,
      clock,
    };
  });

  return {
    config,
    log,
    store,
    keys,
    accounts,
    groups,
    health,
    limits: once(async () =>
      createLimitService({
        store: await store(),
        clock,
        bucketsOf: bucketer(config.statsTimezone),
        leases: await leases(),
      }),
    ),
    // The same judgement as the admin API's (src/scheduler/explain.ts).
    explain: once(async () => {
      const [opened, h] = await Promise.all([store(), health()]);
      const l = await leases();
      return (account: Account, model?: string) =>
        explainAccount({ store: opened, health: h, leases: l, clock }, account, model);
    }),
    auth: once(async () => createAdminAuth({ ...(await deps()), sessionTtlMs: config.adminSessionTtlMs })),
    usage: once(async () =>
      createUsageQueries({ store: await store(), bucketsOf: bucketer(config.statsTimezone), now: () => clock.now() }),
    ),
    alerts: once(async () => alertServiceFor(config, await deps())),
    reports: once(async () => createReports(await reportDeps())),
    exporter: once(async () => createExporter({ ...(await reportDeps()), prefix: config.redisKeyPrefix })),
    async close() {
      leaseKeeper?.stop();
      await work?.close();
      if (!opening) return;
      const s = await opening.catch(() => undefined);
      await s?.close();
    },
  };
}
