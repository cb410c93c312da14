import * as accounts from './accounts.js';
import * as nodes from './nodes.js';
import * as security from './security.js';
import * as traffic from './traffic.js';
import type { SignalName } from '../signal-names.js';
import type { Signal } from './types.js';

export type { Signal, SignalContext } from './types.js';

export const SIGNALS: Readonly<Record<SignalName, Signal>> = {
  error_ratio: traffic.errorRatio,
  ttfb_p95_ms: traffic.ttfbP95,
  requests_hanging: nodes.requestsHanging,
  event_loop_lag_p99_ms: nodes.eventLoopLagP99,
  cpu_ratio: nodes.cpuRatio,
  memory_used_ratio: nodes.memoryUsedRatio,
  account_unauthorized: accounts.accountUnauthorized,
  account_refresh_failed: accounts.accountRefreshFailed,
  account_rate_limited: accounts.accountRateLimited,
  account_auto_disabled: accounts.accountAutoDisabled,
  pool_available_ratio: accounts.poolAvailableRatio,
  pool_available: accounts.poolAvailable,
  account_expires_in_days: accounts.accountExpiresInDays,
  key_budget_used: traffic.keyBudgetUsed,
  cost_vs_7d_average: traffic.costVs7dAverage,
  tokens_vs_24h_average: traffic.tokensVs24hAverage,
  usage_write_failures: nodes.usageWriteFailures,
  redis_down: nodes.redisDown,
  redis_latency_ms: nodes.redisLatency,
  redis_memory_ratio: nodes.redisMemoryRatio,
  disk_free_ratio: nodes.diskFreeRatio,
  node_heartbeat_age_s: nodes.nodeHeartbeatAge,
  worker_restarts: nodes.workerRestarts,
  invalid_keys_per_address: security.invalidKeysPerAddress,
  admin_login_failures: security.adminLoginFailures,
  key_addresses_per_hour: security.keyAddressesPerHour,
};

export { SIGNAL_NAMES, type SignalName } from '../signal-names.js';
