import { describe, expect, it } from 'vitest';
import type { BridgeContext } from '../index.js';
import { InvalidChatRequest } from '../openai-chat/content.js';
import { DEFAULT_MAX_TOKENS, toAnthropicRequest } from './request.js';

const ctx = (over: Partial<BridgeContext> = {}): BridgeContext => ({
  requestedModel: 'claude-sonnet-5-5',
  upstreamModel: 'claude-sonnet-5-5-20261101',
  stream: false,
  clientQuery: new URLSearchParams(),
  ...over,
});
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const user = (content: unknown) => ({ role: 'user', content });

describe('OpenAI chat → Anthropic request', () => {
  const cases: {
    name: string;
    body: Record<string, unknown>;
    ctx?: Partial<BridgeContext>;
    expected: Record<string, unknown>;
  }[] = [
    {
      name: 'model from the context, default max_tokens, no system when none given',
      body: { model: 'claude-sonnet-5-5', messages: [user('hi')] },
      expected: {
        model: 'claude-sonnet-5-5-20261101',
        max_tokens: DEFAULT_MAX_TOKENS,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      },
    },
    {
      name: 'system and developer messages become the system prompt, as the client wrote them',
      body: {
        model: 'm',
        messages: [
          { role: 'system', content: 'You are a pirate.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer briefly.' }] },
          user('hi'),
        ],
      },
      expected: {
        system: 'You are a pirate.\n\nAnswer briefly.',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      },
    },
    {
      name: 'max_completion_tokens wins over max_tokens; temperature is capped at 1 and top_p then left out',
      body: {
        model: 'm',
        messages: [user('hi')],
        max_tokens: 50,
        max_completion_tokens: 70,
        temperature: 1.6,
        top_p: 0.5,
      },
      expected: { max_tokens: 70, temperature: 1 },
    },
    {
      name: 'top_p alone passes; stop becomes stop_sequences; user becomes metadata.user_id; stream is asked',
      body: { model: 'm', messages: [user('hi')], top_p: 0.3, stop: 'END', user: 'u-42', stream: true },
      ctx: { stream: true },
      expected: { top_p: 0.3, stop_sequences: ['END'], metadata: { user_id: 'u-42' }, stream: true },
    },
    {
      name: 'images: data URLs become base64 sources, http(s) URLs URL sources',
      body: {
        model: 'm',
        messages: [
          user([
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}`, detail: 'high' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ]),
        ],
      },
      expected: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
              { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            ],
          },
        ],
      },
    },
    {
      name: 'tools with input_schema, tool_choice required → any, parallel_tool_calls false',
      body: {
        model: 'm',
        messages: [user('weather?')],
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'Weather for a city',
              parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            },
          },
          { type: 'function', function: { name: 'now' } },
        ],
        tool_choice: 'required',
        parallel_tool_calls: false,
      },
      expected: {
        tools: [
          {
            name: 'get_weather',
            description: 'Weather for a city',
            input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
          { name: 'now', input_schema: { type: 'object', properties: {} } },
        ],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
      },
    },
    {
      name: 'tool_choice naming a function → tool; none → none',
      body: {
        model: 'm',
        messages: [user('x')],
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: { type: 'function', function: { name: 'f' } },
      },
      expected: { tool_choice: { type: 'tool', name: 'f' } },
    },
    {
      name: 'a tool round trip: assistant tool_calls → tool_use, tool messages → one user message of tool_results, then text',
      body: {
        model: 'm',
        messages: [
          user('Weather in Paris and Rome?'),
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'call:rome/2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_01', content: '18C' },
          { role: 'tool', tool_call_id: 'call:rome/2', content: [{ type: 'text', text: '24C' }] },
          user('And tomorrow?'),
        ],
      },
      expected: {
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
              { type: 'tool_use', id: 'call_rome_2', name: 'get_weather', input: { city: 'Rome' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_01', content: '18C' },
              { type: 'tool_result', tool_use_id: 'call_rome_2', content: '24C' },
              { type: 'text', text: 'And tomorrow?' },
            ],
          },
        ],
      },
    },
    {
      name: 'response_format json_schema: a note with the schema joins the client system prompt',
      body: {
        model: 'm',
        messages: [{ role: 'system', content: 'Be exact.' }, user('x')],
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'r', schema: { type: 'object', properties: { a: { type: 'number' } } } },
        },
      },
      expected: {
        system:
          'Be exact.\n\nRespond with a single valid JSON object and nothing else: no prose before or after it, no Markdown code fences. The object must conform to this JSON Schema:\n{"type":"object","properties":{"a":{"type":"number"}}}',
      },
    },
    {
      name: 'PDF files become document blocks; empty assistant text is dropped',
      body: {
        model: 'm',
        messages: [
          user([{ type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0x' } }]),
          { role: 'assistant', content: '' },
          user('ok'),
        ],
      },
      expected: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' } },
              { type: 'text', text: 'ok' },
            ],
          },
        ],
      },
    },
  ];

  it.each(cases)('$name', ({ body, ctx: over, expected }) => {
    expect(toAnthropicRequest(body, ctx(over))).toMatchObject(expected);
  });

  it('sends nothing the client did not ask for (no injected identity, no temperature, no tools)', () => {
    const out = toAnthropicRequest({ model: 'm', messages: [user('hi')] }, ctx());
    expect(Object.keys(out).sort()).toEqual(['max_tokens', 'messages', 'model']);
  });

  const refused: { name: string; body: Record<string, unknown>; message: RegExp }[] = [
    { name: 'n > 1', body: { model: 'm', n: 2, messages: [user('x')] }, message: /^n: / },
    {
      name: 'audio input',
      body: { model: 'm', messages: [user([{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }])] },
      message: /messages\[0\]\.content\[0\]\.input_audio: Claude does not accept audio/,
    },
    {
      name: 'an image type Claude does not read',
      body: { model: 'm', messages: [user([{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,AAAA' } }])] },
      message: /image\/bmp/,
    },
    {
      name: 'an ftp image URL',
      body: { model: 'm', messages: [user([{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }])] },
      message: /http\(s\) URL or a base64 data URL/,
    },
    {
      name: 'a data URL that is not base64',
      body: { model: 'm', messages: [user([{ type: 'image_url', image_url: { url: 'data:image/png,hello' } }])] },
      message: /base64 data URL/,
    },
    {
      name: 'tool call arguments that are not JSON',
      body: {
        model: 'm',
        messages: [
          user('x'),
          {
            role: 'assistant',
            tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{nope' } }],
          },
        ],
      },
      message: /tool_calls\[0\]\.function\.arguments: not valid JSON/,
    },
    {
      name: 'only a system message',
      body: { model: 'm', messages: [{ role: 'system', content: 'x' }] },
      message: /at least one user message/,
    },
    { name: 'legacy functions', body: { model: 'm', messages: [user('x')], functions: [] }, message: /^functions: / },
    {
      name: 'an unknown role',
      body: { model: 'm', messages: [{ role: 'robot', content: 'x' }] },
      message: /messages\[0\]\.role/,
    },
    {
      name: 'a tool message without tool_call_id',
      body: { model: 'm', messages: [user('x'), { role: 'tool', content: 'r' }] },
      message: /tool_call_id/,
    },
    {
      name: 'a non-function tool',
      body: { model: 'm', messages: [user('x')], tools: [{ type: 'custom', custom: { name: 'x' } }] },
      message: /^tools\[0\]/,
    },
    {
      name: 'temperature out of range',
      body: { model: 'm', messages: [user('x')], temperature: 3 },
      message: /^temperature/,
    },
    { name: 'a zero max_tokens', body: { model: 'm', messages: [user('x')], max_tokens: 0 }, message: /^max_tokens/ },
    {
      name: 'file by id',
      body: { model: 'm', messages: [user([{ type: 'file', file: { file_id: 'file-1' } }])] },
      message: /file_id/,
    },
  ];

  it.each(refused)('refuses $name with a message naming the field', ({ body, message }) => {
    expect(() => toAnthropicRequest(body, ctx())).toThrow(InvalidChatRequest);
    expect(() => toAnthropicRequest(body, ctx())).toThrow(message);
  });
});
