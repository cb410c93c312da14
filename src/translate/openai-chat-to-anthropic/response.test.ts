import { describe, expect, it } from 'vitest';
import type { BridgeContext } from '../index.js';
import { fromAnthropicMessage } from './response.js';

const ctx: BridgeContext = {
  requestedModel: 'claude-sonnet-5-5',
  upstreamModel: 'claude-sonnet-5-5-20261101',
  stream: false,
  clientQuery: new URLSearchParams(),
};

const message = (over: Record<string, unknown>) => ({
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-5-5-20261101',
  content: [{ type: 'text', text: 'Hello' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 10, output_tokens: 5 },
  ...over,
});

describe('Anthropic message → chat.completion', () => {
  it('carries id, model as the client named it, content and usage', () => {
    const out = fromAnthropicMessage(message({}), ctx) as Record<string, unknown>;
    expect(out).toMatchObject({
      id: 'chatcmpl-msg_01',
      object: 'chat.completion',
      model: 'claude-sonnet-5-5',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 } },
    });
    expect(typeof out.created).toBe('number');
    expect(Math.abs((out.created as number) - Date.now() / 1000)).toBeLessThan(5);
  });

  const finishes: [string | null, string][] = [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'stop'],
    [null, 'stop'],
  ];
  it.each(finishes)('stop_reason %s → finish_reason %s', (stop, finish) => {
    const out = fromAnthropicMessage(message({ stop_reason: stop }), ctx) as { choices: { finish_reason: string }[] };
    expect(out.choices[0]?.finish_reason).toBe(finish);
  });

  it('prompt tokens count cache writes and reads; cached_tokens are the reads', () => {
    const usage = {
      input_tokens: 7,
      output_tokens: 40,
      cache_creation_input_tokens: 300,
      cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 },
      cache_read_input_tokens: 5000,
    };
    const out = fromAnthropicMessage(message({ usage }), ctx) as { usage: unknown };
    expect(out.usage).toEqual({
      prompt_tokens: 5307,
      completion_tokens: 40,
      total_tokens: 5347,
      prompt_tokens_details: { cached_tokens: 5000 },
    });
  });

  it('tool_use blocks become tool_calls with JSON arguments; text alongside stays content', () => {
    const content = [
      { type: 'thinking', thinking: 'hmm', signature: 's' },
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: { city: 'Paris', days: 2 } },
      { type: 'tool_use', id: 'toolu_10', name: 'now', input: {} },
    ];
    const out = fromAnthropicMessage(message({ content, stop_reason: 'tool_use' }), ctx) as {
      choices: { message: unknown; finish_reason: string }[];
    };
    expect(out.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: 'Checking.',
        tool_calls: [
          {
            id: 'toolu_9',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris","days":2}' },
          },
          { id: 'toolu_10', type: 'function', function: { name: 'now', arguments: '{}' } },
        ],
      },
    });
  });

  it('content is null when the answer is only tool calls', () => {
    const out = fromAnthropicMessage(
      message({ content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }], stop_reason: 'tool_use' }),
      ctx,
    ) as { choices: { message: { content: unknown } }[] };
    expect(out.choices[0]?.message.content).toBeNull();
  });

  it('passes back what is not a message', () => {
    const body = { type: 'error', error: { type: 'api_error', message: 'x' } };
    expect(fromAnthropicMessage(body, ctx)).toBe(body);
  });
});
