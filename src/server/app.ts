import { createHash, timingSafeEqual } from 'node:crypto';
import uWS from 'uWebSockets.js';
import { registerAdminRoutes } from '../admin/routes.js';
import type { AdminDeps } from '../admin/types.js';
import { RelayError } from '../errors/catalogue.js';
import type { ApiShape } from '../errors/render.js';
import { authFailureError, relay, respondError } from '../relay/pipeline.js';
import { INFO_ROUTES, RELAY_ROUTES } from '../relay/routes.js';
import type { InfoRoute, RelayDeps, RelayRoute } from '../relay/types.js';
import type { ClientAddressOf } from './client-address.js';
import { paramCount, UwsExchange, type BodyMeter } from './exchange.js';
import { jsonRoutes, type JsonReply } from './json-route.js';

/** Admin payloads are small: an unauthenticated caller cannot make the server hold more than this. */
const ADMIN_BODY_LIMIT = 1024 * 1024;

export interface ServerDeps {
  relay: RelayDeps;
  admin: AdminDeps;
  health(): Promise<JsonReply>;
  clientAddressOf: ClientAddressOf;
  /** GET /metrics on this port, to this bearer token (METRICS_TOKEN); absent: no such route. */
  metrics?: { token: string; contentType: string; scrape(): Promise<string | null> };
}

/** The uWS app with every route, plus the in-flight bookkeeping a graceful drain needs. */
export interface RelayApp {
  readonly app: uWS.TemplatedApp;
  readonly inFlight: number;
  /** Bytes of request bodies still arriving (a refused request's body is not held). */
  readonly bodyBytesHeld: number;
  /** From now on, responses close their connections (keep-alive clients move to other nodes). */
  startDraining(): void;
  /** Ends every exchange still in flight now, telling each client why (the drain ran out of time). */
  interruptAll(): void;
  /** Resolves when no request is in flight. */
  idle(): Promise<void>;
}

/** Errors of unknown routes speak the API their prefix belongs to. */
function shapeForPath(path: string): ApiShape {
  if (path.startsWith('/admin')) return 'admin';
  if (path.startsWith('/gemini')) return 'gemini';
  if (path.startsWith('/openai') || path.startsWith('/azure')) return 'openai';
  return 'anthropic';
}

/**
 * Where each kind of client should point its base URL: a wrong one is the commonest first mistake,
 * and clients report a 404 in misleading words ("There's an issue with the selected model").
 */
function baseUrlHint(hostHeader: string | undefined): string {
  const host = /^[\w.:[\]-]{1,255}$/.test(hostHeader ?? '') ? hostHeader : 'host:port';
  const base = `http://${host}`;
  return (
    `Point the client's base URL at ${base}/api (Anthropic: Claude Code, SDKs), ${base}/openai/v1 (OpenAI), ` +
    `${base}/openai/claude/v1 or /openai/gemini/v1 (OpenAI format to Claude or Gemini), ${base}/gemini (Gemini) ` +
    `or ${base}/azure (Azure OpenAI).`
  );
}

