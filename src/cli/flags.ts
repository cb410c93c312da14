import { ACCOUNT_TYPES } from '../providers/registry.js';

/**
 * Which flag sets which admin API field, as data: one row per field, read by the option parser,
 * the body builder (args.ts), the help and the error messages (a validator's `rateLimitRequests:`
 * is shown as `--window-requests:`). Account types add their own fields (from the provider registry).
 */
export type FlagKind =
  /** Passed on as given. */
  | 'text'
  /** `true` or `false`. */
  | 'bool'
  /** An integer; anything else reaches the validator unchanged, to be refused by name. */
  | 'int'
  /** A decimal number (USD); as `int` for anything else. */
  | 'number'
  /** Comma separated; an empty string clears the list. */
  | 'list'
  /** `a=b,c=d`; an empty string clears the map. */
  | 'map'
  /** An ISO date or epoch milliseconds. */
  | 'time';

export interface FieldFlag {
  /** The flag, without its dashes. */
  flag: string;
  /** The admin API field it sets. */
  field: string;
  kind: FlagKind;
  /** Placeholder for the value in the help. */
  value: string;
  help: string;
  /** A word that sets the field to null (`never`, `default`). */
  nullWord?: string;
  /** Accepted by create only (platform, type). */
  createOnly?: boolean;
}

export const KEY_FLAGS: readonly FieldFlag[] = [
  { flag: 'name', field: 'name', kind: 'text', value: 'N', help: 'Name (required to create).' },
  { flag: 'description', field: 'description', kind: 'text', value: 'D', help: 'Free text.' },
  { flag: 'active', field: 'active', kind: 'bool', value: 'true|false', help: 'A disabled key is refused with 401.' },
  {
    flag: 'expires',
    field: 'expiresAt',
    kind: 'time',
    nullWord: 'never',
    value: 'ISO|never',
    help: 'Fixed expiry: 2027-01-31, 2027-01-31T12:00:00Z, epoch ms, or never.',
  },
  {
    flag: 'expiry-mode',
    field: 'expiryMode',
    kind: 'text',
    value: 'fixed|after-first-use',
    help: 'after-first-use: expires --activation-days after its first request.',
  },
  {
    flag: 'activation-days',
    field: 'activationDays',
    kind: 'int',
    value: 'N',
    help: 'Days a key lives after its first use (1..3650).',
  },
  {
    flag: 'permissions',
    field: 'permissions',
    kind: 'list',
    value: 'P,…|all',
    nullWord: 'all',
    help: "Platforms it may use (claude, gemini, openai, azure, bedrock); 'all' = every platform.",
  },
  {
    flag: 'model-allow',
    field: 'modelAllow',
    kind: 'list',
    value: 'GLOB,…|any',
    nullWord: 'any',
    help: "Models it may use, e.g. 'claude-sonnet-*'; 'any' = every model.",
  },
  { flag: 'model-deny', field: 'modelDeny', kind: 'list', value: 'GLOB,…', help: 'Models it may not use.' },
  {
    flag: 'clients',
    field: 'allowedClients',
    kind: 'list',
    value: 'C,…|any',
    nullWord: 'any',
    help: "Clients it may be used from (claude-code, gemini-cli, codex-cli); 'any' = every client.",
  },
  { flag: 'accounts', field: 'accountIds', kind: 'list', value: 'a_…,…', help: 'Dedicated accounts, tried first.' },
  {
    flag: 'groups',
    field: 'groupIds',
    kind: 'list',
    value: 'g_…,…',
    help: 'Account groups, tried after the dedicated accounts.',
  },
  {
    flag: 'pool-fallback',
    field: 'poolFallback',
    kind: 'bool',
    value: 'true|false',
    help: 'With bindings: may fall back to the shared pool (default false).',
  },
  {
    flag: 'concurrency',
    field: 'concurrencyLimit',
    kind: 'int',
    value: 'N',
    help: 'Requests in flight at once; 0 = unlimited.',
  },
  {
    flag: 'concurrency-wait',
    field: 'concurrencyWaitSeconds',
    kind: 'int',
    value: 'SECONDS',
    help: 'When full, wait up to this long for a slot (0..600; 0 = refuse at once).',
  },
  {
    flag: 'window-minutes',
    field: 'rateWindowMinutes',
    kind: 'int',
    value: 'N',
    help: 'Length of the rate window; 0 = no window.',
  },
  {
    flag: 'window-requests',
    field: 'rateLimitRequests',
    kind: 'int',
    value: 'N',
    help: 'Requests per window; 0 = unlimited.',
  },
  {
    flag: 'window-tokens',
    field: 'rateLimitTokens',
    kind: 'int',
    value: 'N',
    help: 'Tokens (input, output, cache) per window; 0 = unlimited.',
  },
  {
    flag: 'window-cost',
    field: 'rateLimitCost',
    kind: 'number',
    value: 'USD',
    help: 'Cost per window; 0 = unlimited.',
  },
  {
    flag: 'daily-cost',
    field: 'dailyCostLimit',
    kind: 'number',
    value: 'USD',
    help: 'Cost per day (STATS_TIMEZONE); 0 = unlimited.',
  },
  {
    flag: 'weekly-cost',
    field: 'weeklyCostLimit',
    kind: 'number',
    value: 'USD',
    help: 'Cost per week (from Monday); 0 = unlimited.',
  },
  {
    flag: 'weekly-family',
    field: 'weeklyCostFamily',
    kind: 'text',
    value: 'FAMILY',
    help: "Count and gate only this model family weekly (e.g. opus); '' = all models.",
  },
  {
    flag: 'total-cost',
    field: 'totalCostLimit',
    kind: 'number',
    value: 'USD',
    help: "Cost over the key's life; 0 = unlimited.",
  },
];

