import cluster from 'node:cluster';
import uWS from 'uWebSockets.js';
import { createGroupService } from '../accounts/groups.js';
import { BREAKER_RESET, createHealthService } from '../accounts/health.js';
import { createTokenManager } from '../accounts/oauth/tokens.js';
import { createAccountService } from '../accounts/service.js';
import { createTrafficRecorder } from '../accounts/traffic.js';
import { createEventSink } from '../events/index.js';
import { createSecurityCounters } from '../events/security.js';
import { alertServiceFor } from '../alerts/service.js';
import { createLeases } from '../leases/index.js';
import { createLimitService } from '../limits/index.js';
import { windowBumps } from '../limits/window.js';
import { createBreakers } from '../scheduler/breakers.js';
import { createLoadView } from '../scheduler/load.js';
import { createStickySessions } from '../scheduler/sticky.js';
import { createStrategyState } from '../scheduler/strategies.js';
import { createAdminAuth } from '../admin/auth.js';
import type { Config } from '../config/index.js';
import { requestIdFactory, type AccountId } from '../ids.js';
import { createApiKeyService } from '../keys/service.js';
import { createKeyGuard } from '../keys/guard.js';
import { proberFor } from '../probes/runtime.js';
import { createProviderRegistry } from '../providers/registry.js';
import { createUpstream } from '../upstream/client.js';
import type { Trace } from '../relay/trace.js';
import type { RelayDeps } from '../relay/types.js';
import { createScheduler } from '../scheduler/index.js';
import { openStore, pingWithin, type Store } from '../store/index.js';
import { bucketer } from '../usage/buckets.js';
import { createPricingSource } from '../usage/pricing-source.js';
import { createUsageQueries } from '../usage/queries.js';
import { createUsageRecorder } from '../usage/recorder.js';
import { createMinuteHistory } from '../usage/history.js';
import { metricsFor, type RelayMetrics } from '../metrics/index.js';
import { metricSources } from './metric-sources.js';
import { systemClock, type Clock } from '../util/clock.js';
import { createLogger, type Logger } from '../util/log.js';
import { createSecrets } from '../util/secrets.js';
import { VERSION } from '../version.js';
import { createWorkPool } from '../work/pool.js';
import { createReports } from '../reports/index.js';
import { createExporter } from '../reports/export.js';
import { buildApp, type RelayApp } from './app.js';
import { clientAddressResolver } from './client-address.js';

/** A running relay: one uWS app with its Redis connections. A cluster worker runs one; tests run several. */
export interface RelayInstance {
  readonly port: number;
  readonly metrics: RelayMetrics;
  readonly store: Store;
  readonly deps: RelayDeps;
  readonly app: RelayApp;
  /**
   * Graceful stop: stop accepting, let in-flight requests and streams finish (up to
   * `timeoutMs`), flush usage writes, close connections. Resolves true if nothing was cut.
   */
  drain(timeoutMs: number): Promise<boolean>;
}

