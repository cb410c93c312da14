import type { Platform } from '../accounts/service.js';
import { anthropicProvider } from './anthropic/index.js';
import type { Provider } from './types.js';

/**
 * Every upstream platform, one entry each. Adding a platform is a folder under `providers/` plus
 * one line here; the pipeline, scheduler and admin routes do not change.
 */
export const PROVIDERS: Partial<Record<Platform, Provider>> = {
  claude: anthropicProvider,
};

export function providerFor(platform: Platform): Provider | undefined {
  return PROVIDERS[platform];
}

/** Platforms with a provider, and the account types each accepts (the admin API validates against this). */
export function supportedAccountTypes(): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  for (const [platform, provider] of Object.entries(PROVIDERS)) if (provider) out[platform] = provider.accountTypes;
  return out;
}
