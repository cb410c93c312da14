import uWS from 'uWebSockets.js';
import { registerAdminRoutes, type AdminDeps } from '../admin/routes.js';
import { RelayError } from '../errors/catalogue.js';
import type { ApiShape } from '../errors/render.js';
import { authFailureError, relay, respondError } from '../relay/pipeline.js';
import { INFO_ROUTES, RELAY_ROUTES, type InfoRoute, type RelayRoute } from '../relay/routes.js';
import type { RelayDeps } from '../relay/types.js';
import { Exchange, paramCount } from './exchange.js';
import { jsonRoutes, type JsonReply } from './json-route.js';

export interface ServerDeps {
  relay: RelayDeps;
  admin: AdminDeps;
  health(): Promise<JsonReply>;
}

/** The uWS app with every route, plus the in-flight bookkeeping a graceful drain needs. */
export interface RelayApp {
  readonly app: uWS.TemplatedApp;
  readonly inFlight: number;
  /** From now on, responses close their connections (keep-alive clients move to other nodes). */
  startDraining(): void;
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

export function buildApp(deps: ServerDeps): RelayApp {
  const app = uWS.App();
  const { log, bodyLimitBytes } = deps.relay;
  let inFlight = 0;
  let draining = false;
  let idleWaiters: (() => void)[] = [];

  const track = (ex: Exchange, run: () => Promise<void>) => {
    if (draining) ex.closeAfter = true;
    inFlight++;
    run()
      .catch((err: unknown) => log.error('unhandled request failure', { err }))
      .finally(() => {
        inFlight--;
        if (inFlight === 0 && idleWaiters.length > 0) {
          const waiters = idleWaiters;
          idleWaiters = [];
          for (const w of waiters) w();
        }
      });
  };

  const relayRoute = (route: RelayRoute) => {
    const params = paramCount(route.pattern);
    app.post(route.pattern, (res, req) => {
      const ex = new Exchange(res, req, params);
      const surface = typeof route.surface === 'function' ? route.surface(ex.incoming.path) : route.surface;
      if (!surface) return notFound(ex);
      const body = ex.readBody(bodyLimitBytes);
      track(ex, () => relay(ex, body, surface, deps.relay));
    });
  };

  const adminJson = jsonRoutes({ app, shape: 'admin', bodyLimitBytes, log, nextRequestId: deps.relay.nextRequestId, track });
  const infoJson = new Map<ApiShape, ReturnType<typeof jsonRoutes>>();
  const infoRoute = (route: InfoRoute) => {
    let register = infoJson.get(route.shape);
    if (!register) {
      register = jsonRoutes({ app, shape: route.shape, bodyLimitBytes, log, nextRequestId: deps.relay.nextRequestId, track });
      infoJson.set(route.shape, register);
    }
    register(route.method ?? 'get', route.pattern, async (ctx) => {
      const auth = await deps.relay.keys.authenticate(route.credential(ctx.ex.incoming.headers, ctx.query));
      if (!auth.ok) throw authFailureError(auth.reason);
      return { status: 200, body: route.answer(deps.relay, { params: ctx.params, query: ctx.query, path: ctx.ex.incoming.path }) };
    });
  };

  for (const route of RELAY_ROUTES) relayRoute(route);
  for (const route of INFO_ROUTES) infoRoute(route);

  registerAdminRoutes(adminJson, deps.admin);
  adminJson('get', '/health', () => deps.health());

  const notFound = (ex: Exchange) => {
    const shape = shapeForPath(ex.incoming.path);
    const error = new RelayError(shape === 'admin' ? 'admin_not_found' : 'not_found', { message: `No route for ${ex.incoming.method.toUpperCase()} ${ex.incoming.path}.` });
    respondError(ex, shape, error, deps.relay.nextRequestId(), deps.relay);
  };
  app.any('/*', (res, req) => notFound(new Exchange(res, req, 0)));

  return {
    app,
    get inFlight() {
      return inFlight;
    },
    startDraining() {
      draining = true;
    },
    idle() {
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
