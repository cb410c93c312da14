import { ChannelError, type ChannelConfig, type ChannelField } from '../types.js';

/** Settings checks the channel types share; every failure is a non-retryable ChannelError. */

export const field = (name: string, required: boolean, secret: boolean, doc: string): ChannelField => ({
  name,
  required,
  secret,
  doc,
});

const invalid = (channel: ChannelConfig, what: string): ChannelError =>
  new ChannelError(`${channel.type} channel "${channel.name}": ${what}`, false);

/** The value of `f` from the bag it belongs in (secrets or settings), trimmed; '' when absent. */
export const valueOf = (channel: ChannelConfig, f: Pick<ChannelField, 'name' | 'secret'>): string =>
  ((f.secret ? channel.secrets : channel.settings)[f.name] ?? '').trim();

/** Throws unless every required field has a value. */
export function checkRequired(channel: ChannelConfig, fields: readonly ChannelField[]): void {
  const missing = fields.filter((f) => f.required && !valueOf(channel, f)).map((f) => f.name);
  if (missing.length) throw invalid(channel, `missing ${missing.join(', ')}`);
}

/** Throws unless `value` is an http(s) URL. The message names the field, never the value. */
export function checkUrl(channel: ChannelConfig, name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(channel, `${name} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(channel, `${name} must be http(s)`);
  return url;
}

/** Throws with `what` unless `ok`. */
export function check(channel: ChannelConfig, ok: boolean, what: string): void {
  if (!ok) throw invalid(channel, what);
}

/** A comma-separated setting as a list, blanks dropped. */
export const splitList = (s: string | undefined): string[] =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
