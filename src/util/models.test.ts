import { describe, expect, it } from 'vitest';
import { anyGlob, explicitlySupports, globMatch, modelFamily, upstreamModelFor, type ModelPolicy } from './models.js';

describe('modelFamily', () => {
  it.each<[string, string]>([
    // Claude families, any generation, dated or not, any case.
    ['claude-opus-4-1-20250805', 'opus'],
    ['claude-opus-4-1', 'opus'],
    ['claude-3-opus-20240229', 'opus'],
    ['CLAUDE-OPUS-4', 'opus'],
    ['claude-sonnet-4-5-20250929', 'sonnet'],
    ['claude-3-5-sonnet-latest', 'sonnet'],
    ['Claude-Sonnet-4-5', 'sonnet'],
    ['claude-3-5-haiku-20241022', 'haiku'],
    ['claude-haiku-4-5', 'haiku'],
    ['CLAUDE-HAIKU-4-5', 'haiku'],
    ['claude-fable-1', 'fable'],
    ['claude-fable-1-20270101', 'fable'],
    ['claude-mythos-5', 'mythos'],
    ['Claude-Mythos-5-20270314', 'mythos'],
    // Bedrock and Vertex spellings of Claude models.
    ['anthropic.claude-3-5-sonnet-20241022-v2:0', 'sonnet'],
    ['us.anthropic.claude-opus-4-20250514-v1:0', 'opus'],
    ['claude-3-5-haiku@20241022', 'haiku'],
    // Other models: the lower-cased name, without `models/` and without a date suffix.
    ['gemini-2.5-pro', 'gemini-2.5-pro'],
    ['models/gemini-2.5-flash', 'gemini-2.5-flash'],
    ['Gemini-2.5-Pro', 'gemini-2.5-pro'],
    ['GPT-4o', 'gpt-4o'],
    ['some-model-20250101', 'some-model'],
    ['claude-2.1', 'claude-2.1'],
    ['x-20250101-preview', 'x-20250101-preview'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['o3-2025-04-16', 'o3'],
    ['gpt-4.1-mini-2025-04-14', 'gpt-4.1-mini'],
  ])('%s → %s', (model, family) => {
    expect(modelFamily(model)).toBe(family);
  });

  it('a dated id and its alias are one family', () => {
    for (const [dated, alias] of [
      ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
      ['custom-model-20250101', 'custom-model'],
      ['gpt-4o-2024-08-06', 'gpt-4o'],
    ] as const) {
      expect(modelFamily(dated), dated).toBe(modelFamily(alias));
    }
  });

  it('different families stay apart', () => {
    const families = [
      'claude-opus-4',
      'claude-sonnet-4',
      'claude-haiku-4',
      'claude-fable-1',
      'claude-mythos-1',
      'gpt-4o',
      'gemini-2.5-pro',
    ].map(modelFamily);
    expect(new Set(families).size).toBe(families.length);
  });
});

describe('globMatch', () => {
  it.each<[string, string, boolean]>([
    // No star: whole-name equality, case-insensitive.
    ['claude-opus-4', 'claude-opus-4', true],
    ['claude-opus-4', 'CLAUDE-OPUS-4', true],
    ['Claude-Opus-4', 'claude-opus-4', true],
    ['claude-opus-4', 'claude-opus-4-1', false],
    ['claude-opus-4', 'x-claude-opus-4', false],
    ['a.b', 'axb', false],
    ['', '', true],
    ['', 'a', false],
    // Star anywhere, anchored at both ends.
    ['claude-*', 'claude-opus-4', true],
    ['claude-*', 'claude-', true],
    ['claude-*', 'claud', false],
    ['claude-*', 'anthropic.claude-opus', false],
    ['*-sonnet-*', 'claude-3-5-sonnet-20241022', true],
    ['*-sonnet-*', 'claude-sonnet', false],
    ['*sonnet*', 'sonnet', true],
    ['*sonnet', 'claude-sonnet', true],
    ['*sonnet', 'claude-sonnet-4', false],
    ['claude-*-4', 'claude-opus-4', true],
    ['claude-*-4', 'claude-opus-4-1', false],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbY', false],
    ['*', '', true],
    ['*', 'anything/at all', true],
    ['**', 'x', true],
    ['models/*', 'models/gemini-2.5-pro', true],
    // Case-insensitive with stars.
    ['CLAUDE-*', 'claude-opus', true],
    ['claude-*', 'Claude-Opus', true],
    ['*-SONNET-*', 'claude-3-5-sonnet-x', true],
    // Regex metacharacters are literal.
    ['claude-3.5-*', 'claude-3.5-sonnet', true],
    ['claude-3.5-*', 'claude-3x5-sonnet', false],
    ['a+b*', 'a+bc', true],
    ['a+b*', 'aabc', false],
    ['a?b*', 'a?bc', true],
    ['a?b*', 'abc', false],
    ['a?b*', 'axbc', false],
    ['(x)*', '(x)y', true],
    ['(x)*', 'xy', false],
    ['[ab]*', '[ab]c', true],
    ['[ab]*', 'ac', false],
    ['^a*', '^a', true],
    ['^a*', 'a', false],
    ['a$*', 'a$b', true],
    ['a|b*', 'a|bz', true],
    ['a|b*', 'a', false],
    ['a|b*', 'bz', false],
    ['x{2}*', 'x{2}', true],
    ['x{2}*', 'xx', false],
    ['a\\*', 'a\\z', true],
    ['a\\*', 'az', false],
    ['a\\d*', 'a1', false],
    ['a\\d*', 'a\\d1', true],
    ['.*', 'abc', false],
    ['.*', '.abc', true],
  ])('%j vs %j → %s', (pattern, value, expected) => {
    expect(globMatch(pattern, value)).toBe(expected);
  });

  it('gives the same answers on repeated calls (the compiled pattern cache)', () => {
    for (let i = 0; i < 3; i++) {
      expect(globMatch('claude-*-4', 'claude-opus-4')).toBe(true);
      expect(globMatch('claude-*-4', 'claude-opus-5')).toBe(false);
    }
  });
});

describe('anyGlob', () => {
  it.each<[string[], string, boolean]>([
    [[], 'claude-opus-4', false],
    [['claude-opus-4'], 'claude-opus-4', true],
    [['claude-opus-4'], 'claude-opus-4-1', false],
    [['gpt-*', 'claude-sonnet-*'], 'claude-sonnet-4', true],
    [['gpt-*', 'claude-sonnet-*'], 'claude-opus-4', false],
    [['gpt-*', 'CLAUDE-SONNET-*'], 'claude-sonnet-4', true],
    [['a.b', 'c+d'], 'axb', false],
  ])('%j has %j → %s', (patterns, value, expected) => {
    expect(anyGlob(patterns, value)).toBe(expected);
  });
});

const policy = (models: string[], modelMapping: Record<string, string> = {}): ModelPolicy => ({ models, modelMapping });

describe('upstreamModelFor', () => {
  it.each<[string, ModelPolicy, string, string | undefined]>([
    ['empty allow list serves everything', policy([]), 'claude-opus-4', 'claude-opus-4'],
    ['empty allow list, any name', policy([]), 'gpt-4o', 'gpt-4o'],
    ['allow list, exact name', policy(['claude-sonnet-4-5']), 'claude-sonnet-4-5', 'claude-sonnet-4-5'],
    ['allow list, name not listed', policy(['claude-sonnet-4-5']), 'claude-opus-4', undefined],
    ['allow list, prefix of a listed name is not enough', policy(['claude-sonnet-4-5']), 'claude-sonnet-4', undefined],
    ['allow list with a glob', policy(['claude-sonnet-*']), 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-5-20250929'],
    ['allow list with a glob, no match', policy(['claude-sonnet-*']), 'claude-opus-4', undefined],
    [
      'allow list is case-insensitive; the requested spelling is kept',
      policy(['claude-sonnet-*']),
      'Claude-Sonnet-4',
      'Claude-Sonnet-4',
    ],
    ['several patterns', policy(['claude-opus-*', 'claude-haiku-*']), 'claude-haiku-4-5', 'claude-haiku-4-5'],
    [
      'mapping, exact key',
      policy([], { 'claude-opus-4': 'claude-opus-4-1-20250805' }),
      'claude-opus-4',
      'claude-opus-4-1-20250805',
    ],
    [
      'mapping, key in another case',
      policy([], { 'Claude-Opus-4': 'claude-opus-4-1-20250805' }),
      'claude-opus-4',
      'claude-opus-4-1-20250805',
    ],
    [
      'mapping, requested in another case',
      policy([], { 'claude-opus-4': 'claude-opus-4-1-20250805' }),
      'CLAUDE-OPUS-4',
      'claude-opus-4-1-20250805',
    ],
    [
      'mapping, glob key',
      policy([], { 'claude-3-5-*': 'claude-sonnet-4-5' }),
      'claude-3-5-haiku-20241022',
      'claude-sonnet-4-5',
    ],
    [
      'mapping, glob key in another case',
      policy([], { 'CLAUDE-3-5-*': 'claude-sonnet-4-5' }),
      'claude-3-5-haiku',
      'claude-sonnet-4-5',
    ],
    [
      'mapping that does not apply, empty allow list',
      policy([], { 'claude-opus-4': 'x' }),
      'claude-haiku-4-5',
      'claude-haiku-4-5',
    ],
    [
      'mapping beats the allow list (not listed)',
      policy(['claude-sonnet-*'], { 'claude-opus-4': 'claude-sonnet-4-5' }),
      'claude-opus-4',
      'claude-sonnet-4-5',
    ],
    [
      'mapping beats the allow list (also listed)',
      policy(['claude-opus-4'], { 'claude-opus-4': 'claude-opus-4-1' }),
      'claude-opus-4',
      'claude-opus-4-1',
    ],
    [
      'glob mapping beats the allow list',
      policy(['claude-sonnet-*'], { 'claude-opus-*': 'claude-sonnet-4-5' }),
      'claude-opus-4-1',
      'claude-sonnet-4-5',
    ],
    [
      'neither mapped nor allowed',
      policy(['claude-sonnet-*'], { 'claude-opus-4': 'x' }),
      'claude-haiku-4-5',
      undefined,
    ],
    [
      'mapping keys do not match by prefix',
      policy(['claude-sonnet-*'], { 'claude-opus-4': 'x' }),
      'claude-opus-4-1',
      undefined,
    ],
    [
      'an exact key beats an earlier glob key',
      policy([], { 'claude-*': 'glob', 'claude-opus-4': 'exact' }),
      'claude-opus-4',
      'exact',
    ],
    // Case-insensitivity must not change which entry applies: the same key in another case is
    // still the exact (most specific) entry, not the glob listed before it.
    [
      'an exact key in another case beats an earlier glob key',
      policy([], { 'claude-*': 'glob', 'Claude-Opus-4': 'exact' }),
      'claude-opus-4',
      'exact',
    ],
  ])('%s', (_name, p, requested, expected) => {
    expect(upstreamModelFor(p, requested)).toBe(expected);
  });

  // Model names come from clients; a name that happens to be an Object.prototype property must not
  // read as a mapping entry.
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'a model named %j is not found in a mapping it is not in',
    (name) => {
      expect(upstreamModelFor(policy(['claude-*']), name)).toBeUndefined();
      expect(upstreamModelFor(policy([]), name)).toBe(name);
      expect(explicitlySupports(policy([]), name)).toBe(false);
    },
  );
});

describe('explicitlySupports', () => {
  it.each<[string, ModelPolicy, string, boolean]>([
    ['accepts-all is not explicit', policy([]), 'claude-opus-4', false],
    ['listed exactly', policy(['claude-opus-4']), 'claude-opus-4', true],
    ['listed, other case', policy(['claude-opus-4']), 'Claude-Opus-4', true],
    ['listed by glob', policy(['claude-sonnet-*']), 'claude-sonnet-4-5', true],
    ['not listed', policy(['claude-sonnet-*']), 'claude-opus-4', false],
    ['mapped exactly, empty allow list', policy([], { 'claude-opus-4': 'x' }), 'claude-opus-4', true],
    ['mapped, other case', policy([], { 'claude-opus-4': 'x' }), 'CLAUDE-OPUS-4', true],
    ['mapped by glob', policy([], { 'claude-3-*': 'x' }), 'claude-3-opus', true],
    ['mapped elsewhere only', policy([], { 'claude-opus-4': 'x' }), 'claude-haiku-4', false],
    ['mapped, not in the allow list', policy(['claude-sonnet-*'], { 'claude-opus-4': 'x' }), 'claude-opus-4', true],
  ])('%s', (_name, p, requested, expected) => {
    expect(explicitlySupports(p, requested)).toBe(expected);
  });

  it('agrees with upstreamModelFor: whatever is explicit is served', () => {
    const policies = [
      policy([]),
      policy(['claude-sonnet-*']),
      policy([], { 'claude-opus-*': 'claude-opus-4-1' }),
      policy(['gpt-*'], { 'Claude-Haiku-4': 'claude-haiku-4-5' }),
    ];
    const models = ['claude-sonnet-4', 'claude-opus-4', 'claude-haiku-4', 'gpt-4o', 'gemini-2.5-pro'];
    for (const p of policies) {
      for (const m of models)
        if (explicitlySupports(p, m)) expect(upstreamModelFor(p, m), `${JSON.stringify(p)} ${m}`).toBeDefined();
    }
  });
});
