import { PassThrough, Readable } from 'node:stream';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { describe, expect, it } from 'vitest';
import type { UpstreamResponse } from '../../upstream/types.js';
import type { UpstreamCall } from '../types.js';
import { decodeBedrock } from './decode.js';

const response = (statusCode: number, headers: Record<string, string>, body: Readable) =>
  ({ statusCode, headers, body, trailers: {}, opaque: null, context: {} }) as unknown as UpstreamResponse;
const bodyOf = (...parts: (string | Buffer)[]) => Readable.from(parts.map((p) => Buffer.from(p)));
const call = (op: UpstreamCall['op'], stream = false) => ({ op, stream }) as UpstreamCall;

async function read(res: UpstreamResponse): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res.body as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

describe('decodeBedrock: errors become Anthropic error bodies', () => {
  it.each<[string, number, Record<string, string>, string, number, unknown]>([
    [
      'throttling',
      429,
      { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/' },
      '{"message":"Too many requests, please wait before trying again."}',
      429,
      {
        type: 'error',
        error: {
          type: 'rate_limit_error',
          message: 'ThrottlingException: Too many requests, please wait before trying again.',
        },
      },
    ],
    [
      'an invalid Bedrock API key (the auth layer says Message)',
      403,
      { 'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/' },
      '{"Message":"Authentication failed: Please make sure your API Key is valid."}',
      403,
      {
        type: 'error',
        error: {
          type: 'permission_error',
          message: 'AccessDeniedException: Authentication failed: Please make sure your API Key is valid.',
        },
      },
    ],
    [
      "a service quota: a rate limit, whatever AWS's status",
      400,
      { 'x-amzn-errortype': 'ServiceQuotaExceededException:http://internal.amazon.com/coral/com.amazon.bedrock/' },
      '{"message":"quota"}',
      429,
      { type: 'error', error: { type: 'rate_limit_error', message: 'ServiceQuotaExceededException: quota' } },
    ],
    [
      'a model not ready: an overload',
      429,
      { 'x-amzn-errortype': 'ModelNotReadyException' },
      '{"message":"not ready"}',
      503,
      { type: 'error', error: { type: 'overloaded_error', message: 'ModelNotReadyException: not ready' } },
    ],
    [
      'no type, no JSON',
      502,
      {},
      '<html>Bad Gateway</html>',
      502,
      { type: 'error', error: { type: 'api_error', message: 'HTTP 502: no message' } },
    ],
  ])('%s', async (_name, status, headers, body, outStatus, outBody) => {
    const res = decodeBedrock(
      response(status, { 'content-type': 'application/json', ...headers }, bodyOf(body)),
      call('generate', true),
    );
    expect(res.statusCode).toBe(outStatus);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(await read(res))).toEqual(outBody);
  });
});

describe('decodeBedrock: answers', () => {
  it('CountTokens {inputTokens} → {input_tokens}', async () => {
    const res = decodeBedrock(
      response(200, { 'content-type': 'application/json' }, bodyOf('{"inputT', 'okens":1234}')),
      call('count_tokens'),
    );
    expect(JSON.parse(await read(res))).toEqual({ input_tokens: 1234 });
  });

  it("InvokeModel's message passes as is when it carries its usage", async () => {
    const message =
      '{"id":"msg_bdrk_1","type":"message","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":70,"output_tokens":9}}';
    const headers = {
      'content-type': 'application/json',
      'x-amzn-bedrock-cache-read-input-token-count': '999',
      'x-amzn-bedrock-input-token-count': '5',
    };
    const res = decodeBedrock(
      response(200, headers, bodyOf(message.slice(0, 10), message.slice(10))),
      call('generate'),
    );
    expect(await read(res)).toBe(message);
  });

  it('usage counts the message left out come from the x-amzn-bedrock-*-token-count headers', async () => {
    const message = { id: 'msg_bdrk_1', type: 'message', usage: { input_tokens: 5, output_tokens: 9 } };
    const headers = {
      'content-type': 'application/json',
      'x-amzn-bedrock-input-token-count': '500',
      'x-amzn-bedrock-output-token-count': '9',
      'x-amzn-bedrock-cache-read-input-token-count': '70',
      'x-amzn-bedrock-cache-write-input-token-count': '30',
    };
    const res = decodeBedrock(response(200, headers, bodyOf(JSON.stringify(message))), call('generate'));
    expect(JSON.parse(await read(res))).toEqual({
      ...message,
      usage: { input_tokens: 5, output_tokens: 9, cache_read_input_tokens: 70, cache_creation_input_tokens: 30 },
    });
  });

  it('the event stream becomes SSE, as the bytes arrive', async () => {
    const codec = new EventStreamCodec(toUtf8, fromUtf8);
    const event = { type: 'message_start', message: { model: 'm', usage: { input_tokens: 1 } } };
    const payload = Buffer.from(JSON.stringify({ bytes: Buffer.from(JSON.stringify(event)).toString('base64') }));
    const frame = Buffer.from(
      codec.encode({
        headers: {
          ':message-type': { type: 'string', value: 'event' },
          ':event-type': { type: 'string', value: 'chunk' },
        },
        body: payload,
      }),
    );
    const source = new PassThrough();
    const res = decodeBedrock(
      response(200, { 'content-type': 'application/vnd.amazon.eventstream' }, source),
      call('generate', true),
    );
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const it = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    source.write(frame);
    const first = await it.next();
    expect(first.value?.toString()).toBe(`event: message_start\ndata: ${JSON.stringify(event)}\n\n`);
    source.end();
    expect((await it.next()).done).toBe(true);
  });

  it('an upstream that breaks or is aborted breaks the decoded body with the same error', async () => {
    const source = new PassThrough();
    const res = decodeBedrock(
      response(200, { 'content-type': 'application/vnd.amazon.eventstream' }, source),
      call('generate', true),
    );
    const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    setImmediate(() => source.destroy(abort));
    await expect(read(res)).rejects.toBe(abort);
  });

  it('a corrupt message: the events before it, then an error event, and the body ends', async () => {
    const codec = new EventStreamCodec(toUtf8, fromUtf8);
    const event = { type: 'message_start', message: { model: 'm', usage: { input_tokens: 7 } } };
    const good = Buffer.from(
      codec.encode({
        headers: {
          ':message-type': { type: 'string', value: 'event' },
          ':event-type': { type: 'string', value: 'chunk' },
        },
        body: Buffer.from(JSON.stringify({ bytes: Buffer.from(JSON.stringify(event)).toString('base64') })),
      }),
    );
    const bad = Buffer.from(good);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
    const res = decodeBedrock(
      response(200, { 'content-type': 'application/vnd.amazon.eventstream' }, bodyOf(Buffer.concat([good, bad]), good)),
      call('generate', true),
    );
    const text = await read(res);
    expect(text.startsWith(`event: message_start\ndata: ${JSON.stringify(event)}\n\nevent: error\ndata: `)).toBe(true);
    expect(text).toMatch(/"type":"api_error","message":"The upstream event stream could not be read: [^"]*checksum/i);
    expect(text.match(/event: /g)).toHaveLength(2);
  });

  it('an impossible length prefix: an error event', async () => {
    const res = decodeBedrock(
      response(
        200,
        { 'content-type': 'application/vnd.amazon.eventstream' },
        bodyOf(Buffer.from([0, 0, 0, 5, 0, 0, 0, 0])),
      ),
      call('generate', true),
    );
    expect(await read(res)).toMatch(/^event: error\ndata: .*corrupt event stream: message length 5/);
  });
});
