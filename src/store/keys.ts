import type { AccountId, ApiKeyId } from '../ids.js';

/**
 * Every Redis key and channel the product uses is built here, and nowhere else.
 *
 * Names follow the project we replace, with its braces kept literally as Redis Cluster hash tags:
 * `usage:daily:{k_abc}:2026-11-27`. Everything that belongs to one API key carries `{<keyId>}`
 * and everything that belongs to one account carries `{<accountId>}`, so one request's writes
 * for a key (or an account) land in one slot and go out as one Lua call. Global keys (indexes,
 * the hash → id map) are few and read through caches.
 */
export interface KeySpace {
  readonly prefix: string;

  // relay API keys
  apiKey(id: ApiKeyId): string;
  apiKeyHashMap(): string;
  apiKeyIndex(): string;
  /** Deleted keys whose usage still counts in deployment reports (hash: id → {name, deletedAt}). */
  apiKeyRetired(): string;
  /** Refused relay keys from one client address in the current window (string counter with a TTL). */
  apiKeyFailures(address: string): string;

  // upstream accounts
  account(id: AccountId): string;
  accountIndex(): string;
  /** Deleted accounts whose usage still counts in reports (hash: id → {name, platform, deletedAt}). */
  accountRetired(): string;
  /** Cooldowns, unauthorized mark and breaker state, shared by every worker and node. */
  accountHealth(id: AccountId): string;
  /** In-flight leases on the account (sorted set: member request id, score lease expiry). */
  accountLeases(id: AccountId): string;
  /** Each worker's published in-flight count and last pick of the account (hash: worker → value). */
  accountLoad(id: AccountId): string;
  group(id: string): string;
  /** Held while an account's OAuth tokens are refreshed (one refresher at a time, deployment-wide). */
  oauthLock(id: AccountId): string;
  /** A pending OAuth authorization (PKCE verifier and state), for 10 minutes. */
  oauthSession(id: string): string;
  groupIndex(): string;

  // limits of an API key
  keyLeases(id: ApiKeyId): string;
  keyWindow(id: ApiKeyId): string;
  keyUsageWeekly(id: ApiKeyId, week: string): string;
  /** Sticky session → account mapping, per key. */
  sticky(id: ApiKeyId, sessionHash: string): string;

  // usage of an API key
  keyUsageTotal(id: ApiKeyId): string;
  keyUsageDaily(id: ApiKeyId, day: string): string;
  keyUsageMonthly(id: ApiKeyId, month: string): string;
  keyUsageHourly(id: ApiKeyId, hour: string): string;
  keyUsageModelDaily(id: ApiKeyId, model: string, day: string): string;
  keyUsageModelTotal(id: ApiKeyId, model: string): string;
  keyUsageModels(id: ApiKeyId): string;
  keyUsageRecords(id: ApiKeyId): string;
  keyUsageApplied(id: ApiKeyId, batchId: string): string;

  // usage of an upstream account
  accountUsageTotal(id: AccountId): string;
  accountUsageDaily(id: AccountId, day: string): string;
  accountUsageMonthly(id: AccountId, month: string): string;
  accountUsageHourly(id: AccountId, hour: string): string;
  accountUsageModelDaily(id: AccountId, model: string, day: string): string;
  accountUsageModelTotal(id: AccountId, model: string): string;
  accountUsageModels(id: AccountId): string;
  accountUsageApplied(id: AccountId, batchId: string): string;

  // probes and passive health
  /**
   * Real traffic of every account in one minute (hash: `<id>|n`, `<id>|err`, `<id>|ttfb_ms`,
   * `<id>|ttfb_n`), kept about 2 hours. One key per minute: each worker's flush is one write.
   */
  accountTraffic(minuteMs: number): string;
  /** Held while one prober probes the account (SET NX PX): one probe of it at a time, deployment-wide. */
  probeLock(id: AccountId): string;
  /** The account's probe counters: failures and successes in a row, last probe, last automatic re-enable. */
  probeState(id: AccountId): string;
  /** Its recent probes (sorted set: JSON by epoch ms; 7 days, capped). */
  probeHistory(id: AccountId): string;
  /** What its probes consumed, ever (hash: probes, tokens by kind, costPico). */
  probeTotals(id: AccountId): string;

  // administration
  adminCredentials(): string;
  adminSession(tokenHash: string): string;
  adminLoginFailures(subject: string): string;

  // pricing overrides written by `crs pricing refresh`
  pricingTable(): string;

  /** Redis stream of account and limit events (read by the alert engine). */
  events(): string;

