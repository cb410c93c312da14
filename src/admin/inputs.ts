import { STRATEGIES, type GroupInput, type Strategy } from '../accounts/groups.js';
import { ACCOUNT_ID_PATTERN, GROUP_ID_PATTERN } from '../ids.js';
import {
  ACCOUNT_SETTINGS,
  PLATFORMS,
  type AccountInput,
  type Credentials,
  type Platform,
} from '../accounts/service.js';
import type { ApiKeyInput } from '../keys/service.js';
import { CLIENTS } from '../limits/clients.js';
import { ACCOUNT_TYPES, accountTypeSpec } from '../providers/registry.js';
import type { AccountTypeSpec } from '../providers/types.js';
import {
  invalid,
  onlyFields,
  optBool,
  optEnum,
  optInt,
  optNumber,
  optString,
  optAllowList,
  optStringList,
  optStringMap,
  optTime,
  optUrl,
  reqString,
  type Json,
} from './validate.js';

/**
 * The admin payloads, validated once for every front door: the REST API and `crs` both turn
 * their input into a JSON object and call these, so a rule (a length, a range, an account type)
 * cannot differ between them. Each failure is an `admin_invalid` RelayError naming the field.
 */

const USD_MAX = 1_000_000_000;

export const KEY_FIELDS = [
  'name',
  'description',
  'active',
  'expiresAt',
  'expiryMode',
  'activationDays',
  'permissions',
  'modelAllow',
  'modelDeny',
  'allowedClients',
  'accountIds',
  'groupIds',
  'poolFallback',
  'concurrencyLimit',
  'concurrencyWaitSeconds',
  'rateWindowMinutes',
  'rateLimitRequests',
  'rateLimitTokens',
  'rateLimitCost',
  'dailyCostLimit',
  'weeklyCostLimit',
  'weeklyCostFamily',
  'totalCostLimit',
] as const;

/** Settings every account has; each account type adds its own credential and option fields. */
export const ACCOUNT_SETTING_FIELDS = [...ACCOUNT_SETTINGS, 'proxy'] as const;
/** Every field some account type accepts (the CLI offers a flag for each). */
export const ACCOUNT_FIELDS = [
  'platform',
  'type',
  ...ACCOUNT_SETTING_FIELDS,
  ...new Set(
    Object.values(ACCOUNT_TYPES).flatMap((types) => (types ?? []).flatMap((t) => t.fields.map((f) => f.name))),
  ),
] as const;

/** An account's own probe interval: from a second to a week. */
export const PROBE_INTERVAL_MIN_MS = 1_000;
export const PROBE_INTERVAL_MAX_MS = 7 * 86_400_000;

/** Longest and shortest admin password accepted. */
export const ADMIN_PASSWORD_MIN = 12;
export const ADMIN_PASSWORD_MAX = 500;

/** Every key setting but the name (shared by create and update). */
function keySettings(body: Json): ApiKeyInput {
  const input: ApiKeyInput = {
    description: optString(body, 'description', { max: 500 }),
    active: optBool(body, 'active'),
    expiresAt: optTime(body, 'expiresAt'),
    expiryMode: optEnum(body, 'expiryMode', ['fixed', 'after-first-use'] as const),
    activationDays: optInt(body, 'activationDays', 1, 3650),
    permissions: optAllowList(body, 'permissions', { allowed: PLATFORMS, what: 'platform' }),
    modelAllow: optAllowList(body, 'modelAllow', { what: 'model' }),
    modelDeny: optStringList(body, 'modelDeny'),
    allowedClients: optAllowList(body, 'allowedClients', { allowed: CLIENTS, what: 'client' }),
    accountIds: optStringList(body, 'accountIds', { pattern: ACCOUNT_ID_PATTERN }),
    groupIds: optStringList(body, 'groupIds', { pattern: GROUP_ID_PATTERN }),
    poolFallback: optBool(body, 'poolFallback'),
    concurrencyLimit: optInt(body, 'concurrencyLimit', 0, 100_000),
    concurrencyWaitSeconds: optInt(body, 'concurrencyWaitSeconds', 0, 600),
    rateWindowMinutes: optInt(body, 'rateWindowMinutes', 0, 43_200),
    rateLimitRequests: optInt(body, 'rateLimitRequests', 0, 1_000_000_000),
    rateLimitTokens: optInt(body, 'rateLimitTokens', 0, 1_000_000_000_000),
    rateLimitCost: optNumber(body, 'rateLimitCost', 0, USD_MAX),
    dailyCostLimit: optNumber(body, 'dailyCostLimit', 0, USD_MAX),
    weeklyCostLimit: optNumber(body, 'weeklyCostLimit', 0, USD_MAX),
    weeklyCostFamily: optString(body, 'weeklyCostFamily', { max: 50 })?.toLowerCase(),
    totalCostLimit: optNumber(body, 'totalCostLimit', 0, USD_MAX),
  };
  if (input.expiryMode === 'after-first-use' && input.activationDays === undefined)
    throw invalid('activationDays: required with expiryMode after-first-use.');
  return input;
}