export function buildApp(deps: ServerDeps): RelayApp {
  const app = uWS.App();
  const { log, bodyLimitBytes } = deps.relay;
  const meter: BodyMeter = { held: 0 };
  const active = new Set<UwsExchange>();
  let draining = false;
  let idleWaiters: (() => void)[] = [];

  const track = (ex: UwsExchange, run: () => Promise<void>) => {
    if (draining) ex.closeAfter = true;
    active.add(ex);
    run()
      .catch((err: unknown) => log.error('unhandled request failure', { err }))
      .finally(() => {
        active.delete(ex);
        if (active.size === 0 && idleWaiters.length > 0) {
          const waiters = idleWaiters;
          idleWaiters = [];
          for (const w of waiters) w();
        }
      });
  };

  const relayRoute = (route: RelayRoute) => {
    const params = paramCount(route.pattern);
    app.post(route.pattern, (res, req) => {
      const ex = new UwsExchange(res, req, params);
      ex.addressOf = deps.clientAddressOf;
      const surface = typeof route.surface === 'function' ? route.surface(ex.incoming.path) : route.surface;
      if (!surface) return notFound(ex);
      ex.readBody(bodyLimitBytes, meter);
      track(ex, () => relay(ex, surface, deps.relay));
    });
  };

  const json = (shape: ApiShape, limit: number) =>
    jsonRoutes({
      app,
      shape,
      bodyLimitBytes: limit,
      meter,
      log,
      nextRequestId: deps.relay.nextRequestId,
      clientAddressOf: deps.clientAddressOf,
      track,
    });
  const adminJson = json('admin', ADMIN_BODY_LIMIT);
  const infoJson = new Map<ApiShape, ReturnType<typeof jsonRoutes>>();
  const infoRoute = (route: InfoRoute) => {
    let register = infoJson.get(route.shape);
    if (!register) {
      register = json(route.shape, bodyLimitBytes);
      infoJson.set(route.shape, register);
    }
    register(route.method ?? 'get', route.pattern, async (ctx) => {
      const auth = await deps.relay.keys.authenticate(route.credential(ctx.headers, ctx.query));
      if (!auth.ok) throw authFailureError(auth.reason);
      return {
        status: 200,
        body: route.answer(deps.relay, { params: ctx.params, query: ctx.query, path: ctx.ex.incoming.path }),
      };
    });
  };

  for (const route of RELAY_ROUTES) relayRoute(route);
  for (const route of INFO_ROUTES) infoRoute(route);

  registerAdminRoutes(adminJson, deps.admin);
  adminJson('get', '/health', () => deps.health());
  // Liveness: the process answers (restart it when this fails). Readiness: it should get traffic,
  // so 503 from the moment it starts draining and while its Redis is down (proxies' health checks).
  adminJson('get', '/health/live', () => Promise.resolve({ status: 200, body: { status: 'ok' } }));
  adminJson('get', '/health/ready', async () => {
    if (draining) return { status: 503, body: { status: 'draining' } };
    const health = await deps.health();
    return { status: health.status, body: { status: health.status === 200 ? 'ready' : 'unavailable' } };
  });
  if (deps.metrics) metricsRoute(deps.metrics);

  function metricsRoute(m: NonNullable<ServerDeps['metrics']>) {
    const expected = digest(`Bearer ${m.token}`);
    app.get('/metrics', (res, req) => {
      const ex = new UwsExchange(res, req, 0);
      track(ex, async () => {
        const requestId = deps.relay.nextRequestId();
        if (!timingSafeEqual(digest(ex.incoming.headers.authorization ?? ''), expected)) {
          return respondError(
            ex,
            'admin',
            new RelayError('admin_unauthorized', { message: 'Send Authorization: Bearer <METRICS_TOKEN>.' }),
            requestId,
            deps.relay,
          );
        }
        const text = await m.scrape();
        if (ex.aborted) return;
        if (text === null)
          return respondError(
            ex,
            'admin',
            new RelayError('internal_error', { status: 503, message: 'The node did not answer the scrape in time.' }),
            requestId,
            deps.relay,
          );
        ex.send(200, { 'content-type': m.contentType, 'cache-control': 'no-store' }, text);
      });
    });
  }

  const notFound = (ex: UwsExchange) => {
    const shape = shapeForPath(ex.incoming.path);
    const route = `No route for ${ex.incoming.method.toUpperCase()} ${ex.incoming.path}.`;
    const error =
      shape === 'admin'
        ? new RelayError('admin_not_found', { message: route })
        : new RelayError('not_found', { message: `${route} ${baseUrlHint(ex.incoming.headers.host)}` });
    respondError(ex, shape, error, deps.relay.nextRequestId(), deps.relay);
  };
  app.any('/*', (res, req) => notFound(new UwsExchange(res, req, 0)));

  return {
    app,
    get inFlight() {
      return active.size;
    },
    get bodyBytesHeld() {
      return meter.held;
    },
    startDraining() {
      draining = true;
    },
    interruptAll() {
      for (const ex of active) ex.interrupt();
    },
    idle() {
      if (active.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();
