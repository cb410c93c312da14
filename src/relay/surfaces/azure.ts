import { RelayError } from '../../errors/catalogue.js';
import { keyFromHeaders } from '../../keys/service.js';
import type { ParsedRequest, RouteInfo, Surface } from '../types.js';
import { byModel, parseJsonObject } from './json.js';
import { parseChat, parseEmbeddings, parseResponses } from './openai.js';

/**
 * Azure OpenAI in Azure's own URL shape, served by Azure accounts:
 *   POST /azure/openai/deployments/{deployment}/chat/completions?api-version=…
 *   POST /azure/openai/deployments/{deployment}/embeddings?api-version=…
 *   POST /azure/openai/responses?api-version=…   (and /azure/openai/v1/… with the deployment in `model`)
 * The deployment in the URL is the model the request is routed by (an account's modelMapping
 * or `deployment` option decides which of its deployments serves it). The key comes in `api-key`
 * (the `AzureOpenAI` client), or `Authorization: Bearer` / `x-api-key`.
 */

/** A deployment name from the path: Azure's are letters, digits, `-`, `_` and `.`. */
function deploymentOf(route: RouteInfo): string {
  let name: string;
  try {
    name = decodeURIComponent(route.params[0] ?? '');
  } catch {
    name = '';
  }
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(name))
    throw new RelayError('invalid_request', { message: 'deployment: the deployment name in the URL is not valid.' });
  return name;
}

type Parse = (json: Record<string, unknown>, model: string) => ParsedRequest;

/** The deployment comes from the URL; a body's `model`, if any, is Azure's to ignore. */
const byDeployment = (parse: Parse) => (body: Buffer, route: RouteInfo) =>
  parse(parseJsonObject(body), deploymentOf(route));

const credential = (headers: Readonly<Record<string, string>>) => headers['api-key']?.trim() || keyFromHeaders(headers);

const surface = (name: string, format: Surface['format'], op: Surface['op'], parse: Surface['parse']): Surface => ({
  name,
  shape: 'openai',
  format,
  op,
  platforms: ['azure'],
  booked: true,
  credential,
  parse,
});

export const azureChat = surface('azure.chat', 'openai-chat', 'generate', byDeployment(parseChat));
export const azureEmbeddings = surface('azure.embeddings', 'openai-embeddings', 'embed', byDeployment(parseEmbeddings));
// The v1 and Responses routes name the deployment in `model`.
export const azureResponses = surface('azure.responses', 'openai-responses', 'generate', byModel(parseResponses));
export const azureV1Chat = surface('azure.chat', 'openai-chat', 'generate', byModel(parseChat));
export const azureV1Embeddings = surface('azure.embeddings', 'openai-embeddings', 'embed', byModel(parseEmbeddings));
