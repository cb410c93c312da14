import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGemini, type FakeGemini } from '../fakes/gemini.js';
import { startTwoInstances } from '../support/oauth.js';
import type { TestRelay } from '../support/relay.js';

/**
 * Two relay instances (one deployment: the same Redis) get requests for one Google OAuth account
 * whose access token has expired, all at once, while Google's token endpoint is slow. Exactly one
 * refresh happens; every request is served with the new token; and the refresh token stored
 * afterwards is the one Google will accept next time, whether Google keeps it (its usual way) or
 * rotates it. Losing it would show as `invalid_grant` on the next refresh.
 */

const MODEL = 'gemini-2.5-flash';
let seq = 0;

describe('a token refresh race between two relay instances', () => {
  let fake: FakeGemini;
  let one: TestRelay;
  let two: TestRelay;

  beforeAll(async () => {
    fake = await startFakeGemini();
    ({ a: one, b: two } = await startTwoInstances({
      CODE_ASSIST_URL: fake.url,
      GOOGLE_OAUTH_TOKEN_URL: fake.tokenUrl,
    }));
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const ask = (relay: TestRelay, key: string) =>
    fetch(`${relay.url}/gemini/v1beta/models/${MODEL}:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: `race ${++seq}` }] }] }),
    }).then(async (r) => ({ status: r.status, text: await r.text() }));

  it.each([
    ["keeps refresh tokens (Google's usual way)", false],
    ['rotates refresh tokens', true],
  ])('Google %s: one refresh, every request served, the right refresh token kept', async (_name, rotate) => {
    const userId = `racer${++seq}`;
    const user = fake.addUser({ id: userId, refreshToken: `1//fake-refresh-${userId}-original`, rotate });
    const stale = fake.issueAccessToken(userId);
    fake.revokeAccessTokens(userId);
    const { id } = await one.admin.createAccount({
      platform: 'gemini',
      type: 'oauth',
      name: userId,
      accessToken: stale,
      refreshToken: user.refreshToken,
      // Expired a minute ago, as both instances see it.
      expiresAt: String(Date.now() - 60_000),
      projectId: user.project,
    });
    const key = await one.admin.createKey({ accountIds: [id] });
    fake.setTokenDelay(300);

    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => ask(i % 2 === 0 ? one : two, key.key)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));

    expect(fake.tokenCalls).toEqual([
      expect.objectContaining({
        grantType: 'refresh_token',
        refreshToken: `1//fake-refresh-${userId}-original`,
        status: 200,
      }),
    ]);
    const tokens = new Set(
      fake.requests.filter((r) => r.pathname === '/v1internal:generateContent').map((r) => r.headers.authorization),
    );
    expect(tokens.size).toBe(1);
    expect([...tokens][0]).not.toBe(`Bearer ${stale}`);

    // What is stored is what Google holds now (the hint shows its last characters)…
    const held = user.refreshToken;
    const view = await two.admin.request<{ credentialHints: Record<string, string> }>('GET', `/admin/accounts/${id}`);
    expect(view.body.credentialHints.refreshToken).toBe(`…${held.slice(-4)}`);
    if (rotate) expect(user.refreshToken).not.toBe(`1//fake-refresh-${userId}-original`);

    // …and it works: the next forced refresh (Google rejects the token in use) succeeds, from either instance.
    fake.setTokenDelay(0);
    fake.revokeAccessTokens(userId);
    const after = await ask(two, key.key);
    expect(after.status, after.text).toBe(200);
    expect(fake.tokenCalls.map((c) => c.status)).toEqual([200, 200]);
    expect(fake.tokenCalls[1]?.refreshToken).toBe(held);
    const again = await ask(one, key.key);
    expect(again.status, again.text).toBe(200);
  });
});
