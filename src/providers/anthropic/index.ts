import type { Provider, UpstreamCall, UpstreamErrorClass, UpstreamRequest } from '../types.js';
import { forwardClientHeaders, forwardResponseHeader } from './headers.js';
import { anthropicResetTime } from './ratelimit.js';
import { AnthropicStreamTap, usageFromMessage } from './usage.js';

/**
 * Anthropic's Messages API, for every Anthropic-compatible upstream: the official API with an API
 * key, a custom base URL (a console relay), and (next) OAuth subscriptions — one adapter with
 * options, not copies.
 */
export const anthropicProvider: Provider = {
  platform: 'claude',
  accountTypes: ['api-key'],
  defaultBaseUrl: 'https://api.anthropic.com',

  buildRequest(call: UpstreamCall): UpstreamRequest {
    const headers = forwardClientHeaders(call.clientHeaders);
    const apiKey = call.account.credentials.apiKey ?? '';
    headers['x-api-key'] = apiKey;
    if (call.body) headers['content-type'] ??= 'application/json';
    const base = call.account.baseUrl.replace(/\/+$/, '');
    const url = `${base}${call.path}${call.query ? `?${call.query}` : ''}`;
    return call.body ? { url, method: call.method, headers, body: call.body } : { url, method: call.method, headers };
  },

  forwardResponseHeader,
  usageFromJson: usageFromMessage,
  createStreamTap: () => new AnthropicStreamTap(),

  classifyError(status: number): UpstreamErrorClass {
    if (status === 429) return 'rate_limited';
    if (status === 529) return 'overloaded';
    if (status === 401 || status === 403) return 'unauthorized';
    if (status >= 500) return 'server_error';
    return 'client_error';
  },

  resetTime: anthropicResetTime,
};
