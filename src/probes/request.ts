import { randomUUID } from 'node:crypto';
import type { Account, Platform } from '../accounts/service.js';
import type { Provider, UpstreamCall } from '../providers/types.js';
import type { Pricing } from '../usage/pricing.js';
import { upstreamModelFor } from '../util/models.js';
import type { WireFormat } from '../wire/index.js';

/**
 * The probe's request: the smallest real call an account's own client would make, so the upstream
 * sees nothing unusual. Non-streaming, one output token, the prompt "ping", on the platform's
 * cheapest model the account serves (its own allow list and mapping first).
 */

export const PROBE_PROMPT = 'ping';

/** Claude Code's identity (the OAuth subscription accounts serve Claude Code). */
const CLAUDE_CODE_UA = 'claude-cli/2.1.332 (external, cli)';
const CLAUDE_CODE_SYSTEM = "You are Claude Code, Anthropic's official CLI for Claude.";
const OPENAI_SDK_UA = 'OpenAI/JS 5.23.0';
const GEMINI_CLI_UA = 'GeminiCLI/0.61.0 (linux; x64)';

/** Cheap models each platform probes with unless the account names cheaper ones it serves; first = preferred. */
const DEFAULT_MODELS: Record<Platform, readonly string[]> = {
  claude: ['claude-haiku-4-5'],
  bedrock: ['claude-haiku-4-5'],
  openai: ['gpt-4o-mini', 'gpt-5-mini', 'gpt-4.1-mini'],
  gemini: ['gemini-2.5-flash-lite', 'gemini-2.5-flash'],
  azure: ['gpt-4o-mini'],
};
/** A ChatGPT subscription (Codex backend) serves only Codex's models. */
const CHATGPT_MODELS = ['gpt-5.1-codex-mini'];

export interface ProbeModel {
  /** The model as a client would name it (the account's mapping applies to it). */
  requested: string;
  /** What goes upstream. */
  upstream: string;
}

type ModelAccount = Pick<Account, 'platform' | 'type' | 'models' | 'modelMapping' | 'options'>;

const perToken = (pricing: Pricing, model: string) => {
  const { base } = pricing.resolve(model);
  return base.input + base.output;
};

/**
 * The model to probe with. Azure: the account's deployment. Elsewhere: of the platform's cheap
 * defaults and the models the account names (its allow list without globs, its mapping's keys),
 * those it serves, cheapest first by the pricing table (ties keep the defaults' order). An account
 * that serves none of them (an allow list of globs only) is probed with the platform's default.
 */
export function probeModel(account: ModelAccount, pricing: Pricing): ProbeModel {
  if (account.platform === 'azure') {
    const deployment =
      account.options.deployment || Object.values(account.modelMapping)[0] || (DEFAULT_MODELS.azure[0] as string);
    return { requested: deployment, upstream: deployment };
  }
  const defaults =
    account.platform === 'openai' && account.type === 'oauth' ? CHATGPT_MODELS : DEFAULT_MODELS[account.platform];
  const named = [...account.models, ...Object.keys(account.modelMapping)].filter((m) => m && !m.includes('*'));
  const served = [...new Set([...defaults, ...named])]
    .map((requested) => ({ requested, upstream: upstreamModelFor(account, requested) }))
    .filter((m): m is ProbeModel => m.upstream !== undefined)
    .map((m) => ({ m, price: perToken(pricing, m.upstream) }));
  // Array.prototype.sort is stable: equal prices keep the defaults first.
  served.sort((a, b) => a.price - b.price);
  const fallback = defaults[0] as string;
  return served[0]?.m ?? { requested: fallback, upstream: fallback };
}

/** The client format a platform's own client speaks (the account's format for it follows from the provider). */
function clientFormat(account: Pick<Account, 'platform' | 'type'>): WireFormat {
  switch (account.platform) {
    case 'claude':
    case 'bedrock':
      return 'anthropic';
    case 'openai':
      return account.type === 'oauth' ? 'openai-responses' : 'openai-chat';
    case 'azure':
      return 'openai-chat';
    case 'gemini':
      return account.type === 'oauth' ? 'code-assist' : 'gemini';
  }
}

interface Shape {
  json: Record<string, unknown>;
  headers: Record<string, string>;
  query: string;
}

/** The body and headers of the probe in one wire format, as that format's usual client sends them. */
export function probeShape(account: Pick<Account, 'platform'>, format: WireFormat, model: string): Shape {
  const ping = [{ role: 'user', content: PROBE_PROMPT }];
  switch (format) {
    case 'anthropic':
      if (account.platform !== 'claude')
        return {
          json: { model, max_tokens: 1, messages: ping },
          headers: { 'content-type': 'application/json' },
          query: '',
        };
      return {
        json: {
          model,
          max_tokens: 1,
          system: [{ type: 'text', text: CLAUDE_CODE_SYSTEM }],
          messages: [{ role: 'user', content: [{ type: 'text', text: PROBE_PROMPT }] }],
        },
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'anthropic-version': '2023-06-01',
          'anthropic-beta': 'claude-code-20250219',
          'anthropic-dangerous-direct-browser-access': 'true',
          'user-agent': CLAUDE_CODE_UA,
          'x-app': 'cli',
          'x-stainless-lang': 'js',
          'x-stainless-retry-count': '0',
        },
        query: 'beta=true',
      };
    case 'openai-chat':
    case 'openai-embeddings':
      return {
        json: { model, messages: ping, max_completion_tokens: 1, stream: false },
        headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': OPENAI_SDK_UA },
        query: '',
      };
    case 'openai-responses':
      // Only subscription accounts probe in this format: the ChatGPT backend refuses a token limit
      // (it sets its own) and only streams; the provider collects the stream into the whole response.
      return {
        json: {
          model,
          instructions: 'You are a coding agent.',
          input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: PROBE_PROMPT }] }],
          stream: false,
          store: false,
        },
        headers: { 'content-type': 'application/json' },
        query: '',
      };
    case 'gemini':
      return {
        json: {
          contents: [{ role: 'user', parts: [{ text: PROBE_PROMPT }] }],
          generationConfig: { maxOutputTokens: 1 },
        },
        headers: { 'user-agent': GEMINI_CLI_UA },
        query: '',
      };
    case 'code-assist':
      return {
        json: {
          model,
          user_prompt_id: randomUUID(),
          request: {
            contents: [{ role: 'user', parts: [{ text: PROBE_PROMPT }] }],
            generationConfig: { maxOutputTokens: 1 },
          },
        },
        headers: { 'user-agent': GEMINI_CLI_UA },
        query: '',
      };
  }
}

/** The probe as the provider builds its upstream request from; undefined when the account cannot generate. */
export function probeCall(account: Account, provider: Provider, model: ProbeModel): UpstreamCall | undefined {
  const format = provider.formatFor(account, 'generate', clientFormat(account));
  if (!format) return undefined;
  const shape = probeShape(account, format, model.upstream);
  return {
    account,
    op: 'generate',
    format,
    model: model.upstream,
    stream: false,
    json: shape.json,
    body: Buffer.from(JSON.stringify(shape.json)),
    query: shape.query,
    clientHeaders: shape.headers,
  };
}
