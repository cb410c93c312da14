import { describe, expect, it } from 'vitest';
import { codeAssistToGemini, wrapResponse } from './code-assist-to-gemini.js';
import type { BridgeContext } from './index.js';

const ctx = (op: BridgeContext['op'], query = ''): BridgeContext => ({
  requestedModel: 'gemini-2.5-flash',
  upstreamModel: 'gemini-2.5-flash',
  stream: false,
  clientQuery: new URLSearchParams(query),
  op,
});

/** What Gemini CLI sends to Code Assist (toGenerateContentRequest). */
const CODE_ASSIST_REQUEST = {
  model: 'gemini-2.5-flash',
  project: 'their-project',
  user_prompt_id: 'abc########1',
  request: {
    contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
    systemInstruction: { role: 'user', parts: [{ text: 'You are Gemini CLI.' }] },
    tools: [{ functionDeclarations: [] }],
    toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
    safetySettings: [],
    generationConfig: { temperature: 0, topP: 1, thinkingConfig: { includeThoughts: true } },
    cachedContent: 'cachedContents/x',
    labels: { team: 'a' },
    session_id: 'session-1',
  },
};
const RESPONSE = {
  candidates: [{ content: { parts: [{ text: 'Hello' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1 },
  modelVersion: 'gemini-2.5-flash',
  responseId: 'resp-1',
};

describe('codeAssistToGemini.request', () => {
  it('generate: the inner request, without what the Gemini API rejects (session_id, labels), without project or model', () => {
    const { labels: _l, session_id: _s, ...native } = CODE_ASSIST_REQUEST.request;
    expect(codeAssistToGemini.request(CODE_ASSIST_REQUEST, ctx('generate'))).toEqual(native);
  });

  it('countTokens: only the contents (the model goes in the URL)', () => {
    const body = { request: { model: 'models/gemini-2.5-flash', contents: CODE_ASSIST_REQUEST.request.contents } };
    expect(codeAssistToGemini.request(body, ctx('count_tokens'))).toEqual({
      contents: CODE_ASSIST_REQUEST.request.contents,
    });
  });

  it('a request without an inner request gives an empty native request (the upstream says what is missing)', () => {
    expect(codeAssistToGemini.request({ model: 'x' }, ctx('generate'))).toEqual({});
  });
});

describe('codeAssistToGemini.response', () => {
  it.each<[string, BridgeContext['op'], unknown, unknown]>([
    ['wrapped, the response id as trace id', 'generate', RESPONSE, { response: RESPONSE, traceId: 'resp-1' }],
    ['without a response id', 'generate', { candidates: [] }, { response: { candidates: [] } }],
    [
      'countTokens: as it is',
      'count_tokens',
      { totalTokens: 9, promptTokensDetails: [] },
      { totalTokens: 9, promptTokensDetails: [] },
    ],
    [
      'errors: as they are',
      'generate',
      { error: { code: 429, message: 'slow down', status: 'RESOURCE_EXHAUSTED' } },
      { error: { code: 429, message: 'slow down', status: 'RESOURCE_EXHAUSTED' } },
    ],
  ])('%s', (_name, op, body, expected) => {
    expect(codeAssistToGemini.response(body, ctx(op))).toEqual(expected);
  });
});

describe('codeAssistToGemini.stream', () => {
  const chunks = [
    { candidates: [{ content: { parts: [{ text: 'Hel' }], role: 'model' } }], responseId: 'resp-1' },
    RESPONSE,
  ];
  const upstream = Buffer.from(chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join(''));

  it('wraps every chunk as Code Assist streams it (Gemini CLI reads `data:` lines)', () => {
    const t = codeAssistToGemini.stream(ctx('generate', 'alt=sse'));
    const text = Buffer.concat([t.push(upstream), t.end({ complete: true })]).toString('utf8');
    const lines = text.split('\r\n').filter((l) => l.startsWith('data: '));
    expect(lines.map((l) => JSON.parse(l.slice(6)) as unknown)).toEqual(chunks.map(wrapResponse));
  });
});
