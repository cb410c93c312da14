import type { Account } from '../../accounts/service.js';
import type { UpstreamResponse } from '../../upstream/types.js';
import type { Operation, WireFormat } from '../../wire/index.js';
import type { AccountTypeSpec, Provider, ProviderDeps, UpstreamCall, UpstreamErrorClass } from '../types.js';
import type { UpstreamRequest } from '../../upstream/types.js';
import { chatgptAccountId, chatgptBody, chatgptHeaders, collectResponse } from './chatgpt.js';
import { forwardClientHeaders, forwardResponseHeader } from './headers.js';
import { createOpenAIOAuth } from './oauth.js';
import { openaiResetTime } from './ratelimit.js';
import { streamErrorByName } from '../stream-errors.js';

export const OPENAI_API = 'https://api.openai.com';
export const CHATGPT_BACKEND = 'https://chatgpt.com/backend-api/codex';

export const OPENAI_ACCOUNT_TYPES: readonly AccountTypeSpec[] = [
  {
    type: 'api-key',
    doc: 'An OpenAI API key (Chat Completions, Responses, Embeddings), or any OpenAI-compatible endpoint with its key.',
    fields: [{ name: 'apiKey', required: true, secret: true, doc: 'The key sent as Authorization: Bearer.' }],
    defaultBaseUrl: OPENAI_API,
  },
  {
    type: 'oauth',
    doc: 'A ChatGPT subscription (Codex login): the Responses API on the ChatGPT backend. Created by POST /admin/oauth/openai/start and /exchange, or imported with its tokens.',
    fields: [
      { name: 'refreshToken', required: true, secret: true, doc: 'OAuth refresh token (rotates on every refresh).' },
      { name: 'accessToken', required: false, secret: true, doc: 'OAuth access token; refreshed before it expires.' },
      {
        name: 'expiresAt',
        required: false,
        secret: true,
        doc: 'When the access token expires (epoch ms); absent = refresh first.',
      },
      { name: 'idToken', required: false, secret: true, doc: 'OpenID token; its claims name the ChatGPT account.' },
      {
        name: 'chatgptAccountId',
        required: false,
        secret: false,
        doc: 'The ChatGPT account (workspace) id sent as chatgpt-account-id; from the tokens when absent.',
      },
      {
        name: 'planType',
        required: false,
        secret: false,
        doc: 'The ChatGPT plan (plus, pro, team…), as the tokens said at sign-in.',
      },
    ],
    defaultBaseUrl: CHATGPT_BACKEND,
  },
];

const API_PATHS: Partial<Record<WireFormat, string>> = {
  'openai-chat': '/chat/completions',
  'openai-responses': '/responses',
  'openai-embeddings': '/embeddings',
};

/**
 * OpenAI: API-key accounts speak Chat Completions, Responses and Embeddings at the API (or any
 * compatible endpoint); OAuth accounts (a ChatGPT subscription) speak only Responses, at the
 * ChatGPT backend, as Codex does with a ChatGPT login. An account whose base URL is its type's
 * default follows the configured URL (OPENAI_API_URL, CHATGPT_BACKEND_URL).
 */
export function createOpenAIProvider(deps: ProviderDeps): Provider {
  const { flow, refresh } = createOpenAIOAuth(deps);
  const baseOf = (account: Account): string => {
    const configured = account.type === 'oauth' ? deps.config.openai.chatgptBackendUrl : deps.config.openai.apiUrl;
    const spec = OPENAI_ACCOUNT_TYPES.find((t) => t.type === account.type);
    const base = !account.baseUrl || account.baseUrl === spec?.defaultBaseUrl ? configured : account.baseUrl;
    return base.replace(/\/+$/, '');
  };

  const formatFor = (account: Account, op: Operation, client?: WireFormat): WireFormat | undefined => {
    if (account.type === 'oauth') return op === 'generate' ? 'openai-responses' : undefined;
    if (op === 'embed') return 'openai-embeddings';
    if (op === 'generate') return client === 'openai-responses' ? 'openai-responses' : 'openai-chat';
    return undefined;
  };

  return {
    platform: 'openai',
    types: OPENAI_ACCOUNT_TYPES,
    formatFor,
    oauth: flow,

    async prepare(call: UpstreamCall): Promise<UpstreamRequest> {
      const { account } = call;
      const headers = forwardClientHeaders(call.clientHeaders);
      const base = baseOf(account);
      if (account.type === 'oauth') {
        const token = await deps.tokens.accessToken(account, refresh);
        chatgptHeaders(headers, token, chatgptAccountId(account.options, account.credentials));
        return {
          url: `${base}/responses`,
          method: 'POST',
          headers,
          body: chatgptBody(call.json),
          proxy: account.credentials.proxy,
          authToken: token,
        };
      }
      headers.authorization = `Bearer ${account.credentials.apiKey ?? ''}`;
      // A base URL given with its `/v1` (as OpenAI documents it) gets no second one.
      const root = /\/v1$/.test(base) ? base : `${base}/v1`;
      return {
        url: `${root}${API_PATHS[call.format] ?? '/chat/completions'}`,
        method: 'POST',
        headers,
        body: call.body,
        proxy: account.credentials.proxy,
      };
    },

    /** A non-streaming client of a subscription account gets the whole response the stream ends with. */
    decode(res: UpstreamResponse, call: UpstreamCall): UpstreamResponse {
      const contentType = String(res.headers['content-type'] ?? '');
      if (
        call.account.type !== 'oauth' ||
        call.stream ||
        res.statusCode >= 400 ||
        !contentType.startsWith('text/event-stream')
      )
        return res;
      return collectResponse(res);
    },

    forwardResponseHeader,
    classifyError,
    classifyStreamError: streamErrorByName,
    resetTime: openaiResetTime,

    async recoverUnauthorized(account: Account, usedToken: string | undefined): Promise<boolean> {
      if (account.type !== 'oauth' || usedToken === undefined) return false;
      try {
        return await deps.tokens.recover(account, usedToken, refresh);
      } catch (err) {
        deps.log.warn('oauth recovery after a 401 failed', { accountId: account.id, err });
        return false;
      }
    },
  };
}

/** OpenAI's statuses; also Azure's. A 503 ("overloaded", "slow down") cools the account briefly. */
export function classifyError(status: number): UpstreamErrorClass {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status >= 500) return 'server_error';
  return 'client_error';
}