  // the deployment's own history and nodes (docs/OBSERVABILITY.md)
  /** Deployment-wide per-minute rollup; with `node`, that node's (same slot: one write for both). */
  metricsMinute(minuteMs: number, node?: string): string;
  metricsMinuteApplied(minuteMs: number, batchId: string): string;
  metricsHour(hourMs: number, node?: string): string;
  metricsHourApplied(hourMs: number, batchId: string): string;
  /** A node's heartbeat record. */
  nodeStatus(node: string): string;
  /** Every node by its last heartbeat (sorted set: member node id, score epoch ms). */
  nodeIndex(): string;

  // periodic jobs and the alert engine: one hash tag, so a fenced write checks the lease in the same slot
  /** The jobs lease: `<node>|<fencing token>` of the primary that runs the periodic jobs. */
  jobsLease(): string;
  /** Counter handing out fencing tokens, one per lease taken. */
  jobsFence(): string;
  /** Alert states (hash: fingerprint → JSON). */
  alertStates(): string;
  /** Transitions waiting for their rule's group window (hash: rule|kind → JSON). */
  alertGroups(): string;
  /** Notifications to send (list of JSON), and the ones being sent now. */
  alertOutbox(): string;
  alertSending(): string;
  /** Recent alert transitions, newest first (list, capped). */
  alertHistory(): string;
  /** The console channel: recent messages, newest first (list, capped). */
  alertInbox(): string;
  /** Delivery log, newest first (list, capped). */
  alertDeliveries(): string;
  /** Channels (hash: id → JSON, secrets encrypted). */
  alertChannels(): string;
  /** Changes to the shipped rules made through the admin API (hash: rule id → JSON). */
  alertRuleOverrides(): string;
  /** Silences (hash: id → JSON). */
  alertSilences(): string;
  /** Messages sent through a channel in one minute (deployment-wide rate limit). */
  alertRate(channelId: string, minuteMs: number): string;
  /** Whether one outbox item was sent (`claimed`, `sent`, `failed`): each goes out once. */
  alertSent(itemId: string): string;
  /** Scheduled reports (hash: daily | weekly | monthly → JSON); the same tag, so a send is one fenced write. */
  reportSchedules(): string;
  /** That one period's report went to one channel (value: the message id), kept past the next period. */
  reportSent(kind: string, period: string, channelId: string): string;
  /** Admins' "send the last complete period now" requests, for the lease holder (list of JSON). */
  reportRequests(): string;

  // security signals, counted by workers and read by the alert engine
  /** Refused relay keys per client address in one minute (hash: address → count). */
  securityBadKeys(minuteMs: number): string;
  /** Failed admin logins per client address in one minute (hash: address → count). */
  securityAdminFailures(minuteMs: number): string;
  /** Addresses a relay key was used from in one hour (HyperLogLog). */
  securityKeyAddresses(id: ApiKeyId, hourMs: number): string;
  /** Relay keys used in one hour (set), so the engine reads only those. */
  securityKeysSeen(hourMs: number): string;

  /** Pub/sub channel carrying cache invalidations to every worker of every node. */
  invalidationChannel(): string;
}

/** Lifetimes of time-bucketed usage keys, in seconds. Totals and per-model totals never expire. */
export const USAGE_TTL = {
  hourly: 8 * 86_400,
  daily: 400 * 86_400,
  monthly: 3 * 365 * 86_400,
  weekly: 120 * 86_400,
  modelDaily: 400 * 86_400,
  records: 90 * 86_400,
  appliedMarker: 86_400,
  metricsMinute: 48 * 3_600,
  metricsHour: 90 * 86_400,
} as const;

