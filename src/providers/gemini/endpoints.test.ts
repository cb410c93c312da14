import { describe, expect, it } from 'vitest';
import type { Account } from '../../accounts/service.js';
import type { GoogleConfig } from '../../config/index.js';
import { baseUrlOf, CODE_ASSIST_API, codeAssistUrl, GEMINI_API, nativeUrl } from './endpoints.js';

const google: GoogleConfig = {
  geminiApiUrl: 'http://fake-gemini:1/',
  codeAssistUrl: 'http://fake-code-assist:2',
  oauth: { authorizeUrl: '', tokenUrl: '', clientId: '', clientSecret: '', redirectUri: '' },
};
const account = (type: string, baseUrl: string) => ({ type, baseUrl }) as Account;

describe('baseUrlOf', () => {
  it.each<[string, string, string]>([
    ['api-key', GEMINI_API, 'http://fake-gemini:1'],
    ['api-key', '', 'http://fake-gemini:1'],
    ['api-key', 'https://mirror.example/', 'https://mirror.example'],
    ['oauth', CODE_ASSIST_API, 'http://fake-code-assist:2'],
    ['oauth', 'https://ca.example', 'https://ca.example'],
  ])('%s account with %j → %s', (type, base, expected) => {
    expect(baseUrlOf(account(type, base), google)).toBe(expected);
  });
});

describe('upstream URLs (the relay always streams as SSE)', () => {
  it.each<[string, string]>([
    [
      nativeUrl('https://g', 'gemini-2.5-pro', 'generate', false),
      'https://g/v1beta/models/gemini-2.5-pro:generateContent',
    ],
    [
      nativeUrl('https://g', 'gemini-2.5-pro', 'generate', true),
      'https://g/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    ],
    [
      nativeUrl('https://g', 'gemini-2.5-pro', 'count_tokens', false),
      'https://g/v1beta/models/gemini-2.5-pro:countTokens',
    ],
    [nativeUrl('https://g/v1', 'tuned/x y', 'generate', false), 'https://g/v1/models/tuned%2Fx%20y:generateContent'],
    [codeAssistUrl('https://ca', 'generate', true), 'https://ca/v1internal:streamGenerateContent?alt=sse'],
    [codeAssistUrl('https://ca', 'generate', false), 'https://ca/v1internal:generateContent'],
    [codeAssistUrl('https://ca', 'count_tokens', false), 'https://ca/v1internal:countTokens'],
  ])('%s', (got, expected) => {
    expect(got).toBe(expected);
  });
});
