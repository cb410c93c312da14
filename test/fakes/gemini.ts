import { createHash } from 'node:crypto';
import http from 'node:http';
import {
  DEFAULT_GEMINI_USAGE,
  generateResponse,
  googleError,
  sseEvent,
  streamChunks,
  wrapCodeAssist,
  type GeminiUsage,
  type Part,
} from './gemini-wire.js';
import { stepScript } from './script.js';
import { parseJson, serve, withBody } from './server-kit.js';

export {
  DEFAULT_GEMINI_USAGE,
  expectedTokens,
  googleError,
  retryInfo,
  type GeminiUsage,
  type Part,
} from './gemini-wire.js';

/**
 * A fake Google: the Gemini API (`/v1beta/models/{model}:{method}`, key in `x-goog-api-key` or
 * `?key=`), Code Assist (`/v1internal:{method}`, OAuth bearer tokens, per-user projects and
 * onboarding), and Google's OAuth token endpoint (`/token`, form-encoded; refresh tokens kept or
 * rotated; PKCE checked). It speaks the exact wire formats (SSE and the JSON-array stream, error
 * bodies with details) and is steered per test: each account (an API key, or a Google user's id)
 * has a queue of scripted answers, the default answer is used when the queue is empty.
 */

export type Step =
  /**
   * A normal answer; streamed when the method is streamGenerateContent, its text split over `parts`
   * chunks. `content` replaces the text with these Parts (a function call, thoughts…), one per chunk.
   */
  | {
      kind: 'message';
      text?: string;
      content?: Part[];
      finishReason?: string;
      usage?: Partial<GeminiUsage>;
      model?: string;
      parts?: number;
      chunkDelayMs?: number;
      delayMs?: number;
      headers?: Record<string, string>;
    }
  /** An HTTP error with Google's body (`{error: {code, message, status, details}}`). */
  | { kind: 'error'; status: number; message?: string; details?: unknown[]; headers?: Record<string, string> }
  /** A stream that breaks: the socket is destroyed after `afterChunks` chunks. */
  | { kind: 'cut'; afterChunks: number; usage?: Partial<GeminiUsage> }
  /**
   * A stream that, after `afterChunks` chunks, writes an error body outside the SSE framing (as Google does), then
   * ends.
   */
  | { kind: 'stream-error'; afterChunks: number; status?: number; message?: string; usage?: Partial<GeminiUsage> }
  /** Never answers. */
  | { kind: 'hang' };

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  pathname: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
  /** The account the call is for: the API key, or the id of the Google user whose token it carries. */
  account: string;
}

export interface GoogleUser {
  id: string;
  email: string;
  refreshToken: string;
  /** The Code Assist project; undefined until onboarded when `onboarded` is false. */
  project: string | undefined;
  onboarded: boolean;
  /** Hand out a new refresh token on each refresh (the old one stops working). */
  rotate: boolean;
}

export interface TokenCall {
  grantType: string;
  refreshToken?: string;
  code?: string;
  clientId?: string;
  clientSecret?: string;
  status: number;
}

export interface FakeGemini {
  /** Base URL for the Gemini API, Code Assist and the token endpoint (`${url}/token`). */
  readonly url: string;
  readonly tokenUrl: string;
  readonly requests: RecordedRequest[];
  readonly tokenCalls: TokenCall[];
  /** The usage every answer reported (last snapshot sent), per account. */
  readonly reported: { account: string; model: string; usage: GeminiUsage; complete: boolean }[];
  served(account?: string): number;
  script(account: string, ...steps: Step[]): void;
  setDefault(step: Step): void;
  /** A Google user who can log in (and has a project unless `onboarded: false`). */
  addUser(user: {
    id: string;
    refreshToken: string;
    project?: string;
    onboarded?: boolean;
    rotate?: boolean;
    email?: string;
  }): GoogleUser;
  user(id: string): GoogleUser | undefined;
  /** An access token for the user, valid until revoked. */
  issueAccessToken(userId: string): string;
  /** Every access token of the user stops working (as when one expires). */
  revokeAccessTokens(userId: string): void;
  /** The code the consent page would show, for this PKCE challenge. */
  authorize(userId: string, codeChallenge: string, redirectUri: string): string;
  /** Makes the token endpoint slow (a refresh race needs it to take a while). */
  setTokenDelay(ms: number): void;
  reset(): void;
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startFakeGemini(opts: { port?: number } = {}): Promise<FakeGemini> {
  const steps = stepScript<Step>({ kind: 'message' });
  const requests: RecordedRequest[] = [];
  const tokenCalls: TokenCall[] = [];
  const reported: FakeGemini['reported'] = [];
  const served = new Map<string, number>();
  const users = new Map<string, GoogleUser>();
  const accessTokens = new Map<string, string>();
  const codes = new Map<string, { userId: string; challenge: string; redirectUri: string }>();
  const operations = new Map<string, string>();
  let tokenDelayMs = 0;
  let counter = 0;

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const issue = (userId: string) => {
    const token = `ya29.fake-${userId}-${++counter}`;
    accessTokens.set(token, userId);
    return token;
  };

  const server = http.createServer(
    withBody((req, res, rawBody) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      if (url.pathname === '/token') return void tokenEndpoint(res, new URLSearchParams(rawBody));
      const body = parseJson(rawBody);
      const bearer = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
      const apiKey = String(req.headers['x-goog-api-key'] ?? url.searchParams.get('key') ?? '');
      const account = bearer ? (accessTokens.get(bearer) ?? '') : apiKey;
      requests.push({
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        pathname: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        rawBody,
        account,
      });
      if (url.pathname.startsWith('/v1internal'))
        return void codeAssist(req, res, url, bearer, account, body as Record<string, unknown> | undefined);
      return void native(req, res, url, apiKey, body as Record<string, unknown> | undefined);
    }),
  );

