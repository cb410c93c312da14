import { RelayError } from '../../errors/catalogue.js';
import type { InfoRoute, RelayDeps, RelayRoute, RouteInfo } from '../types.js';
import { codeAssistCountTokens, codeAssistGenerateContent, googleCredential, nativeSurface } from './gemini.js';

/**
 * Every route under `/gemini`. Calls that generate or count tokens go through the relay pipeline;
 * the rest Gemini CLI makes around them (model lists, Code Assist's account set-up, experiments,
 * quota, metrics) are answered by the relay itself, after checking the relay key.
 *
 * Code Assist set-up: the relay presents itself as one ready Code Assist account. `loadCodeAssist`
 * answers with a current (standard) tier and a placeholder project, so Gemini CLI never onboards
 * and goes straight to generate calls, which the relay maps to a pooled account, putting that
 * account's own project into each one. The placeholder is never sent upstream.
 */

const NATIVE_PREFIXES = ['/gemini/v1beta', '/gemini/v1'];

/** The project Gemini CLI is told it works in; every upstream call names the account's own instead. */
export const RELAY_PROJECT = 'claude-relay-service';

const RELAY_TIER = {
  id: 'standard-tier',
  name: 'Claude Relay Service',
  description: "Requests are served by the relay's pool of Gemini accounts.",
  userDefinedCloudaicompanionProject: false,
  hasOnboardedPreviously: true,
};

const ONBOARDED = {
  name: 'operations/claude-relay-service-onboarded',
  done: true,
  response: { cloudaicompanionProject: { id: RELAY_PROJECT, name: RELAY_PROJECT } },
};

export const GEMINI_RELAY_ROUTES: RelayRoute[] = [
  ...NATIVE_PREFIXES.map((p) => ({ pattern: `${p}/models/:target`, surface: nativeSurface })),
  { pattern: '/gemini/v1internal:generateContent', surface: codeAssistGenerateContent },
  { pattern: '/gemini/v1internal:streamGenerateContent', surface: codeAssistGenerateContent },
  { pattern: '/gemini/v1internal:countTokens', surface: codeAssistCountTokens },
];

const route = (pattern: string, answer: InfoRoute['answer'], method: InfoRoute['method'] = 'get'): InfoRoute => ({
  pattern,
  method,
  shape: 'gemini',
  credential: googleCredential,
  answer,
});
const codeAssist = (name: string, answer: unknown, method: InfoRoute['method'] = 'post') =>
  route(`/gemini/v1internal:${name}`, () => answer, method);

export const GEMINI_INFO_ROUTES: InfoRoute[] = [
  ...NATIVE_PREFIXES.flatMap((p) => [route(`${p}/models`, modelList), route(`${p}/models/:model`, oneModel)]),
  codeAssist('loadCodeAssist', {
    currentTier: RELAY_TIER,
    allowedTiers: [{ ...RELAY_TIER, isDefault: true }],
    cloudaicompanionProject: RELAY_PROJECT,
  }),
  codeAssist('onboardUser', ONBOARDED),
  route('/gemini/v1internal/operations/:id', () => ONBOARDED),
  // Defaults everywhere: no experiment flags, no admin controls, no quota buckets to show.
  codeAssist('listExperiments', { experimentIds: [], flags: [] }),
  codeAssist('retrieveUserQuota', { buckets: [] }),
  codeAssist('fetchAdminControls', {}),
  codeAssist('recordCodeAssistMetrics', {}),
  codeAssist('getCodeAssistGlobalUserSetting', {}, 'get'),
  codeAssist('setCodeAssistGlobalUserSetting', {}),
];

/** Google's Model resource for a model id of the pricing table. */
function model(id: string) {
  return {
    name: `models/${id}`,
    baseModelId: id,
    version: id,
    displayName: displayName(id),
    supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
  };
}

/** `gemini-2.5-flash-lite` → `Gemini 2.5 Flash Lite`. */
function displayName(id: string): string {
  return id
    .split('-')
    .map((w) => (/^\d/.test(w) ? w : w.charAt(0).toUpperCase() + w.slice(1)))
    .join(' ');
}

/** Google's list format, from the Gemini entries of the pricing table. */
function modelList(deps: RelayDeps) {
  return { models: deps.pricing().models('gemini').map(model) };
}

function oneModel(deps: RelayDeps, info: RouteInfo) {
  let id = info.params[0] ?? '';
  try {
    id = decodeURIComponent(id).replace(/^models\//, '');
  } catch {
    // keep it as sent; it will not be found
  }
  if (!deps.pricing().models('gemini').includes(id))
    throw new RelayError('not_found', { message: `models/${id} is not found.` });
  return model(id);
}
