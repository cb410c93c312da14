import http from 'node:http';
import { stepScript } from './script.js';
import { parseJson, serve, withBody } from './server-kit.js';
import { splitText } from './split-text.js';

/**
 * A fake Anthropic API that speaks the real wire format (Messages JSON and SSE, count_tokens,
 * error bodies, headers) and is steered per test: each upstream API key (= each relay account)
 * has a queue of scripted answers; when the queue is empty the default answer is used.
 */
export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  server_tool_use?: { web_search_requests: number };
}

export type Step =
  /** A normal answer; streamed when the request says `stream: true`. */
  | {
      kind: 'message';
      text?: string;
      usage?: Partial<FakeUsage>;
      model?: string;
      chunkDelayMs?: number;
      deltas?: number;
      headers?: Record<string, string>;
      /** Wait this long before answering (a slow account). */ delayMs?: number;
      /** Content blocks instead of `text` (tool calls), and the stop reason. */ content?: FakeBlock[];
      stopReason?: string;
    }
  /** An HTTP error with an Anthropic error body (or a raw body). */
  | {
      kind: 'error';
      status: number;
      type?: string;
      message?: string;
      rawBody?: string;
      headers?: Record<string, string>;
    }
  /** A stream that breaks: the socket is destroyed after `afterEvents` SSE events. */
  | { kind: 'cut'; afterEvents: number; usage?: Partial<FakeUsage> }
  /** A stream that emits an `error` event mid-way, then ends. */
  | { kind: 'stream-error'; afterEvents: number; type?: string; message?: string; usage?: Partial<FakeUsage> }
  /**
   * Answers 200 with its headers, sends `afterEvents` SSE events (a stream) or the first `afterBytes`
   * of the JSON body, then goes silent without closing (an upstream that stalls).
   */
  | { kind: 'stall'; afterEvents?: number; afterBytes?: number; usage?: Partial<FakeUsage> }
  /** Never answers (until the client gives up). */
  | { kind: 'hang' };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
  apiKey: string;
}

export interface FakeAnthropic {
  /** Base URL to give an account, e.g. `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Successful answers fully sent, per upstream API key. */
  served(apiKey?: string): number;
  /** Successful answers begun (status 200 and the first bytes written), finished or not. */
  answered(apiKey?: string): number;
  /** The usage reported in every answer sent so far (for "booked equals reported" checks). */
  readonly reported: { apiKey: string; model: string; usage: FakeUsage; complete: boolean }[];
  /** Queues answers for requests made with this upstream API key ('*' = any key). */
  script(apiKey: string, ...steps: Step[]): void;
  setDefault(step: Step): void;
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_USAGE: FakeUsage = { input_tokens: 25, output_tokens: 12 };

function fullUsage(u: Partial<FakeUsage> | undefined): FakeUsage {
  return { ...DEFAULT_USAGE, ...u };
}

/** A content block of a scripted answer: text, or a tool call (streamed as input_json_delta fragments). */
export type FakeBlock =
  { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** The SSE events of one streamed message, exactly as the Messages API sends them. */
export function messageEvents(
  model: string,
  text: string,
  usage: FakeUsage,
  deltas = 3,
  blocks?: FakeBlock[],
  stopReason = 'end_turn',
): string[] {
  const startUsage: Record<string, unknown> = {
    input_tokens: usage.input_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
    output_tokens: 1,
  };
  if (usage.cache_creation) startUsage.cache_creation = usage.cache_creation;
  const events = [
    sse('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_fake01',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: startUsage,
      },
    }),
  ];
  (blocks ?? [{ type: 'text', text }]).forEach((block, index) => {
    const start =
      block.type === 'text'
        ? { type: 'text', text: '' }
        : { type: 'tool_use', id: block.id, name: block.name, input: {} };
    events.push(sse('content_block_start', { type: 'content_block_start', index, content_block: start }));
    if (index === 0) events.push(sse('ping', { type: 'ping' }));
    const parts = splitText(block.type === 'text' ? block.text : JSON.stringify(block.input), deltas);
    for (const part of parts) {
      const delta =
        block.type === 'text' ? { type: 'text_delta', text: part } : { type: 'input_json_delta', partial_json: part };
      events.push(sse('content_block_delta', { type: 'content_block_delta', index, delta }));
    }
    events.push(sse('content_block_stop', { type: 'content_block_stop', index }));
  });
  const deltaUsage: Record<string, unknown> = { output_tokens: usage.output_tokens };
  if (usage.server_tool_use) deltaUsage.server_tool_use = usage.server_tool_use;
  events.push(
    sse('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: deltaUsage,
    }),
  );
  events.push(sse('message_stop', { type: 'message_stop' }));
  return events;
}

