/**
 * Which client program sent a request, recognised by user agent and request shape. Used by the
 * per-key client restriction (`allowedClients`).
 */
export const CLIENTS = ['claude-code', 'gemini-cli', 'codex-cli'] as const;
export type ClientName = (typeof CLIENTS)[number];

export function detectClient(headers: Readonly<Record<string, string>>, body: unknown): ClientName | null {
  const ua = headers['user-agent'] ?? '';
  if (/^claude-cli\/\d+\.\d+\.\d+/.test(ua) && looksLikeClaudeCode(headers, body)) return 'claude-code';
  // Gemini CLI 0.61 in its terminal UI says `GeminiCLI-tui/0.61.0/<model> (…)`.
  if (/^GeminiCLI(?:-[a-z]+)?\/\d/i.test(ua)) return 'gemini-cli';
  if (/^(codex_cli_rs|codex_exec|codex_vscode)\/\d/.test(ua) || /^codex_/.test(headers['originator'] ?? ''))
    return 'codex-cli';
  return null;
}

/** Claude Code also sends its session header or a `metadata.user_id`; a bare user agent is not enough. */
function looksLikeClaudeCode(headers: Readonly<Record<string, string>>, body: unknown): boolean {
  if (headers['x-claude-code-session-id'] || headers['x-app'] === 'cli') return true;
  const userId = (body as { metadata?: { user_id?: unknown } } | null)?.metadata?.user_id;
  return typeof userId === 'string' && userId.length > 0;
}
