import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/probes/index.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.js';
import { startFakeGemini, type FakeGemini } from '../fakes/gemini.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

/** Each platform's probe against its fake: a real, minimal, non-streaming call that books its usage. */
describe('probes on every platform', () => {
  let anthropic: FakeAnthropic;
  let openai: FakeOpenAI;
  let gemini: FakeGemini;
  let bedrock: FakeBedrock;
  let relay: TestRelay;

  beforeAll(async () => {
    [anthropic, openai, gemini, bedrock] = await Promise.all([
      startFakeAnthropic(),
      startFakeOpenAI(),
      startFakeGemini(),
      startFakeBedrock(),
    ]);
    relay = await startTestRelay({
      env: {
        GEMINI_API_URL: gemini.url,
        CODE_ASSIST_URL: gemini.url,
        GOOGLE_OAUTH_TOKEN_URL: gemini.tokenUrl,
        CHATGPT_BACKEND_URL: openai.chatgptUrl,
      },
    });
  });
  afterAll(async () => {
    await relay?.close();
    await Promise.all([anthropic?.close(), openai?.close(), gemini?.close(), bedrock?.close()]);
  });

  const probe = async (account: Record<string, unknown>) => {
    const { id } = await relay.admin.createAccount({ name: `probe ${String(account.platform)}`, ...account });
    const res = await relay.admin.request<ProbeResult>('POST', `/admin/accounts/${id}/probe`);
    expect(res.status).toBe(200);
    return res.body;
  };

  it('claude with an OAuth token: Claude Code shaped, with a bearer token', async () => {
    const token = `sk-ant-oat01-${'x'.repeat(40)}`;
    const r = await probe({ platform: 'claude', type: 'oauth', accessToken: token, baseUrl: anthropic.url });
    expect(r).toMatchObject({ outcome: 'ok', status: 200, model: 'claude-haiku-4-5', tokens: 37 });
    const sent = anthropic.requests.at(-1);
    expect(sent?.headers.authorization).toBe(`Bearer ${token}`);
    expect(String(sent?.headers['anthropic-beta'])).toContain('oauth-2025-04-20');
    expect(JSON.stringify((sent?.body as { system?: unknown }).system)).toContain('Claude Code');
  });

  it('openai with an API key: Chat Completions, one token, on a mini model', async () => {
    const r = await probe({
      platform: 'openai',
      type: 'api-key',
      apiKey: 'sk-probe-openai-000000000000',
      baseUrl: openai.url,
    });
    expect(r).toMatchObject({ outcome: 'ok', status: 200, model: 'gpt-4o-mini' });
    expect(r.tokens).toBeGreaterThan(0);
    const sent = openai.requests.at(-1);
    expect(sent?.path).toBe('/v1/chat/completions');
    expect(sent?.body).toMatchObject({ model: 'gpt-4o-mini', max_completion_tokens: 1, stream: false });
  });

  it('openai with a ChatGPT subscription: the Codex backend, as Codex calls it', async () => {
    const r = await probe({
      platform: 'openai',
      type: 'oauth',
      refreshToken: 'rt-probe-chatgpt-000000000000',
      accessToken: 'at-probe-chatgpt-000000000000',
      expiresAt: String(Date.now() + 86_400_000),
      chatgptAccountId: 'acct-probe',
    });
    expect(r).toMatchObject({ outcome: 'ok', status: 200, model: 'gpt-5.1-codex-mini' });
    expect(r.tokens).toBeGreaterThan(0);
    const sent = openai.requests.at(-1);
    expect(sent?.path).toBe('/backend-api/codex/responses');
    expect(sent?.headers.originator).toBe('codex_cli_rs');
    expect(sent?.body).toMatchObject({ stream: true, store: false });
  });

  it('azure: its deployment', async () => {
    const r = await probe({
      platform: 'azure',
      type: 'api-key',
      apiKey: 'azure-probe-key-0000000000',
      baseUrl: openai.url,
      deployment: 'probe-4o-mini',
    });
    expect(r).toMatchObject({ outcome: 'ok', status: 200 });
    expect(openai.requests.at(-1)?.path).toBe('/openai/deployments/probe-4o-mini/chat/completions');
  });

  it('gemini with an API key, and with a Google login (Code Assist)', async () => {
    const key = await probe({ platform: 'gemini', type: 'api-key', apiKey: 'AIza-probe-gemini-00000000' });
    expect(key).toMatchObject({ outcome: 'ok', status: 200, model: 'gemini-2.5-flash-lite' });
    expect(gemini.requests.at(-1)).toMatchObject({
      pathname: '/v1beta/models/gemini-2.5-flash-lite:generateContent',
      body: { generationConfig: { maxOutputTokens: 1 } },
    });

    gemini.addUser({ id: 'prober', refreshToken: '1//fake-refresh-prober-initial' });
    const login = await probe({ platform: 'gemini', type: 'oauth', refreshToken: '1//fake-refresh-prober-initial' });
    expect(login).toMatchObject({ outcome: 'ok', status: 200, model: 'gemini-2.5-flash-lite' });
    expect(login.tokens).toBeGreaterThan(0);
    expect(gemini.requests.at(-1)?.pathname).toBe('/v1internal:generateContent');
  });

  it('bedrock: a haiku model id', async () => {
    const apiKey = `ABSK${'p'.repeat(40)}`;
    bedrock.addApiKey(apiKey);
    const r = await probe({ platform: 'bedrock', type: 'bearer', apiKey, baseUrl: bedrock.url, region: 'us-east-1' });
    expect(r).toMatchObject({ outcome: 'ok', status: 200 });
    expect(r.tokens).toBeGreaterThan(0);
    expect(bedrock.requests.at(-1)).toMatchObject({
      modelId: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
      action: 'invoke',
    });
  });
});
