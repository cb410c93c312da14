import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { stepScript } from './script.js';
import { parseJson, serve, withBody } from './server-kit.js';

/**
 * A fake AWS Bedrock Runtime for Claude, speaking the real wire format: InvokeModel (Claude message
 * JSON, usage headers), InvokeModelWithResponseStream (the binary event stream, encoded with the
 * AWS codec: `chunk` events whose `bytes` are Anthropic stream events, invocation metrics on the
 * last one, exceptions as `exception` messages), CountTokens, and AWS's error answers
 * (`x-amzn-errortype`, `{"message"}`).
 *
 * Every request is authenticated as AWS would: SigV4 recomputed with the AWS signer from the
 * registered secret (wrong secret → 403 InvalidSignatureException, unknown key or session token →
 * 403 UnrecognizedClientException), or a registered Bedrock API key as a bearer token. Answers are
 * scripted per identity (access key id or API key) like the Anthropic fake.
 */

export interface BedrockUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export type BedrockStep =
  | {
      kind: 'message';
      text?: string;
      usage?: Partial<BedrockUsage>;
      /** Answer with a tool call (after the text), stop_reason tool_use. */
      tool?: { id?: string; name: string; input: Record<string, unknown> };
      /** Cache counts only in the invocation metrics / usage headers, not in the Anthropic usage. */
      metricsOnly?: boolean;
      delayMs?: number;
    }
  /** An HTTP error as AWS sends it: status, `x-amzn-errortype`, `{"message"}`. */
  | { kind: 'error'; status: number; type: string; message?: string; headers?: Record<string, string> }
  /** A stream that sends `afterEvents` events, then an exception message (e.g. throttlingException), then ends. */
  | { kind: 'exception'; afterEvents: number; name: string; message?: string; usage?: Partial<BedrockUsage> }
  /** A stream that breaks (half a message, then the socket is destroyed) after `afterEvents` events. */
  | { kind: 'cut'; afterEvents: number; usage?: Partial<BedrockUsage> }
  | { kind: 'hang' };

export interface BedrockRequest {
  path: string;
  /** The model id as Bedrock reads it from the path (percent-decoded). */
  modelId: string;
  action: string;
  headers: http.IncomingHttpHeaders;
  /** The JSON body (for count-tokens: the decoded InvokeModel body inside it). */
  body: Record<string, unknown> | undefined;
  rawBody: string;
  /** The access key id or the API key that authenticated it ('' when it did not). */
  identity: string;
  auth: 'sigv4' | 'bearer' | 'none';
  /** The region of a SigV4 credential scope. */
  region?: string;
}

