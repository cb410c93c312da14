import { describe, expect, it } from 'vitest';
import { nativeResponse } from '../../wire/gemini.js';
import type { BridgeContext } from '../index.js';
import { openaiChatToCodeAssist } from './index.js';
import { fromGeminiResponse } from './response.js';

const ctx: BridgeContext = {
  requestedModel: 'gemini-2.5-flash',
  upstreamModel: 'gemini-2.5-flash',
  stream: false,
  clientQuery: new URLSearchParams(),
};

const response = (parts: unknown[], over: Record<string, unknown> = {}) => ({
  candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
  usageMetadata: {
    promptTokenCount: 1200,
    cachedContentTokenCount: 1000,
    candidatesTokenCount: 30,
    thoughtsTokenCount: 70,
    totalTokenCount: 1300,
  },
  modelVersion: 'gemini-2.5-flash',
  responseId: 'r-123',
  ...over,
});

type Completion = {
  id: string;
  model: string;
  choices: { message: { content: string | null; tool_calls?: unknown[] }; finish_reason: string }[];
  usage?: unknown;
};

describe('Gemini response → chat.completion', () => {
  it('text, id from responseId, the model as the client named it, usage with cached and reasoning tokens', () => {
    const out = fromGeminiResponse(
      response([{ text: 'Hello ' }, { text: 'there' }]),
      ctx,
      nativeResponse,
    ) as Completion;
    expect(out).toMatchObject({
      id: 'chatcmpl-r-123',
      object: 'chat.completion',
      model: 'gemini-2.5-flash',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there' }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: 1200,
        completion_tokens: 100,
        total_tokens: 1300,
        prompt_tokens_details: { cached_tokens: 1000 },
        completion_tokens_details: { reasoning_tokens: 70 },
      },
    });
  });

  it('thought summaries are not answer text', () => {
    const out = fromGeminiResponse(
      response([{ text: 'pondering', thought: true }, { text: 'Answer' }]),
      ctx,
      nativeResponse,
    ) as Completion;
    expect(out.choices[0]?.message.content).toBe('Answer');
  });

  it('function calls → tool_calls (finish tool_calls), thought signatures kept for the way back', () => {
    const parts = [
      { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2ln' },
      { functionCall: { id: 'fc-2', name: 'now', args: {} } },
    ];
    const out = fromGeminiResponse(response(parts), ctx, nativeResponse) as Completion;
    const choice = out.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_[0-9a-f]{24}$/),
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
        extra_content: { google: { thought_signature: 'c2ln' } },
      },
      { id: 'fc-2', type: 'function', function: { name: 'now', arguments: '{}' } },
    ]);
  });

  it.each([
    ['STOP', 'stop'],
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
    ['RECITATION', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
    ['MALFORMED_FUNCTION_CALL', 'stop'],
    ['OTHER', 'stop'],
  ])('finishReason %s → %s', (reason, finish) => {
    const body = response([{ text: 'x' }]);
    (body.candidates[0] as Record<string, unknown>).finishReason = reason;
    expect((fromGeminiResponse(body, ctx, nativeResponse) as Completion).choices[0]?.finish_reason).toBe(finish);
  });

  it('a blocked prompt (no candidates) → content_filter with empty content', () => {
    const body = {
      promptFeedback: { blockReason: 'SAFETY' },
      usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 },
      responseId: 'b',
    };
    const out = fromGeminiResponse(body, ctx, nativeResponse) as Completion;
    expect(out.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: '' } });
    expect(out.usage).toMatchObject({ prompt_tokens: 8, completion_tokens: 0, total_tokens: 8 });
  });

  it('tool-use prompt tokens count as prompt', () => {
    const body = response([{ text: 'x' }], {
      usageMetadata: { promptTokenCount: 10, toolUsePromptTokenCount: 5, candidatesTokenCount: 2, totalTokenCount: 17 },
    });
    expect((fromGeminiResponse(body, ctx, nativeResponse) as Completion).usage).toEqual({
      prompt_tokens: 15,
      completion_tokens: 2,
      total_tokens: 17,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('Code Assist: the response is unwrapped, traceId standing in for the response id', () => {
    const { responseId: _r, ...inner } = response([{ text: 'wrapped' }]);
    const out = openaiChatToCodeAssist.response({ response: inner, traceId: 't-9' }, ctx) as Completion;
    expect(out).toMatchObject({
      id: 'chatcmpl-t-9',
      choices: [{ message: { content: 'wrapped' } }],
      usage: { prompt_tokens: 1200 },
    });
  });

  it('passes back what is not a response', () => {
    const body = { error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } };
    expect(fromGeminiResponse(body, ctx, nativeResponse)).toBe(body);
  });
});
