import type { Account } from '../../accounts/service.js';
import { parseRetryAfter } from '../anthropic/ratelimit.js';
import type { AccountField, AccountTypeSpec, Provider, ProviderDeps, UpstreamCall } from '../types.js';
import type { UpstreamRequest } from '../../upstream/types.js';
import { decodeBedrock } from './decode.js';
import { classifyBedrockError } from './errors.js';
import { bedrockBetas, countTokensBody, invokeBody } from './anthropic-to-invoke.js';
import { bedrockModelId, foundationModelId, PROFILE_GEOS } from './models.js';
import { signRequest } from './sign.js';
import { streamErrorByName } from '../stream-errors.js';

/** `{region}` is replaced by the account's region. */
export const BEDROCK_RUNTIME = 'https://bedrock-runtime.{region}.amazonaws.com';
export const DEFAULT_REGION = 'us-east-1';

const COMMON_OPTIONS: readonly AccountField[] = [
  {
    name: 'region',
    required: false,
    secret: false,
    doc: `AWS region of the account's Bedrock (default ${DEFAULT_REGION}).`,
  },
  {
    name: 'inferenceProfile',
    required: false,
    secret: false,
    doc: `Geography of the cross-region inference profiles Claude models are called through (${PROFILE_GEOS.join(', ')}), or none for in-region model ids; default from the region.`,
  },
  {
    name: 'betas',
    required: false,
    secret: false,
    doc: 'anthropic-beta flags to pass to Bedrock besides the ones it is known to accept (comma-separated; * passes every flag).',
  },
];

export const BEDROCK_ACCOUNT_TYPES: readonly AccountTypeSpec[] = [
  {
    type: 'access-key',
    doc: 'AWS access key and secret (and a session token for temporary credentials); requests are signed with SigV4.',
    fields: [
      {
        name: 'accessKeyId',
        required: true,
        secret: false,
        doc: 'AWS access key id (AKIA…, ASIA… for temporary credentials).',
      },
      { name: 'secretAccessKey', required: true, secret: true, doc: 'AWS secret access key.' },
      { name: 'sessionToken', required: false, secret: true, doc: 'Session token of temporary (STS) credentials.' },
      ...COMMON_OPTIONS,
    ],
    defaultBaseUrl: BEDROCK_RUNTIME,
  },
  {
    type: 'bearer',
    doc: 'An Amazon Bedrock API key, sent as Authorization: Bearer.',
    fields: [{ name: 'apiKey', required: true, secret: true, doc: 'Bedrock API key.' }, ...COMMON_OPTIONS],
    defaultBaseUrl: BEDROCK_RUNTIME,
  },
];

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

function regionOf(account: Account): string {
  const region = account.options.region || DEFAULT_REGION;
  // It becomes part of a host name and of the signature's scope.
  if (!REGION.test(region)) throw new Error(`Bedrock account ${account.id}: region "${region}" is not an AWS region`);
  return region;
}

/**
 * AWS Bedrock Runtime serving Anthropic's Messages API: Claude model names become Bedrock model
 * ids, the body becomes InvokeModel's (anthropic-to-invoke.ts), requests are signed (SigV4) or carry a
 * Bedrock API key, and the answers are decoded back into Anthropic's shapes (decode.ts).
 * count_tokens goes to Bedrock's CountTokens API.
 */
export function createBedrockProvider(_deps: ProviderDeps): Provider {
  return {
    platform: 'bedrock',
    types: BEDROCK_ACCOUNT_TYPES,
    formatFor: (_account, op) => (op === 'generate' || op === 'count_tokens' ? 'anthropic' : undefined),

    async prepare(call: UpstreamCall): Promise<UpstreamRequest> {
      const { account } = call;
      const region = regionOf(account);
      const betas = bedrockBetas(call.clientHeaders['anthropic-beta'], account.options.betas);
      const modelId = bedrockModelId(call.model, region, account.options.inferenceProfile);
      const counting = call.op === 'count_tokens';
      const action = counting ? 'count-tokens' : call.stream ? 'invoke-with-response-stream' : 'invoke';
      const body = JSON.stringify(counting ? countTokensBody(call.json, betas) : invokeBody(call.json, betas));
      const base = account.baseUrl.replace('{region}', region).replace(/\/+$/, '');
      // The AWS SDK percent-encodes the model id in the path (`:` → %3A, `/` of an ARN → %2F).
      const url = new URL(
        `${base}/model/${encodeURIComponent(counting ? foundationModelId(modelId) : modelId)}/${action}`,
      );
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: call.stream && !counting ? 'application/vnd.amazon.eventstream' : 'application/json',
      };
      const { apiKey, secretAccessKey, sessionToken } = account.credentials;
      const sent =
        account.type === 'bearer'
          ? { ...headers, authorization: `Bearer ${apiKey ?? ''}` }
          : await signRequest(
              { url, body, headers },
              {
                accessKeyId: account.options.accessKeyId ?? '',
                secretAccessKey: secretAccessKey ?? '',
                ...(sessionToken ? { sessionToken } : {}),
              },
              region,
            );
      return { url: url.toString(), method: 'POST', headers: sent, body, proxy: account.credentials.proxy };
    },

    decode: decodeBedrock,
    forwardResponseHeader: (name) => name === 'content-type' || name === 'retry-after' || name === 'x-amzn-requestid',
    classifyError: classifyBedrockError,
    classifyStreamError: streamErrorByName,
    resetTime: (headers, now) => parseRetryAfter(headers['retry-after'], now),
  };
}
