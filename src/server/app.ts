import uWS from 'uWebSockets.js';
import { registerAdminRoutes, type AdminDeps } from '../admin/routes.js';
import { RelayError } from '../errors/catalogue.js';
import { renderError } from '../errors/render.js';
import { keyFromHeaders } from '../keys/service.js';
import { authFailureError, relay } from '../relay/pipeline.js';
import { anthropicCountTokens, anthropicMessages } from '../relay/surfaces.js';
import type { RelayDeps, Surface } from '../relay/types.js';
import { Exchange } from './exchange.js';
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

/** Claude Code and the SDK use `/api`; Cherry Studio and others use `/claude`. */
const ANTHROPIC_PREFIXES = ['/api', '/claude'];

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

  const relayRoute = (pattern: string, surface: Surface) => {
    app.post(pattern, (res, req) => {
      const ex = new Exchange(res, req, 0);
      const body = ex.readBody(bodyLimitBytes);
      track(ex, () => relay(ex, body, surface, deps.relay));
    });
  };

  const anthropicJson = jsonRoutes({ app, shape: 'anthropic', bodyLimitBytes, log, nextRequestId: deps.relay.nextRequestId, track });
  const adminJson = jsonRoutes({ app, shape: 'admin', bodyLimitBytes, log, nextRequestId: deps.relay.nextRequestId, track });

  for (const prefix of ANTHROPIC_PREFIXES) {
    relayRoute(`${prefix}/v1/messages`, anthropicMessages);
    relayRoute(`${prefix}/v1/messages/count_tokens`, anthropicCountTokens);
    anthropicJson('get', `${prefix}/v1/models`, async (ctx) => {
      const auth = await deps.relay.keys.authenticate(keyFromHeaders(ctx.ex.incoming.headers));
      if (!auth.ok) throw authFailureError(auth.reason);
      return { status: 200, body: claudeModelList(deps.relay) };
    });
  }

  registerAdminRoutes(adminJson, deps.admin);
  adminJson('get', '/health', () => deps.health());

  app.any('/*', (res, req) => {
    const ex = new Exchange(res, req, 0);
    const shape = ex.incoming.path.startsWith('/admin') ? 'admin' : 'anthropic';
    const requestId = deps.relay.nextRequestId();
    const r = renderError(shape, new RelayError(shape === 'admin' ? 'admin_not_found' : 'not_found', { message: `No route for ${ex.incoming.method.toUpperCase()} ${ex.incoming.path}.` }), requestId);
    ex.send(r.status, { ...r.headers, 'x-request-id': requestId }, r.body);
  });

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

/** Anthropic's model list format, from the Claude entries of the pricing table. */
function claudeModelList(deps: RelayDeps) {
  const pricing = deps.pricing();
  const createdAt = new Date(`${pricing.version}T00:00:00Z`).toISOString();
  const data = pricing
    .models('claude')
    .map((id) => ({ type: 'model', id, display_name: displayName(id), created_at: createdAt }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null };
}

function displayName(id: string): string {
  // claude-opus-4-5 → Claude Opus 4.5
  const m = /^claude-(?:(\d)-(\d)-)?([a-z]+)(?:-(\d+)(?:-(\d+))?)?/.exec(id);
  if (!m) return id;
  const family = (m[3] ?? '').replace(/^./, (c) => c.toUpperCase());
  const version = m[1] ? `${m[1]}.${m[2]}` : m[5] ? `${m[4]}.${m[5]}` : (m[4] ?? '');
  return `Claude ${family} ${version}`.trim();
}
