import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic, type FakeUsage } from '../fakes/anthropic.js';
import { runCli, tempHomes, type CliRun } from '../support/client-cli.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { REPO_ROOT } from './process.js';

/**
 * Claude Code itself (the real CLI, a native binary) pointed at the relay, which relays to the
 * fake Anthropic upstream: the answer comes back, the upstream sees the account's key and
 * Claude Code's own headers, and what is booked is exactly what the upstream reported.
 */

const CLAUDE = path.join(REPO_ROOT, 'node_modules', '.bin', 'claude');
const UPSTREAM_KEY = 'sk-ant-e2e-claude-code-000000000';
const ANSWER = 'Hi! (relayed by the fake upstream)';
/** Cache tokens of all kinds, so a dropped or double-counted kind shows. */
const USAGE: FakeUsage = {
  input_tokens: 17,
  output_tokens: 23,
  cache_creation_input_tokens: 1500,
  cache_read_input_tokens: 48_000,
  cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 500 },
};

interface ClaudeJsonResult {
  type: string;
  subtype: string;
  is_error: boolean;
  result: string;
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_creation_input_tokens: number;
    cache_read_input_tokens: number;
  };
  api_error_status?: number | null;
  api_error_type?: string;
}

/** Runs `claude` in an empty HOME/working directory, without telemetry, updates or other traffic. */
function runClaude(home: string, env: Record<string, string>, args: string[], timeoutMs = 45_000): Promise<CliRun> {
  return runCli(CLAUDE, args, {
    home,
    timeoutMs,
    env: { DISABLE_TELEMETRY: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1', ...env },
  });
}

function parseResult(run: CliRun): ClaudeJsonResult {
  try {
    return JSON.parse(run.stdout) as ClaudeJsonResult;
  } catch (err) {
    throw new Error(
      `claude printed no JSON result (exit ${run.code})\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`,
      { cause: err },
    );
  }
}

describe('Claude Code through the relay', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let accountId: string;
  const homes = tempHomes('crs-claude-');

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay();
    accountId = (await relay.admin.createAccount({ apiKey: UPSTREAM_KEY, baseUrl: fake.url })).id;
  });

  afterEach(() => {
    fake.reset();
  });

  afterAll(async () => {
    await relay?.close();
    await fake?.close();
    homes.removeAll();
  });

  // Claude Code sends ANTHROPIC_API_KEY as x-api-key and ANTHROPIC_AUTH_TOKEN as a Bearer token.
  it.each(['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'])(
    'answers with the relay key in %s and books exactly what the upstream reported',
    async (variable) => {
      fake.setDefault({ kind: 'message', text: ANSWER, usage: USAGE });
      const key = await relay.admin.createKey({ name: `claude code ${variable}` });

      const run = await runClaude(homes.make(), { ANTHROPIC_BASE_URL: `${relay.url}/api`, [variable]: key.key }, [
        '-p',
        'say hi',
        '--output-format',
        'json',
      ]);
      const result = parseResult(run);
      expect(run.code, run.stderr).toBe(0);
      expect(result).toMatchObject({ type: 'result', subtype: 'success', is_error: false, result: ANSWER });

      // The upstream saw the account's credential, never the relay key, and Claude Code's headers.
      const calls = fake.requests.filter((r) => r.path.startsWith('/v1/messages'));
      expect(calls.length).toBeGreaterThanOrEqual(1);
      for (const call of calls) {
        expect(call.apiKey).toBe(UPSTREAM_KEY);
        expect(call.headers['x-api-key']).toBe(UPSTREAM_KEY);
        expect(call.headers.authorization).toBeUndefined();
        expect(call.rawBody).not.toContain(key.key);
        expect(JSON.stringify(call.headers)).not.toContain(key.key);
        expect(call.headers['user-agent']).toMatch(/^claude-cli\/\d+\.\d+\.\d+/);
        expect(call.headers['anthropic-beta']).toMatch(/claude-code-/);
        expect(call.headers['x-claude-code-session-id']).toMatch(/^[0-9a-f-]{36}$/);
      }

      // Booked = the sum of what the upstream reported, token kind by token kind.
      const sent = fake.reported.filter((r) => r.apiKey === UPSTREAM_KEY);
      expect(sent.length).toBeGreaterThanOrEqual(1);
      expect(sent.every((r) => r.complete)).toBe(true);
      const sum = (pick: (u: FakeUsage) => number) => sent.reduce((total, r) => total + pick(r.usage), 0);
      const booked = (await relay.admin.keyUsage(key.id)).total;
      expect(booked).toMatchObject({
        requests: sent.length,
        errors: 0,
        inputTokens: sum((u) => u.input_tokens),
        outputTokens: sum((u) => u.output_tokens),
        cacheCreateTokens: sum((u) => u.cache_creation_input_tokens ?? 0),
        cacheCreate5mTokens: sum((u) => u.cache_creation?.ephemeral_5m_input_tokens ?? 0),
        cacheCreate1hTokens: sum((u) => u.cache_creation?.ephemeral_1h_input_tokens ?? 0),
        cacheReadTokens: sum((u) => u.cache_read_input_tokens ?? 0),
      });
      expect(booked.cost).toBeGreaterThan(0);
      // What Claude Code saw is what was booked (one parse of the same events).
      expect(result.usage).toMatchObject({
        input_tokens: booked.inputTokens,
        output_tokens: booked.outputTokens,
        cache_creation_input_tokens: booked.cacheCreateTokens,
        cache_read_input_tokens: booked.cacheReadTokens,
      });
    },
  );

  it('works with the bare host as its base URL (no /api), as the Anthropic API itself is shaped', async () => {
    fake.setDefault({ kind: 'message', text: ANSWER, usage: USAGE });
    const key = await relay.admin.createKey({ name: 'claude code, bare host' });
    const run = await runClaude(homes.make(), { ANTHROPIC_BASE_URL: relay.url, ANTHROPIC_API_KEY: key.key }, [
      '-p',
      'say hi',
      '--output-format',
      'json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(parseResult(run)).toMatchObject({ subtype: 'success', is_error: false, result: ANSWER });
    const sent = fake.reported.filter((r) => r.apiKey === UPSTREAM_KEY);
    expect((await relay.admin.keyUsage(key.id)).total).toMatchObject({
      requests: sent.length,
      inputTokens: sent.length * USAGE.input_tokens,
      cacheReadTokens: sent.length * (USAGE.cache_read_input_tokens ?? 0),
    });
  });

  /** A well-formed relay key the relay never issued. */
  const wrongKeyFor = (key: string) => key.slice(0, -6) + (key.endsWith('000000') ? '111111' : '000000');

  it('reports an authentication error for a wrong relay key and books nothing', async () => {
    fake.setDefault({ kind: 'message', text: ANSWER, usage: USAGE });
    const key = await relay.admin.createKey({ name: 'claude code, the real key' });
    const accountBefore = (await relay.admin.accountUsage(accountId)).total;

    // One attempt: Claude Code's own retries are the subject of the next test.
    const run = await runClaude(
      homes.make(),
      { ANTHROPIC_BASE_URL: `${relay.url}/api`, ANTHROPIC_API_KEY: wrongKeyFor(key.key), CLAUDE_CODE_MAX_RETRIES: '0' },
      ['-p', 'say hi', '--output-format', 'json'],
    );
    const output = run.stdout + run.stderr;
    expect(run.code, output).not.toBeNull();
    let failed = run.code !== 0;
    try {
      const result = parseResult(run);
      failed ||= result.is_error;
      expect(result).toMatchObject({ is_error: true, api_error_status: 401, api_error_type: 'authentication_error' });
    } catch (err) {
      // No JSON: the exit code and the output must say it.
      if (run.code === 0) throw err;
    }
    expect(failed, output).toBe(true);
    expect(output).toMatch(/authenticat|invalid api key|401/i);
    expect(output).not.toContain(ANSWER);

    expect(fake.requests).toHaveLength(0);
    expect((await relay.admin.keyUsage(key.id)).total).toMatchObject({ requests: 0, errors: 0, inputTokens: 0 });
    expect((await relay.admin.accountUsage(accountId)).total).toEqual(accountBefore);
  });

  // Claude Code retries a 401 (10 more times, backing off for minutes) unless the answer carries
  // `x-should-retry: false`, the header Anthropic's API and SDKs use to mark an error as final. A
  // key the relay does not know will not start working on a retry: the user should see it at once.
  it('tells Claude Code not to retry a wrong relay key, so it fails at once', async () => {
    const key = await relay.admin.createKey({ name: 'claude code, retries' });
    const startedAt = Date.now();
    const run = await runClaude(
      homes.make(),
      { ANTHROPIC_BASE_URL: `${relay.url}/api`, ANTHROPIC_AUTH_TOKEN: wrongKeyFor(key.key) },
      ['-p', 'say hi', '--output-format', 'json'],
      15_000,
    );
    const elapsedMs = Date.now() - startedAt;
    expect(run.code, `claude was still retrying after ${elapsedMs}ms and was killed`).not.toBeNull();
    expect(parseResult(run)).toMatchObject({ is_error: true, api_error_status: 401 });
    expect(elapsedMs).toBeLessThan(10_000);
    expect(fake.requests).toHaveLength(0);
  });
});