export interface FakeBedrock {
  readonly url: string;
  readonly requests: BedrockRequest[];
  readonly reported: { identity: string; model: string; usage: BedrockUsage; complete: boolean }[];
  addAccessKey(key: { accessKeyId: string; secretAccessKey: string; sessionToken?: string; region?: string }): void;
  addApiKey(apiKey: string): void;
  script(identity: string, ...steps: BedrockStep[]): void;
  /** Answers fully sent, per identity. */
  served(identity?: string): number;
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_BEDROCK_USAGE: BedrockUsage = {
  input_tokens: 25,
  output_tokens: 12,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
};
export const BEDROCK_BETAS = new Set([
  'interleaved-thinking-2025-05-14',
  'context-1m-2025-08-07',
  'context-management-2025-06-27',
  'effort-2025-11-24',
  'token-efficient-tools-2025-02-19',
]);
const NOT_PERMITTED = ['model', 'stream', 'metadata', 'service_tier', 'container', 'inference_geo', 'speed'];

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const str = (value: string) => ({ type: 'string' as const, value });
const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * `us.anthropic.claude-sonnet-4-5-20250929-v1:0` → `claude-sonnet-4-5-20250929`, the name Bedrock's Claude answers
 * with.
 */
export const claudeName = (modelId: string) =>
  modelId
    .replace(/^(?:us|eu|apac|jp|au|us-gov|global)\./, '')
    .replace(/^anthropic\./, '')
    .replace(/-v\d+(?::\d+)?$/, '');

function chunkFrame(event: Record<string, unknown>): Buffer {
  const bytes = Buffer.from(JSON.stringify(event)).toString('base64');
  // Bedrock pads every chunk with a random-length `p` so sizes do not leak content.
  const body = Buffer.from(
    JSON.stringify({ bytes, p: 'abcdefghijklmnopqrstuvwxyz'.slice(0, 1 + (bytes.length % 20)) }),
  );
  return Buffer.from(
    codec.encode({
      headers: { ':event-type': str('chunk'), ':content-type': str('application/json'), ':message-type': str('event') },
      body,
    }),
  );
}

function exceptionFrame(name: string, message: string): Buffer {
  const headers = {
    ':exception-type': str(name),
    ':content-type': str('application/json'),
    ':message-type': str('exception'),
  };
  return Buffer.from(codec.encode({ headers, body: Buffer.from(JSON.stringify({ message })) }));
}

/** The Anthropic events of one answer, as Claude on Bedrock streams them. */
function anthropicEvents(
  model: string,
  text: string,
  u: BedrockUsage,
  tool: Extract<BedrockStep, { kind: 'message' }>['tool'],
  metricsOnly: boolean,
): Record<string, unknown>[] {
  const cache = metricsOnly
    ? {}
    : {
        cache_creation_input_tokens: u.cache_creation_input_tokens ?? 0,
        cache_read_input_tokens: u.cache_read_input_tokens ?? 0,
      };
  const events: Record<string, unknown>[] = [
    {
      type: 'message_start',
      message: {
        id: 'msg_bdrk_01Fake',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: u.input_tokens, ...cache, output_tokens: 1 },
      },
    },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  ];
  const half = Math.ceil(text.length / 2);
  for (const part of [text.slice(0, half), text.slice(half)])
    if (part) events.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: part } });
  events.push({ type: 'content_block_stop', index: 0 });
  if (tool) {
    const json = JSON.stringify(tool.input);
    events.push({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: tool.id ?? 'toolu_bdrk_01', name: tool.name, input: {} },
    });
    events.push({
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: json.slice(0, 5) },
    });
    events.push({
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: json.slice(5) },
    });
    events.push({ type: 'content_block_stop', index: 1 });
  }
  events.push({
    type: 'message_delta',
    delta: { stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null },
    usage: { output_tokens: u.output_tokens },
  });
  const metrics = {
    inputTokenCount: u.input_tokens,
    outputTokenCount: u.output_tokens,
    invocationLatency: 420,
    firstByteLatency: 180,
    cacheReadInputTokenCount: u.cache_read_input_tokens ?? 0,
    cacheWriteInputTokenCount: u.cache_creation_input_tokens ?? 0,
  };
  events.push({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': metrics });
  return events;
}

function messageJson(
  model: string,
  text: string,
  u: BedrockUsage,
  tool: Extract<BedrockStep, { kind: 'message' }>['tool'],
  metricsOnly: boolean,
) {
  const content: unknown[] = [{ type: 'text', text }];
  if (tool) content.push({ type: 'tool_use', id: tool.id ?? 'toolu_bdrk_01', name: tool.name, input: tool.input });
  const usage = metricsOnly
    ? { input_tokens: u.input_tokens, output_tokens: u.output_tokens }
    : {
        input_tokens: u.input_tokens,
        cache_creation_input_tokens: u.cache_creation_input_tokens ?? 0,
        cache_read_input_tokens: u.cache_read_input_tokens ?? 0,
        output_tokens: u.output_tokens,
      };
  return {
    id: 'msg_bdrk_01Fake',
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: tool ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage,
  };
}

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly capitalMessage = false,
  ) {
    super(message);
  }
}

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const INVALID_TOKEN = 'The security token included in the request is invalid.';

