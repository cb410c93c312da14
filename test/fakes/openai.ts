import http from 'node:http';
import {
  chatCompletionJson,
  chatEvents,
  DEFAULT_OPENAI_USAGE,
  embeddingsJson,
  openaiError,
  responseEvents,
  responseJson,
  type FakeOpenAIUsage,
} from './openai-wire.js';
import { stepScript } from './script.js';
import { parseJson, serve, withBody } from './server-kit.js';

export { DEFAULT_OPENAI_USAGE, type FakeOpenAIUsage } from './openai-wire.js';

/**
 * A fake of OpenAI's upstreams speaking their real wire formats, steered per test:
 *  - the OpenAI API (`/v1/chat/completions`, `/v1/responses`, `/v1/embeddings`, Bearer keys);
 *  - the ChatGPT backend Codex uses with a ChatGPT login (`/backend-api/codex/responses`: Bearer
 *    OAuth token, `chatgpt-account-id`, streams only, `store: false`, no `max_output_tokens`, and
 *    `{"detail": …}` errors, as the real one answers);
 *  - Azure OpenAI (`/openai/deployments/{d}/chat/completions|embeddings?api-version=`,
 *    `/openai/responses?api-version=`, `/openai/v1/…`, the key in `api-key`).
 * Each upstream credential (API key, Azure key, ChatGPT account id) has a queue of scripted
 * answers; when it is empty the default answer is used. Everything reported is recorded, so a
 * test can check that what the relay booked is what the upstream said.
 */
export type Step =
  | {
      kind: 'answer';
      text?: string;
      usage?: Partial<FakeOpenAIUsage>;
      model?: string;
      headers?: Record<string, string>;
      delayMs?: number;
      chunkDelayMs?: number;
      deltas?: number;
    }
  /** An HTTP error with OpenAI's error body (or a raw body). */
  | {
      kind: 'error';
      status: number;
      type?: string;
      code?: string;
      message?: string;
      rawBody?: string;
      headers?: Record<string, string>;
    }
  /** A stream that breaks: the socket is destroyed after `afterEvents` SSE events. */
  | { kind: 'cut'; afterEvents: number; usage?: Partial<FakeOpenAIUsage> }
  /** A stream with an error event after `afterEvents` events, then its end. */
  | { kind: 'stream-error'; afterEvents: number; code?: string; message?: string }
  | { kind: 'hang' };

export type Upstream = 'openai' | 'chatgpt' | 'azure';
export type Format = 'chat' | 'responses' | 'embeddings';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
  rawBody: string;
  upstream: Upstream;
  /** The steering key: API key, Azure key, or ChatGPT account id. */
  key: string;
}

export interface Reported {
  key: string;
  upstream: Upstream;
  format: Format;
  model: string;
  usage: FakeOpenAIUsage;
  /** The whole answer was sent (a cut stream reports what it had sent: for OpenAI, nothing). */
  complete: boolean;
}

export interface FakeOpenAIOptions {
  /** Whether a ChatGPT backend bearer token is valid (an OAuth fake's `isValidAccessToken`); default: any. */
  chatgptToken?: (token: string) => boolean;
  /** Azure deployment → the model it serves (reported in answers); default: the deployment's name. */
  azureDeployments?: Record<string, string>;
}

export interface FakeOpenAI {
  readonly url: string;
  /** Base URL for ChatGPT OAuth accounts (CHATGPT_BACKEND_URL). */
  readonly chatgptUrl: string;
  readonly requests: RecordedRequest[];
  readonly reported: Reported[];
  script(key: string, ...steps: Step[]): void;
  setDefault(step: Step): void;
  reset(): void;
  close(): Promise<void>;
}

const CHATGPT_PREFIX = '/backend-api/codex';

interface Route {
  upstream: Upstream;
  format: Format;
  /** Azure deployment from the path, when it names one. */
  deployment?: string;
}

