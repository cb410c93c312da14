import { describe, expect, it } from 'vitest';
import type { Account, Platform } from '../accounts/service.js';
import type { AccountId } from '../ids.js';
import type { Provider } from '../providers/types.js';
import { createPricing } from '../usage/pricing.js';
import { probeCall, probeModel, probeShape } from './request.js';

const pricing = createPricing();

function account(platform: Platform, over: Partial<Account> = {}): Account {
  return {
    id: 'a_0123456789abcdef' as AccountId,
    platform,
    type: 'api-key',
    name: 'a',
    description: '',
    baseUrl: '',
    priority: 50,
    active: true,
    schedulable: true,
    shared: true,
    backup: false,
    weight: 1,
    maxConcurrency: 0,
    models: [],
    modelMapping: {},
    subscriptionExpiresAt: null,
    probe: true,
    probeIntervalMs: null,
    options: {},
    createdAt: 0,
    updatedAt: 0,
    lastUsedAt: null,
    credentials: {},
    ...over,
  };
}

describe('probeModel', () => {
  it.each<[string, Account, { requested: string; upstream: string }]>([
    ['claude: a haiku', account('claude'), { requested: 'claude-haiku-4-5', upstream: 'claude-haiku-4-5' }],
    ['bedrock: a haiku', account('bedrock'), { requested: 'claude-haiku-4-5', upstream: 'claude-haiku-4-5' }],
    ['openai: the cheapest mini', account('openai'), { requested: 'gpt-4o-mini', upstream: 'gpt-4o-mini' }],
    [
      'openai subscription: a Codex mini',
      account('openai', { type: 'oauth' }),
      { requested: 'gpt-5.1-codex-mini', upstream: 'gpt-5.1-codex-mini' },
    ],
    [
      'gemini: flash-lite',
      account('gemini'),
      { requested: 'gemini-2.5-flash-lite', upstream: 'gemini-2.5-flash-lite' },
    ],
    [
      'azure: its deployment',
      account('azure', { options: { deployment: 'my-gpt4o' } }),
      { requested: 'my-gpt4o', upstream: 'my-gpt4o' },
    ],
    [
      'azure without a deployment option: its first mapped deployment',
      account('azure', { modelMapping: { 'gpt-4o': 'prod-4o' } }),
      { requested: 'prod-4o', upstream: 'prod-4o' },
    ],
    [
      'an allow list naming a cheaper model wins',
      account('claude', { models: ['claude-sonnet-4-5', 'claude-3-haiku-20240307'] }),
      { requested: 'claude-3-haiku-20240307', upstream: 'claude-3-haiku-20240307' },
    ],
    [
      'an allow list without the default: its cheapest model',
      account('claude', { models: ['claude-opus-4-5', 'claude-sonnet-4-5'] }),
      { requested: 'claude-sonnet-4-5', upstream: 'claude-sonnet-4-5' },
    ],
    [
      'a glob allow list that takes the default: the default',
      account('claude', { models: ['claude-haiku-*', 'claude-sonnet-*'] }),
      { requested: 'claude-haiku-4-5', upstream: 'claude-haiku-4-5' },
    ],
    [
      'a mapping applies to the default',
      account('claude', { modelMapping: { 'claude-haiku-4-5': 'claude-3-5-haiku-20241022' } }),
      { requested: 'claude-haiku-4-5', upstream: 'claude-3-5-haiku-20241022' },
    ],
    [
      'a compatible endpoint with one model of its own',
      account('claude', { models: ['glm-4.6'] }),
      { requested: 'glm-4.6', upstream: 'glm-4.6' },
    ],
    [
      'nothing served: the platform default',
      account('claude', { models: ['claude-opus-*'] }),
      { requested: 'claude-haiku-4-5', upstream: 'claude-haiku-4-5' },
    ],
  ])('%s', (_name, a, expected) => {
    expect(probeModel(a, pricing)).toEqual(expected);
  });
});

describe('probeShape', () => {
  it('claude: Claude Code shaped, one output token, not streamed', () => {
    const s = probeShape({ platform: 'claude' }, 'anthropic', 'claude-haiku-4-5');
    expect(s.json).toMatchObject({ model: 'claude-haiku-4-5', max_tokens: 1 });
    expect(s.json.stream).toBeUndefined();
    expect(JSON.stringify(s.json.system)).toContain('Claude Code');
    expect(s.headers).toMatchObject({ 'x-app': 'cli', 'anthropic-version': '2023-06-01' });
    expect(s.headers['user-agent']).toMatch(/^claude-cli\/\d+\.\d+\.\d+/);
    expect(s.query).toBe('beta=true');
  });

  it('bedrock: the plain Messages body', () => {
    const s = probeShape({ platform: 'bedrock' }, 'anthropic', 'claude-haiku-4-5');
    expect(s.json).toEqual({ model: 'claude-haiku-4-5', max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] });
  });

  it.each([
    ['openai-chat', { max_completion_tokens: 1, stream: false }],
    ['openai-responses', { stream: false, store: false }],
    ['gemini', { generationConfig: { maxOutputTokens: 1 } }],
    ['code-assist', { model: 'm', request: { generationConfig: { maxOutputTokens: 1 } } }],
  ] as const)('%s: one output token where the format allows, not streamed', (format, expected) => {
    const s = probeShape({ platform: 'openai' }, format, 'm');
    expect(s.json).toMatchObject(expected);
    expect(JSON.stringify(s.json)).toContain('ping');
  });

  it('the subscription backend gets no token limit (it refuses one)', () => {
    expect(probeShape({ platform: 'openai' }, 'openai-responses', 'm').json).not.toHaveProperty('max_output_tokens');
  });
});

describe('probeCall', () => {
  const provider = (format: 'anthropic' | undefined) => ({ formatFor: () => format }) as unknown as Provider;

  it('is a non-streaming generate call in the format the provider names', () => {
    const call = probeCall(account('claude'), provider('anthropic'), { requested: 'x', upstream: 'claude-haiku-4-5' });
    expect(call).toMatchObject({ op: 'generate', format: 'anthropic', model: 'claude-haiku-4-5', stream: false });
    expect(JSON.parse(call?.body.toString() ?? '{}')).toEqual(call?.json);
  });

  it('is undefined when the account cannot generate', () => {
    expect(probeCall(account('claude'), provider(undefined), { requested: 'x', upstream: 'y' })).toBeUndefined();
  });
});
