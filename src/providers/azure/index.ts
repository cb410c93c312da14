import type { Account } from '../../accounts/service.js';
import type { Operation, WireFormat } from '../../wire/index.js';
import { classifyError } from '../openai/index.js';
import { forwardClientHeaders, forwardResponseHeader } from '../openai/headers.js';
import { openaiResetTime } from '../openai/ratelimit.js';
import type { AccountTypeSpec, Provider, ProviderDeps, UpstreamCall } from '../types.js';
import type { UpstreamRequest } from '../../upstream/types.js';
import { azureUrl } from './urls.js';
import { streamErrorByName } from '../stream-errors.js';

export const DEFAULT_AZURE_API_VERSION = '2025-04-01-preview';

export const AZURE_ACCOUNT_TYPES: readonly AccountTypeSpec[] = [
  {
    type: 'api-key',
    doc: 'An Azure OpenAI resource: baseUrl is its endpoint (https://<name>.openai.azure.com), with the resource key.',
    fields: [
      { name: 'apiKey', required: true, secret: true, doc: 'The resource key, sent as the api-key header.' },
      {
        name: 'apiVersion',
        required: false,
        secret: false,
        doc: `The api-version query (default ${DEFAULT_AZURE_API_VERSION}); "v1" uses the /openai/v1/ routes.`,
      },
      {
        name: 'deployment',
        required: false,
        secret: false,
        doc: 'The deployment that serves requests whose model the account does not map (modelMapping names deployments).',
      },
    ],
    // No default: every Azure account names its own resource.
    defaultBaseUrl: '',
  },
];

/**
 * Azure OpenAI: Chat Completions and Embeddings on a deployment
 * (`/openai/deployments/{deployment}/…?api-version=`), Responses on the resource
 * (`/openai/responses?api-version=`, the deployment named in `model`), the key in `api-key`.
 * The client's model (the deployment in its URL) finds its deployment on the account: the
 * account's modelMapping, else its `deployment` option, else the same name.
 */
export function createAzureProvider(_deps: ProviderDeps): Provider {
  const formatFor = (_account: Account, op: Operation, client?: WireFormat): WireFormat | undefined => {
    if (op === 'embed') return 'openai-embeddings';
    if (op === 'generate') return client === 'openai-responses' ? 'openai-responses' : 'openai-chat';
    return undefined;
  };

  return {
    platform: 'azure',
    types: AZURE_ACCOUNT_TYPES,
    formatFor,

    async prepare(call: UpstreamCall): Promise<UpstreamRequest> {
      const { account } = call;
      if (!account.baseUrl)
        throw new Error('the Azure account has no endpoint: set its baseUrl to https://<resource>.openai.azure.com');
      const headers = forwardClientHeaders(call.clientHeaders);
      headers['api-key'] = account.credentials.apiKey ?? '';
      const deployment = deploymentFor(account, call.model);
      const body =
        deployment === call.model ? call.body : Buffer.from(JSON.stringify({ ...call.json, model: deployment }));
      const url = azureUrl(
        account.baseUrl,
        call.format,
        deployment,
        account.options.apiVersion || DEFAULT_AZURE_API_VERSION,
      );
      return { url, method: 'POST', headers, body, proxy: account.credentials.proxy };
    },

    forwardResponseHeader,
    classifyError,
    classifyStreamError: streamErrorByName,
    resetTime: openaiResetTime,
  };
}

/**
 * The deployment for a request: the scheduler already applied the account's modelMapping (a
 * mapped model is a deployment name); an unmapped model goes to the account's `deployment`
 * option when it has one.
 */
export function deploymentFor(account: Pick<Account, 'modelMapping' | 'options'>, model: string): string {
  const mapped = Object.values(account.modelMapping).includes(model);
  return mapped || !account.options.deployment ? model : account.options.deployment;
}
