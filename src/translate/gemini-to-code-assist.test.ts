import { describe, expect, it } from 'vitest';
import { geminiToCodeAssist, unwrapResponse } from './gemini-to-code-assist.js';
import type { BridgeContext } from './index.js';

const ctx = (op: BridgeContext['op'], query = ''): BridgeContext => ({
  requestedModel: 'gemini-2.5-pro',
  upstreamModel: 'gemini-2.5-pro-mapped',
  stream: false,
  clientQuery: new URLSearchParams(query),
  op,
});

const REQUEST = {
  contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
  systemInstruction: { parts: [{ text: 'Be brief.' }] },
  generationConfig: { temperature: 0.2, thinkingConfig: { thinkingBudget: 128 } },
  tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT' } }] }],
};
const RESPONSE = {
  candidates: [{ content: { parts: [{ text: 'Hello' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1 },
  modelVersion: 'gemini-2.5-pro',
};

describe('geminiToCodeAssist.request', () => {
  it('generate: wrapped whole, with the upstream model and a prompt id (the provider adds the project)', () => {
    const out = geminiToCodeAssist.request(REQUEST, ctx('generate'));
    expect(out).toEqual({
      model: 'gemini-2.5-pro-mapped',
      user_prompt_id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      request: REQUEST,
    });
    expect(out).not.toHaveProperty('project');
  });

  it('each request gets its own prompt id', () => {
    expect(geminiToCodeAssist.request(REQUEST, ctx('generate')).user_prompt_id).not.toBe(
      geminiToCodeAssist.request(REQUEST, ctx('generate')).user_prompt_id,
    );
  });

  it.each<[string, Record<string, unknown>]>([
    ['contents', { contents: REQUEST.contents }],
    ['a whole generateContentRequest', { generateContentRequest: { model: 'models/gemini-2.5-pro', ...REQUEST } }],
  ])("countTokens with %s: Code Assist's `{request: {model, contents}}`", (_name, body) => {
    expect(geminiToCodeAssist.request(body, ctx('count_tokens'))).toEqual({
      request: { model: 'models/gemini-2.5-pro-mapped', contents: REQUEST.contents },
    });
  });
});

describe('geminiToCodeAssist.response', () => {
  it.each<[string, unknown, unknown]>([
    [
      'unwrapped; the trace id becomes the response id',
      { response: RESPONSE, traceId: 'trace-1' },
      { ...RESPONSE, responseId: 'trace-1' },
    ],
    [
      'a response id of its own is kept',
      { response: { ...RESPONSE, responseId: 'own' }, traceId: 'trace-1' },
      { ...RESPONSE, responseId: 'own' },
    ],
    ['no trace id', { response: RESPONSE }, RESPONSE],
    ['countTokens answers pass as they are', { totalTokens: 42 }, { totalTokens: 42 }],
    [
      'error bodies pass as they are',
      { error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } },
      { error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } },
    ],
  ])('%s', (_name, body, expected) => {
    expect(geminiToCodeAssist.response(body, ctx('generate'))).toEqual(expected);
  });
});

describe('geminiToCodeAssist.stream', () => {
  const chunks = [
    {
      response: {
        candidates: [{ content: { parts: [{ text: 'Hel' }], role: 'model' } }],
        usageMetadata: { promptTokenCount: 3 },
      },
      traceId: 't',
    },
    { response: { ...RESPONSE }, traceId: 't' },
  ];
  const upstream = Buffer.from(chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join(''));
  const expected = chunks.map((c) => unwrapResponse(c));

  it.each(['alt=sse', ''])('unwraps every chunk, split anywhere (%s)', (query) => {
    for (let i = 1; i < upstream.length; i += 3) {
      const t = geminiToCodeAssist.stream(ctx('generate', query));
      const text = Buffer.concat([
        t.push(upstream.subarray(0, i)),
        t.push(upstream.subarray(i)),
        t.end({ complete: true }),
      ]).toString('utf8');
      const got = query
        ? text
            .split('\r\n\r\n')
            .filter(Boolean)
            .map((e) => JSON.parse(e.replace(/^data: /, '')) as unknown)
        : (JSON.parse(text) as unknown[]);
      expect(got, `split at ${i}`).toEqual(expected);
    }
  });
});