  async function tokenEndpoint(res: http.ServerResponse, form: URLSearchParams) {
    const call: TokenCall = { grantType: form.get('grant_type') ?? '', status: 0 };
    for (const [k, f] of [
      ['refreshToken', 'refresh_token'],
      ['code', 'code'],
      ['clientId', 'client_id'],
      ['clientSecret', 'client_secret'],
    ] as const) {
      const v = form.get(f);
      if (v !== null) call[k] = v;
    }
    tokenCalls.push(call);
    if (tokenDelayMs) await new Promise((r) => setTimeout(r, tokenDelayMs));
    const answer = (status: number, body: unknown) => {
      call.status = status;
      json(res, status, body);
    };
    const grant = (user: GoogleUser, withRefresh: boolean) => {
      if (withRefresh && user.rotate) user.refreshToken = `1//fake-refresh-${user.id}-${++counter}`;
      const idToken = `${b64url('{"alg":"none"}')}.${b64url(JSON.stringify({ email: user.email, sub: user.id }))}.`;
      answer(200, {
        access_token: issue(user.id),
        expires_in: 3599,
        scope: 'https://www.googleapis.com/auth/cloud-platform',
        token_type: 'Bearer',
        id_token: idToken,
        ...(withRefresh ? { refresh_token: user.refreshToken } : {}),
      });
    };
    if (call.grantType === 'refresh_token') {
      const user = [...users.values()].find((u) => u.refreshToken === call.refreshToken);
      if (!user)
        return answer(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
      return grant(user, user.rotate);
    }
    if (call.grantType === 'authorization_code') {
      const pending = codes.get(call.code ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (
        !pending ||
        b64url(createHash('sha256').update(verifier).digest()) !== pending.challenge ||
        form.get('redirect_uri') !== pending.redirectUri
      ) {
        return answer(400, { error: 'invalid_grant', error_description: 'Bad Request' });
      }
      codes.delete(call.code ?? '');
      const user = users.get(pending.userId);
      if (!user) return answer(400, { error: 'invalid_grant' });
      return grant(user, true);
    }
    return answer(400, { error: 'unsupported_grant_type' });
  }

  async function codeAssist(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    bearer: string | undefined,
    userId: string,
    body: Record<string, unknown> | undefined,
  ) {
    const user = users.get(userId);
    if (!bearer || !user)
      return json(
        res,
        401,
        googleError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token.'),
      );
    const method = url.pathname.slice('/v1internal'.length);
    if (req.method === 'GET' && method.startsWith('/operations/')) {
      const op = method.slice(1);
      const owner = operations.get(op);
      if (owner !== user.id) return json(res, 404, googleError(404));
      user.onboarded = true;
      user.project ??= `fake-managed-${user.id}`;
      return json(res, 200, {
        name: op,
        done: true,
        response: {
          '@type': 'type.googleapis.com/google.internal.cloud.code.v1internal.OnboardUserResponse',
          cloudaicompanionProject: { id: user.project, name: user.project },
        },
      });
    }
    switch (method) {
      case ':loadCodeAssist':
        if (!user.onboarded)
          return json(res, 200, {
            allowedTiers: [
              {
                id: 'free-tier',
                name: 'Gemini Code Assist for individuals',
                isDefault: true,
                userDefinedCloudaicompanionProject: false,
              },
            ],
          });
        return json(res, 200, {
          currentTier: { id: 'free-tier', name: 'Gemini Code Assist for individuals' },
          allowedTiers: [{ id: 'free-tier', isDefault: true }],
          cloudaicompanionProject: user.project,
        });
      case ':onboardUser': {
        const op = `operations/fake-onboard-${user.id}-${++counter}`;
        operations.set(op, user.id);
        return json(res, 200, { name: op, done: false });
      }
      case ':countTokens':
        return json(res, 200, {
          totalTokens: countOf((body?.request as Record<string, unknown> | undefined)?.contents),
        });
      case ':generateContent':
      case ':streamGenerateContent': {
        if (!user.onboarded || body?.project !== user.project) {
          return json(res, 403, googleError(403, `Permission denied on resource project ${String(body?.project)}.`));
        }
        const model = typeof body?.model === 'string' ? body.model : '';
        return generate(
          res,
          user.id,
          model,
          method === ':streamGenerateContent',
          url.searchParams.get('alt') === 'sse',
          wrapCodeAssist,
        );
      }
      default:
        return json(res, 404, googleError(404, `no method ${method}`));
    }
  }

  async function native(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    apiKey: string,
    body: Record<string, unknown> | undefined,
  ) {
    if (!apiKey)
      return json(res, 403, googleError(403, "Method doesn't allow unregistered callers. Please use an API Key."));
    const m = /^\/v1(?:beta)?\/models\/([^/:]+):(\w+)$/.exec(url.pathname);
    if (!m || req.method !== 'POST') return json(res, 404, googleError(404, `no route ${req.method} ${url.pathname}`));
    const [, model = '', method] = m;
    if (method === 'countTokens') {
      const contents =
        (body?.generateContentRequest as Record<string, unknown> | undefined)?.contents ?? body?.contents;
      return json(res, 200, {
        totalTokens: countOf(contents),
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: countOf(contents) }],
      });
    }
    if (method !== 'generateContent' && method !== 'streamGenerateContent') return json(res, 404, googleError(404));
    // The Gemini API rejects fields it does not know (Code Assist's `session_id`, a `model`, …).
    const unknown = Object.keys(body ?? {}).filter(
      (k) =>
        ![
          'contents',
          'systemInstruction',
          'tools',
          'toolConfig',
          'safetySettings',
          'generationConfig',
          'cachedContent',
        ].includes(k),
    );
    if (unknown.length > 0)
      return json(
        res,
        400,
        googleError(400, `Invalid JSON payload received. Unknown name "${unknown[0]}": Cannot find field.`),
      );
    if (!Array.isArray(body?.contents))
      return json(res, 400, googleError(400, '* GenerateContentRequest.contents: contents is not specified'));
    return generate(
      res,
      apiKey,
      decodeURIComponent(model),
      method === 'streamGenerateContent',
      url.searchParams.get('alt') === 'sse',
      (r) => r,
    );
  }

