import type { Account } from '../../accounts/service.js';
import type { AccountTypeSpec, Provider, ProviderDeps, UpstreamCall, UpstreamErrorClass } from '../types.js';
import type { UpstreamRequest } from '../../upstream/types.js';
import { baseUrlOf, CODE_ASSIST_API, codeAssistUrl, GEMINI_API, nativeUrl } from './endpoints.js';
import { forwardClientHeaders, forwardResponseHeader } from './headers.js';
import { createGoogleOAuth } from './oauth.js';
import { createProjectFinder } from './project.js';
import { googleResetTime } from './ratelimit.js';
import { streamErrorByName } from '../stream-errors.js';

export const GEMINI_ACCOUNT_TYPES: readonly AccountTypeSpec[] = [
  {
    type: 'api-key',
    doc: 'A Gemini API key (Google AI Studio), or any endpoint speaking the native v1beta API with its key.',
    fields: [{ name: 'apiKey', required: true, secret: true, doc: 'Sent upstream as x-goog-api-key.' }],
    defaultBaseUrl: GEMINI_API,
  },
  {
    type: 'oauth',
    doc: 'A Google account logged in as Gemini CLI does (Code Assist): created through POST /admin/oauth/gemini/start and /exchange, or imported with its tokens.',
    fields: [
      {
        name: 'accessToken',
        required: false,
        secret: true,
        doc: 'OAuth access token, sent as a Bearer token; fetched with the refresh token when absent.',
      },
      {
        name: 'refreshToken',
        required: true,
        secret: true,
        doc: 'OAuth refresh token (Google keeps it across refreshes).',
      },
      {
        name: 'expiresAt',
        required: false,
        secret: true,
        doc: 'When the access token expires, epoch ms; unknown means it is refreshed at first use.',
      },
      {
        name: 'projectId',
        required: false,
        secret: false,
        doc: 'The Google Cloud project for Code Assist; found through loadCodeAssist/onboardUser and kept when not given.',
      },
    ],
    defaultBaseUrl: CODE_ASSIST_API,
  },
];

/** Gemini CLI's user agent, for Code Assist calls from clients that are not Gemini CLI. */
const CODE_ASSIST_USER_AGENT = 'GeminiCLI/0.61.0 (linux; x64)';

/**
 * Google's Gemini: API-key accounts call the native `v1beta` API with `x-goog-api-key`; Google
 * OAuth accounts call Code Assist (`v1internal`, as Gemini CLI does with a Google login) with a
 * bearer token refreshed under the account's lock, in the account's own project.
 */
export function createGeminiProvider(deps: ProviderDeps): Provider {
  const base = (account: Account) => baseUrlOf(account, deps.config.google);
  const projects = createProjectFinder(deps, base);
  const oauth = createGoogleOAuth(deps, (token) =>
    projects.discover(deps.config.google.codeAssistUrl.replace(/\/+$/, ''), token),
  );
  // An imported access token without a refresh token is used until it is rejected.
  const tokenOf = (account: Account) =>
    account.credentials.refreshToken
      ? deps.tokens.accessToken(account, oauth.refresh)
      : Promise.resolve(account.credentials.accessToken ?? '');

  const native = (call: UpstreamCall): UpstreamRequest => {
    const headers = forwardClientHeaders(call.clientHeaders);
    headers['x-goog-api-key'] = call.account.credentials.apiKey ?? '';
    return {
      url: nativeUrl(base(call.account), call.model, call.op, call.stream),
      method: 'POST',
      headers,
      body: call.body,
      proxy: call.account.credentials.proxy,
    };
  };

  const codeAssist = async (call: UpstreamCall): Promise<UpstreamRequest> => {
    const token = await tokenOf(call.account);
    let body = call.body;
    if (call.op === 'generate') {
      // Always the account's project: the client's (if any) belongs to some other login.
      const project = await projects.projectOf(call.account, token);
      body = Buffer.from(JSON.stringify({ ...call.json, project }));
    }
    const headers = forwardClientHeaders(call.clientHeaders);
    if (!/^GeminiCLI\b/.test(headers['user-agent'] ?? '')) headers['user-agent'] = CODE_ASSIST_USER_AGENT;
    headers.authorization = `Bearer ${token}`;
    return {
      url: codeAssistUrl(base(call.account), call.op, call.stream),
      method: 'POST',
      headers,
      body,
      proxy: call.account.credentials.proxy,
      authToken: token,
    };
  };

  return {
    platform: 'gemini',
    types: GEMINI_ACCOUNT_TYPES,
    formatFor(account, op) {
      if (op !== 'generate' && op !== 'count_tokens') return undefined;
      return account.type === 'oauth' ? 'code-assist' : 'gemini';
    },
    prepare: (call) => (call.account.type === 'oauth' ? codeAssist(call) : Promise.resolve(native(call))),
    recoverUnauthorized: async (account, usedToken) =>
      account.type === 'oauth' &&
      !!account.credentials.refreshToken &&
      deps.tokens.recover(account, usedToken, oauth.refresh),
    oauth: oauth.flow,
    forwardResponseHeader,
    classifyError(status: number, errorBody?: unknown): UpstreamErrorClass {
      if (status === 429) return 'rate_limited';
      // Google's "model is overloaded" is a 503 UNAVAILABLE: per model, like Anthropic's 529.
      if (status === 503 || status === 529) return 'overloaded';
      if (status === 401 || status === 403) return 'unauthorized';
      // A bad API key is a 400 INVALID_ARGUMENT whose details say API_KEY_INVALID: the account's fault.
      if (status === 400 && JSON.stringify(errorBody ?? '').includes('API_KEY_INVALID')) return 'unauthorized';
      if (status >= 500) return 'server_error';
      return 'client_error';
    },
    classifyStreamError: streamErrorByName,
    resetTime: googleResetTime,
  };
}
