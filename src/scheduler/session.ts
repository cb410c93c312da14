import { createHash } from 'node:crypto';

/**
 * The conversation a request belongs to, so it can stick to one upstream account (and keep that
 * account's prompt cache warm). In order:
 *  1. explicit session headers: `x-claude-code-session-id`, `session_id` (older Codex), `session-id`
 *     (Codex 0.171), `x-session-affinity`;
 *  2. the `session_id` inside `metadata.user_id` (Claude Code sends a JSON string holding
 *     `device_id`, `account_uuid`, `session_id`; older clients `user_<hex>_account_<uuid>_session_<uuid>`);
 *  3. a hash of the system prompt and the first user message (stable across the turns of a
 *     conversation, since later turns only append).
 */
export interface SessionRef {
  /** Hex digest: what the sticky mapping is keyed by (never the raw id). */
  hash: string;
  source: 'header' | 'metadata' | 'opener';
}

const SESSION_HEADERS = ['x-claude-code-session-id', 'session_id', 'session-id', 'x-session-affinity'] as const;
const OPENER_PREFIX = 16_384;

const digest = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

export function sessionOf(headers: Readonly<Record<string, string>>, body: unknown): SessionRef | null {
  // A session id hashes the same whether it came in a header or in the metadata.
  for (const h of SESSION_HEADERS) {
    const v = headers[h]?.trim();
    if (v) return { hash: digest(`s:${v}`), source: 'header' };
  }
  const b = body as Record<string, unknown> | null | undefined;
  const fromMetadata =
    sessionFromUserId((b?.metadata as { user_id?: unknown } | undefined)?.user_id) ?? bodySessionId(b);
  if (fromMetadata) return { hash: digest(`s:${fromMetadata}`), source: 'metadata' };
  const opener = openerParts(b);
  if (opener) return { hash: digest(`o:${JSON.stringify(opener)}`), source: 'opener' };
  return null;
}

/**
 * Session ids other clients put in the body: Gemini CLI's Code Assist `request.session_id`, OpenAI's
 * `prompt_cache_key`.
 */
function bodySessionId(b: Record<string, unknown> | null | undefined): string | undefined {
  const codeAssist = (b?.request as { session_id?: unknown } | undefined)?.session_id;
  if (typeof codeAssist === 'string' && codeAssist) return codeAssist;
  const cacheKey = b?.prompt_cache_key;
  return typeof cacheKey === 'string' && cacheKey ? cacheKey : undefined;
}

/** Claude Code's `metadata.user_id`: a JSON string with `session_id`, or the legacy underscore form. */
export function sessionFromUserId(userId: unknown): string | undefined {
  if (typeof userId !== 'string' || userId === '') return undefined;
  if (userId.startsWith('{')) {
    try {
      const parsed = JSON.parse(userId) as { session_id?: unknown };
      if (typeof parsed.session_id === 'string' && parsed.session_id) return parsed.session_id;
    } catch {
      return undefined;
    }
    return undefined;
  }
  const m = /_session_([0-9a-f-]{8,})$/i.exec(userId);
  return m?.[1];
}

/**
 * The system prompt and the first user message's text (Anthropic, OpenAI Chat/Responses or Gemini
 * shaped), kept apart so different splits of the same text never hash alike. Null when empty.
 */
function openerParts(outer: Record<string, unknown> | null | undefined): [string, string] | null {
  // Code Assist wraps the Gemini request: `{model, project, request: {contents, systemInstruction}}`.
  const inner = outer?.request;
  const body = inner && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Record<string, unknown>) : outer;
  if (!body) return null;
  const system = [
    textOf(body.system ?? body.instructions ?? (body.systemInstruction as { parts?: unknown } | undefined)?.parts),
  ];
  let first = '';
  const messages = (body.messages ?? body.contents ?? body.input) as unknown;
  if (Array.isArray(messages)) {
    const roleOf = (m: unknown) => (m as { role?: unknown } | null)?.role;
    // Gemini allows single-turn contents without a role: that is the user's.
    const firstUser = messages.findIndex(
      (m) => roleOf(m) === 'user' || (roleOf(m) === undefined && body.contents !== undefined),
    );
    // OpenAI chat bodies carry the system prompt as leading system/developer messages.
    for (const m of messages.slice(0, firstUser < 0 ? messages.length : firstUser)) {
      if (roleOf(m) === 'system' || roleOf(m) === 'developer')
        system.push(textOf((m as { content?: unknown }).content));
    }
    const user = messages[firstUser] as Record<string, unknown> | undefined;
    if (user) first = textOf(user.content ?? user.parts);
  } else if (typeof messages === 'string') {
    first = messages;
  }
  // A bounded prefix identifies a conversation as well as the whole text, at a fixed cost.
  const sys = system.filter(Boolean).join('\n').slice(0, OPENER_PREFIX);
  return sys || first ? [sys, first.slice(0, OPENER_PREFIX)] : null;
}

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v))
    return v
      .map((p) =>
        typeof p === 'string'
          ? p
          : typeof (p as { text?: unknown })?.text === 'string'
            ? (p as { text: string }).text
            : '',
      )
      .join('');
  return '';
}
