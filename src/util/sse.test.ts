import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse.js';

/** A realistic Anthropic Messages stream, as the events and JSON payloads the API sends. */
const TEXT_PARTS = ['héllo ', '世界', ' 🎉'];
const STREAM: { event: string; payload: unknown }[] = [
  {
    event: 'message_start',
    payload: {
      type: 'message_start',
      message: {
        id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 2095, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
      },
    },
  },
  {
    event: 'content_block_start',
    payload: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  },
  { event: 'ping', payload: { type: 'ping' } },
  ...TEXT_PARTS.map((text) => ({
    event: 'content_block_delta',
    payload: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
  })),
  { event: 'content_block_stop', payload: { type: 'content_block_stop', index: 0 } },
  {
    event: 'message_delta',
    payload: {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 15 },
    },
  },
  { event: 'message_stop', payload: { type: 'message_stop' } },
];

const EXPECTED: SseEvent[] = STREAM.map((e) => ({ event: e.event, data: JSON.stringify(e.payload) }));

/** Serialises STREAM; `extras` adds field lines the parser must ignore before each event's fields. */
function wire(eol: string, extras: string[] = []): Buffer {
  const text = STREAM.map((e, i) => {
    const lines = [
      ...extras.map((x) => x.replace('#', String(i))),
      `event: ${e.event}`,
      `data: ${JSON.stringify(e.payload)}`,
    ];
    return lines.join(eol) + eol + eol;
  }).join('');
  return Buffer.from(text, 'utf8');
}

function parse(chunks: Buffer[], wants?: (event: string) => boolean): SseEvent[] {
  const out: SseEvent[] = [];
  const parser = new SseParser((e) => out.push(e), wants);
  for (const c of chunks) parser.push(c);
  parser.end();
  return out;
}

const bytewise = (buf: Buffer) => [...buf].map((b) => Buffer.from([b]));

const VARIANTS: [string, Buffer][] = [
  ['LF', wire('\n')],
  ['CRLF', wire('\r\n')],
  ['comments, id: and retry:', wire('\n', [': keep-alive #', 'id: evt-#', 'retry: 3000', ':'])],
  ['CRLF with comments, id: and retry:', wire('\r\n', [': keep-alive #', 'id: evt-#', 'retry: 3000'])],
];

describe('SseParser on an Anthropic Messages stream', () => {
  it('the fixture really contains multi-byte characters (so the splits below cut inside them)', () => {
    const text = TEXT_PARTS.join('');
    expect(Buffer.byteLength(text, 'utf8')).toBeGreaterThan(text.length);
  });

  it.each(VARIANTS)('%s: fed whole', (_name, buf) => {
    expect(parse([buf])).toEqual(EXPECTED);
  });

  it.each(VARIANTS)('%s: split into two chunks at every byte boundary', (_name, buf) => {
    for (let i = 1; i < buf.length; i++) {
      const got = parse([buf.subarray(0, i), buf.subarray(i)]);
      if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) {
        // Name the failing split instead of dumping a thousand identical passes.
        expect({ splitAt: i, got }).toEqual({ splitAt: i, got: EXPECTED });
      }
    }
  });

  it.each(VARIANTS)('%s: one byte per chunk', (_name, buf) => {
    expect(parse(bytewise(buf))).toEqual(EXPECTED);
  });

  it.each(VARIANTS)('%s: empty chunks in between change nothing', (_name, buf) => {
    const chunks = bytewise(buf).flatMap((c) => [Buffer.alloc(0), c]);
    expect(parse(chunks)).toEqual(EXPECTED);
  });

  it('reassembles the multi-byte text exactly', () => {
    const text = parse(bytewise(wire('\r\n')))
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => (JSON.parse(e.data) as { delta: { text: string } }).delta.text)
      .join('');
    expect(text).toBe('héllo 世界 🎉');
  });
});