const ACCOUNT_COMMON_FLAGS: readonly FieldFlag[] = [
  {
    flag: 'platform',
    field: 'platform',
    kind: 'text',
    value: 'claude',
    help: 'Platform (create only).',
    createOnly: true,
  },
  {
    flag: 'type',
    field: 'type',
    kind: 'text',
    value: 'api-key',
    help: 'How it authenticates upstream (create only).',
    createOnly: true,
  },
  { flag: 'name', field: 'name', kind: 'text', value: 'N', help: 'Name (required to create).' },
  { flag: 'description', field: 'description', kind: 'text', value: 'D', help: 'Free text.' },
  {
    flag: 'api-key',
    field: 'apiKey',
    kind: 'text',
    value: 'K|-',
    help: 'Upstream API key; - reads it from stdin (hidden on a terminal).',
  },
  {
    flag: 'base-url',
    field: 'baseUrl',
    kind: 'text',
    value: 'URL',
    help: "Defaults to the platform's API (https://api.anthropic.com for claude).",
  },
  { flag: 'priority', field: 'priority', kind: 'int', value: 'P', help: '1..100, lower is preferred (default 50).' },
  {
    flag: 'weight',
    field: 'weight',
    kind: 'int',
    value: 'W',
    help: 'Weight for weighted round robin, 1..1000 (default 1).',
  },
  {
    flag: 'max-concurrency',
    field: 'maxConcurrency',
    kind: 'int',
    value: 'N',
    help: 'Requests in flight at once across all relays; 0 = unlimited.',
  },
  {
    flag: 'models',
    field: 'models',
    kind: 'list',
    value: 'GLOB,…',
    help: "Models it serves, e.g. 'claude-sonnet-*,claude-haiku-*'; '' = all.",
  },
  {
    flag: 'map',
    field: 'modelMapping',
    kind: 'map',
    value: 'REQ=UP,…',
    help: "Sends a requested model upstream under another name; '' clears.",
  },
  {
    flag: 'shared',
    field: 'shared',
    kind: 'bool',
    value: 'true|false',
    help: 'In the shared pool (default true); false = only through bindings and groups.',
  },
  {
    flag: 'backup',
    field: 'backup',
    kind: 'bool',
    value: 'true|false',
    help: 'Used only when no other account is routable.',
  },
  { flag: 'active', field: 'active', kind: 'bool', value: 'true|false', help: 'An inactive account is never used.' },
  {
    flag: 'schedulable',
    field: 'schedulable',
    kind: 'bool',
    value: 'true|false',
    help: 'false takes it out of rotation, keeping its settings.',
  },
  {
    flag: 'subscription-expires',
    field: 'subscriptionExpiresAt',
    kind: 'time',
    nullWord: 'never',
    value: 'ISO|never',
    help: 'The subscription behind it ends then; it stops being used.',
  },
  {
    flag: 'probe',
    field: 'probe',
    kind: 'bool',
    value: 'true|false',
    help: 'Probed with a tiny request when idle or suspect (default true); false = never probed.',
  },
  {
    flag: 'probe-interval',
    field: 'probeIntervalMs',
    kind: 'int',
    nullWord: 'default',
    value: 'MS|default',
    help: "Milliseconds between two of its probes; 'default' = PROBE_INTERVAL.",
  },
  {
    flag: 'proxy',
    field: 'proxy',
    kind: 'text',
    value: 'URL',
    help: "http://, https:// or socks5://[user:pass@]host:port for this account's upstream calls; '' removes it.",
  },
];

