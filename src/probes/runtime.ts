import { createHealthService } from '../accounts/health.js';
import { createTokenManager } from '../accounts/oauth/tokens.js';
import { createAccountService } from '../accounts/service.js';
import { createTrafficReader } from '../accounts/traffic.js';
import type { Config } from '../config/index.js';
import { createEventSink } from '../events/index.js';
import { createProviderRegistry } from '../providers/registry.js';
import type { Store } from '../store/index.js';
import { createUpstream } from '../upstream/client.js';
import { createPricingSource } from '../usage/pricing-source.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { createSecrets } from '../util/secrets.js';
import { createProber } from './prober.js';
import type { Prober, ProberDeps } from './types.js';

/** The prober of a process, on the services it already has (a worker's instance, the runtime below). */
export function proberFor(config: Config, parts: Omit<ProberDeps, 'traffic' | 'config' | 'cooldown' | 'node'>): Prober {
  return createProber({
    ...parts,
    traffic: createTrafficReader({ store: parts.store }),
    config: config.probes,
    cooldown: { rateLimitMs: config.rateLimitCooldownMs, maxMs: config.maxCooldownMs },
    node: config.nodeId,
  });
}

/** A prober with everything it stands on, for a process that serves no requests (the primary's jobs, `crs`). */
export interface ProbeRuntime {
  readonly prober: Prober;
  /** Closes the upstream connections it opened (the store is the caller's). */
  close(): Promise<void>;
}

/**
 * Builds the prober the way a worker's instance does (src/server/instance.ts): accounts with
 * their decrypted credentials, the shared health state, the events stream, OAuth tokens refreshed
 * under the account's lock, the providers on an upstream client of its own, the pricing table in
 * force. Needs `config.encryptionKey` resolved (the primary resolves it before it starts jobs).
 */
export async function createProbeRuntime(deps: {
  config: Config;
  store: Store;
  log: Logger;
  clock?: Clock;
}): Promise<ProbeRuntime> {
  const { config, store, log } = deps;
  const clock = deps.clock ?? systemClock;
  if (!config.encryptionKey) throw new Error("ENCRYPTION_KEY is not resolved: probes need the accounts' credentials");
  const secrets = createSecrets(config.encryptionKey);
  const accounts = createAccountService({ store, secrets, clock, log, cacheTtlMs: config.cacheTtlMs });
  const health = createHealthService({ store, clock, cacheTtlMs: config.cacheTtlMs });
  const events = createEventSink({ store, clock, log });
  const tokens = createTokenManager({ store, accounts, health, events, clock, log });
  const upstream = createUpstream({
    connectTimeoutMs: config.upstreamConnectTimeoutMs,
    timeoutMs: config.upstreamTimeoutMs,
  });
  const providers = createProviderRegistry({ config, clock, log, tokens, http: upstream, accounts });
  const pricing = await createPricingSource({ store, log });
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
  return {
    prober,
    close: () => upstream.close().catch(() => {}),
  };
}