function route(method: string, path: string, query: URLSearchParams): Route | { error: number } {
  if (method !== 'POST') return { error: 404 };
  if (path === `${CHATGPT_PREFIX}/responses`) return { upstream: 'chatgpt', format: 'responses' };
  const openai = /^\/v1\/(chat\/completions|responses|embeddings)$/.exec(path);
  if (openai) return { upstream: 'openai', format: formatOf(openai[1]) };
  const v1 = /^\/openai\/v1\/(chat\/completions|responses|embeddings)$/.exec(path);
  if (v1) return { upstream: 'azure', format: formatOf(v1[1]) };
  // Azure's dated routes need their api-version.
  if (!query.get('api-version')) return { error: 404 };
  if (path === '/openai/responses') return { upstream: 'azure', format: 'responses' };
  const dep = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(path);
  if (dep) return { upstream: 'azure', format: formatOf(dep[2]), deployment: decodeURIComponent(dep[1] ?? '') };
  return { error: 404 };
}

const formatOf = (p: string | undefined): Format =>
  p === 'responses' ? 'responses' : p === 'embeddings' ? 'embeddings' : 'chat';

export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const steps = stepScript<Step>({ kind: 'answer' });
  const requests: RecordedRequest[] = [];
  const reported: Reported[] = [];

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_fake', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  const server = http.createServer(
    withBody((req, res, rawBody) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const body = parseJson<Record<string, unknown>>(rawBody);
      const r = route(req.method ?? 'GET', url.pathname, url.searchParams);
      if ('error' in r) return json(res, 404, { error: { code: '404', message: 'Resource not found' } });
      const bearer = String(req.headers.authorization ?? '').replace(/^Bearer /i, '');
      const key =
        r.upstream === 'azure'
          ? String(req.headers['api-key'] ?? '')
          : r.upstream === 'chatgpt'
            ? String(req.headers['chatgpt-account-id'] ?? '')
            : bearer;
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        rawBody,
        upstream: r.upstream,
        key,
      });
      void answer(res, r, key, bearer, body);
    }),
  );

  /** What the real upstream refuses before doing any work. */
  function refusal(
    r: Route,
    key: string,
    bearer: string,
    body: Record<string, unknown> | undefined,
  ): { status: number; body: unknown } | undefined {
    if (r.upstream === 'chatgpt') {
      if (!bearer || (opts.chatgptToken && !opts.chatgptToken(bearer)))
        return {
          status: 401,
          body: { detail: 'Could not parse your authentication token. Please try signing in again.' },
        };
      if (!key) return { status: 400, body: { detail: 'Missing chatgpt-account-id header' } };
      if (!body) return { status: 400, body: { detail: 'Invalid JSON' } };
      if (body.stream !== true) return { status: 400, body: { detail: 'Stream must be set to true' } };
      if (body.store !== false) return { status: 400, body: { detail: 'Store must be set to false' } };
      if ('max_output_tokens' in body)
        return { status: 400, body: { detail: 'Unsupported parameter: max_output_tokens' } };
      if (!Array.isArray(body.input)) return { status: 400, body: { detail: 'Input must be a list' } };
      return undefined;
    }
    if (!key) {
      return r.upstream === 'azure'
        ? {
            status: 401,
            body: {
              error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint.' },
            },
          }
        : { status: 401, body: openaiError("You didn't provide an API key.", 'invalid_request_error') };
    }
    if (!body)
      return {
        status: 400,
        body: openaiError('We could not parse the JSON body of your request.', 'invalid_request_error'),
      };
    if (r.upstream === 'openai' || r.format === 'responses' || (r.upstream === 'azure' && !r.deployment)) {
      if (typeof body.model !== 'string' || !body.model)
        return {
          status: 400,
          body: openaiError('you must provide a model parameter', 'invalid_request_error', null, 'model'),
        };
    }
    if (r.format === 'chat' && (!Array.isArray(body.messages) || body.messages.length === 0)) {
      return {
        status: 400,
        body: openaiError("Invalid 'messages': empty array.", 'invalid_request_error', 'empty_array', 'messages'),
      };
    }
    if (r.format === 'embeddings' && body.input === undefined)
      return {
        status: 400,
        body: openaiError("'input' is a required property", 'invalid_request_error', null, 'input'),
      };
    return undefined;
  }

  async function answer(
    res: http.ServerResponse,
    r: Route,
    key: string,
    bearer: string,
    body: Record<string, unknown> | undefined,
  ) {
    const refused = refusal(r, key, bearer, body);
    if (refused) return json(res, refused.status, refused.body);
    const b = body ?? {};
    const step = steps.next(key);
    const deployment = r.deployment ?? (r.upstream === 'azure' ? String(b.model) : undefined);
    const servedModel =
      deployment !== undefined ? (opts.azureDeployments?.[deployment] ?? deployment) : String(b.model);
    const stream = r.upstream === 'chatgpt' || b.stream === true;
    const report = (model: string, usage: FakeOpenAIUsage, complete: boolean) =>
      reported.push({ key, upstream: r.upstream, format: r.format, model, usage, complete });
    switch (step.kind) {
      case 'hang':
        return;
      case 'error': {
        const errBody =
          step.rawBody ??
          openaiError(
            step.message ?? `fake error ${step.status}`,
            step.type ?? (step.status >= 500 ? 'server_error' : 'invalid_request_error'),
            step.code ?? null,
          );
        return json(res, step.status, errBody, step.headers);
      }
      case 'answer': {
        if (step.delayMs) await new Promise((f) => setTimeout(f, step.delayMs));
        if (res.destroyed) return;
        const usage = { ...DEFAULT_OPENAI_USAGE, ...step.usage };
        const model = step.model ?? servedModel;
        const text = step.text ?? 'Hello from the fake OpenAI upstream.';
        if (r.format === 'embeddings') {
          const inputs = Array.isArray(b.input) && typeof b.input[0] !== 'number' ? b.input.length : 1;
          json(
            res,
            200,
            embeddingsJson(
              model,
              inputs,
              typeof b.dimensions === 'number' ? b.dimensions : 8,
              b.encoding_format as string | undefined,
              usage,
            ),
            step.headers,
          );
          return void report(model, usage, true);
        }
        if (!stream) {
          json(
            res,
            200,
            r.format === 'chat' ? chatCompletionJson(model, text, usage) : responseJson(model, text, usage),
            step.headers,
          );
          return void report(model, usage, true);
        }
        const includeUsage = (b.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
        const events =
          r.format === 'chat'
            ? chatEvents(model, text, usage, { includeUsage, deltas: step.deltas, azure: r.upstream === 'azure' })
            : responseEvents(model, text, usage, step.deltas);
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          'x-request-id': 'req_fake',
          ...step.headers,
        });
        for (const ev of events) {
          if (res.destroyed) return;
          if (!res.write(ev)) await new Promise((f) => res.once('drain', f));
          if (step.chunkDelayMs) await new Promise((f) => setTimeout(f, step.chunkDelayMs));
        }
        res.end();
        // Chat streams report usage only when asked for it.
        if (r.format !== 'chat' || includeUsage) report(model, usage, true);
        return;
      }
      case 'cut':
      case 'stream-error': {
        const usage = { ...DEFAULT_OPENAI_USAGE, ...(step.kind === 'cut' ? step.usage : {}) };
        const includeUsage = (b.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
        const events =
          r.format === 'chat'
            ? chatEvents(servedModel, 'This answer will be cut off somewhere in the middle.', usage, {
                includeUsage,
                deltas: 6,
                azure: r.upstream === 'azure',
              })
            : responseEvents(servedModel, 'This answer will be cut off somewhere in the middle.', usage, 6);
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': 'req_fake' });
        const sent = events.slice(0, step.afterEvents);
        for (const ev of sent) res.write(ev);
        // The usage rides on the last events; what was sent of it is what was reported.
        const sentUsage = sent.some((e) => /"usage":\{/.test(e));
        if (sentUsage) report(servedModel, usage, false);
        if (step.kind === 'cut') {
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        }
        const message = step.message ?? 'The server had an error while processing your request.';
        const code = step.code ?? 'server_error';
        res.write(
          r.format === 'chat'
            ? `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code } })}\n\n`
            : `event: error\ndata: ${JSON.stringify({ type: 'error', code, message, param: null, sequence_number: sent.length })}\n\n`,
        );
        res.end();
        return;
      }
    }
  }

  server.keepAliveTimeout = 60_000;
  const { url, close } = await serve(server);

  return {
    url,
    chatgptUrl: url + CHATGPT_PREFIX,
    requests,
    reported,
    script: (key, ...scripted) => steps.add(key, scripted),
    setDefault: steps.setDefault,
    reset() {
      steps.reset();
      requests.length = 0;
      reported.length = 0;
    },
    close,
  };
}