export function createKeySpace(prefix = ''): KeySpace {
  const p = prefix;
  return {
    prefix,
    apiKey: (id) => `${p}apikey:{${id}}`,
    apiKeyHashMap: () => `${p}apikey:hash_map`,
    apiKeyIndex: () => `${p}apikey:index`,
    apiKeyRetired: () => `${p}apikey:retired`,

    account: (id) => `${p}account:{${id}}`,
    accountIndex: () => `${p}account:index`,
    accountRetired: () => `${p}account:retired`,
    accountHealth: (id) => `${p}account_health:{${id}}`,
    accountLeases: (id) => `${p}account_inflight:{${id}}`,
    accountLoad: (id) => `${p}account_load:{${id}}`,
    group: (id) => `${p}group:{${id}}`,
    oauthLock: (id) => `${p}oauth_lock:{${id}}`,
    oauthSession: (id) => `${p}oauth_session:${id}`,
    groupIndex: () => `${p}group:index`,

    keyLeases: (id) => `${p}concurrency:{${id}}`,
    keyWindow: (id) => `${p}rate_limit:{${id}}`,
    keyUsageWeekly: (id, week) => `${p}usage:weekly:{${id}}:${week}`,
    sticky: (id, hash) => `${p}sticky:{${id}}:${hash}`,

    keyUsageTotal: (id) => `${p}usage:{${id}}`,
    keyUsageDaily: (id, day) => `${p}usage:daily:{${id}}:${day}`,
    keyUsageMonthly: (id, month) => `${p}usage:monthly:{${id}}:${month}`,
    keyUsageHourly: (id, hour) => `${p}usage:hourly:{${id}}:${hour}`,
    keyUsageModelDaily: (id, model, day) => `${p}usage:{${id}}:model:daily:${model}:${day}`,
    keyUsageModelTotal: (id, model) => `${p}usage:{${id}}:model:alltime:${model}`,
    keyUsageModels: (id) => `${p}usage:{${id}}:models`,
    keyUsageRecords: (id) => `${p}usage:records:{${id}}`,
    keyUsageApplied: (id, batch) => `${p}usage:applied:{${id}}:${batch}`,

    accountUsageTotal: (id) => `${p}account_usage:{${id}}`,
    accountUsageDaily: (id, day) => `${p}account_usage:daily:{${id}}:${day}`,
    accountUsageMonthly: (id, month) => `${p}account_usage:monthly:{${id}}:${month}`,
    accountUsageHourly: (id, hour) => `${p}account_usage:hourly:{${id}}:${hour}`,
    accountUsageModelDaily: (id, model, day) => `${p}account_usage:model:daily:{${id}}:${model}:${day}`,
    accountUsageModelTotal: (id, model) => `${p}account_usage:model:alltime:{${id}}:${model}`,
    accountUsageModels: (id) => `${p}account_usage:models:{${id}}`,
    accountUsageApplied: (id, batch) => `${p}account_usage:applied:{${id}}:${batch}`,
    accountTraffic: (ms) => `${p}probe:traffic:${ms}`,
    probeLock: (id) => `${p}probe:lock:{${id}}`,
    probeState: (id) => `${p}probe:state:{${id}}`,
    probeHistory: (id) => `${p}probe:history:{${id}}`,
    probeTotals: (id) => `${p}probe:totals:{${id}}`,

    adminCredentials: () => `${p}admin:credentials`,
    adminSession: (tokenHash) => `${p}admin:session:${tokenHash}`,
    adminLoginFailures: (subject) => `${p}admin:login_failures:${subject}`,
    apiKeyFailures: (address) => `${p}apikey:failures:${address}`,

    pricingTable: () => `${p}pricing:table`,
    events: () => `${p}events`,
    jobsLease: () => `${p}jobs:{alerts}:lease`,
    jobsFence: () => `${p}jobs:{alerts}:fence`,
    alertStates: () => `${p}alerts:{alerts}:state`,
    alertGroups: () => `${p}alerts:{alerts}:groups`,
    alertOutbox: () => `${p}alerts:{alerts}:outbox`,
    alertSending: () => `${p}alerts:{alerts}:sending`,
    alertHistory: () => `${p}alerts:{alerts}:history`,
    alertInbox: () => `${p}alerts:{alerts}:inbox`,
    alertDeliveries: () => `${p}alerts:{alerts}:deliveries`,
    alertChannels: () => `${p}alerts:{alerts}:channels`,
    alertRuleOverrides: () => `${p}alerts:{alerts}:rules`,
    alertSilences: () => `${p}alerts:{alerts}:silences`,
    alertRate: (channelId, minuteMs) => `${p}alerts:{alerts}:rate:${channelId}:${minuteMs}`,
    alertSent: (itemId) => `${p}alerts:{alerts}:sent:${itemId}`,
    reportSchedules: () => `${p}reports:{alerts}:schedules`,
    reportSent: (kind, period, channelId) => `${p}reports:{alerts}:sent:${kind}:${period}:${channelId}`,
    reportRequests: () => `${p}reports:{alerts}:requests`,
    securityBadKeys: (minuteMs) => `${p}security:bad_keys:${minuteMs}`,
    securityAdminFailures: (minuteMs) => `${p}security:admin_failures:${minuteMs}`,
    securityKeyAddresses: (id, hourMs) => `${p}security:key_addresses:{${id}}:${hourMs}`,
    securityKeysSeen: (hourMs) => `${p}security:keys_seen:${hourMs}`,

    metricsMinute: (ms, node) => `${p}system:metrics:minute:{${ms}}${node ? `:${node}` : ''}`,
    metricsMinuteApplied: (ms, batch) => `${p}system:metrics:minute:{${ms}}:applied:${batch}`,
    metricsHour: (ms, node) => `${p}system:metrics:hour:{${ms}}${node ? `:${node}` : ''}`,
    metricsHourApplied: (ms, batch) => `${p}system:metrics:hour:{${ms}}:applied:${batch}`,
    nodeStatus: (node) => `${p}health:status:${node}`,
    nodeIndex: () => `${p}health:nodes`,

    invalidationChannel: () => `${p}crs:invalidate`,
  };
}
