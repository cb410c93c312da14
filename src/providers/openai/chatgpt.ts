import { Readable } from 'node:stream';
import { RelayError } from '../../errors/catalogue.js';
import type { UpstreamResponse } from '../../upstream/types.js';
import { SseParser } from '../../util/sse.js';
import { chatgptClaims } from './claims.js';

/**
 * The ChatGPT backend Codex talks to with a ChatGPT login (`…/backend-api/codex/responses`). It
 * speaks the Responses API with the backend's own rules, which the relay applies so any Responses
 * client can use a subscription account:
 *  - it answers only streams (`stream: true`) and keeps nothing (`store: false`);
 *  - `input` must be a list of items;
 *  - `max_output_tokens` is refused ("Unsupported parameter"); the backend sets its own budget.
 * A client that asked for a whole JSON answer gets one: the relay reads the stream and answers
 * with the terminal event's `response` object (see `collectResponse`).
 */
export function chatgptBody(json: Readonly<Record<string, unknown>>): Buffer {
  const { max_output_tokens: _dropped, ...rest } = json;
  const out: Record<string, unknown> = { ...rest, stream: true, store: false };
  if (typeof out.input === 'string')
    out.input = [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: out.input }] }];
  return Buffer.from(JSON.stringify(out));
}

/** Codex's identity when the client is not Codex (the backend serves Codex). */
export const CODEX_ORIGINATOR = 'codex_cli_rs';
export const CODEX_USER_AGENT = 'codex_cli_rs/0.171.0';

/** The ChatGPT account the backend is addressed by: the stored option, else the tokens' own claim. */
export function chatgptAccountId(
  options: Readonly<Record<string, string>>,
  credentials: Readonly<Record<string, string>>,
): string | undefined {
  return (
    options.chatgptAccountId ||
    chatgptClaims(credentials.idToken).accountId ||
    chatgptClaims(credentials.accessToken).accountId
  );
}

/** Sets what Codex sends the backend besides its own headers (which pass as they are). */
export function chatgptHeaders(headers: Record<string, string>, token: string, accountId: string | undefined): void {
  headers.authorization = `Bearer ${token}`;
  if (accountId) headers['chatgpt-account-id'] = accountId;
  headers.originator ??= CODEX_ORIGINATOR;
  if (!/^codex_/.test(headers['user-agent'] ?? '')) headers['user-agent'] = CODEX_USER_AGENT;
  headers.accept = 'text/event-stream';
}

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * The backend's stream → the whole response object a non-streaming client expects (the terminal
 * event carries it complete, usage included). A stream that ends without a terminal event, or with
 * an `error` event, is an upstream failure.
 */
export function collectResponse(res: UpstreamResponse): UpstreamResponse {
  async function* whole(): AsyncGenerator<Buffer> {
    let final: unknown;
    let failure: string | undefined;
    const parser = new SseParser(({ event, data }) => {
      let payload: { type?: unknown; response?: unknown; message?: unknown; error?: { message?: unknown } } | undefined;
      try {
        payload = JSON.parse(data) as typeof payload;
      } catch {
        return;
      }
      const type = event !== 'message' ? event : typeof payload?.type === 'string' ? payload.type : event;
      if (TERMINAL.has(type)) final = payload?.response;
      else if (type === 'error') failure = String(payload?.message ?? payload?.error?.message ?? 'stream error');
    });
    for await (const chunk of res.body as AsyncIterable<Buffer>) parser.push(chunk);
    parser.end();
    if (final === undefined || final === null) {
      throw new RelayError('upstream_error', {
        message: failure ? `Upstream: ${failure}` : 'The upstream stream ended before the response was complete.',
      });
    }
    yield Buffer.from(JSON.stringify(final));
  }
  const headers = { ...res.headers, 'content-type': 'application/json' };
  return { ...res, headers, body: Readable.from(whole()) as unknown as UpstreamResponse['body'] };
}
