import { describe, expect, it } from 'vitest';
import { bedrockBetas, countTokensBody, invokeBody } from './anthropic-to-invoke.js';

const MESSAGES = [{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } }] }];
const TOOLS = [
  {
    name: 'get_weather',
    description: 'Weather',
    input_schema: { type: 'object', properties: { city: { type: 'string' } } },
  },
];

describe('invokeBody (Anthropic Messages → InvokeModel)', () => {
  it('drops model and stream, adds anthropic_version, keeps everything Claude reads', () => {
    const client = {
      model: 'claude-sonnet-4-5',
      stream: true,
      max_tokens: 1024,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: MESSAGES,
      tools: TOOLS,
      tool_choice: { type: 'auto' },
      temperature: 0.2,
      top_p: 0.9,
      top_k: 5,
      stop_sequences: ['END'],
      thinking: { type: 'enabled', budget_tokens: 2048 },
      context_management: { edits: [] },
      output_config: { effort: 'medium' },
    };
    const { model: _m, stream: _s, ...rest } = client;
    expect(invokeBody(client, [])).toEqual({ anthropic_version: 'bedrock-2023-05-31', ...rest });
  });

  it("removes the fields only Anthropic's own API has (Bedrock answers 400 to them)", () => {
    const body = invokeBody(
      {
        model: 'm',
        max_tokens: 1,
        messages: MESSAGES,
        metadata: { user_id: 'u' },
        service_tier: 'auto',
        container: 'c',
        inference_geo: 'us',
        speed: 'fast',
      },
      [],
    );
    expect(Object.keys(body).sort()).toEqual(['anthropic_version', 'max_tokens', 'messages']);
  });

  it('puts the betas in the body, and replaces any the client put there itself', () => {
    const body = invokeBody(
      {
        model: 'm',
        max_tokens: 1,
        messages: MESSAGES,
        anthropic_version: '2023-06-01',
        anthropic_beta: ['oauth-2025-04-20'],
      },
      ['context-1m-2025-08-07'],
    );
    expect(body.anthropic_version).toBe('bedrock-2023-05-31');
    expect(body.anthropic_beta).toEqual(['context-1m-2025-08-07']);
  });

  it('does not change the body it was given', () => {
    const client = { model: 'm', stream: true, max_tokens: 1, messages: MESSAGES };
    const copy = structuredClone(client);
    invokeBody(client, ['x']);
    expect(client).toEqual(copy);
  });
});

describe('bedrockBetas', () => {
  it.each<[string, string | undefined, string | undefined, string[]]>([
    ['no header', undefined, undefined, []],
    [
      'Bedrock betas pass',
      'interleaved-thinking-2025-05-14, context-1m-2025-08-07',
      undefined,
      ['interleaved-thinking-2025-05-14', 'context-1m-2025-08-07'],
    ],
    [
      'Claude Code\'s first-party betas are dropped (Bedrock: "invalid beta flag")',
      'claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14,prompt-caching-scope-2026-01-05,effort-2025-11-24',
      undefined,
      ['interleaved-thinking-2025-05-14', 'effort-2025-11-24'],
    ],
    ['duplicates and blanks', 'context-1m-2025-08-07,,context-1m-2025-08-07 ', undefined, ['context-1m-2025-08-07']],
    [
      'the account allows more',
      'new-thing-2026-10-01,claude-code-20250219',
      'new-thing-2026-10-01',
      ['new-thing-2026-10-01'],
    ],
    [
      'the account allows everything',
      'new-thing-2026-10-01,claude-code-20250219',
      '*',
      ['new-thing-2026-10-01', 'claude-code-20250219'],
    ],
  ])('%s', (_name, header, account, expected) => {
    expect(bedrockBetas(header, account)).toEqual(expected);
  });
});

describe('countTokensBody', () => {
  const decoded = (b: Record<string, unknown>) =>
    JSON.parse(
      Buffer.from((b.input as { invokeModel: { body: string } }).invokeModel.body, 'base64').toString('utf8'),
    ) as Record<string, unknown>;

  it('wraps the InvokeModel body, base64, with max_tokens 1 (count_tokens has none)', () => {
    const body = countTokensBody({ model: 'claude-sonnet-4-5', messages: MESSAGES, tools: TOOLS, system: 'S' }, [
      'context-1m-2025-08-07',
    ]);
    expect(Object.keys(body)).toEqual(['input']);
    expect(decoded(body)).toEqual({
      anthropic_version: 'bedrock-2023-05-31',
      messages: MESSAGES,
      tools: TOOLS,
      system: 'S',
      anthropic_beta: ['context-1m-2025-08-07'],
      max_tokens: 1,
    });
  });

  it('with thinking, max_tokens is above the budget (Bedrock validates it)', () => {
    expect(
      decoded(
        countTokensBody({ model: 'm', messages: MESSAGES, thinking: { type: 'enabled', budget_tokens: 4000 } }, []),
      ).max_tokens,
    ).toBe(4001);
  });

  it('keeps a max_tokens the client gave', () => {
    expect(decoded(countTokensBody({ model: 'm', messages: MESSAGES, max_tokens: 77 }, [])).max_tokens).toBe(77);
  });
});
