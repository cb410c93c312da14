import type { AccountTypeSpec, Provider, ProviderDeps, UpstreamCall, UpstreamErrorClass, UpstreamRequest } from '../types.js';
import { forwardClientHeaders, forwardResponseHeader } from './headers.js';
import { anthropicResetTime } from './ratelimit.js';

export const ANTHROPIC_API = 'https://api.anthropic.com';

const PATHS = { generate: '/v1/messages', count_tokens: '/v1/messages/count_tokens' } as const;

export const CLAUDE_ACCOUNT_TYPES: readonly AccountTypeSpec[] = [
  {
    type: 'api-key',
    doc: 'An Anthropic API key (console), or any Anthropic-compatible endpoint with its key.',
    fields: [{ name: 'apiKey', required: true, secret: true, doc: 'The x-api-key to send upstream.' }],
    defaultBaseUrl: ANTHROPIC_API,
  },
];

/**
 * Anthropic's Messages API for every Anthropic-compatible upstream: the official API with an API
 * key, a custom base URL (a console relay), and OAuth subscriptions — one adapter with options.
 */
export function createAnthropicProvider(_deps: ProviderDeps): Provider {
  return {
    platform: 'claude',
    types: CLAUDE_ACCOUNT_TYPES,

    formatFor: (_account, op) => (op === 'generate' || op === 'count_tokens' ? 'anthropic' : undefined),

    async prepare(call: UpstreamCall): Promise<UpstreamRequest> {
      const path = PATHS[call.op as keyof typeof PATHS];
      const headers = forwardClientHeaders(call.clientHeaders);
      headers['x-api-key'] = call.account.credentials.apiKey ?? '';
      headers['content-type'] ??= 'application/json';
      const base = call.account.baseUrl.replace(/\/+$/, '');
      return {
        url: `${base}${path}${call.query ? `?${call.query}` : ''}`,
        method: 'POST',
        headers,
        body: call.body,
        proxy: call.account.credentials.proxy,
      };
    },

    forwardResponseHeader,

    classifyError(status: number): UpstreamErrorClass {
      if (status === 429) return 'rate_limited';
      if (status === 529) return 'overloaded';
      if (status === 401 || status === 403) return 'unauthorized';
      if (status >= 500) return 'server_error';
      return 'client_error';
    },

    resetTime: anthropicResetTime,
  };
}
