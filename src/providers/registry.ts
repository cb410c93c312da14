import type { Account, Platform } from '../accounts/service.js';
import { CLAUDE_ACCOUNT_TYPES, createAnthropicProvider } from './anthropic/index.js';
import { AZURE_ACCOUNT_TYPES, createAzureProvider } from './azure/index.js';
import { BEDROCK_ACCOUNT_TYPES, createBedrockProvider } from './bedrock/index.js';
import { createGeminiProvider, GEMINI_ACCOUNT_TYPES } from './gemini/index.js';
import { OPENAI_ACCOUNT_TYPES, createOpenAIProvider } from './openai/index.js';
import type { AccountTypeSpec, Provider, ProviderDeps } from './types.js';

/**
 * Every upstream platform, one entry each: its account types (static, for validation and docs)
 * and its provider factory. Adding a platform is a folder under `providers/` plus one entry here;
 * the pipeline, scheduler and admin routes do not change.
 */
const ENTRIES: { platform: Platform; types: readonly AccountTypeSpec[]; create(deps: ProviderDeps): Provider }[] = [
  { platform: 'claude', types: CLAUDE_ACCOUNT_TYPES, create: createAnthropicProvider },
  { platform: 'openai', types: OPENAI_ACCOUNT_TYPES, create: createOpenAIProvider },
  { platform: 'azure', types: AZURE_ACCOUNT_TYPES, create: createAzureProvider },
  { platform: 'bedrock', types: BEDROCK_ACCOUNT_TYPES, create: createBedrockProvider },
  { platform: 'gemini', types: GEMINI_ACCOUNT_TYPES, create: createGeminiProvider },
];

/** Platforms with a provider, and the account types each accepts. */
export const ACCOUNT_TYPES: Readonly<Partial<Record<Platform, readonly AccountTypeSpec[]>>> = Object.fromEntries(
  ENTRIES.map((e) => [e.platform, e.types]),
);

export function accountTypeSpec(platform: string, type: string): AccountTypeSpec | undefined {
  return ACCOUNT_TYPES[platform as Platform]?.find((t) => t.type === type);
}

export interface ProviderRegistry {
  get(platform: Platform): Provider | undefined;
  forAccount(account: Account): Provider | undefined;
}

export function createProviderRegistry(deps: ProviderDeps): ProviderRegistry {
  const byPlatform = new Map(ENTRIES.map((e) => [e.platform, e.create(deps)]));
  return {
    get: (platform) => byPlatform.get(platform),
    forAccount: (account) => byPlatform.get(account.platform),
  };
}
