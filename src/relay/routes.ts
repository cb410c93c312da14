import { keyFromHeaders } from '../keys/service.js';
import { anthropicCountTokens, anthropicMessages } from './surfaces/anthropic.js';
import { GEMINI_INFO_ROUTES, GEMINI_RELAY_ROUTES } from './surfaces/gemini-routes.js';
import { azureChat, azureEmbeddings, azureResponses, azureV1Chat, azureV1Embeddings } from './surfaces/azure.js';
import { openaiChat, openaiEmbeddings, openaiModelList, openaiResponses } from './surfaces/openai.js';
import { openaiClaudeChat, openaiGeminiChat } from './surfaces/openai-bridges.js';
import type { InfoRoute, RelayDeps, RelayRoute } from './types.js';

/**
 * Claude Code and the SDK use `/api`; Cherry Studio and others use `/claude`; a base URL of the
 * bare host (`ANTHROPIC_BASE_URL=http://host:3000`) reaches `/v1/…`, as the API itself is shaped.
 */
const ANTHROPIC_PREFIXES = ['/api', '/claude', ''];

export const RELAY_ROUTES: RelayRoute[] = [
  ...ANTHROPIC_PREFIXES.flatMap((p) => [
    { pattern: `${p}/v1/messages`, surface: anthropicMessages },
    { pattern: `${p}/v1/messages/count_tokens`, surface: anthropicCountTokens },
  ]),
  ...GEMINI_RELAY_ROUTES,
  { pattern: '/openai/claude/v1/chat/completions', surface: openaiClaudeChat },
  { pattern: '/openai/gemini/v1/chat/completions', surface: openaiGeminiChat },
  { pattern: '/openai/v1/chat/completions', surface: openaiChat },
  // Codex appends `/responses` to its provider's base_url (`…/openai`); SDKs use `…/openai/v1`.
  { pattern: '/openai/v1/responses', surface: openaiResponses },
  { pattern: '/openai/responses', surface: openaiResponses },
  { pattern: '/openai/v1/embeddings', surface: openaiEmbeddings },
  { pattern: '/azure/openai/deployments/:deployment/chat/completions', surface: azureChat },
  { pattern: '/azure/openai/deployments/:deployment/embeddings', surface: azureEmbeddings },
  { pattern: '/azure/openai/responses', surface: azureResponses },
  { pattern: '/azure/openai/v1/responses', surface: azureResponses },
  { pattern: '/azure/openai/v1/chat/completions', surface: azureV1Chat },
  { pattern: '/azure/openai/v1/embeddings', surface: azureV1Embeddings },
];

export const INFO_ROUTES: InfoRoute[] = [
  ...ANTHROPIC_PREFIXES.map((p) => ({
    pattern: `${p}/v1/models`,
    shape: 'anthropic' as const,
    credential: keyFromHeaders,
    answer: claudeModelList,
  })),
  ...GEMINI_INFO_ROUTES,
  {
    pattern: '/openai/claude/v1/models',
    shape: 'openai',
    credential: keyFromHeaders,
    answer: openaiModelList('claude', 'anthropic'),
  },
  {
    pattern: '/openai/gemini/v1/models',
    shape: 'openai',
    credential: keyFromHeaders,
    answer: openaiModelList('gemini', 'google'),
  },
  {
    pattern: '/openai/v1/models',
    shape: 'openai',
    credential: keyFromHeaders,
    answer: openaiModelList('openai', 'openai'),
  },
  {
    pattern: '/openai/models',
    shape: 'openai',
    credential: keyFromHeaders,
    answer: openaiModelList('openai', 'openai'),
  },
];

/** Anthropic's model list format, from the Claude entries of the pricing table. */
function claudeModelList(deps: RelayDeps) {
  const pricing = deps.pricing();
  const createdAt = new Date(`${pricing.version}T00:00:00Z`).toISOString();
  const data = pricing
    .models('claude')
    .map((id) => ({ type: 'model', id, display_name: displayName(id), created_at: createdAt }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null };
}

function displayName(id: string): string {
  // claude-opus-4-5 → Claude Opus 4.5
  const m = /^claude-(?:(\d)-(\d)-)?([a-z]+)(?:-(\d+)(?:-(\d+))?)?/.exec(id);
  if (!m) return id;
  const family = (m[3] ?? '').replace(/^./, (c) => c.toUpperCase());
  const version = m[1] ? `${m[1]}.${m[2]}` : m[5] ? `${m[4]}.${m[5]}` : (m[4] ?? '');
  return `Claude ${family} ${version}`.trim();
}
