import { STRATEGIES, type GroupInput, type Strategy } from '../accounts/groups.js';
import { PLATFORMS, type AccountInput, type Credentials, type Platform } from '../accounts/service.js';
import type { ApiKeyInput } from '../keys/service.js';
import { CLIENTS } from '../limits/clients.js';
import { providerFor, supportedAccountTypes } from '../providers/registry.js';
import {
  invalid,
  onlyFields,
  optBool,
  optEnum,
  optInt,
  optNumber,
  optString,
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

const ACCOUNT_ID = /^a_[0-9a-z]{16}$/;
const GROUP_ID = /^g_[0-9a-f]{16}$/;
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

export const ACCOUNT_SETTING_FIELDS = ['name', 'description', 'apiKey', 'baseUrl', 'priority', 'active', 'schedulable', 'shared', 'backup', 'weight', 'maxConcurrency', 'models', 'modelMapping', 'subscriptionExpiresAt'] as const;
export const ACCOUNT_FIELDS = ['platform', 'type', ...ACCOUNT_SETTING_FIELDS] as const;
export const ACCOUNT_PATCH_FIELDS = ACCOUNT_SETTING_FIELDS;

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
    permissions: optStringList(body, 'permissions', { allowed: PLATFORMS }),
    modelAllow: optStringList(body, 'modelAllow'),
    modelDeny: optStringList(body, 'modelDeny'),
    allowedClients: optStringList(body, 'allowedClients', { allowed: CLIENTS }),
    accountIds: optStringList(body, 'accountIds', { pattern: ACCOUNT_ID }),
    groupIds: optStringList(body, 'groupIds', { pattern: GROUP_ID }),
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
  if (input.expiryMode === 'after-first-use' && input.activationDays === undefined) throw invalid('activationDays: required with expiryMode after-first-use.');
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
  };
}

export type AccountCreateInput = AccountInput & { platform: Platform; type: string; name: string; baseUrl: string; credentials: Credentials };

export function accountCreateInput(body: Json): AccountCreateInput {
  onlyFields(body, ACCOUNT_FIELDS);
  const platform = reqString(body, 'platform') as Platform;
  const types = supportedAccountTypes()[platform];
  if (!types) throw invalid(`platform: expected one of ${Object.keys(supportedAccountTypes()).join(', ')}.`);
  const type = reqString(body, 'type');
  if (!types.includes(type)) throw invalid(`type: ${platform} accounts can be ${types.join(', ')}.`);
  const settings = accountSettings(body);
  return {
    ...settings,
    platform,
    type,
    name: reqString(body, 'name', { max: 100 }),
    baseUrl: settings.baseUrl ?? providerFor(platform)?.defaultBaseUrl ?? '',
    credentials: { apiKey: reqString(body, 'apiKey', { min: 8, max: 1000 }) },
  };
}

export function accountPatchInput(body: Json): AccountInput {
  onlyFields(body, ACCOUNT_PATCH_FIELDS);
  const apiKey = optString(body, 'apiKey', { min: 8, max: 1000 });
  return {
    ...accountSettings(body),
    name: optString(body, 'name', { min: 1, max: 100 }),
    credentials: apiKey ? { apiKey } : undefined,
  };
}

export const GROUP_FIELDS = ['name', 'description', 'platform', 'strategy', 'accountIds'] as const;

function groupSettings(body: Json): GroupInput {
  const strategy = body.strategy === null ? null : optEnum<Strategy>(body, 'strategy', STRATEGIES);
  return {
    description: optString(body, 'description', { max: 500 }),
    strategy,
    accountIds: optStringList(body, 'accountIds', { pattern: ACCOUNT_ID, max: 10_000 }) as GroupInput['accountIds'],
  };
}

export function groupCreateInput(body: Json): GroupInput & { name: string; platform: Platform } {
  onlyFields(body, GROUP_FIELDS);
  const platform = reqString(body, 'platform') as Platform;
  if (!PLATFORMS.includes(platform)) throw invalid(`platform: expected one of ${PLATFORMS.join(', ')}.`);
  return { ...groupSettings(body), name: reqString(body, 'name', { max: 100 }), platform };
}

export function groupPatchInput(body: Json): GroupInput {
  onlyFields(body, GROUP_FIELDS.filter((f) => f !== 'platform'));
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
  if (raw.trim() === '' || !Number.isInteger(n) || n < 1 || n > 400) throw invalid('days: expected an integer from 1 to 400.');
  return n;
}
