import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeOAuthServer } from '../fakes/oauth-server.js';
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIUsage } from '../fakes/openai.js';
import { runCli, tempHomes, type CliRun } from '../support/client-cli.js';
import {
  CHATGPT_ACCOUNT_ID,
  importChatGPTAccount,
  openaiBooking,
  openaiOAuthEnv,
  startOpenAIOAuthServer,
} from '../support/openai.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { booked, sumBooked, untilBooked } from '../support/usage-math.js';
import { REPO_ROOT } from './process.js';

/**
 * Codex CLI itself (the real binary) with a custom model provider whose base_url is the relay
 * (`wire_api = "responses"`, the relay key in an env_key variable): `codex exec` completes a prompt
 * served by an OpenAI API-key account, and by a ChatGPT subscription (OAuth) account on the
 * ChatGPT backend. The fake upstream sees the account's credential and Codex's own headers, never
 * the relay key; what is booked is exactly what it reported. No network but the relay's.
 */

const CODEX = path.join(REPO_ROOT, 'node_modules', '.bin', 'codex');
const UPSTREAM_KEY = 'sk-proj-e2e-codex-cli-00000000000000000';
const MODEL = 'gpt-6.2-sol';
const USAGE: FakeOpenAIUsage = { input: 9100, cached: 8192, output: 57, reasoning: 30 };

function writeCodexHome(home: string, relayUrl: string): string {
  const codexHome = path.join(home, '.codex');
  mkdirSync(codexHome, { recursive: true });
  writeFileSync(
    path.join(codexHome, 'config.toml'),
    [
      `model = "${MODEL}"`,
      'model_provider = "crs"',
      '',
      '[model_providers.crs]',
      'name = "Claude Relay Service"',
      `base_url = "${relayUrl}/openai"`,
      'wire_api = "responses"',
      'env_key = "CRS_API_KEY"',
      '',
    ].join('\n'),
  );
  return codexHome;
}

/** Runs `codex exec` in an empty HOME, with only the relay key. */
function runCodex(
  home: string,
  codexHome: string,
  relayKey: string,
  prompt: string,
  timeoutMs = 60_000,
): Promise<CliRun> {
  return runCli(CODEX, ['exec', '--skip-git-repo-check', prompt], {
    home,
    timeoutMs,
    env: { CODEX_HOME: codexHome, CRS_API_KEY: relayKey },
  });
}

describe('Codex CLI through the relay', () => {
  let fake: FakeOpenAI;
  let oauth: FakeOAuthServer;
  let relay: TestRelay;
  const homes = tempHomes('crs-codex-');

  beforeAll(async () => {
    oauth = await startOpenAIOAuthServer();
    fake = await startFakeOpenAI({ chatgptToken: (t) => oauth.isValidAccessToken(t) });
    relay = await startTestRelay({ env: openaiOAuthEnv(oauth, fake) });
  });

  afterEach(() => {
    fake.reset();
  });

  afterAll(async () => {
    await relay?.close();
    await fake?.close();
    await oauth?.close();
    homes.removeAll();
  });

  const expectBookedAsReported = async (keyId: string, upstream: 'openai' | 'chatgpt') => {
    const sent = fake.reported.filter((r) => r.upstream === upstream);
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(sent.every((r) => r.complete && r.model === MODEL)).toBe(true);
    const want = sumBooked(sent.map((r) => openaiBooking(MODEL, r.usage)));
    const report = await untilBooked(() => relay.admin.keyUsage(keyId), sent.length);
    expect(booked(report.total)).toEqual(want);
    expect(report.models.map((m) => m.model)).toEqual([MODEL]);
  };

  it('completes a prompt on an OpenAI API-key account and books exactly what the upstream reported', async () => {
    const account = await relay.admin.createAccount({
      platform: 'openai',
      type: 'api-key',
      name: 'codex api key',
      apiKey: UPSTREAM_KEY,
      baseUrl: fake.url,
    });
    const key = await relay.admin.createKey({ name: 'codex, api key', accountIds: [account.id] });
    fake.setDefault({ kind: 'answer', text: 'Hi from the relay (API key).', usage: USAGE });
    const home = homes.make();

    const run = await runCodex(home, writeCodexHome(home, relay.url), key.key, 'say hi');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Hi from the relay (API key).');

    const calls = fake.requests.filter((r) => r.upstream === 'openai');
    expect(calls.length).toBeGreaterThanOrEqual(1);
    for (const call of calls) {
      expect(call.path).toBe('/v1/responses');
      expect(call.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
      expect(JSON.stringify(call.headers) + call.rawBody).not.toContain(key.key);
      // Codex's own headers pass, so the upstream sees its session.
      expect(call.headers.originator).toBe('codex_exec');
      expect(call.headers['user-agent']).toMatch(/^codex_exec\/0\.171\.0/);
      expect(call.headers['session-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(call.body).toMatchObject({ model: MODEL, stream: true });
    }
    await expectBookedAsReported(key.id, 'openai');
  });

  it('completes a prompt on a ChatGPT (OAuth) account through the ChatGPT backend', async () => {
    const account = await importChatGPTAccount(relay.admin, oauth, { name: 'codex chatgpt' });
    const key = await relay.admin.createKey({ name: 'codex, chatgpt', accountIds: [account.id] });
    fake.setDefault({ kind: 'answer', text: 'Hi from the relay (ChatGPT).', usage: USAGE });
    const home = homes.make();

    const run = await runCodex(home, writeCodexHome(home, relay.url), key.key, 'say hi');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Hi from the relay (ChatGPT).');

    const calls = fake.requests.filter((r) => r.upstream === 'chatgpt');
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(fake.requests.filter((r) => r.upstream !== 'chatgpt')).toHaveLength(0);
    for (const call of calls) {
      expect(call.path).toBe('/backend-api/codex/responses');
      expect(call.headers.authorization).toBe(`Bearer ${account.tokens.accessToken}`);
      expect(call.headers['chatgpt-account-id']).toBe(CHATGPT_ACCOUNT_ID);
      expect(call.headers.originator).toBe('codex_exec');
      expect(call.headers['session-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(call.body).toMatchObject({ model: MODEL, stream: true, store: false });
      expect(JSON.stringify(call.headers) + call.rawBody).not.toContain(key.key);
    }
    await expectBookedAsReported(key.id, 'chatgpt');
  });
});