export async function startInstance(
  config: Config,
  opts: {
    log?: Logger;
    clock?: Clock;
    name?: string;
    /** A worker passes its own (it answers the primary's scrapes); otherwise one is made here. */
    metrics?: RelayMetrics;
    /** The node's whole scrape, for GET /metrics on the main port (a worker asks its primary). */
    nodeScrape?: () => Promise<string | null>;
  } = {},
): Promise<RelayInstance> {
  if (!config.encryptionKey) throw new Error('ENCRYPTION_KEY is not resolved (the primary loads or generates it)');
  const log = opts.log ?? createLogger(config.logLevel, { pid: process.pid }, undefined, config.logFormat);
  const clock = opts.clock ?? systemClock;
  const store = await openStore({
    target: config.redis,
    keyPrefix: config.redisKeyPrefix,
    log,
    name: opts.name ?? 'crs',
  });
  const metrics = opts.metrics ?? metricsFor(config);
  const secrets = createSecrets(config.encryptionKey);
  const keys = createApiKeyService({ store, secrets, clock, cacheTtlMs: config.cacheTtlMs });
  const accounts = createAccountService({ store, secrets, clock, log, cacheTtlMs: config.cacheTtlMs });
  const pricing = await createPricingSource({ store, log });
  const bucketsOf = bucketer(config.statsTimezone);
  const recorder = createUsageRecorder({
    store,
    log,
    timeZone: config.statsTimezone,
    recordsKept: config.usageRecordsKept,
    keyBumps: windowBumps(store.keys),
    metrics,
  });
  const upstream = createUpstream({
    connectTimeoutMs: config.upstreamConnectTimeoutMs,
    timeoutMs: config.upstreamTimeoutMs,
  });

  const groups = createGroupService({ store, clock, cacheTtlMs: config.cacheTtlMs });
  const health = createHealthService({ store, clock, cacheTtlMs: config.cacheTtlMs });
  const events = createEventSink({ store, clock, log });
  const platformOf = (id: AccountId) =>
    accounts.get(id).then(
      (a) => a?.platform ?? 'unknown',
      () => 'unknown',
    );
  const leases = createLeases({ store, clock, log, leaseMs: config.leaseTtlMs });
  const breakers = createBreakers(
    {
      errorPercent: config.breakerErrorPercent,
      volume: config.breakerVolume,
      resetMs: config.breakerResetMs,
      windowMs: config.breakerWindowMs,
    },
    {
      onOpen: (id, openUntil) => {
        void platformOf(id).then((p) => metrics.transition(p, 'breaker_open', 'error_rate'));
        health
          .breakerOpened(id, openUntil)
          .catch((err: unknown) => log.warn('breaker state not shared', { accountId: id, err }));
        events.emit('account.breaker_open', { accountId: id, until: openUntil });
        log.warn('account out of rotation', {
          accountId: id,
          reason: 'breaker_open',
          until: new Date(openUntil).toISOString(),
        });
      },
      onClose: (id) => {
        void platformOf(id).then((p) => metrics.transition(p, 'routable', 'breaker_closed'));
        health.recovered(id).catch((err: unknown) => log.warn('breaker state not shared', { accountId: id, err }));
        events.emit('account.breaker_closed', { accountId: id });
      },
    },
    () => clock.now(),
  );
  store.bus.on(BREAKER_RESET, (id) => breakers.reset(id as AccountId));
  const tokens = createTokenManager({ store, accounts, health, events, clock, log });
  const providers = createProviderRegistry({ config, clock, log, tokens, http: upstream, accounts });
  const load = createLoadView({ store, clock, log });
  const scheduler = createScheduler({
    store,
    accounts,
    groups,
    health,
    breakers,
    load,
    sticky: createStickySessions({
      store,
      clock,
      ttlMs: config.stickyTtlMs,
      renewBelowMs: config.stickyRenewBelowMs,
      cacheTtlMs: config.cacheTtlMs,
    }),
    strategies: createStrategyState(),
    leases,
    clock,
    defaultStrategy: config.schedulerStrategy,
    lightLoadInFlight: config.lightLoadInFlight,
  });

  let inFlight = () => 0;
  const history = createMinuteHistory({
    store,
    node: config.nodeId,
    worker: String(process.pid),
    log,
    inFlight: () => inFlight(),
  });
  const traffic = createTrafficRecorder({ store, clock, log });
  // This worker's prober answers POST /admin/accounts/:id/probe; ticks run in the primary (src/jobs/).
  const prober = proberFor(config, {
    store,
    accounts,
    health,
    events,
    providers,
    upstream,
    pricing: () => pricing.current(),
    clock,
    log,
  });

  const work = createWorkPool({ maxThreads: config.workThreads });
  const inProgress = new Set<Trace>();
  const security = createSecurityCounters({ store, log });
  const deps: RelayDeps = {
    inProgress,
    keys,
    accounts,
    providers,
    scheduler,
    limits: createLimitService({ store, clock, bucketsOf, leases }),
    health,
    breakers,
    events,
    policy: {
      maxAttempts: config.maxAttempts,
      rateLimitCooldownMs: config.rateLimitCooldownMs,
      overloadedCooldownMs: config.overloadedCooldownMs,
      serverErrorCooldownMs: config.serverErrorCooldownMs,
      maxCooldownMs: config.maxCooldownMs,
    },
    upstream,
    recorder,
    metrics,
    history,
    traffic,
    security,
    keyGuard: createKeyGuard(store, {
      limit: config.keyFailureLimit,
      windowMs: config.keyFailureWindowMs,
      exempt: config.trustedProxies,
    }),
    pricing: () => pricing.current(),
    clock,
    log,
    nextRequestId: requestIdFactory(),
    bodyLimitBytes: config.bodyLimitBytes,
    work,
  };

  const reportDeps = {
    store,
    keys,
    accounts,
    groups,
    work,
    redisTarget: config.redis,
    timeZone: config.statsTimezone,
    clock,
  };
  const auth = createAdminAuth({ store, secrets, clock, sessionTtlMs: config.adminSessionTtlMs });
  const relayApp = buildApp({
    relay: deps,
    admin: {
      auth,
      keys,
      accounts,
      groups,
      health,
      limits: deps.limits,
      scheduler,
      providers,
      prober,
      alerts: alertServiceFor(config, { store, secrets, clock }),
      security,
      events,
      store,
      clock,
      usage: createUsageQueries({ store, bucketsOf, now: () => clock.now() }),
      work,
      reports: createReports(reportDeps),
      exporter: createExporter({ ...reportDeps, prefix: config.redisKeyPrefix }),
    },
    clientAddressOf: clientAddressResolver(config.trustProxy, config.trustedProxies),
    metrics: config.metricsToken
      ? {
          token: config.metricsToken,
          contentType: metrics.registry.contentType,
          scrape: opts.nodeScrape ?? (() => metrics.registry.metrics()),
        }
      : undefined,
    health: async () => {
      let redis: { status: 'up' | 'down'; latencyMs?: number; error?: string };
      try {
        const latency = await pingWithin(store.redis, 1000);
        redis = { status: 'up', latencyMs: Math.round(latency * 1000) / 1000 };
      } catch (err) {
        redis = { status: 'down', error: (err as Error).message };
      }
      const body = {
        status: redis.status === 'up' ? 'ok' : 'unavailable',
        version: VERSION,
        redis: { ...redis, mode: config.redis.kind === 'cluster' ? 'cluster' : 'standalone' },
        workers: { configured: config.workers, worker: cluster.worker?.id ?? 0, pid: process.pid },
        inFlight: relayApp.inFlight,
        pendingUsageWrites: recorder.pending,
        uptimeSeconds: Math.round(process.uptime()),
      };
      return { status: redis.status === 'up' ? 200 : 503, body };
    },
  });

  inFlight = () => relayApp.inFlight;
  metrics.watch(
    metricSources({
      store,
      keys,
      accounts,
      groups,
      scheduler,
      inFlight,
      inProgress,
      usagePending: () => recorder.pending,
    }),
  );

  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    relayApp.app.listen(config.host, config.port, (socket) => {
      if (socket) resolve(socket);
      else reject(new Error(`cannot listen on ${config.host}:${config.port}`));
    });
  });
  const port = uWS.us_socket_local_port(listenSocket);

  let drained: Promise<boolean> | undefined;
  return {
    port,
    metrics,
    store,
    deps,
    app: relayApp,
    drain(timeoutMs) {
      drained ??= (async () => {
        const deadline = Date.now() + timeoutMs;
        relayApp.startDraining();
        uWS.us_listen_socket_close(listenSocket);
        const idleWithin = (ms: number) =>
          Promise.race([
            relayApp.idle().then(() => true),
            new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
          ]);
        const finished = await idleWithin(timeoutMs);
        let closed = false;
        const closeApp = () => {
          if (!closed) (relayApp.app as unknown as { close(): void }).close();
          closed = true;
        };
        if (!finished) {
          // End what is left, telling each client why; each still books what its upstream reported.
          log.warn('drain timeout: ending in-flight requests', { inFlight: relayApp.inFlight });
          relayApp.interruptAll();
          if (!(await idleWithin(2_000))) {
            closeApp();
            await idleWithin(2_000);
          }
        }
        const flushed = await recorder.flush(Math.max(1_000, deadline - Date.now()));
        await history.stop();
        await traffic.stop();
        await security.stop();
        await work.close();
        if (!flushed) log.error('usage writes still pending at shutdown', { pending: recorder.pending });
        closeApp();
        leases.stop();
        load.stop();
        await upstream.close().catch(() => {});
        await store.close();
        return finished && flushed;
      })();
      return drained;
    },
  };
}
