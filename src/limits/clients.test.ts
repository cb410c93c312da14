import { describe, expect, it } from 'vitest';
import { detectClient, type ClientName } from './clients.js';

const CC_UA = 'claude-cli/2.1.332 (external, cli)';
const USER_ID = JSON.stringify({
  device_id: 'd'.repeat(64),
  account_uuid: '',
  session_id: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
});
const ccBody = { model: 'claude-sonnet-4-5', messages: [], metadata: { user_id: USER_ID } };
const plainBody = { model: 'claude-sonnet-4-5', messages: [] };

type Row = [string, Record<string, string>, unknown, ClientName | null];

describe('detectClient', () => {
  it.each<Row>([
    // Claude Code: its user agent AND one more sign of Claude Code.
    [
      'Claude Code with session header',
      { 'user-agent': CC_UA, 'x-claude-code-session-id': 'abc' },
      plainBody,
      'claude-code',
    ],
    ['Claude Code with x-app: cli', { 'user-agent': CC_UA, 'x-app': 'cli' }, plainBody, 'claude-code'],
    ['Claude Code with metadata.user_id', { 'user-agent': CC_UA }, ccBody, 'claude-code'],
    [
      'Claude Code with a legacy user_id',
      { 'user-agent': CC_UA },
      { metadata: { user_id: `user_${'a'.repeat(64)}_account__session_6f1c2a3b-4d5e` } },
      'claude-code',
    ],
    [
      'Claude Code, everything',
      { 'user-agent': CC_UA, 'x-app': 'cli', 'x-claude-code-session-id': 'abc' },
      ccBody,
      'claude-code',
    ],
    ['Claude Code, bare version user agent', { 'user-agent': 'claude-cli/1.0.0', 'x-app': 'cli' }, null, 'claude-code'],
    ['Claude Code user agent alone is not enough', { 'user-agent': CC_UA }, plainBody, null],
    ['Claude Code user agent, no body', { 'user-agent': CC_UA }, null, null],
    ['Claude Code user agent, empty user_id', { 'user-agent': CC_UA }, { metadata: { user_id: '' } }, null],
    ['Claude Code user agent, non-string user_id', { 'user-agent': CC_UA }, { metadata: { user_id: 42 } }, null],
    [
      'Claude Code user agent, empty session header',
      { 'user-agent': CC_UA, 'x-claude-code-session-id': '' },
      plainBody,
      null,
    ],
    ['Claude Code user agent, x-app other than cli', { 'user-agent': CC_UA, 'x-app': 'web' }, plainBody, null],
    [
      'Claude Code signs without its user agent',
      { 'user-agent': 'curl/8.5.0', 'x-app': 'cli', 'x-claude-code-session-id': 'abc' },
      ccBody,
      null,
    ],
    ['Claude Code signs and no user agent', { 'x-app': 'cli', 'x-claude-code-session-id': 'abc' }, ccBody, null],
    [
      'user agent with a two-part version',
      { 'user-agent': 'claude-cli/2.1 (external, cli)', 'x-app': 'cli' },
      ccBody,
      null,
    ],
    ['user agent not at the start', { 'user-agent': `Mozilla/5.0 ${CC_UA}`, 'x-app': 'cli' }, ccBody, null],
    // Gemini CLI
    ['Gemini CLI', { 'user-agent': 'GeminiCLI/0.1.18 (linux; x64)' }, { contents: [] }, 'gemini-cli'],
    ['Gemini CLI, other case', { 'user-agent': 'geminicli/0.2.0 (darwin; arm64)' }, null, 'gemini-cli'],
    [
      'Gemini CLI 0.61 terminal UI',
      { 'user-agent': 'GeminiCLI-tui/0.61.0/gemini-2.5-pro (linux; x64; terminal) google-api-nodejs-client/10.9.0' },
      null,
      'gemini-cli',
    ],
    ['Gemini CLI without a version', { 'user-agent': 'GeminiCLI/' }, null, null],
    ['Gemini CLI name not at the start', { 'user-agent': 'Mozilla/5.0 GeminiCLI/0.1.18' }, null, null],
    // Codex CLI
    [
      'Codex CLI (rust)',
      { 'user-agent': 'codex_cli_rs/0.42.0 (Mac OS 15.5.0; arm64) iTerm.app/3.5.14' },
      { input: [] },
      'codex-cli',
    ],
    ['Codex exec', { 'user-agent': 'codex_exec/0.42.0 (Ubuntu 24.4.0; x86_64)' }, null, 'codex-cli'],
    [
      'Codex VS Code',
      { 'user-agent': 'codex_vscode/0.42.0 (Windows 10.0.26100; x86_64) vscode/1.104.0' },
      null,
      'codex-cli',
    ],
    [
      'Codex originator header, other user agent',
      { 'user-agent': 'node', originator: 'codex_cli_rs' },
      null,
      'codex-cli',
    ],
    ['Codex originator header, no user agent', { originator: 'codex_exec' }, null, 'codex-cli'],
    ['unknown codex_ user agent', { 'user-agent': 'codex_desktop/0.42.0' }, null, null],
    ['codex user agent without a version', { 'user-agent': 'codex_cli_rs/' }, null, null],
    ['originator not starting with codex_', { 'user-agent': 'node', originator: 'my_codex_fork' }, null, null],
    // Anything else
    [
      'a browser',
      {
        'user-agent':
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36',
      },
      ccBody,
      null,
    ],
    ['curl', { 'user-agent': 'curl/8.5.0' }, plainBody, null],
    ['the Anthropic SDK', { 'user-agent': 'Anthropic/JS 0.60.0', 'x-stainless-lang': 'js' }, plainBody, null],
    ['no headers at all', {}, null, null],
    ['no headers, Claude Code body', {}, ccBody, null],
  ])('%s', (_name, headers, body, expected) => {
    expect(detectClient(headers, body)).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['a string body', 'hello'],
    ['an array body', [1, 2]],
    ['a number body', 7],
    ['metadata null', { metadata: null }],
    ['metadata a string', { metadata: 'x' }],
  ])('odd bodies do not throw and do not count as Claude Code (%s)', (_name, body) => {
    expect(detectClient({ 'user-agent': CC_UA }, body)).toBeNull();
  });
});
