import { describe, expect, it } from 'vitest';
import { codeAssistFraming, geminiFraming, geminiStream } from './gemini-framing.js';
import type { BridgeContext, StreamTranslator } from './index.js';

const ctx = (query: string, op: BridgeContext['op'] = 'generate'): BridgeContext => ({
  requestedModel: 'gemini-2.5-flash',
  upstreamModel: 'gemini-2.5-flash-002',
  stream: true,
  clientQuery: new URLSearchParams(query),
  op,
});

const CHUNKS = [
  {
    candidates: [{ content: { parts: [{ text: 'Hé' }], role: 'model' }, index: 0 }],
    usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 1 },
  },
  {
    candidates: [{ content: { parts: [{ text: 'llo 世界' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3 },
  },
];
const UPSTREAM = Buffer.from(CHUNKS.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join(''));
const ERROR = { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } };

/** Feeds the upstream bytes in the given pieces; returns what the client got. */
function run(t: StreamTranslator, pieces: Buffer[], complete: boolean): string {
  const out = pieces.map((p) => t.push(p));
  out.push(t.end({ complete }));
  return Buffer.concat(out).toString('utf8');
}

/** Parses what a client of the JSON-array framing receives. */
const arrayOf = (text: string) => JSON.parse(text) as unknown[];
/** The `data:` events of an SSE body, parsed. */
const eventsOf = (text: string) =>
  text
    .split('\r\n\r\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => JSON.parse(e.slice(6)) as unknown);

describe('geminiStream framing', () => {
  it('alt=sse: Google SSE framing, chunk for chunk', () => {
    const t = geminiStream(ctx('alt=sse'), (c) => c);
    const text = run(t, [UPSTREAM], true);
    expect(text).toBe(UPSTREAM.toString('utf8'));
    expect(t.contentType).toBe('text/event-stream; charset=utf-8');
  });

  it('without alt=sse: one JSON array, written element by element', () => {
    const t = geminiStream(ctx(''), (c) => c);
    const first = t.push(UPSTREAM.subarray(0, UPSTREAM.indexOf('\r\n\r\n') + 4)).toString('utf8');
    expect(first.startsWith('[')).toBe(true);
    const rest =
      t.push(UPSTREAM.subarray(UPSTREAM.indexOf('\r\n\r\n') + 4)).toString('utf8') +
      t.end({ complete: true }).toString('utf8');
    expect(arrayOf(first + rest)).toEqual(CHUNKS);
    expect(t.contentType).toBe('application/json; charset=utf-8');
  });

  it.each(['alt=sse', ''])('the client gets the same bytes however the upstream splits them (%s)', (query) => {
    const whole = run(
      geminiStream(ctx(query), (c) => c),
      [UPSTREAM],
      true,
    );
    for (let i = 1; i < UPSTREAM.length; i++) {
      const split = run(
        geminiStream(ctx(query), (c) => c),
        [UPSTREAM.subarray(0, i), UPSTREAM.subarray(i)],
        true,
      );
      if (split !== whole) expect({ splitAt: i, split }).toEqual({ splitAt: i, split: whole });
    }
  });

  it('a stream with no chunk at all is an empty array', () => {
    expect(
      run(
        geminiStream(ctx(''), (c) => c),
        [],
        true,
      ),
    ).toBe('[]');
  });

  it("alt=sse, cut short: the client gets Google's error body at the end", () => {
    const text = run(
      geminiStream(ctx('alt=sse'), (c) => c),
      [UPSTREAM.subarray(0, UPSTREAM.indexOf('\r\n\r\n') + 4)],
      false,
    );
    const [events, tail] = [eventsOf(text), text.slice(text.lastIndexOf('\r\n\r\n') + 4)];
    expect(events).toEqual([CHUNKS[0]]);
    expect(JSON.parse(tail)).toMatchObject({ error: { code: 502, status: 'UNAVAILABLE' } });
  });

  it('JSON array, cut short: the error is the last element, and the array is closed', () => {
    const text = run(
      geminiStream(ctx(''), (c) => c),
      [UPSTREAM.subarray(0, UPSTREAM.indexOf('\r\n\r\n') + 4)],
      false,
    );
    expect(arrayOf(text)).toEqual([CHUNKS[0], { error: expect.objectContaining({ code: 502 }) as unknown }]);
  });

  it.each([
    ['outside the framing, pretty-printed', `${JSON.stringify(ERROR, null, 2)}\n`],
    ['in a data event', `data: ${JSON.stringify(ERROR)}\r\n\r\n`],
  ])('an upstream error body (%s) reaches the client once, as Google sends it', (_name, error) => {
    const bytes = Buffer.concat([UPSTREAM.subarray(0, UPSTREAM.indexOf('\r\n\r\n') + 4), Buffer.from(error)]);
    const sseText = run(
      geminiStream(ctx('alt=sse'), (c) => c),
      [bytes],
      false,
    );
    expect(eventsOf(sseText)).toEqual([CHUNKS[0]]);
    expect(JSON.parse(sseText.slice(sseText.lastIndexOf('\r\n\r\n') + 4))).toEqual(ERROR);
    expect(
      arrayOf(
        run(
          geminiStream(ctx(''), (c) => c),
          [bytes],
          false,
        ),
      ),
    ).toEqual([CHUNKS[0], ERROR]);
  });

  it('the transform applies to each chunk, never to errors', () => {
    const text = run(
      geminiStream(ctx(''), (c) => ({ wrapped: c })),
      [UPSTREAM, Buffer.from(`${JSON.stringify(ERROR)}\n`)],
      false,
    );
    expect(arrayOf(text)).toEqual([{ wrapped: CHUNKS[0] }, { wrapped: CHUNKS[1] }, ERROR]);
  });
});

describe('geminiFraming (native on both sides)', () => {
  it('sends the body as it came and answers as it came', () => {
    const body = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { temperature: 0 } };
    expect(geminiFraming.request(body, ctx(''))).toBe(body);
    expect(geminiFraming.response(CHUNKS[1], ctx(''))).toBe(CHUNKS[1]);
  });
});

describe('codeAssistFraming (Code Assist on both sides)', () => {
  it("generate: the account's model mapping applies; the rest is kept", () => {
    const body = { model: 'gemini-2.5-flash', project: 'theirs', user_prompt_id: 'p1', request: { contents: [] } };
    expect(codeAssistFraming.request(body, ctx(''))).toEqual({ ...body, model: 'gemini-2.5-flash-002' });
  });

  it('countTokens: the model is inside the request, as `models/…`', () => {
    const body = { request: { model: 'models/gemini-2.5-flash', contents: [{ parts: [{ text: 'x' }] }] } };
    expect(codeAssistFraming.request(body, ctx('', 'count_tokens'))).toEqual({
      request: { model: 'models/gemini-2.5-flash-002', contents: body.request.contents },
    });
  });
});