export function messageJson(
  model: string,
  text: string,
  usage: FakeUsage,
  blocks?: FakeBlock[],
  stopReason = 'end_turn',
) {
  return {
    id: 'msg_fake01',
    type: 'message',
    role: 'assistant',
    model,
    content: blocks ?? [{ type: 'text', text }],
    stop_reason: stopReason,
    stop_sequence: null,
    usage,
  };
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export async function startFakeAnthropic(
  opts: {
    port?: number;
    host?: string;
    /** Keep requests and reported usage (off for load tests). */ record?: boolean;
    /** Which credentials the API accepts (e.g. OAuth tokens a fake authorization server issued); others get 401. */
    authorize?: (apiKey: string) => boolean;
  } = {},
): Promise<FakeAnthropic> {
  const record = opts.record ?? true;
  const steps = stepScript<Step>({ kind: 'message' });
  const requests: RecordedRequest[] = [];
  const reported: FakeAnthropic['reported'] = [];
  const served = new Map<string, number>();
  const answered = new Map<string, number>();

  const countServed = (apiKey: string) => served.set(apiKey, (served.get(apiKey) ?? 0) + 1);
  const countAnswered = (apiKey: string) => answered.set(apiKey, (answered.get(apiKey) ?? 0) + 1);
  const total = (m: Map<string, number>, apiKey?: string) =>
    apiKey ? (m.get(apiKey) ?? 0) : [...m.values()].reduce((a, b) => a + b, 0);

  const server = http.createServer(
    withBody((req, res, rawBody) => {
      const body = parseJson(rawBody);
      const apiKey = String(req.headers['x-api-key'] ?? (req.headers.authorization ?? '').replace(/^Bearer /i, ''));
      const path = req.url ?? '/';
      if (record) requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body, rawBody, apiKey });
      void answer(req, res, path, apiKey, body as Record<string, unknown> | undefined);
    }),
  );
  server.keepAliveTimeout = 60_000;

  const sendError = (
    res: http.ServerResponse,
    status: number,
    step: { type?: string; message?: string; rawBody?: string; headers?: Record<string, string> },
  ) => {
    const body =
      step.rawBody ??
      JSON.stringify({
        type: 'error',
        error: {
          type: step.type ?? ERROR_TYPES[status] ?? 'api_error',
          message: step.message ?? `fake error ${status}`,
        },
        request_id: 'req_fake_err',
      });
    res.writeHead(status, {
      'content-type': step.rawBody ? 'text/plain' : 'application/json',
      'request-id': 'req_fake_err',
      ...step.headers,
    });
    res.end(body);
  };

  async function answer(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    path: string,
    apiKey: string,
    body: Record<string, unknown> | undefined,
  ) {
    const pathname = path.split('?')[0] ?? '';
    if (!apiKey) return sendError(res, 401, { message: 'x-api-key header is required' });
    if (opts.authorize && !opts.authorize(apiKey)) return sendError(res, 401, { message: 'Invalid bearer token' });
    if (pathname.endsWith('/v1/messages/count_tokens')) {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_fake_ct' });
      return res.end(
        JSON.stringify({ input_tokens: Math.max(1, Math.ceil(JSON.stringify(body?.messages ?? '').length / 4)) }),
      );
    }
    if (!pathname.endsWith('/v1/messages') || req.method !== 'POST')
      return sendError(res, 404, { message: `no route ${req.method} ${pathname}` });
    if (!body || typeof body.model !== 'string') return sendError(res, 400, { message: 'model: field required' });
    const model = body.model;
    const stream = body.stream === true;
    const step = steps.next(apiKey);
    switch (step.kind) {
      case 'hang':
        return; // leave it hanging
      case 'error':
        return sendError(res, step.status, step);
      case 'message': {
        if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
        if (res.destroyed) return;
        const usage = fullUsage(step.usage);
        const text = step.text ?? 'Hello from the fake upstream.';
        const m = step.model ?? model;
        countAnswered(apiKey);
        if (!stream) {
          res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_fake_ok', ...step.headers });
          res.end(JSON.stringify(messageJson(m, text, usage, step.content, step.stopReason)));
          if (record) reported.push({ apiKey, model: m, usage, complete: true });
          countServed(apiKey);
          return;
        }
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          'request-id': 'req_fake_ok',
          ...step.headers,
        });
        for (const ev of messageEvents(m, text, usage, step.deltas, step.content, step.stopReason)) {
          if (res.destroyed) return;
          if (!res.write(ev)) await new Promise((r) => res.once('drain', r));
          if (step.chunkDelayMs) await new Promise((r) => setTimeout(r, step.chunkDelayMs));
        }
        res.end();
        if (record) reported.push({ apiKey, model: m, usage, complete: true });
        countServed(apiKey);
        return;
      }
      case 'cut': {
        const usage = fullUsage(step.usage);
        countAnswered(apiKey);
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': 'req_fake_cut' });
        const events = messageEvents(model, 'This answer will be cut off somewhere in the middle.', usage, 6);
        const sent = events.slice(0, step.afterEvents);
        for (const ev of sent) res.write(ev);
        // What the upstream reported before breaking: message_start's usage (output 1) at most.
        if (record && step.afterEvents >= 1)
          reported.push({ apiKey, model, usage: { ...usage, output_tokens: 1 }, complete: false });
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      case 'stall': {
        const usage = fullUsage(step.usage);
        countAnswered(apiKey);
        if (!stream) {
          res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_fake_stall' });
          res.flushHeaders();
          const json = JSON.stringify(messageJson(model, 'A whole answer that never arrives whole.', usage));
          res.write(json.slice(0, step.afterBytes ?? 0));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': 'req_fake_stall' });
        res.flushHeaders(); // the headers go now, even with no event after them
        const events = messageEvents(model, 'An answer that stops coming in the middle.', usage, 6);
        for (const ev of events.slice(0, step.afterEvents ?? 0)) res.write(ev);
        if (record && (step.afterEvents ?? 0) >= 1)
          reported.push({ apiKey, model, usage: { ...usage, output_tokens: 1 }, complete: false });
        return;
      }
      case 'stream-error': {
        const usage = fullUsage(step.usage);
        countAnswered(apiKey);
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': 'req_fake_se' });
        const events = messageEvents(model, 'An answer interrupted by an error event.', usage, 6);
        for (const ev of events.slice(0, step.afterEvents)) res.write(ev);
        res.write(
          sse('error', {
            type: 'error',
            error: { type: step.type ?? 'overloaded_error', message: step.message ?? 'Overloaded' },
          }),
        );
        res.end();
        if (record && step.afterEvents >= 1)
          reported.push({ apiKey, model, usage: { ...usage, output_tokens: 1 }, complete: false });
        return;
      }
    }
  }

  const { url, close } = await serve(server, { port: opts.port, host: opts.host });

  return {
    url,
    requests,
    reported,
    served: (apiKey) => total(served, apiKey),
    answered: (apiKey) => total(answered, apiKey),
    script: (apiKey, ...scripted) => steps.add(apiKey, scripted),
    setDefault: steps.setDefault,
    reset() {
      steps.reset();
      requests.length = 0;
      reported.length = 0;
      served.clear();
      answered.clear();
    },
    close,
  };
}