export async function startFakeBedrock(): Promise<FakeBedrock> {
  const accessKeys = new Map<string, { secretAccessKey: string; sessionToken?: string; region?: string }>();
  const apiKeys = new Set<string>();
  const steps = stepScript<BedrockStep>({ kind: 'message' });
  const requests: BedrockRequest[] = [];
  const reported: FakeBedrock['reported'] = [];
  const served = new Map<string, number>();

  /** Authenticates as Bedrock does; returns the identity or throws an AwsError. */
  async function authenticate(
    req: http.IncomingMessage,
    rawPath: string,
    rawBody: string,
    record: BedrockRequest,
  ): Promise<string> {
    const authorization = req.headers.authorization ?? '';
    if (/^Bearer /i.test(authorization)) {
      record.auth = 'bearer';
      const key = authorization.slice(7).trim();
      if (!apiKeys.has(key))
        throw new AwsError(
          403,
          'AccessDeniedException',
          'Authentication failed: Please make sure your API Key is valid.',
          true,
        );
      return key;
    }
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
        authorization,
      );
    if (!m) throw new AwsError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const [, accessKeyId = '', day = '', region = '', service = '', signedList = '', signature = ''] = m;
    record.auth = 'sigv4';
    record.region = region;
    const key = accessKeys.get(accessKeyId);
    const token = req.headers['x-amz-security-token'];
    if (!key || (key.sessionToken ?? undefined) !== (typeof token === 'string' ? token : undefined))
      throw new AwsError(403, 'UnrecognizedClientException', INVALID_TOKEN);
    if (service !== 'bedrock')
      throw new AwsError(
        403,
        'InvalidSignatureException',
        `Credential should be scoped to correct service: 'bedrock'.`,
      );
    if (key.region && region !== key.region)
      throw new AwsError(403, 'InvalidSignatureException', `Credential should be scoped to a valid region. `);
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!when || amzDate.slice(0, 8) !== day)
      throw new AwsError(
        403,
        'InvalidSignatureException',
        'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP',
      );
    const signedAt = Date.UTC(
      Number(when[1]),
      Number(when[2]) - 1,
      Number(when[3]),
      Number(when[4]),
      Number(when[5]),
      Number(when[6]),
    );
    if (Math.abs(Date.now() - signedAt) > 5 * 60_000)
      throw new AwsError(
        403,
        'InvalidSignatureException',
        `Signature expired: ${amzDate} is now earlier than the allowed window.`,
      );
    const signed = signedList.split(';');
    if (!signed.includes('host'))
      throw new AwsError(
        403,
        'InvalidSignatureException',
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
      );
    const contentHash = req.headers['x-amz-content-sha256'];
    if (typeof contentHash === 'string' && contentHash !== sha256hex(rawBody))
      throw new AwsError(
        400,
        'XAmzContentSHA256Mismatch',
        'The provided x-amz-content-sha256 header does not match what was computed.',
      );
    // Recompute the signature over what arrived, with the secret we know, using AWS's own signer.
    const headers: Record<string, string> = {};
    for (const name of signed) headers[name] = String(req.headers[name] ?? '');
    const [host = '', port] = (req.headers.host ?? '').split(':');
    const signer = new SignatureV4({
      service: 'bedrock',
      region,
      credentials: {
        accessKeyId,
        secretAccessKey: key.secretAccessKey,
        ...(key.sessionToken ? { sessionToken: key.sessionToken } : {}),
      },
      sha256: Hash.bind(null, 'sha256'),
      applyChecksum: false,
    });
    const again = await signer.sign(
      {
        method: req.method ?? 'POST',
        protocol: 'http:',
        hostname: host,
        ...(port ? { port: Number(port) } : {}),
        path: rawPath,
        query: {},
        headers,
        body: rawBody,
      },
      { signingDate: new Date(signedAt), signableHeaders: new Set(signed) },
    );
    if (
      !String(again.headers.authorization ?? '').endsWith(`Signature=${signature}`) ||
      !String(again.headers.authorization).includes(`SignedHeaders=${signedList},`)
    ) {
      throw new AwsError(403, 'InvalidSignatureException', SIGNATURE_MISMATCH);
    }
    return accessKeyId;
  }

  /** The InvokeModel body checks Bedrock makes for Claude (a ValidationException otherwise). */
  function validateInvoke(body: Record<string, unknown> | undefined): void {
    if (!body)
      throw new AwsError(
        400,
        'ValidationException',
        'Malformed input request, please reformat your input and try again.',
      );
    if (body.anthropic_version !== 'bedrock-2023-05-31')
      throw new AwsError(
        400,
        'ValidationException',
        'Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.',
      );
    for (const key of NOT_PERMITTED)
      if (key in body)
        throw new AwsError(
          400,
          'ValidationException',
          `Malformed input request: #: extraneous key [${key}] is not permitted, please reformat your input and try again.`,
        );
    if (typeof body.max_tokens !== 'number')
      throw new AwsError(
        400,
        'ValidationException',
        'Malformed input request: #: required key [max_tokens] not found, please reformat your input and try again.',
      );
    for (const beta of (body.anthropic_beta as unknown[] | undefined) ?? [])
      if (!BEDROCK_BETAS.has(String(beta))) throw new AwsError(400, 'ValidationException', 'invalid beta flag');
  }

  const sendError = (res: http.ServerResponse, e: AwsError) => {
    res.writeHead(e.status, {
      'content-type': 'application/json',
      'x-amzn-requestid': randomUUID(),
      'x-amzn-errortype': `${e.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    });
    res.end(JSON.stringify(e.capitalMessage ? { Message: e.message } : { message: e.message }));
  };

  const server = http.createServer(
    withBody((req, res, rawBody) => {
      const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
      const route = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|count-tokens)$/.exec(rawPath);
      const body = parseJson<Record<string, unknown>>(rawBody);
      const record: BedrockRequest = {
        path: rawPath,
        modelId: route ? decodeURIComponent(route[1] ?? '') : '',
        action: route?.[2] ?? '',
        headers: req.headers,
        body,
        rawBody,
        identity: '',
        auth: 'none',
      };
      requests.push(record);
      void (async () => {
        try {
          record.identity = await authenticate(req, rawPath, rawBody, record);
          if (!route || req.method !== 'POST')
            throw new AwsError(404, 'UnknownOperationException', 'Unknown operation');
          if (!/^(?:(?:us|eu|apac|jp|au|us-gov|global)\.)?anthropic\.claude-/.test(record.modelId))
            throw new AwsError(400, 'ValidationException', 'The provided model identifier is invalid.');
          if (record.action === 'count-tokens') return countTokens(res, record);
          validateInvoke(body);
          await answer(req, res, record);
        } catch (err) {
          sendError(
            res,
            err instanceof AwsError
              ? err
              : new AwsError(500, 'InternalServerException', `fake: ${(err as Error).message}`),
          );
        }
      })();
    }),
  );

  function countTokens(res: http.ServerResponse, record: BedrockRequest) {
    if (record.modelId.split('.')[0] !== 'anthropic')
      throw new AwsError(400, 'ValidationException', "The provided model doesn't support counting tokens.");
    const encoded = (record.body?.input as { invokeModel?: { body?: unknown } } | undefined)?.invokeModel?.body;
    if (typeof encoded !== 'string')
      throw new AwsError(
        400,
        'ValidationException',
        "1 validation error detected: Value null at 'input' failed to satisfy constraint: Member must not be null",
      );
    const inner = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Record<string, unknown>;
    record.body = inner;
    validateInvoke(inner);
    res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify({ inputTokens: Math.max(1, Math.ceil(JSON.stringify(inner.messages ?? '').length / 4)) }));
  }

  async function answer(req: http.IncomingMessage, res: http.ServerResponse, record: BedrockRequest) {
    const { identity } = record;
    const step = steps.next(identity);
    const model = claudeName(record.modelId);
    const stream = record.action === 'invoke-with-response-stream';
    if (step.kind === 'hang') return;
    if (step.kind === 'error') {
      res.writeHead(step.status, {
        'content-type': 'application/json',
        'x-amzn-requestid': randomUUID(),
        'x-amzn-errortype': `${step.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
        ...step.headers,
      });
      res.end(JSON.stringify({ message: step.message ?? `fake ${step.type}` }));
      return;
    }
    const usage: BedrockUsage = { ...DEFAULT_BEDROCK_USAGE, ...step.usage };
    if (step.kind === 'message' && step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
    if (!stream) {
      if (step.kind !== 'message')
        throw new AwsError(400, 'ValidationException', `the fake cannot ${step.kind} a non-stream answer`);
      const m = messageJson(
        model,
        step.text ?? 'Hello from the fake Bedrock.',
        usage,
        step.tool,
        step.metricsOnly === true,
      );
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-amzn-requestid': randomUUID(),
        'x-amzn-bedrock-invocation-latency': '420',
        'x-amzn-bedrock-input-token-count': String(usage.input_tokens),
        'x-amzn-bedrock-output-token-count': String(usage.output_tokens),
        'x-amzn-bedrock-cache-read-input-token-count': String(usage.cache_read_input_tokens ?? 0),
        'x-amzn-bedrock-cache-write-input-token-count': String(usage.cache_creation_input_tokens ?? 0),
      });
      res.end(JSON.stringify(m));
      reported.push({ identity, model, usage, complete: true });
      served.set(identity, (served.get(identity) ?? 0) + 1);
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-requestid': randomUUID(),
      'x-amzn-bedrock-content-type': 'application/json',
    });
    const events = anthropicEvents(
      model,
      step.kind === 'message'
        ? (step.text ?? 'Hello from the fake Bedrock.')
        : 'An answer that will not finish normally.',
      usage,
      step.kind === 'message' ? step.tool : undefined,
      step.kind === 'message' && step.metricsOnly === true,
    );
    const write = async (b: Buffer) => {
      if (!res.write(b)) await new Promise((r) => res.once('drain', r));
    };
    if (step.kind === 'message') {
      for (const e of events) {
        if (res.destroyed) return;
        await write(chunkFrame(e));
      }
      res.end();
      reported.push({ identity, model, usage, complete: true });
      served.set(identity, (served.get(identity) ?? 0) + 1);
      return;
    }
    for (const e of events.slice(0, step.afterEvents)) await write(chunkFrame(e));
    // What the upstream reported before stopping: message_start's usage (output 1) at most.
    if (step.afterEvents >= 1)
      reported.push({ identity, model, usage: { ...usage, output_tokens: 1 }, complete: false });
    if (step.kind === 'exception') {
      await write(exceptionFrame(step.name, step.message ?? 'Too many requests, please wait before trying again.'));
      res.end();
      return;
    }
    const next = chunkFrame(events[step.afterEvents] ?? { type: 'ping' });
    await write(next.subarray(0, Math.floor(next.length / 2)));
    setTimeout(() => req.socket.destroy(), 20);
  }

  const { url, close } = await serve(server);
  return {
    url,
    requests,
    reported,
    addAccessKey: ({ accessKeyId, ...rest }) => accessKeys.set(accessKeyId, rest),
    addApiKey: (key) => apiKeys.add(key),
    script: (identity, ...scripted) => steps.add(identity, scripted),
    served: (identity) => (identity ? (served.get(identity) ?? 0) : [...served.values()].reduce((a, b) => a + b, 0)),
    reset() {
      steps.reset();
      requests.length = 0;
      reported.length = 0;
      served.clear();
    },
    close,
  };
}
