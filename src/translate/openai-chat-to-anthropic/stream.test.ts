import { describe, expect, it } from 'vitest';
import type { BridgeContext } from '../index.js';
import { AnthropicToChatStream } from './stream.js';

const ev = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** A Messages stream exactly as the API sends it: text, then a tool call in JSON fragments. */
function messageStream(opts: { stop?: string; tool?: boolean; text?: string[] } = {}): string[] {
  const events = [
    ev('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_S1',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-5-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 12, cache_creation_input_tokens: 100, cache_read_input_tokens: 2000, output_tokens: 1 },
      },
    }),
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping', { type: 'ping' }),
  ];
  for (const t of opts.text ?? ['Hé', 'llo ✓'])
    events.push(
      ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } }),
    );
  events.push(ev('content_block_stop', { type: 'content_block_stop', index: 0 }));
  if (opts.tool) {
    events.push(
      ev('content_block_start', {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: {} },
      }),
    );
    for (const f of ['', '{"ci', 'ty": "Par', 'is"}'])
      events.push(
        ev('content_block_delta', {
          type: 'content_block_delta',
          index: 1,
          delta: { type: 'input_json_delta', partial_json: f },
        }),
      );
    events.push(ev('content_block_stop', { type: 'content_block_stop', index: 1 }));
  }
  events.push(
    ev('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: opts.stop ?? (opts.tool ? 'tool_use' : 'end_turn'), stop_sequence: null },
      usage: { output_tokens: 33 },
    }),
  );
  events.push(ev('message_stop', { type: 'message_stop' }));
  return events;
}

const ctx = (includeUsage: boolean): BridgeContext => ({
  requestedModel: 'claude-sonnet-5-5',
  upstreamModel: 'claude-sonnet-5-5',
  stream: true,
  clientQuery: new URLSearchParams(),
  clientBody: includeUsage ? { stream_options: { include_usage: true } } : {},
});

type Out = Record<string, unknown> | '[DONE]';

/** The client's SSE → its data payloads (created dropped: it is the clock's). */
function payloads(text: string): Out[] {
  expect(text.endsWith('\n\n') || text === '').toBe(true);
  return text
    .split('\n\n')
    .filter((e) => e !== '')
    .map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      const data = e.slice(6);
      if (data === '[DONE]') return '[DONE]';
      const { created: _created, ...rest } = JSON.parse(data) as Record<string, unknown>;
      return rest;
    });
}

function run(chunks: Buffer[], includeUsage: boolean, complete = true): Out[] {
  const t = new AnthropicToChatStream(ctx(includeUsage));
  const out = chunks.map((c) => t.push(c));
  out.push(t.end({ complete }));
  return payloads(Buffer.concat(out).toString('utf8'));
}

const base = { id: 'chatcmpl-msg_S1', object: 'chat.completion.chunk', model: 'claude-sonnet-5-5' };
const choice = (delta: unknown, finish: string | null = null) => ({
  ...base,
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
});

