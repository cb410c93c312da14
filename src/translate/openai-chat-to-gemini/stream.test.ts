import { describe, expect, it } from 'vitest';
import { nativeResponse } from '../../wire/gemini.js';
import type { BridgeContext } from '../index.js';
import { openaiChatToCodeAssist } from './index.js';
import { GeminiToChatStream } from './stream.js';

/** Google's SSE framing: `data: <json>` and a CRLF blank line. */
const data = (json: unknown) => `data: ${JSON.stringify(json)}\r\n\r\n`;
const usage = (candidates: number, extra: Record<string, number> = {}) => ({
  promptTokenCount: 900,
  cachedContentTokenCount: 800,
  candidatesTokenCount: candidates,
  totalTokenCount: 900 + candidates,
  ...extra,
});
const chunk = (parts: unknown[], over: Record<string, unknown> = {}, finishReason?: string) => ({
  candidates: [{ content: { role: 'model', parts }, index: 0, ...(finishReason ? { finishReason } : {}) }],
  modelVersion: 'gemini-2.5-flash',
  responseId: 'R1',
  ...over,
});

const textStream = [
  data(chunk([{ text: 'Bon' }], { usageMetadata: usage(1) })),
  data(chunk([{ text: 'jour ✓' }], { usageMetadata: usage(3) })),
  data(chunk([{ text: '' }], { usageMetadata: usage(4, { thoughtsTokenCount: 20 }) }, 'STOP')),
];
const toolStream = [
  data(chunk([{ text: 'Checking.' }], { usageMetadata: usage(2) })),
  data(
    chunk(
      [
        { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2ln' },
        { functionCall: { id: 'fc2', name: 'now', args: {} } },
      ],
      { usageMetadata: usage(9) },
      'STOP',
    ),
  ),
];

const ctx = (includeUsage: boolean): BridgeContext => ({
  requestedModel: 'gemini-2.5-flash',
  upstreamModel: 'gemini-2.5-flash',
  stream: true,
  clientQuery: new URLSearchParams(),
  clientBody: includeUsage ? { stream_options: { include_usage: true } } : {},
});

type Out = Record<string, unknown> | '[DONE]';

function payloads(text: string): Out[] {
  return text
    .split('\n\n')
    .filter((e) => e !== '')
    .map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      const d = e.slice(6);
      if (d === '[DONE]') return '[DONE]';
      const { created: _created, ...rest } = JSON.parse(d) as Record<string, unknown>;
      return rest;
    });
}

function run(chunks: Buffer[], includeUsage: boolean, complete = true): Out[] {
  const t = new GeminiToChatStream(ctx(includeUsage), nativeResponse);
  const out = chunks.map((c) => t.push(c));
  out.push(t.end({ complete }));
  return payloads(Buffer.concat(out).toString('utf8'));
}

const base = { id: 'chatcmpl-R1', object: 'chat.completion.chunk', model: 'gemini-2.5-flash' };
const choice = (delta: unknown, finish: string | null = null) => ({
  ...base,
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
});
const ROLE = { role: 'assistant', content: '', refusal: null };