export function keyCreateInput(body: Json): ApiKeyInput & { name: string } {
  onlyFields(body, KEY_FIELDS);
  return { ...keySettings(body), name: reqString(body, 'name', { max: 100 }) };
}

export function keyPatchInput(body: Json): ApiKeyInput {
  onlyFields(body, KEY_FIELDS);
  return { ...keySettings(body), name: optString(body, 'name', { min: 1, max: 100 }) };
}

/** Every account setting but platform, type and credentials (shared by create and update). */
function accountSettings(body: Json): AccountInput {
  return {
    description: optString(body, 'description', { max: 500 }),
    baseUrl: optUrl(body, 'baseUrl'),
    priority: optInt(body, 'priority', 1, 100),
    active: optBool(body, 'active'),
    schedulable: optBool(body, 'schedulable'),
    shared: optBool(body, 'shared'),
    backup: optBool(body, 'backup'),
    weight: optInt(body, 'weight', 1, 1000),
    maxConcurrency: optInt(body, 'maxConcurrency', 0, 100_000),
    models: optStringList(body, 'models'),
    modelMapping: optStringMap(body, 'modelMapping'),
    subscriptionExpiresAt: optTime(body, 'subscriptionExpiresAt'),
    probe: optBool(body, 'probe'),
    // null: the deployment's PROBE_INTERVAL.
    probeIntervalMs:
      body.probeIntervalMs === null
        ? null
        : optInt(body, 'probeIntervalMs', PROBE_INTERVAL_MIN_MS, PROBE_INTERVAL_MAX_MS),
  };
}

export type AccountCreateInput = AccountInput & {
  platform: Platform;
  type: string;
  name: string;
  baseUrl: string;
  credentials: Credentials;
};

function specOf(platform: string, type: string): AccountTypeSpec {
  const types = ACCOUNT_TYPES[platform as Platform];
  if (!types) throw invalid(`platform: expected one of ${Object.keys(ACCOUNT_TYPES).join(', ')}.`);
  const spec = accountTypeSpec(platform, type);
  if (!spec) throw invalid(`type: ${platform} accounts can be ${types.map((t) => t.type).join(', ')}.`);
  return spec;
}

/** A proxy URL: http, https or socks5, with optional credentials; '' or null removes it. */
function optProxy(body: Json): string | undefined {
  if (body.proxy === null) return '';
  const raw = optString(body, 'proxy', { max: 2000 });
  if (raw === undefined || raw === '') return raw;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('proxy: not a URL (http://, https:// or socks5://user:pass@host:port).');
  }
  if (!['http:', 'https:', 'socks5:', 'socks5h:'].includes(url.protocol) || !url.hostname || !url.port) {
    throw invalid('proxy: expected http://, https:// or socks5:// with a host and a port.');
  }
  return raw;
}

/**
 * The type's own fields: secrets go into the encrypted credentials, the rest into options. On
 * update (`partial`) only the fields given change; '' removes a field.
 */
