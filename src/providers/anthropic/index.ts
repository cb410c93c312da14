import type { AccountTypeSpec, Provider, ProviderDeps, UpstreamCall, UpstreamErrorClass } from '../types.js';
import type { UpstreamRequest } from '../../upstream/types.js';
import { createClaudeAuth } from './auth.js';
import { forwardClientHeaders, forwardResponseHeader } from './headers.js';
import { createClaudeOAuth } from './oauth.js';
import { anthropicResetTime } from './ratelimit.js';
import { streamErrorByName } from '../stream-errors.js';

export const ANTHROPIC_API = 'https://api.anthropic.com';

const PATHS = { generate: '/v1/messages', count_tokens: '/v1/messages/count_tokens' } as const;

export const CLAUDE_ACCOUNT_TYPES: readonly AccountTypeSpec[] = [
  {
    type: 'api-key',
    doc: 'An Anthropic API key (console), or any Anthropic-compatible endpoint with its key.',
    fields: [{ name: 'apiKey', required: true, secret: true, doc: 'The x-api-key to send upstream.' }],
    defaultBaseUrl: ANTHROPIC_API,
  },
  {
    type: 'oauth',
    doc: "A Claude Pro/Max subscription (Claude Code's login): created through POST /admin/oauth/claude/start and /exchange, or imported as a token pair.",
    fields: [
      { name: 'accessToken', required: true, secret: true, doc: 'OAuth access token, sent as a Bearer token.' },
      {
        name: 'refreshToken',
        required: false,
        secret: true,
        doc: 'OAuth refresh token (rotates on each refresh); without it the access token is used until it is rejected.',
      },
      {
        name: 'expiresAt',
        required: false,
        secret: true,
        doc: 'When the access token expires, in epoch milliseconds; unknown means it is refreshed at first use.',
        pattern: /^\d{12,14}$/,
      },
    ],
    defaultBaseUrl: ANTHROPIC_API,
  },
];

/**
 * Anthropic's Messages API for every Anthropic-compatible upstream: the official API with an API
 * key, a custom base URL (a console relay), and OAuth subscriptions — one adapter with options.
 */
export function createAnthropicProvider(deps: ProviderDeps): Provider {
  const oauth = createClaudeOAuth(deps);
  const auth = createClaudeAuth(deps, oauth.refresh);
  return {
    platform: 'claude',
    types: CLAUDE_ACCOUNT_TYPES,

    formatFor: (_account, op) => (op === 'generate' || op === 'count_tokens' ? 'anthropic' : undefined),

    async prepare(call: UpstreamCall): Promise<UpstreamRequest> {
      const path = PATHS[call.op as keyof typeof PATHS];
      const headers = forwardClientHeaders(call.clientHeaders);
      const authToken = await auth.apply(call.account, headers);
      headers['content-type'] ??= 'application/json';
      const base = call.account.baseUrl.replace(/\/+$/, '');
      return {
        url: `${base}${path}${call.query ? `?${call.query}` : ''}`,
        method: 'POST',
        headers,
        body: call.body,
        proxy: call.account.credentials.proxy,
        ...(authToken !== undefined ? { authToken } : {}),
      };
    },

    recoverUnauthorized: (account, usedToken) => auth.recover(account, usedToken),
    oauth: oauth.flow,

    forwardResponseHeader,

    classifyError(status: number): UpstreamErrorClass {
      if (status === 429) return 'rate_limited';
      if (status === 529) return 'overloaded';
      if (status === 401 || status === 403) return 'unauthorized';
      if (status >= 500) return 'server_error';
      return 'client_error';
    },

    classifyStreamError: streamErrorByName,
    resetTime: anthropicResetTime,
  };
}