describe('Gemini SSE → chat.completion.chunk SSE', () => {
  it('text: role, deltas, finish, then the last usage (asked for) and [DONE]', () => {
    const out = run([Buffer.from(textStream.join(''))], true);
    const u = (c: object) => ({ ...c, usage: null });
    expect(out).toEqual([
      u(choice(ROLE)),
      u(choice({ content: 'Bon' })),
      u(choice({ content: 'jour ✓' })),
      u(choice({}, 'stop')),
      {
        ...base,
        choices: [],
        usage: {
          prompt_tokens: 900,
          completion_tokens: 24,
          total_tokens: 924,
          prompt_tokens_details: { cached_tokens: 800 },
          completion_tokens_details: { reasoning_tokens: 20 },
        },
      },
      '[DONE]',
    ]);
  });

  it('no usage when not asked', () => {
    const out = run([Buffer.from(textStream.join(''))], false);
    expect(out).toHaveLength(5);
    expect(out.filter((c) => c !== '[DONE]' && 'usage' in c)).toEqual([]);
  });

  it('function calls: one whole tool call delta each, signature carried, finish tool_calls', () => {
    const out = run([Buffer.from(toolStream.join(''))], false);
    expect(out).toEqual([
      choice(ROLE),
      choice({ content: 'Checking.' }),
      choice({
        tool_calls: [
          {
            index: 0,
            id: expect.stringMatching(/^call_/),
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            extra_content: { google: { thought_signature: 'c2ln' } },
          },
        ],
      }),
      choice({ tool_calls: [{ index: 1, id: 'fc2', type: 'function', function: { name: 'now', arguments: '{}' } }] }),
      choice({}, 'tool_calls'),
      '[DONE]',
    ]);
  });

  it('MAX_TOKENS → length', () => {
    const out = run([Buffer.from(data(chunk([{ text: 'x' }], { usageMetadata: usage(1) }, 'MAX_TOKENS')))], false);
    expect(out.at(-2)).toEqual(choice({}, 'length'));
  });

  it('a stream cut before its finish reason: usage so far (asked for), an in-stream error, no [DONE]', () => {
    const out = run([Buffer.from(textStream.slice(0, 2).join(''))], true, false);
    expect(out.slice(-2)).toEqual([
      {
        ...base,
        choices: [],
        usage: {
          prompt_tokens: 900,
          completion_tokens: 3,
          total_tokens: 903,
          prompt_tokens_details: { cached_tokens: 800 },
          completion_tokens_details: { reasoning_tokens: 0 },
        },
      },
      {
        error: {
          message: 'The upstream stream ended before the answer was complete.',
          type: 'server_error',
          param: null,
          code: null,
        },
      },
    ]);
    expect(out).not.toContain('[DONE]');
  });

  it.each([
    [
      'in an SSE event',
      data({ error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } }),
      'rate_limit_error',
    ],
    [
      'outside the framing, pretty-printed',
      '{\n  "error": {\n    "code": 503,\n    "message": "Quota exceeded",\n    "status": "UNAVAILABLE"\n  }\n}\n',
      'server_error',
    ],
  ])('a Google error %s → one in-stream error', (_name, error, type) => {
    const out = run([Buffer.from(textStream[0] + error)], false, false);
    expect(out).toEqual([
      choice(ROLE),
      choice({ content: 'Bon' }),
      { error: { message: 'Upstream: Quota exceeded', type, param: null, code: null } },
    ]);
  });

  it('Code Assist: chunks are unwrapped', () => {
    const wrapped = textStream.map((e) => data({ response: JSON.parse(e.slice(6)) as unknown, traceId: 'T' })).join('');
    const t = openaiChatToCodeAssist.stream(ctx(false));
    const out = payloads(Buffer.concat([t.push(Buffer.from(wrapped)), t.end({ complete: true })]).toString('utf8'));
    expect(out.map((c) => (c === '[DONE]' ? c : (c.choices as { delta: unknown }[])[0]?.delta))).toEqual([
      ROLE,
      { content: 'Bon' },
      { content: 'jour ✓' },
      {},
      '[DONE]',
    ]);
  });

  describe('byte boundaries', () => {
    const fixtures: [string, Buffer, boolean][] = [
      ['text with usage', Buffer.from(textStream.join('')), true],
      ['LF framing', Buffer.from(textStream.join('').replace(/\r\n/g, '\n')), true],
    ];
    // Tool call ids Gemini did not give are random: compare the tool stream without them.
    const noIds = (out: Out[]) => JSON.parse(JSON.stringify(out).replace(/"call_[0-9a-f]+"/g, '"call_X"')) as Out[];

    it.each(fixtures)('%s: split at every byte gives the same chunks as one piece', (_name, bytes, u) => {
      const whole = run([bytes], u);
      for (let i = 1; i < bytes.length; i++) expect(run([bytes.subarray(0, i), bytes.subarray(i)], u)).toEqual(whole);
    });

    it('tool calls: arbitrary splits give the same chunks', () => {
      const bytes = Buffer.from(toolStream.join(''));
      const whole = noIds(run([bytes], true));
      let seed = 11;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      for (let round = 0; round < 50; round++) {
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length;) {
          const size = round === 0 ? 1 : 1 + Math.floor(rand() * 30);
          chunks.push(bytes.subarray(i, i + size));
          i += size;
        }
        expect(noIds(run(chunks, true))).toEqual(whole);
      }
    });
  });
});
