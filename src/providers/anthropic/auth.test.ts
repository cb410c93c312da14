import { describe, expect, it } from 'vitest';
import type { TokenManager } from '../../accounts/oauth/tokens.js';
import type { Account } from '../../accounts/service.js';
import { silentLogger } from '../../util/log.js';
import { createClaudeAuth, OAUTH_BETA, withBeta } from './auth.js';

describe('withBeta', () => {
  it.each<[string | undefined, string]>([
    [undefined, OAUTH_BETA],
    ['', OAUTH_BETA],
    ['claude-code-20250219', `claude-code-20250219,${OAUTH_BETA}`],
    [
      ' claude-code-20250219 , interleaved-thinking-2025-05-14 ',
      `claude-code-20250219,interleaved-thinking-2025-05-14,${OAUTH_BETA}`,
    ],
    [`${OAUTH_BETA},claude-code-20250219`, `${OAUTH_BETA},claude-code-20250219`],
    [`a,,b,a`, `a,b,${OAUTH_BETA}`],
  ])('%j → %j', (client, expected) => {
    expect(withBeta(client, OAUTH_BETA)).toBe(expected);
  });
});

const account = (type: string, credentials: Record<string, string>): Account =>
  ({ id: 'a_0000000000000001', platform: 'claude', type, credentials }) as unknown as Account;

/** A token manager that records its calls and answers as told. */
function tokens(answer: { token?: string; recovered?: boolean | Error } = {}) {
  const calls: string[] = [];
  const manager: TokenManager = {
    accessToken: async (a) => {
      calls.push(`accessToken ${a.id}`);
      return answer.token ?? 'refreshed-token';
    },
    recover: async (_a, used) => {
      calls.push(`recover ${used}`);
      if (answer.recovered instanceof Error) throw answer.recovered;
      return answer.recovered ?? true;
    },
  };
  return { manager, calls };
}

const refresh = async () => ({ accessToken: 'unused', expiresAt: 0 });

describe('createClaudeAuth', () => {
  it('an API-key account sends x-api-key and no bearer', async () => {
    const t = tokens();
    const headers: Record<string, string> = { 'anthropic-beta': 'x' };
    expect(
      await createClaudeAuth({ tokens: t.manager, log: silentLogger }, refresh).apply(
        account('api-key', { apiKey: 'sk-ant-api-key' }),
        headers,
      ),
    ).toBeUndefined();
    expect(headers).toEqual({ 'anthropic-beta': 'x', 'x-api-key': 'sk-ant-api-key' });
    expect(t.calls).toEqual([]);
  });

  it('an OAuth account asks the token manager and sends the bearer with the OAuth beta', async () => {
    const t = tokens({ token: 'sk-ant-oat01-new' });
    const headers: Record<string, string> = { 'anthropic-beta': 'claude-code-20250219' };
    const used = await createClaudeAuth({ tokens: t.manager, log: silentLogger }, refresh).apply(
      account('oauth', { accessToken: 'sk-ant-oat01-old', refreshToken: 'r' }),
      headers,
    );
    expect(used).toBe('sk-ant-oat01-new');
    expect(headers).toEqual({
      authorization: 'Bearer sk-ant-oat01-new',
      'anthropic-beta': `claude-code-20250219,${OAUTH_BETA}`,
    });
    expect(t.calls).toEqual(['accessToken a_0000000000000001']);
  });

  it('an OAuth account without a refresh token sends its access token as it is', async () => {
    const t = tokens();
    const headers: Record<string, string> = {};
    const used = await createClaudeAuth({ tokens: t.manager, log: silentLogger }, refresh).apply(
      account('oauth', { accessToken: 'sk-ant-oat01-long-lived', expiresAt: '1' }),
      headers,
    );
    expect(used).toBe('sk-ant-oat01-long-lived');
    expect(headers.authorization).toBe('Bearer sk-ant-oat01-long-lived');
    expect(t.calls).toEqual([]);
  });

  it.each<[string, Account, string | undefined, boolean | Error, boolean, string[]]>([
    ['recovered', account('oauth', { accessToken: 't', refreshToken: 'r' }), 't', true, true, ['recover t']],
    [
      'nothing better found',
      account('oauth', { accessToken: 't', refreshToken: 'r' }),
      't',
      false,
      false,
      ['recover t'],
    ],
    [
      'the refresh failed: false, not a throw',
      account('oauth', { accessToken: 't', refreshToken: 'r' }),
      't',
      new Error('token endpoint down'),
      false,
      ['recover t'],
    ],
    ['no refresh token', account('oauth', { accessToken: 't' }), 't', true, false, []],
    ['an API-key account', account('api-key', { apiKey: 'k' }), undefined, true, false, []],
  ])('recover after a 401: %s', async (_name, a, used, recovered, expected, calls) => {
    const t = tokens({ recovered });
    expect(await createClaudeAuth({ tokens: t.manager, log: silentLogger }, refresh).recover(a, used)).toBe(expected);
    expect(t.calls).toEqual(calls);
  });
});
