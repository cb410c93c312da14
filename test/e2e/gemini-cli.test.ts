import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGemini, type FakeGemini, type GeminiUsage } from '../fakes/gemini.js';
import { expectedTokens } from '../fakes/gemini-wire.js';
import { runCli, tempHomes, type CliRun } from '../support/client-cli.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { REPO_ROOT } from './process.js';

/**
 * Gemini CLI itself (`gemini -p`), pointed at the relay both ways it can be: with an API key
 * (`GOOGLE_GEMINI_BASE_URL` + `GEMINI_API_KEY`, the native Gemini API) and "logged in with Google"
 * (`GOOGLE_GENAI_USE_GCA` + `CODE_ASSIST_ENDPOINT` + `GOOGLE_CLOUD_ACCESS_TOKEN`, Code Assist). The
 * answer comes back, the upstream sees the account's credentials only, and what is booked is
 * exactly what the fake upstream reported.
 */

const GEMINI = path.join(REPO_ROOT, 'node_modules', '.bin', 'gemini');
const ANSWER = 'Hi! (relayed from the fake Gemini)';
const USAGE: GeminiUsage = {
  promptTokenCount: 7_654,
  cachedContentTokenCount: 6_144,
  candidatesTokenCount: 21,
  thoughtsTokenCount: 90,
};
/**
 * When no model is given, Gemini CLI's router first asks a small model to choose one, in JSON: a
 * complexity score with an API key, a flash/pro choice with Code Assist.
 */
const SCORE_ANSWER = JSON.stringify({ complexity_reasoning: 'A greeting.', complexity_score: 5 });
const CHOICE_ANSWER = JSON.stringify({ reasoning: 'A greeting.', model_choice: 'flash' });

