import { describe, expect, it } from 'vitest';
import { deploymentFor } from './index.js';
import { azureUrl } from './urls.js';

const EP = 'https://res.openai.azure.com';

describe('azureUrl', () => {
  it.each<[string, Parameters<typeof azureUrl>, string]>([
    [
      'chat on the deployment',
      [EP, 'openai-chat', 'gpt4o-prod', '2025-04-01-preview'],
      `${EP}/openai/deployments/gpt4o-prod/chat/completions?api-version=2025-04-01-preview`,
    ],
    [
      'embeddings on the deployment',
      [EP, 'openai-embeddings', 'emb', '2024-10-21'],
      `${EP}/openai/deployments/emb/embeddings?api-version=2024-10-21`,
    ],
    [
      'responses on the resource',
      [EP, 'openai-responses', 'gpt4o-prod', '2025-04-01-preview'],
      `${EP}/openai/responses?api-version=2025-04-01-preview`,
    ],
    ['v1 chat', [EP, 'openai-chat', 'd', 'v1'], `${EP}/openai/v1/chat/completions`],
    ['v1 responses', [EP, 'openai-responses', 'd', 'v1'], `${EP}/openai/v1/responses`],
    [
      'an endpoint given with /openai and a slash',
      [`${EP}/openai/`, 'openai-chat', 'd', '2024-10-21'],
      `${EP}/openai/deployments/d/chat/completions?api-version=2024-10-21`,
    ],
  ])('%s', (_name, args, want) => {
    expect(azureUrl(...args)).toBe(want);
  });
});

describe('deploymentFor', () => {
  it.each<[string, Record<string, string>, Record<string, string>, string, string]>([
    ['no mapping, no option: the same name', {}, {}, 'gpt-4o', 'gpt-4o'],
    ['the deployment option serves unmapped models', {}, { deployment: 'prod-4o' }, 'gpt-4o', 'prod-4o'],
    [
      'a mapped model (already applied) wins over the option',
      { 'gpt-4o': 'mapped-4o' },
      { deployment: 'prod-4o' },
      'mapped-4o',
      'mapped-4o',
    ],
  ])('%s', (_name, modelMapping, options, model, want) => {
    expect(deploymentFor({ modelMapping, options }, model)).toBe(want);
  });
});
