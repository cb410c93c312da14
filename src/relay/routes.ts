import type { ApiShape } from '../errors/render.js';
import { keyFromHeaders } from '../keys/service.js';
import { anthropicCountTokens, anthropicMessages } from './surfaces/anthropic.js';
import type { RelayDeps, RouteInfo, Surface } from './types.js';

/**
 * Every client-facing relay route. A POST route names its surface, or picks one from the path
 * (Gemini puts the operation in it: `models/{model}:streamGenerateContent`). A GET route answers
 * from the relay itself (model lists), after checking the relay key.
 */
export interface RelayRoute {
  pattern: string;
  surface: Surface | ((path: string) => Surface | undefined);
}

export interface InfoRoute {
  pattern: string;
  shape: ApiShape;
  credential: Surface['credential'];
  answer(deps: RelayDeps, route: RouteInfo): unknown;
}

/** Claude Code and the SDK use `/api`; Cherry Studio and others use `/claude`. */
const ANTHROPIC_PREFIXES = ['/api', '/claude'];

export const RELAY_ROUTES: RelayRoute[] = [
  ...ANTHROPIC_PREFIXES.flatMap((p) => [
    { pattern: `${p}/v1/messages`, surface: anthropicMessages },
    { pattern: `${p}/v1/messages/count_tokens`, surface: anthropicCountTokens },
  ]),
];

export const INFO_ROUTES: InfoRoute[] = [
  ...ANTHROPIC_PREFIXES.map((p) => ({ pattern: `${p}/v1/models`, shape: 'anthropic' as const, credential: keyFromHeaders, answer: claudeModelList })),
];

/** Anthropic's model list format, from the Claude entries of the pricing table. */
function claudeModelList(deps: RelayDeps) {
  const pricing = deps.pricing();
  const createdAt = new Date(`${pricing.version}T00:00:00Z`).toISOString();
  const data = pricing.models('claude').map((id) => ({ type: 'model', id, display_name: displayName(id), created_at: createdAt }));
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