function typeFields(
  body: Json,
  spec: AccountTypeSpec,
  partial: boolean,
): { credentials: Record<string, string>; options: Record<string, string> } {
  const credentials: Record<string, string> = {};
  const options: Record<string, string> = {};
  for (const f of spec.fields) {
    const into = f.secret ? credentials : options;
    // '' removes an optional field on update; a credential must look like one.
    if (partial && !f.required && body[f.name] === '') {
      into[f.name] = '';
      continue;
    }
    const limits = { min: f.secret ? 8 : 1, max: 20_000 };
    const value = partial || !f.required ? optString(body, f.name, limits) : reqString(body, f.name, limits);
    if (value !== undefined && f.pattern && !f.pattern.test(value)) throw invalid(`${f.name}: not valid. ${f.doc}`);
    if (value !== undefined) into[f.name] = value;
  }
  const proxy = optProxy(body);
  if (proxy !== undefined) credentials.proxy = proxy;
  return { credentials, options };
}

export function accountCreateInput(body: Json): AccountCreateInput {
  const spec = specOf(reqString(body, 'platform'), reqString(body, 'type'));
  onlyFields(body, ['platform', 'type', ...ACCOUNT_SETTING_FIELDS, ...spec.fields.map((f) => f.name)]);
  const settings = accountSettings(body);
  const { credentials, options } = typeFields(body, spec, false);
  return {
    ...settings,
    platform: body.platform as Platform,
    type: spec.type,
    name: reqString(body, 'name', { max: 100 }),
    baseUrl: settings.baseUrl ?? spec.defaultBaseUrl,
    credentials,
    options,
  };
}

/** Changes to an existing account (of a known platform and type). */
export function accountPatchInput(body: Json, account: { platform: string; type: string }): AccountInput {
  const spec = accountTypeSpec(account.platform, account.type);
  const typeOwn = spec?.fields.map((f) => f.name) ?? [];
  onlyFields(body, [...ACCOUNT_SETTING_FIELDS, ...typeOwn]);
  const { credentials, options } = spec ? typeFields(body, spec, true) : { credentials: {}, options: {} };
  const proxy = optProxy(body);
  if (proxy !== undefined) credentials.proxy = proxy;
  return {
    ...accountSettings(body),
    name: optString(body, 'name', { min: 1, max: 100 }),
    credentials: Object.keys(credentials).length > 0 ? credentials : undefined,
    options: Object.keys(options).length > 0 ? options : undefined,
  };
}

export const GROUP_FIELDS = ['name', 'description', 'platform', 'strategy', 'accountIds'] as const;

function groupSettings(body: Json): GroupInput {
  const strategy = body.strategy === null ? null : optEnum<Strategy>(body, 'strategy', STRATEGIES);
  return {
    description: optString(body, 'description', { max: 500 }),
    strategy,
    accountIds: optStringList(body, 'accountIds', {
      pattern: ACCOUNT_ID_PATTERN,
      max: 10_000,
    }) as GroupInput['accountIds'],
  };
}

export function groupCreateInput(body: Json): GroupInput & { name: string; platform: Platform } {
  onlyFields(body, GROUP_FIELDS);
  const platform = reqString(body, 'platform') as Platform;
  if (!PLATFORMS.includes(platform)) throw invalid(`platform: expected one of ${PLATFORMS.join(', ')}.`);
  return { ...groupSettings(body), name: reqString(body, 'name', { max: 100 }), platform };
}

export function groupPatchInput(body: Json): GroupInput {
  onlyFields(
    body,
    GROUP_FIELDS.filter((f) => f !== 'platform'),
  );
  return { ...groupSettings(body), name: optString(body, 'name', { min: 1, max: 100 }) };
}

/** A new admin password (trimmed, as login trims what it is given). */
export function newPasswordInput(body: Json, field = 'newPassword'): string {
  return reqString(body, field, { min: ADMIN_PASSWORD_MIN, max: ADMIN_PASSWORD_MAX });
}

/** The `days` window of a usage report: 1..400, 30 when absent. */
export function usageDays(raw: string | null | undefined): number {
  if (raw === null || raw === undefined) return 30;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < 1 || n > 400)
    throw invalid('days: expected an integer from 1 to 400.');
  return n;
}