describe('Anthropic SSE → chat.completion.chunk SSE', () => {
  it('text: role first, content deltas, finish, usage (asked for), [DONE]', () => {
    const out = run([Buffer.from(messageStream().join(''))], true);
    const withUsage = (c: object) => ({ ...c, usage: null });
    expect(out).toEqual([
      withUsage(choice({ role: 'assistant', content: '', refusal: null })),
      withUsage(choice({ content: 'Hé' })),
      withUsage(choice({ content: 'llo ✓' })),
      withUsage(choice({}, 'stop')),
      {
        ...base,
        choices: [],
        usage: {
          prompt_tokens: 2112,
          completion_tokens: 33,
          total_tokens: 2145,
          prompt_tokens_details: { cached_tokens: 2000 },
        },
      },
      '[DONE]',
    ]);
  });

  it('no usage chunk and no usage field when the client did not ask', () => {
    const out = run([Buffer.from(messageStream().join(''))], false);
    expect(out.at(-1)).toBe('[DONE]');
    expect(out.filter((c) => c !== '[DONE]' && 'usage' in c)).toEqual([]);
    expect(out).toHaveLength(5);
  });

  it('a tool call: id and name first, then argument fragments that join into the JSON', () => {
    const out = run([Buffer.from(messageStream({ tool: true, text: ['Let me check.'] }).join(''))], false);
    expect(out).toEqual([
      choice({ role: 'assistant', content: '', refusal: null }),
      choice({ content: 'Let me check.' }),
      choice({
        tool_calls: [{ index: 0, id: 'toolu_A', type: 'function', function: { name: 'get_weather', arguments: '' } }],
      }),
      choice({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
      choice({ tool_calls: [{ index: 0, function: { arguments: 'ty": "Par' } }] }),
      choice({ tool_calls: [{ index: 0, function: { arguments: 'is"}' } }] }),
      choice({}, 'tool_calls'),
      '[DONE]',
    ]);
  });

  it.each([
    ['max_tokens', 'length'],
    ['stop_sequence', 'stop'],
    ['refusal', 'content_filter'],
  ])('stop_reason %s → finish_reason %s', (stop, finish) => {
    const out = run([Buffer.from(messageStream({ stop }).join(''))], false);
    expect(out.at(-2)).toEqual(choice({}, finish));
  });

  it('a cut stream ends with the usage so far (asked for) and an in-stream error, never [DONE]', () => {
    const events = messageStream();
    const out = run([Buffer.from(events.slice(0, 4).join(''))], true, false);
    expect(out.slice(0, 2)).toEqual([
      { ...choice({ role: 'assistant', content: '', refusal: null }), usage: null },
      { ...choice({ content: 'Hé' }), usage: null },
    ]);
    expect(out[2]).toEqual({
      ...base,
      choices: [],
      usage: {
        prompt_tokens: 2112,
        completion_tokens: 1,
        total_tokens: 2113,
        prompt_tokens_details: { cached_tokens: 2000 },
      },
    });
    expect(out[3]).toEqual({
      error: {
        message: 'The upstream stream ended before the answer was complete.',
        type: 'server_error',
        param: null,
        code: null,
      },
    });
    expect(out).toHaveLength(4);
  });

  it('an error event becomes an in-stream error, once', () => {
    const events = messageStream().slice(0, 4);
    events.push(ev('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    const out = run([Buffer.from(events.join(''))], false, false);
    expect(out.at(-1)).toEqual({
      error: { message: 'Upstream: Overloaded', type: 'server_error', param: null, code: null },
    });
    expect(out.filter((c) => c !== '[DONE]' && 'error' in c)).toHaveLength(1);
    expect(out).not.toContain('[DONE]');
  });

  describe('byte boundaries', () => {
    const fixtures: [string, Buffer, boolean][] = [
      ['text with usage', Buffer.from(messageStream().join('')), true],
      ['tool call', Buffer.from(messageStream({ tool: true }).join('')), false],
      ['CRLF line ends', Buffer.from(messageStream({ tool: true }).join('').replace(/\n/g, '\r\n')), true],
    ];

    it.each(fixtures)('%s: split at every byte gives the same chunks as one piece', (_name, bytes, usage) => {
      const whole = run([bytes], usage);
      for (let i = 1; i < bytes.length; i++)
        expect(run([bytes.subarray(0, i), bytes.subarray(i)], usage)).toEqual(whole);
    });

    it.each(fixtures)(
      '%s: arbitrary splits (including one byte at a time) give the same chunks',
      (_name, bytes, usage) => {
        const whole = run([bytes], usage);
        let seed = 7;
        const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
        for (let round = 0; round < 50; round++) {
          const chunks: Buffer[] = [];
          for (let i = 0; i < bytes.length;) {
            const size = round === 0 ? 1 : 1 + Math.floor(rand() * 40);
            chunks.push(bytes.subarray(i, i + size));
            i += size;
          }
          expect(run(chunks, usage)).toEqual(whole);
        }
      },
    );
  });
});
