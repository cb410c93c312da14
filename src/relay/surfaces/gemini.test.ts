import { describe, expect, it } from 'vitest';
import { RelayError } from '../../errors/catalogue.js';
import {
  codeAssistCountTokens,
  codeAssistGenerateContent,
  geminiCountTokens,
  googleCredential,
  nativeSurface,
  nativeTarget,
} from './gemini.js';

const route = (path: string) => ({ path, params: [], query: new URLSearchParams() });
const body = (v: unknown) => Buffer.from(JSON.stringify(v));
const CONTENTS = [{ role: 'user', parts: [{ text: 'hi' }] }];

describe('googleCredential', () => {
  it.each<[string, Record<string, string>, string, string | undefined]>([
    ['x-goog-api-key', { 'x-goog-api-key': ' cr_a ' }, '', 'cr_a'],
    ['?key=', {}, 'key=cr_b', 'cr_b'],
    ['Authorization: Bearer (Gemini CLI in Code Assist mode)', { authorization: 'Bearer cr_c' }, '', 'cr_c'],
    ['x-api-key', { 'x-api-key': 'cr_d' }, '', 'cr_d'],
    ['the header wins over the query', { 'x-goog-api-key': 'cr_e' }, 'key=cr_f', 'cr_e'],
    ['none', {}, 'alt=sse', undefined],
  ])('%s', (_name, headers, query, expected) => {
    expect(googleCredential(headers, new URLSearchParams(query))).toBe(expected);
  });
});

describe('native paths', () => {
  it.each<[string, { model: string; method: string } | undefined, string | undefined]>([
    [
      '/gemini/v1beta/models/gemini-2.5-pro:generateContent',
      { model: 'gemini-2.5-pro', method: 'generateContent' },
      'gemini.generate_content',
    ],
    [
      '/gemini/v1/models/gemini-2.5-pro:streamGenerateContent',
      { model: 'gemini-2.5-pro', method: 'streamGenerateContent' },
      'gemini.generate_content',
    ],
    [
      '/gemini/v1beta/models/gemini-2.5-pro%3AcountTokens',
      { model: 'gemini-2.5-pro', method: 'countTokens' },
      'gemini.count_tokens',
    ],
    [
      '/gemini/v1beta/models/gemini-2.5-pro:embedContent',
      { model: 'gemini-2.5-pro', method: 'embedContent' },
      undefined,
    ],
    ['/gemini/v1beta/models/gemini-2.5-pro', undefined, undefined],
    ['/gemini/v1beta/models/%E0%A4%A', undefined, undefined],
  ])('%s', (path, target, surface) => {
    expect(nativeTarget(path)).toEqual(target);
    expect(nativeSurface(path)?.name).toBe(surface);
  });

  it('generate: the model from the path, stream from the method', () => {
    const surface = nativeSurface('/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    expect(
      surface?.parse(
        body({ contents: CONTENTS }),
        route('/gemini/v1beta/models/models%2Fgemini-2.5-flash:streamGenerateContent'),
      ),
    ).toMatchObject({ model: 'gemini-2.5-flash', stream: true });
  });

  it('countTokens takes contents or a whole generateContentRequest', () => {
    const path = '/gemini/v1beta/models/gemini-2.5-flash:countTokens';
    expect(geminiCountTokens.parse(body({ contents: CONTENTS }), route(path))).toMatchObject({
      model: 'gemini-2.5-flash',
      stream: false,
    });
    expect(
      geminiCountTokens.parse(
        body({ generateContentRequest: { model: 'models/gemini-2.5-flash', contents: CONTENTS } }),
        route(path),
      ).model,
    ).toBe('gemini-2.5-flash');
  });
});

describe('Code Assist requests', () => {
  it('generate: the model from the body, stream from the path', () => {
    const parsed = codeAssistGenerateContent.parse(
      body({ model: 'gemini-2.5-pro', project: 'p', request: { contents: CONTENTS } }),
      route('/gemini/v1internal:streamGenerateContent'),
    );
    expect(parsed).toMatchObject({ model: 'gemini-2.5-pro', stream: true });
  });

  it('countTokens: the model inside the request, without `models/`', () => {
    expect(
      codeAssistCountTokens.parse(
        body({ request: { model: 'models/gemini-2.5-pro', contents: CONTENTS } }),
        route('/gemini/v1internal:countTokens'),
      ).model,
    ).toBe('gemini-2.5-pro');
  });
});

describe('bad input is a clear invalid_request', () => {
  const native = '/gemini/v1beta/models/gemini-2.5-pro:generateContent';
  it.each<[string, () => unknown, RegExp]>([
    ['no contents', () => nativeSurface(native)?.parse(body({}), route(native)), /contents: a non-empty array/],
    [
      'empty contents',
      () => nativeSurface(native)?.parse(body({ contents: [] }), route(native)),
      /contents: a non-empty array/,
    ],
    ['not JSON', () => nativeSurface(native)?.parse(Buffer.from('{'), route(native)), /not valid JSON/],
    [
      'no model in the path',
      () => nativeSurface(native)?.parse(body({ contents: CONTENTS }), route('/gemini/v1beta/models/:generateContent')),
      /model: a model name/,
    ],
    [
      'countTokens without contents',
      () => geminiCountTokens.parse(body({ generateContentRequest: {} }), route(native)),
      /generateContentRequest.contents/,
    ],
    [
      'Code Assist without a model',
      () =>
        codeAssistGenerateContent.parse(
          body({ request: { contents: CONTENTS } }),
          route('/gemini/v1internal:generateContent'),
        ),
      /model: a model name/,
    ],
    [
      'Code Assist without a request',
      () => codeAssistGenerateContent.parse(body({ model: 'm' }), route('/gemini/v1internal:generateContent')),
      /request: an object/,
    ],
    [
      'Code Assist without contents',
      () =>
        codeAssistGenerateContent.parse(body({ model: 'm', request: {} }), route('/gemini/v1internal:generateContent')),
      /request.contents/,
    ],
    [
      'Code Assist countTokens without a model',
      () =>
        codeAssistCountTokens.parse(body({ request: { contents: CONTENTS } }), route('/gemini/v1internal:countTokens')),
      /request.model/,
    ],
  ])('%s', (_name, parse, message) => {
    let error: unknown;
    try {
      parse();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).status).toBe(400);
    expect((error as RelayError).message).toMatch(message);
  });
});