describe('Gemini CLI through the relay', () => {
  let fake: FakeGemini;
  let relay: TestRelay;
  const homes = tempHomes('crs-gemini-');
  const apiKey = 'AIzaSy-fake-gemini-cli-e2e-00001';
  let nativeAccount: string;
  let oauthAccount: string;

  beforeAll(async () => {
    fake = await startFakeGemini();
    relay = await startTestRelay({
      env: { GEMINI_API_URL: fake.url, CODE_ASSIST_URL: fake.url, GOOGLE_OAUTH_TOKEN_URL: fake.tokenUrl },
    });
    nativeAccount = (
      await relay.admin.createAccount({ platform: 'gemini', type: 'api-key', name: 'cli api key', apiKey })
    ).id;
    fake.addUser({ id: 'cli-user', refreshToken: '1//fake-refresh-cli-user' });
    oauthAccount = (
      await relay.admin.createAccount({
        platform: 'gemini',
        type: 'oauth',
        name: 'cli google',
        refreshToken: '1//fake-refresh-cli-user',
      })
    ).id;
  });
  beforeEach(() => {
    fake.reset();
    fake.setDefault({ kind: 'message', text: ANSWER, usage: USAGE });
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
    homes.removeAll();
  });

  /** Runs `gemini` in an empty HOME with the given settings. */
  function runGemini(
    env: Record<string, string>,
    settings: unknown,
    args: string[],
    timeoutMs = 60_000,
  ): Promise<CliRun> {
    const home = homes.make();
    mkdirSync(path.join(home, '.gemini'));
    writeFileSync(path.join(home, '.gemini', 'settings.json'), JSON.stringify(settings));
    return runCli(GEMINI, args, {
      home,
      timeoutMs,
      env: { GEMINI_CLI_TRUST_WORKSPACE: 'true', NO_COLOR: '1', ...env },
    });
  }

  /** Booked for the key = the sum of what the fake reported for the account, kind by kind. */
  async function expectBookedAsReported(keyId: string, account: string) {
    const sent = fake.reported.filter((r) => r.account === account);
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(sent.every((r) => r.complete)).toBe(true);
    const booked = (await relay.admin.keyUsage(keyId)).total;
    expect(booked).toMatchObject({
      requests: sent.length,
      errors: 0,
      ...expectedTokens(sent.map((r) => r.usage)),
      cacheCreateTokens: 0,
    });
    expect(booked.cost).toBeGreaterThan(0);
  }

  it('with an API key (GOOGLE_GEMINI_BASE_URL + GEMINI_API_KEY): the prompt is answered through the native API', async () => {
    // Restricted to Gemini CLI: the relay must recognise it.
    const key = await relay.admin.createKey({
      name: 'gemini cli, api key',
      accountIds: [nativeAccount],
      allowedClients: ['gemini-cli'],
    });
    fake.script(apiKey, {
      kind: 'message',
      text: SCORE_ANSWER,
      usage: { promptTokenCount: 900, candidatesTokenCount: 30 },
    });

    const run = await runGemini(
      { GOOGLE_GEMINI_BASE_URL: `${relay.url}/gemini`, GEMINI_API_KEY: key.key },
      { security: { auth: { selectedType: 'gemini-api-key' } } },
      ['-p', 'say hi'],
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(ANSWER);
    expect(run.stderr).not.toMatch(/Routing\].*failed/);

    const calls = fake.requests;
    expect(calls.some((r) => /^\/v1beta\/models\/[\w.-]+:streamGenerateContent\?alt=sse$/.test(r.path))).toBe(true);
    for (const r of calls) {
      expect(r.headers['x-goog-api-key']).toBe(apiKey);
      expect(r.headers['user-agent']).toMatch(/^GeminiCLI/);
      expect(JSON.stringify(r.headers) + r.path + r.rawBody).not.toContain(key.key);
    }
    await expectBookedAsReported(key.id, apiKey);
  });

  it('logged in "with Google" (GOOGLE_GENAI_USE_GCA + CODE_ASSIST_ENDPOINT): answered through Code Assist in the account\'s project', async () => {
    const key = await relay.admin.createKey({
      name: 'gemini cli, code assist',
      accountIds: [oauthAccount],
      allowedClients: ['gemini-cli'],
    });
    fake.script('cli-user', {
      kind: 'message',
      text: CHOICE_ANSWER,
      usage: { promptTokenCount: 900, candidatesTokenCount: 30 },
    });

    const run = await runGemini(
      { GOOGLE_GENAI_USE_GCA: 'true', CODE_ASSIST_ENDPOINT: `${relay.url}/gemini`, GOOGLE_CLOUD_ACCESS_TOKEN: key.key },
      { security: { auth: { selectedType: 'oauth-personal' } } },
      ['-p', 'say hi'],
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(ANSWER);
    expect(run.stderr).not.toMatch(/Routing\].*failed/);

    // Gemini CLI's set-up calls were answered by the relay: upstream, only the account's own
    // project lookup, and generate calls in that project with the account's token.
    const project = fake.user('cli-user')?.project;
    const upstream = fake.requests.filter((r) => r.pathname !== '/v1internal:loadCodeAssist');
    expect(upstream.length).toBeGreaterThanOrEqual(1);
    expect(upstream.some((r) => r.path === '/v1internal:streamGenerateContent?alt=sse')).toBe(true);
    for (const r of upstream) {
      expect(r.pathname).toMatch(/^\/v1internal:(generateContent|streamGenerateContent|countTokens)$/);
      expect(r.account).toBe('cli-user');
      if (r.pathname !== '/v1internal:countTokens') expect(r.body).toMatchObject({ project });
      expect(JSON.stringify(r.headers) + r.rawBody).not.toContain(key.key);
    }
    await expectBookedAsReported(key.id, 'cli-user');
  });

  it('a relay key the relay never issued: Gemini CLI fails and says so', async () => {
    const key = await relay.admin.createKey({ name: 'gemini cli, the real key', accountIds: [nativeAccount] });
    const wrong = key.key.slice(0, -6) + (key.key.endsWith('000000') ? '111111' : '000000');
    const run = await runGemini(
      { GOOGLE_GEMINI_BASE_URL: `${relay.url}/gemini`, GEMINI_API_KEY: wrong },
      { security: { auth: { selectedType: 'gemini-api-key' } } },
      ['-m', 'gemini-2.5-flash', '-p', 'say hi'],
    );
    expect(run.code, 'gemini was killed').not.toBeNull();
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/401|UNAUTHENTICATED|Invalid API key/i);
    expect(run.stdout).not.toContain(ANSWER);
    expect(fake.requests).toHaveLength(0);
  });
});
