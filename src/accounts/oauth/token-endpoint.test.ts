import { describe, expect, it } from 'vitest';
import type { Upstream, UpstreamResponse } from '../../upstream/types.js';
import type { UpstreamRequest } from '../../upstream/types.js';
import { manualClock } from '../../util/clock.js';
import { tokenEndpoint, type TokenEndpointSpec } from './token-endpoint.js';
import { CredentialsRejected } from './tokens.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const TOKEN_URL = 'https://auth.example/token';

/** A token endpoint that answers `status` and `body` to every call, and the calls it was sent. */
function answering(status: number, body: unknown, spec: Partial<TokenEndpointSpec> = {}) {
  const sent: UpstreamRequest[] = [];
  const http: Upstream = {
    send: async (req) => {
      sent.push(req);
      return {
        statusCode: status,
        headers: {},
        body: { text: async () => (typeof body === 'string' ? body : JSON.stringify(body)) },
      } as unknown as UpstreamResponse;
    },
    close: async () => {},
  };
  return {
    call: tokenEndpoint({ http, clock: manualClock(NOW) }, { url: TOKEN_URL, timeoutMs: 1_000, ...spec }),
    sent,
  };
}

describe('tokenEndpoint', () => {
  it("posts the grant as a form or as JSON, with the spec's headers and the proxy", async () => {
    const e = answering(200, { access_token: 'at', expires_in: 60 }, { headers: { 'user-agent': 'cli/1' } });
    await e.call('form', { grant_type: 'refresh_token', refresh_token: 'r t' }, 'http://proxy:3128');
    await e.call('json', { grant_type: 'refresh_token', refresh_token: 'rt' }, undefined);
    expect(e.sent[0]).toEqual({
      url: TOKEN_URL,
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'user-agent': 'cli/1',
      },
      body: 'grant_type=refresh_token&refresh_token=r+t',
      proxy: 'http://proxy:3128',
    });
    expect(e.sent[1]).toEqual({
      url: TOKEN_URL,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'cli/1' },
      body: '{"grant_type":"refresh_token","refresh_token":"rt"}',
    });
  });

  it('reads the tokens, the id token apart, and the whole answer', async () => {
    const body = {
      access_token: 'at',
      refresh_token: 'rt',
      id_token: 'it',
      expires_in: 3600,
      account: { email_address: 'a@example.com' },
    };
    expect(await answering(200, body).call('json', {}, undefined)).toEqual({
      tokens: { accessToken: 'at', refreshToken: 'rt', expiresAt: NOW + 3_600_000 },
      idToken: 'it',
      body,
    });
  });

  it('without a lifetime: malformed, unless the spec knows the expiry another way', async () => {
    await expect(answering(200, { access_token: 'at' }).call('json', {}, undefined)).rejects.toThrow(
      'without an access token and its lifetime',
    );
    const e = answering(
      200,
      { access_token: 'at' },
      { expiresAtWithoutLifetime: (token, now) => (token === 'at' ? now + 5 : 0) },
    );
    expect((await e.call('json', {}, undefined)).tokens).toEqual({ accessToken: 'at', expiresAt: NOW + 5 });
    const noToken = answering(200, { expires_in: 60 }, { expiresAtWithoutLifetime: () => 0 });
    await expect(noToken.call('json', {}, undefined)).rejects.toThrow(
      /^the token endpoint answered without an access token$/,
    );
  });

  it.each<[string, number, unknown, Partial<TokenEndpointSpec>, boolean, string]>([
    [
      'invalid_grant is final by default',
      400,
      { error: 'invalid_grant' },
      {},
      true,
      'the token endpoint answered 400 invalid_grant',
    ],
    [
      'another code is not',
      400,
      { error: 'invalid_request' },
      {},
      false,
      'the token endpoint answered 400 invalid_request',
    ],
    ['a body that is not JSON', 503, 'upstream connect error', {}, false, 'the token endpoint answered 503'],
    [
      'the spec decides what is final',
      401,
      { error: { code: 'token_expired' } },
      { errorCode: (b) => (b?.error as { code?: string }).code, isFinal: (s) => s === 401 },
      true,
      'the token endpoint answered 401 token_expired',
    ],
  ])('%s', async (_name, status, body, spec, final, message) => {
    const err = await answering(status, body, spec)
      .call('json', { refresh_token: 'secret' }, undefined)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err instanceof CredentialsRejected).toBe(final);
    expect((err as Error).message).toBe(message);
  });
});
