import { ChannelError, type SendContext } from '../types.js';

/**
 * The HTTP side every chat channel shares: one POST, and errors that say what the platform
 * answered without ever repeating the webhook URL, a token or a secret (they end up in logs,
 * the admin UI and other notifications).
 */

export interface Reply {
  status: number;
  text: string;
  /** The body parsed as JSON, undefined when it is not JSON. */
  json: unknown;
}

/** Redacts `secrets` (and the tokens inside secret URLs), URLs and key-like runs; one short line. */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let s = text;
  for (const secret of secrets) if (secret.length >= 4) s = s.split(secret).join('[redacted]');
  s = s
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]')
    .replace(/\b(key|token|access_token|sign|secret|password|signature)=[^&\s]*/gi, '$1=[redacted]')
    .replace(/\bbot\d+:[\w-]+/gi, 'bot[redacted]')
    .replace(/[A-Za-z0-9_\-+/=]{32,}/g, '[redacted]')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > 160 ? `${s.slice(0, 159)}…` : s;
}

/** The secret values to redact: each secret, and the query values and long path segments of secret URLs. */
export function secretsOf(secrets: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const value of Object.values(secrets)) {
    if (!value) continue;
    out.push(value);
    if (!/^https?:\/\//i.test(value)) continue;
    try {
      const url = new URL(value);
      for (const v of url.searchParams.values()) out.push(v);
      for (const seg of url.pathname.split('/')) if (seg.length >= 8) out.push(decodeURIComponent(seg));
    } catch {
      // Not a URL after all; the value itself is already listed.
    }
  }
  // Longest first, so a URL is redacted whole before the key inside it.
  return out.sort((a, b) => b.length - a.length);
}

/** 408, 429 and 5xx are worth another try; other statuses mean the request or the settings are wrong. */
export const retryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/** `wecom answered HTTP 200 errcode 93000: invalid webhook url`. */
export function answerError(
  platform: string,
  status: number,
  detail: string,
  opts: { code?: string; retryable?: boolean; secrets?: readonly string[] } = {},
): ChannelError {
  const said = scrub(detail, opts.secrets);
  return new ChannelError(
    `${platform} answered HTTP ${status}${opts.code ? ` ${opts.code}` : ''}${said ? `: ${said}` : ''}`,
    opts.retryable ?? retryableStatus(status),
    status,
  );
}

/** POSTs `body` as JSON; network failures and timeouts become retryable ChannelErrors. */
export async function postJson(
  platform: string,
  url: string,
  body: string,
  ctx: SendContext,
  headers: Record<string, string> = {},
): Promise<Reply> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body,
      signal: ctx.signal,
      // A webhook that redirects is misconfigured, and following it would turn the POST into a GET.
      redirect: 'manual',
    });
    text = await res.text();
  } catch (err) {
    // Only the error code: fetch's messages may carry the URL.
    if (ctx.signal.aborted) throw new ChannelError(`${platform} did not answer in time`, true);
    const cause = (err as { cause?: { code?: unknown } }).cause;
    const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
    throw new ChannelError(`${platform} could not be reached${code}`, true);
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

const field = (json: unknown, name: string): unknown =>
  typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[name] : undefined;

/**
 * The check of platforms that answer `{errcode|code: 0}` (WeCom, DingTalk, Feishu): a non-2xx
 * status or a non-zero code fails; `retryableCodes` are the platform's "slow down" and "busy".
 */
export function expectCode(
  platform: string,
  reply: Reply,
  names: { code: readonly string[]; msg: readonly string[] },
  retryableCodes: ReadonlySet<number>,
  secrets: readonly string[],
): void {
  const codeName = names.code.find((n) => typeof field(reply.json, n) === 'number');
  const code = codeName === undefined ? undefined : (field(reply.json, codeName) as number);
  const msgName = names.msg.find((n) => typeof field(reply.json, n) === 'string');
  const msg = msgName === undefined ? reply.text.slice(0, 300) : String(field(reply.json, msgName));
  const ok = reply.status >= 200 && reply.status < 300;
  if (ok && code === 0) return;
  if (ok && code === undefined) throw answerError(platform, reply.status, `unexpected answer ${msg}`, { secrets });
  throw answerError(platform, reply.status, msg, {
    code: code === undefined ? undefined : `${codeName} ${code}`,
    retryable: retryableStatus(reply.status) || (code !== undefined && retryableCodes.has(code)),
    secrets,
  });
}