export const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Common account flags, then one flag per field some account type takes (from the provider registry). */
export const ACCOUNT_FLAGS: readonly FieldFlag[] = [
  ...ACCOUNT_COMMON_FLAGS,
  ...[
    ...new Map(
      Object.values(ACCOUNT_TYPES).flatMap((types) =>
        (types ?? []).flatMap((t) => t.fields.map((f) => [f.name, f] as const)),
      ),
    ).values(),
  ]
    .filter((f) => !ACCOUNT_COMMON_FLAGS.some((c) => c.field === f.name))
    .map((f): FieldFlag => ({
      flag: kebab(f.name),
      field: f.name,
      kind: 'text',
      value: f.secret ? 'SECRET|-' : 'V',
      help: f.doc,
    })),
];

export const GROUP_FLAGS: readonly FieldFlag[] = [
  { flag: 'name', field: 'name', kind: 'text', value: 'N', help: 'Name (required to create).' },
  { flag: 'description', field: 'description', kind: 'text', value: 'D', help: 'Free text.' },
  {
    flag: 'platform',
    field: 'platform',
    kind: 'text',
    value: 'claude',
    help: 'Platform of its accounts (create only).',
    createOnly: true,
  },
  {
    flag: 'strategy',
    field: 'strategy',
    kind: 'text',
    nullWord: 'default',
    value: 'S|default',
    help: "Overrides SCHEDULER_STRATEGY for the group; default = the deployment's.",
  },
  {
    flag: 'accounts',
    field: 'accountIds',
    kind: 'list',
    value: 'a_…,…',
    help: "Member accounts (of the group's platform); replaces the list.",
  },
];

/** The flags an update takes: every row but the create-only ones. */
export const updatable = (flags: readonly FieldFlag[]): FieldFlag[] => flags.filter((f) => !f.createOnly);

/** Help lines: `  --flag VALUE  meaning`, aligned. */
export function flagHelp(flags: readonly FieldFlag[]): string[] {
  const heads = flags.map((f) => `--${f.flag} ${f.value}`);
  const width = Math.max(...heads.map((h) => h.length));
  return flags.map((f, i) => `  ${(heads[i] ?? '').padEnd(width)}  ${f.help}`);
}

/** Field → flag, for every table (a field has the same flag wherever it appears). */
export const FLAG_OF_FIELD: Readonly<Record<string, string>> = Object.fromEntries(
  [...KEY_FLAGS, ...ACCOUNT_FLAGS, ...GROUP_FLAGS].map((f) => [f.field, `--${f.flag}`]),
);
