/**
 * The client's request cannot be carried to the upstream as it is. The message names the field
 * (`messages[2].content[1].image_url.url: ...`); the surface answers it as a 400 in the client's
 * API shape, before any account is picked.
 */
export class InvalidChatRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidChatRequest';
  }
}

/** One piece of a message's content, independent of the format it came in. */
export type ContentPart =
  | { kind: 'text'; text: string }
  | { kind: 'image'; source: ImageSource }
  /** A document sent inline (`file.file_data` as a data URL): PDFs and the like. */
  | { kind: 'file'; mediaType: string; data: string; filename: string | undefined }
  | { kind: 'audio'; format: string; data: string };

export type ImageSource = { kind: 'data'; mediaType: string; data: string } | { kind: 'url'; url: string };

type PartKind = ContentPart['kind'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `data:<type>;base64,<data>` → its parts; only base64 data URLs carry binary content. */
export function parseDataUrl(url: string, where: string): { mediaType: string; data: string } {
  const m = /^data:([^;,]+)((?:;[^;,]*)*);base64,(.*)$/s.exec(url);
  if (!m?.[1] || m[3] === undefined)
    throw new InvalidChatRequest(`${where}: a base64 data URL (data:<type>;base64,...) is required.`);
  const data = m[3].trim();
  if (data === '' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(data))
    throw new InvalidChatRequest(`${where}: the data URL does not hold base64 data.`);
  return { mediaType: m[1].trim().toLowerCase(), data };
}

/**
 * A message's `content`: a string, or an array of parts of the kinds `allow` lists. Empty text is
 * dropped (both upstreams reject empty text blocks); a string becomes one text part.
 */
export function readContent(content: unknown, where: string, opts: { allow: readonly PartKind[] }): ContentPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ kind: 'text', text: content }];
  if (!Array.isArray(content))
    throw new InvalidChatRequest(`${where}: a string or an array of content parts is required.`);
  const parts: ContentPart[] = [];
  content.forEach((raw: unknown, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(raw)) throw new InvalidChatRequest(`${at}: a content part object is required.`);
    const part = readPart(raw, at);
    if (!part) return;
    if (!opts.allow.includes(part.kind))
      throw new InvalidChatRequest(`${at}.type: ${String(raw.type)} parts are not allowed in this message.`);
    parts.push(part);
  });
  return parts;
}

function readPart(raw: Record<string, unknown>, at: string): ContentPart | undefined {
  switch (raw.type) {
    case 'text':
      if (typeof raw.text !== 'string') throw new InvalidChatRequest(`${at}.text: a string is required.`);
      return raw.text === '' ? undefined : { kind: 'text', text: raw.text };
    case 'refusal':
      // An assistant's earlier refusal, replayed: it is what the assistant said.
      if (typeof raw.refusal !== 'string') throw new InvalidChatRequest(`${at}.refusal: a string is required.`);
      return raw.refusal === '' ? undefined : { kind: 'text', text: raw.refusal };
    case 'image_url': {
      // Some clients send the URL directly instead of {url, detail}.
      const url =
        typeof raw.image_url === 'string' ? raw.image_url : isObject(raw.image_url) ? raw.image_url.url : undefined;
      if (typeof url !== 'string' || url === '')
        throw new InvalidChatRequest(`${at}.image_url.url: a string is required.`);
      if (url.startsWith('data:')) {
        const { mediaType, data } = parseDataUrl(url, `${at}.image_url.url`);
        return { kind: 'image', source: { kind: 'data', mediaType, data } };
      }
      if (/^https?:\/\//i.test(url)) return { kind: 'image', source: { kind: 'url', url } };
      throw new InvalidChatRequest(`${at}.image_url.url: an http(s) URL or a base64 data URL is required.`);
    }
    case 'input_audio': {
      const a = raw.input_audio;
      if (!isObject(a) || typeof a.data !== 'string' || typeof a.format !== 'string') {
        throw new InvalidChatRequest(`${at}.input_audio: {data, format} is required.`);
      }
      return { kind: 'audio', format: a.format, data: a.data };
    }
    case 'file': {
      const f = raw.file;
      if (!isObject(f)) throw new InvalidChatRequest(`${at}.file: an object is required.`);
      if (typeof f.file_data !== 'string')
        throw new InvalidChatRequest(
          `${at}.file: only inline files (file_data as a base64 data URL) are supported, not file_id.`,
        );
      const { mediaType, data } = parseDataUrl(f.file_data, `${at}.file.file_data`);
      return { kind: 'file', mediaType, data, filename: typeof f.filename === 'string' ? f.filename : undefined };
    }
    default:
      throw new InvalidChatRequest(`${at}.type: unknown content part type ${JSON.stringify(raw.type)}.`);
  }
}

/** The text of text parts, joined (system prompts, tool results). */
export const textOfParts = (parts: readonly ContentPart[], sep = '\n'): string =>
  parts
    .filter((p): p is Extract<ContentPart, { kind: 'text' }> => p.kind === 'text')
    .map((p) => p.text)
    .join(sep);