  async function generate(
    res: http.ServerResponse,
    account: string,
    model: string,
    stream: boolean,
    sse: boolean,
    wrap: (r: Record<string, unknown>) => Record<string, unknown>,
  ) {
    const step = steps.next(account);
    const usageOf = (u: Partial<GeminiUsage> | undefined): GeminiUsage => ({ ...DEFAULT_GEMINI_USAGE, ...u });
    if (step.kind === 'hang') return;
    if (step.kind === 'error')
      return json(res, step.status, googleError(step.status, step.message, step.details), step.headers);
    if (step.kind === 'message' && step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
    if (res.destroyed) return;
    const m = (step.kind === 'message' ? step.model : undefined) ?? model;
    const usage = usageOf(step.usage);
    const text = (step.kind === 'message' ? step.text : undefined) ?? 'Hello from the fake Gemini.';
    const given = step.kind === 'message' ? step.content : undefined;
    const finishReason = (step.kind === 'message' ? step.finishReason : undefined) ?? 'STOP';
    if (!stream) {
      json(
        res,
        200,
        wrap(generateResponse(m, text, usage, undefined, given, finishReason)),
        step.kind === 'message' ? step.headers : {},
      );
      reported.push({ account, model: m, usage, complete: true });
      served.set(account, (served.get(account) ?? 0) + 1);
      return;
    }
    const parts = step.kind === 'message' ? (step.parts ?? 3) : 6;
    const chunks = streamChunks(m, text, usage, parts, undefined, given, finishReason).map(wrap);
    const upTo = step.kind === 'cut' || step.kind === 'stream-error' ? step.afterChunks : chunks.length;
    res.writeHead(200, {
      'content-type': sse ? 'text/event-stream' : 'application/json; charset=UTF-8',
      ...(step.kind === 'message' ? step.headers : {}),
    });
    let last: GeminiUsage | undefined;
    for (let i = 0; i < upTo && i < chunks.length; i++) {
      const chunk = chunks[i] as Record<string, unknown>;
      const frame = sse ? sseEvent(chunk) : `${i === 0 ? '[' : '\n,\r\n'}${JSON.stringify(chunk, null, 2)}`;
      if (!res.write(frame)) await new Promise((r) => res.once('drain', r));
      last = i === chunks.length - 1 ? usage : snapshotOf(chunk);
      if (step.kind === 'message' && step.chunkDelayMs) await new Promise((r) => setTimeout(r, step.chunkDelayMs));
      if (res.destroyed) return;
    }
    if (step.kind === 'cut') {
      if (last) reported.push({ account, model: m, usage: last, complete: false });
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (step.kind === 'stream-error') {
      const error = googleError(step.status ?? 503, step.message ?? 'The model is overloaded. Please try again later.');
      // Google writes it pretty-printed, outside the SSE framing.
      res.write(
        sse
          ? `${JSON.stringify(error, null, 2)}\n`
          : `${upTo === 0 ? '[' : '\n,\r\n'}${JSON.stringify(error, null, 2)}\n]`,
      );
      res.end();
      if (last) reported.push({ account, model: m, usage: last, complete: false });
      return;
    }
    if (!sse) res.write(']');
    res.end();
    reported.push({ account, model: m, usage, complete: true });
    served.set(account, (served.get(account) ?? 0) + 1);
  }

  const { url, close } = await serve(server, { port: opts.port });

  return {
    url,
    tokenUrl: `${url}/token`,
    requests,
    tokenCalls,
    reported,
    served: (account) => (account ? (served.get(account) ?? 0) : [...served.values()].reduce((a, b) => a + b, 0)),
    script: (account, ...scripted) => steps.add(account, scripted),
    setDefault: steps.setDefault,
    addUser(u) {
      const user: GoogleUser = {
        id: u.id,
        email: u.email ?? `${u.id}@example.com`,
        refreshToken: u.refreshToken,
        project: u.onboarded === false ? undefined : (u.project ?? `fake-project-${u.id}`),
        onboarded: u.onboarded ?? true,
        rotate: u.rotate ?? false,
      };
      users.set(u.id, user);
      return user;
    },
    user: (id) => users.get(id),
    issueAccessToken: issue,
    revokeAccessTokens(userId) {
      for (const [token, owner] of [...accessTokens]) if (owner === userId) accessTokens.delete(token);
    },
    authorize(userId, codeChallenge, redirectUri) {
      const code = `4/fake-code-${++counter}`;
      codes.set(code, { userId, challenge: codeChallenge, redirectUri });
      return code;
    },
    setTokenDelay(ms) {
      tokenDelayMs = ms;
    },
    reset() {
      steps.reset();
      requests.length = 0;
      tokenCalls.length = 0;
      reported.length = 0;
      served.clear();
      tokenDelayMs = 0;
    },
    close,
  };
}

/** The usage a chunk reported (native or wrapped). */
function snapshotOf(chunk: Record<string, unknown>): GeminiUsage {
  const r = (chunk.response ?? chunk) as { usageMetadata?: Record<string, number> };
  const u = r.usageMetadata ?? {};
  return {
    promptTokenCount: u.promptTokenCount ?? 0,
    candidatesTokenCount: u.candidatesTokenCount ?? 0,
    ...(u.cachedContentTokenCount ? { cachedContentTokenCount: u.cachedContentTokenCount } : {}),
    ...(u.thoughtsTokenCount ? { thoughtsTokenCount: u.thoughtsTokenCount } : {}),
    ...(u.toolUsePromptTokenCount ? { toolUsePromptTokenCount: u.toolUsePromptTokenCount } : {}),
  };
}

/** A token count the fake gives for some contents (about four characters a token). */
function countOf(contents: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(contents ?? '').length / 4));
}