describe('SseParser wants filter', () => {
  const skipDeltas = (name: string) => name !== 'content_block_delta';
  const expectedWithoutDeltas = EXPECTED.filter((e) => e.event !== 'content_block_delta');

  it.each([
    ['whole', (b: Buffer) => [b]],
    ['one byte per chunk', bytewise],
  ])('skipped events are not emitted (%s)', (_name, chunk) => {
    expect(parse(chunk(wire('\r\n')), skipDeltas)).toEqual(expectedWithoutDeltas);
  });

  it('is asked once per event, with "message" for events without an event: line', () => {
    const asked: string[] = [];
    const got = parse([Buffer.from('data: a\ndata: b\n\nevent: ping\ndata: {}\n\n')], (name) => {
      asked.push(name);
      return name === 'message';
    });
    expect(asked).toEqual(['message', 'ping']);
    expect(got).toEqual([{ event: 'message', data: 'a\nb' }]);
  });

  it('a skipped event does not leak its name or data into the next one', () => {
    const got = parse([Buffer.from('event: skip\ndata: 1\n\ndata: 2\n\n')], (name) => name !== 'skip');
    expect(got).toEqual([{ event: 'message', data: '2' }]);
  });
});

describe('SseParser field handling', () => {
  it.each<[string, string, SseEvent[]]>([
    [
      'several data: lines are joined with "\\n"',
      'event: e\ndata: one\ndata: two\ndata: three\n\n',
      [{ event: 'e', data: 'one\ntwo\nthree' }],
    ],
    [
      'an empty data: line contributes an empty line',
      'data: a\ndata:\ndata: b\n\n',
      [{ event: 'message', data: 'a\n\nb' }],
    ],
    [
      'only one space after the colon is stripped',
      'data:no-space\n\ndata:  two\n\n',
      [
        { event: 'message', data: 'no-space' },
        { event: 'message', data: ' two' },
      ],
    ],
    ['an event: line without data: emits nothing', 'event: ping\n\ndata: x\n\n', [{ event: 'message', data: 'x' }]],
    [
      'the event name resets after each event',
      'event: a\ndata: 1\n\ndata: 2\n\n',
      [
        { event: 'a', data: '1' },
        { event: 'message', data: '2' },
      ],
    ],
    ['blank lines between events emit nothing', '\n\n\ndata: x\n\n\n\n', [{ event: 'message', data: 'x' }]],
    ['a colon inside the data is kept', 'data: {"a":"b:c"}\n\n', [{ event: 'message', data: '{"a":"b:c"}' }]],
    [
      'comment, id: and retry: lines inside an event are ignored',
      'event: e\n: note\nid: 7\ndata: x\nretry: 10\n\n',
      [{ event: 'e', data: 'x' }],
    ],
  ])('%s', (_name, text, expected) => {
    expect(parse([Buffer.from(text)])).toEqual(expected);
    expect(parse(bytewise(Buffer.from(text)))).toEqual(expected);
  });
});

describe('SseParser.end()', () => {
  it.each<[string, string, SseEvent[]]>([
    [
      'flushes an event whose blank line never came',
      'event: message_stop\ndata: {"type":"message_stop"}\n',
      [{ event: 'message_stop', data: '{"type":"message_stop"}' }],
    ],
    ['flushes a last line without a newline', 'event: e\ndata: last', [{ event: 'e', data: 'last' }]],
    ['drops a dangling CR of a cut CRLF', 'data: last\r', [{ event: 'message', data: 'last' }]],
    ['emits nothing for a stream ending on a blank line', 'data: x\n\n', [{ event: 'message', data: 'x' }]],
    ['emits nothing for an empty stream', '', []],
    ['emits nothing for a trailing event: line alone', 'data: x\n\nevent: orphan', [{ event: 'message', data: 'x' }]],
  ])('%s', (_name, text, expected) => {
    expect(parse([Buffer.from(text)])).toEqual(expected);
    expect(parse(bytewise(Buffer.from(text)))).toEqual(expected);
  });

  it('does not emit the same event twice when called twice', () => {
    const out: SseEvent[] = [];
    const parser = new SseParser((e) => out.push(e));
    parser.push(Buffer.from('data: x'));
    parser.end();
    parser.end();
    expect(out).toEqual([{ event: 'message', data: 'x' }]);
  });
});
