import { describe, expect, it } from 'vitest';
import type { BridgeContext } from '../index.js';
import { InvalidChatRequest } from '../openai-chat/content.js';
import { openaiChatToCodeAssist } from './index.js';
import { SKIP_THOUGHT_SIGNATURE, toGeminiRequest } from './request.js';

const ctx: BridgeContext = {
  requestedModel: 'gemini-2.5-flash',
  upstreamModel: 'gemini-2.5-flash-002',
  stream: false,
  clientQuery: new URLSearchParams(),
};
const user = (content: unknown) => ({ role: 'user', content });

describe('OpenAI chat → Gemini request', () => {
  const cases: { name: string; body: Record<string, unknown>; expected: Record<string, unknown> }[] = [
    {
      name: 'a plain prompt: contents only (the model goes in the URL)',
      body: { model: 'gemini-2.5-flash', messages: [user('hi')] },
      expected: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
    },
    {
      name: 'system and developer messages → systemInstruction; assistant → model',
      body: {
        model: 'm',
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: 'No emoji.' },
          user('hi'),
          { role: 'assistant', content: 'Hello.' },
          user('bye'),
        ],
      },
      expected: {
        systemInstruction: { parts: [{ text: 'You are terse.' }, { text: 'No emoji.' }] },
        contents: [
          { role: 'user', parts: [{ text: 'hi' }] },
          { role: 'model', parts: [{ text: 'Hello.' }] },
          { role: 'user', parts: [{ text: 'bye' }] },
        ],
      },
    },
    {
      name: 'sampling settings → generationConfig',
      body: {
        model: 'm',
        messages: [user('x')],
        max_tokens: 99,
        temperature: 1.5,
        top_p: 0.9,
        stop: ['a', 'b'],
        seed: 4,
        presence_penalty: 0.5,
        frequency_penalty: -0.5,
      },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'x' }] }],
        generationConfig: {
          maxOutputTokens: 99,
          temperature: 1.5,
          topP: 0.9,
          stopSequences: ['a', 'b'],
          seed: 4,
          presencePenalty: 0.5,
          frequencyPenalty: -0.5,
        },
      },
    },
    {
      name: 'images: data URLs inline, http(s) URLs as fileData typed by extension; audio and PDFs inline',
      body: {
        model: 'm',
        messages: [
          user([
            { type: 'text', text: 'Look' },
            { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklGRg==' } },
            { type: 'image_url', image_url: { url: 'https://example.com/a/cat.JPG?size=2' } },
            { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0x' } },
          ]),
        ],
      },
      expected: {
        contents: [
          {
            role: 'user',
            parts: [
              { text: 'Look' },
              { inlineData: { mimeType: 'image/webp', data: 'UklGRg==' } },
              { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/a/cat.JPG?size=2' } },
              { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
              { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0x' } },
            ],
          },
        ],
      },
    },
    {
      name: 'tools → functionDeclarations (cleaned), tool_choice → toolConfig',
      body: {
        model: 'm',
        messages: [user('x')],
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'Weather',
              parameters: {
                $schema: 'http://json-schema.org/draft-07/schema#',
                type: 'object',
                properties: { city: { type: 'string', format: 'uri' } },
                required: ['city'],
                additionalProperties: false,
              },
            },
          },
          { type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } },
        ],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'x' }] }],
        tools: [
          {
            functionDeclarations: [
              {
                name: 'get_weather',
                description: 'Weather',
                parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
              },
              { name: 'now' },
            ],
          },
        ],
        toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
      },
    },
    {
      name: 'a tool round trip: calls → functionCall parts (signature kept, or the documented skip value), results → functionResponse by name',
      body: {
        model: 'm',
        messages: [
          user('Weather in Paris and Rome?'),
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
                extra_content: { google: { thought_signature: 'c2lnMQ==' } },
              },
              { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '{"temp":18}' },
          { role: 'tool', tool_call_id: 'call_2', content: 'sunny' },
          {
            role: 'assistant',
            tool_calls: [{ id: 'call_3', type: 'function', function: { name: 'now', arguments: '' } }],
          },
          { role: 'tool', tool_call_id: 'call_3', content: '[1,2]' },
        ],
      },
      expected: {
        contents: [
          { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
          {
            role: 'model',
            parts: [
              { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2lnMQ==' },
              { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
            ],
          },
          {
            role: 'user',
            parts: [
              { functionResponse: { name: 'get_weather', response: { temp: 18 } } },
              { functionResponse: { name: 'get_weather', response: { output: 'sunny' } } },
            ],
          },
          {
            role: 'model',
            parts: [{ functionCall: { name: 'now', args: {} }, thoughtSignature: SKIP_THOUGHT_SIGNATURE }],
          },
          { role: 'user', parts: [{ functionResponse: { name: 'now', response: { output: [1, 2] } } }] },
        ],
      },
    },
    {
      name: 'response_format json_schema → JSON MIME type and a cleaned responseSchema',
      body: {
        model: 'm',
        messages: [user('x')],
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'r',
            strict: true,
            schema: {
              type: 'object',
              properties: { n: { type: ['integer', 'null'] } },
              required: ['n'],
              additionalProperties: false,
            },
          },
        },
      },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'x' }] }],
        generationConfig: {
          responseMimeType: 'application/json',
          responseSchema: { type: 'object', properties: { n: { type: 'integer', nullable: true } }, required: ['n'] },
        },
      },
    },
    {
      name: 'response_format json_object → JSON MIME type only',
      body: { model: 'm', messages: [user('x')], response_format: { type: 'json_object' } },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'x' }] }],
        generationConfig: { responseMimeType: 'application/json' },
      },
    },
  ];

  it.each(cases)('$name', ({ body, expected }) => {
    expect(toGeminiRequest(body, ctx)).toEqual(expected);
  });

  it('parallel calls: only the first call of a turn gets the skip signature', () => {
    const out = toGeminiRequest(
      {
        model: 'm',
        messages: [
          user('x'),
          {
            role: 'assistant',
            tool_calls: [
              { id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } },
              { id: 'b', type: 'function', function: { name: 'f', arguments: '{}' } },
            ],
          },
        ],
      },
      ctx,
    ) as { contents: { parts: Record<string, unknown>[] }[] };
    expect(out.contents[1]?.parts.map((p) => p.thoughtSignature)).toEqual([SKIP_THOUGHT_SIGNATURE, undefined]);
  });

  const refused: { name: string; body: Record<string, unknown>; message: RegExp }[] = [
    { name: 'n > 1', body: { model: 'm', n: 3, messages: [user('x')] }, message: /^n: / },
    {
      name: 'an image URL of unknown type',
      body: {
        model: 'm',
        messages: [user([{ type: 'image_url', image_url: { url: 'https://example.com/image?id=4' } }])],
      },
      message: /messages\[0\]\.content\[0\]\.image_url\.url: Gemini needs the image's type/,
    },
    {
      name: 'a tool result that answers no call',
      body: { model: 'm', messages: [user('x'), { role: 'tool', tool_call_id: 'nope', content: 'r' }] },
      message: /messages\[1\]\.tool_call_id: nope answers no tool call/,
    },
    { name: 'logprobs', body: { model: 'm', logprobs: true, messages: [user('x')] }, message: /^logprobs/ },
    {
      name: 'audio output',
      body: { model: 'm', modalities: ['text', 'audio'], messages: [user('x')] },
      message: /^modalities/,
    },
  ];
  it.each(refused)('refuses $name with a message naming the field', ({ body, message }) => {
    expect(() => toGeminiRequest(body, ctx)).toThrow(InvalidChatRequest);
    expect(() => toGeminiRequest(body, ctx)).toThrow(message);
  });

  it('Code Assist accounts: the same request, wrapped with the upstream model and a prompt id', () => {
    const body = { model: 'gemini-2.5-pro', messages: [{ role: 'system', content: 'S' }, user('hi')] };
    const out = openaiChatToCodeAssist.request(body, ctx);
    expect(out).toEqual({
      model: 'gemini-2.5-flash-002',
      user_prompt_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      request: toGeminiRequest(body, ctx),
    });
  });
});
