import type { WireFormat } from '../../wire/index.js';

const DEPLOYMENT_PATHS: Partial<Record<WireFormat, string>> = {
  'openai-chat': '/chat/completions',
  'openai-embeddings': '/embeddings',
};

/**
 * Azure's URL shapes. With a dated api-version: chat and embeddings on the deployment, Responses
 * on the resource (`/openai/responses`). With `v1` (Azure's OpenAI-compatible v1 API): every
 * operation under `/openai/v1/`, the deployment named in the body's `model`.
 */
export function azureUrl(endpoint: string, format: WireFormat, deployment: string, apiVersion: string): string {
  const base = endpoint.replace(/\/+$/, '').replace(/\/openai$/, '');
  const op = DEPLOYMENT_PATHS[format] ?? '/responses';
  if (apiVersion === 'v1') return `${base}/openai/v1${op}`;
  const query = `?api-version=${encodeURIComponent(apiVersion)}`;
  if (format === 'openai-responses') return `${base}/openai/responses${query}`;
  return `${base}/openai/deployments/${encodeURIComponent(deployment)}${op}${query}`;
}
