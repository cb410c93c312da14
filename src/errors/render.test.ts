import { describe, expect, it } from 'vitest';
import { ERRORS, RelayError, type ErrorCode } from './catalogue.js';
import { anthropicTypeForStatus, renderError, type ApiShape } from './render.js';

const REQ = 'req_0123456789ab000001';

function render(shape: ApiShape, err: unknown) {
  const r = renderError(shape, err, REQ);
  return { status: r.status, headers: r.headers, body: JSON.parse(r.body) as unknown };
}

describe('renderError shapes', () => {
  const err = new RelayError('invalid_api_key');

  it.each<[ApiShape, unknown]>([
    [
      'anthropic',
      { type: 'error', error: { type: 'authentication_error', message: 'Invalid API key.' }, request_id: REQ },
    ],
    [
      'openai',
      { error: { message: 'Invalid API key.', type: 'authentication_error', param: null, code: 'invalid_api_key' } },
    ],
    ['gemini', { error: { code: 401, message: 'Invalid API key.', status: 'UNAUTHENTICATED' } }],
    ['admin', { error: { code: 'invalid_api_key', message: 'Invalid API key.' }, requestId: REQ }],
  ])('%s', (shape, body) => {
    // An authentication error is final: clients are told not to retry it.
    expect(render(shape, err)).toEqual({
      status: 401,
      headers: { 'content-type': 'application/json', 'x-should-retry': 'false' },
      body,
    });
  });

  it('leaves retryable errors (rate limits, upstream failures) without x-should-retry', () => {
    for (const code of [
      'rate_limited',
      'accounts_rate_limited',
      'upstream_unreachable',
      'no_account_available',
      'internal_error',
    ] as const) {
      expect(render('anthropic', new RelayError(code)).headers['x-should-retry'], code).toBeUndefined();
    }
    for (const code of ['invalid_json', 'model_not_allowed', 'budget_exceeded', 'body_too_large'] as const) {
      expect(render('anthropic', new RelayError(code)).headers['x-should-retry'], code).toBe('false');
    }
  });
});

describe('renderError per code', () => {
  // [code, status, anthropic error.type, openai error.type, gemini status]
  it.each<[ErrorCode, number, string, string, string]>([
    ['missing_api_key', 401, 'authentication_error', 'authentication_error', 'UNAUTHENTICATED'],
    ['invalid_json', 400, 'invalid_request_error', 'invalid_request_error', 'INVALID_ARGUMENT'],
    ['body_too_large', 413, 'request_too_large', 'invalid_request_error', 'INVALID_ARGUMENT'],
    ['not_found', 404, 'not_found_error', 'not_found_error', 'NOT_FOUND'],
    ['no_account_available', 503, 'api_error', 'server_error', 'UNAVAILABLE'],
    ['upstream_unreachable', 502, 'api_error', 'server_error', 'INTERNAL'],
    ['upstream_timeout', 504, 'timeout_error', 'server_error', 'DEADLINE_EXCEEDED'],
    ['admin_login_throttled', 429, 'rate_limit_error', 'rate_limit_error', 'RESOURCE_EXHAUSTED'],
    ['internal_error', 500, 'api_error', 'server_error', 'INTERNAL'],
  ])('%s → %d', (code, status, anthropicType, openaiType, googleStatus) => {
    const e = new RelayError(code);
    expect(render('anthropic', e)).toMatchObject({
      status,
      body: { error: { type: anthropicType, message: ERRORS[code].message } },
    });
    expect(render('openai', e)).toMatchObject({ status, body: { error: { type: openaiType, code } } });
    expect(render('gemini', e)).toMatchObject({ status, body: { error: { code: status, status: googleStatus } } });
    expect(render('admin', e)).toMatchObject({ status, body: { error: { code } } });
  });

  it('every catalogue code renders in every shape with an error status', () => {
    for (const code of Object.keys(ERRORS) as ErrorCode[]) {
      for (const shape of ['anthropic', 'openai', 'gemini', 'admin'] as const) {
        const r = render(shape, new RelayError(code));
        expect(r.status, `${shape} ${code}`).toBeGreaterThanOrEqual(400);
        expect(JSON.stringify(r.body)).toContain(ERRORS[code].message);
      }
    }
  });
});

describe('renderError for values that are not RelayErrors', () => {
  const secret = 'connect ECONNREFUSED 10.1.2.3:6379 with password hunter2';

  it.each<[string, unknown]>([
    ['an Error', new Error(secret)],
    ['a TypeError', new TypeError(secret)],
    ['a string', secret],
    ['an object', { message: secret }],
    ['undefined', undefined],
  ])('%s renders as internal_error without leaking its message', (_name, thrown) => {
    for (const shape of ['anthropic', 'openai', 'gemini', 'admin'] as const) {
      const r = renderError(shape, thrown, REQ);
      expect(r.status).toBe(500);
      expect(r.body).not.toContain('10.1.2.3');
      expect(r.body).not.toContain('hunter2');
      expect(r.body).toContain(ERRORS.internal_error.message);
    }
    expect(render('admin', thrown).body).toMatchObject({ error: { code: 'internal_error' } });
  });
});

describe('renderError keeps overrides', () => {
  it('keeps retry-after and other extra headers', () => {
    const e = new RelayError('admin_login_throttled', { headers: { 'retry-after': '30' } });
    for (const shape of ['anthropic', 'openai', 'gemini', 'admin'] as const) {
      expect(renderError(shape, e, REQ).headers).toEqual({ 'content-type': 'application/json', 'retry-after': '30' });
    }
  });

  it('keeps an overridden status and message', () => {
    const e = new RelayError('upstream_error', { status: 529, message: 'Overloaded' });
    expect(render('anthropic', e)).toMatchObject({ status: 529, body: { error: { message: 'Overloaded' } } });
    expect(render('gemini', e)).toMatchObject({ status: 529, body: { error: { code: 529, message: 'Overloaded' } } });
  });
});

describe('anthropicTypeForStatus', () => {
  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [402, 'billing_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [504, 'timeout_error'],
    [529, 'overloaded_error'],
    [418, 'api_error'],
  ])('%d → %s', (status, type) => {
    expect(anthropicTypeForStatus(status)).toBe(type);
  });
});
