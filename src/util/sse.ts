/**
 * Incremental Server-Sent Events parser over raw bytes.
 *
 * Chunks may split anywhere: inside a line, inside `\r\n`, inside a multi-byte UTF-8 character.
 * Lines are cut on LF (a preceding CR is dropped); text is decoded only for whole lines, so
 * split characters are never mangled. `wants(event)` lets a caller skip the data of events it
 * does not read (most of a Claude stream is `content_block_delta`), so those are never decoded.
 */
export interface SseEvent {
  /** The `event:` field, or 'message' when absent. */
  event: string;
  data: string;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;

function startsWith(buf: Buffer, start: number, end: number, prefix: Buffer): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix[i]) return false;
  return true;
}

const EVENT = Buffer.from('event:');
const DATA = Buffer.from('data:');

export class SseParser {
  private pending: Buffer[] = [];
  private event = '';
  private data: string[] | null = null;
  private skip = false;

  constructor(
    private readonly onEvent: (e: SseEvent) => void,
    private readonly wants: (event: string) => boolean = () => true,
    /**
     * For streams that mix other text into the framing (Google writes error bodies outside it):
     * sees every line first, decoded, and answers true when it took the line, which then never
     * counts as SSE.
     */
    private readonly outside?: (line: string) => boolean,
  ) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending.length > 0) {
      // Only join when this chunk completes the pending line; otherwise keep collecting.
      if (chunk.indexOf(LF) === -1) {
        this.pending.push(chunk);
        return;
      }
      this.pending.push(chunk);
      buf = Buffer.concat(this.pending);
      this.pending = [];
    }
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(LF, start);
      if (nl === -1) break;
      const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
      this.line(buf, start, end);
      start = nl + 1;
    }
    if (start < buf.length) this.pending.push(Buffer.from(buf.subarray(start)));
  }

  /** The stream ended: a last line without newline counts, an event without a blank line does too. */
  end(): void {
    if (this.pending.length > 0) {
      const buf = Buffer.concat(this.pending);
      this.pending = [];
      const end = buf.length > 0 && buf[buf.length - 1] === CR ? buf.length - 1 : buf.length;
      this.line(buf, 0, end);
    }
    this.dispatch();
  }

  /** Ends the event in progress, as a blank line would (for `outside`, before text that is not SSE). */
  flush(): void {
    this.dispatch();
  }

  private line(buf: Buffer, start: number, end: number): void {
    // Decoded only for `outside`; a data line is then cut from this text, not decoded again.
    const text = this.outside ? buf.toString('utf8', start, end) : undefined;
    if (text !== undefined && this.outside?.(text)) return;
    if (end === start) return this.dispatch();
    if (buf[start] === COLON) return; // comment
    if (startsWith(buf, start, end, DATA)) {
      if (this.data === null) {
        this.skip = !this.wants(this.event || 'message');
        this.data = [];
      }
      if (this.skip) return;
      let from = start + DATA.length;
      if (buf[from] === SPACE) from++;
      // `data:` and the space are one byte a character: the offset is the same in the text.
      this.data.push(text === undefined ? buf.toString('utf8', from, end) : text.slice(from - start));
      return;
    }
    if (startsWith(buf, start, end, EVENT)) {
      let from = start + EVENT.length;
      if (buf[from] === SPACE) from++;
      this.event = buf.toString('utf8', from, end);
    }
    // id:, retry: and unknown fields carry nothing we book.
  }

  private dispatch(): void {
    if (this.data !== null && !this.skip) {
      this.onEvent({ event: this.event || 'message', data: this.data.join('\n') });
    }
    this.event = '';
    this.data = null;
    this.skip = false;
  }
}
