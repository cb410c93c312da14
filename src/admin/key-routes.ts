import { keyCreateInput, keyPatchInput, usageDays } from './inputs.js';
import { created, keyIdParam, noContent, notFound, ok } from './route-kit.js';

import { checkKeyBindings } from './references.js';
import { asObject, invalid } from './validate.js';
import { keyView } from './views.js';
import type { AdminDeps, Authed, Route } from './types.js';

/** Relay API keys: CRUD, usage, recent records, current use of each limit. */
export function registerKeyRoutes(route: Route, authed: Authed, deps: AdminDeps): void {
  route(
    'get',
    '/admin/api-keys',
    authed(async () => ok({ items: (await deps.keys.list()).map(keyView) })),
  );

  route(
    'post',
    '/admin/api-keys',
    authed(async (ctx) => {
      const { record, plaintext } = await deps.keys.create(
        await checkKeyBindings(deps, keyCreateInput(asObject(ctx.body))),
      );
      return created({ ...keyView(record), key: plaintext });
    }),
  );

  route(
    'get',
    '/admin/api-keys/:id',
    authed(async (ctx) => {
      const key = await deps.keys.get(keyIdParam(ctx));
      if (!key) throw notFound();
      return ok(keyView(key));
    }),
  );

  route(
    'patch',
    '/admin/api-keys/:id',
    authed(async (ctx) => {
      const key = await deps.keys.update(
        keyIdParam(ctx),
        await checkKeyBindings(deps, keyPatchInput(asObject(ctx.body))),
      );
      if (!key) throw notFound();
      return ok(keyView(key));
    }),
  );

  route(
    'del',
    '/admin/api-keys/:id',
    authed(async (ctx) => {
      if (!(await deps.keys.remove(keyIdParam(ctx)))) throw notFound();
      return noContent();
    }),
  );

  route(
    'get',
    '/admin/api-keys/:id/usage',
    authed(async (ctx) => {
      const id = keyIdParam(ctx);
      const days = usageDays(ctx.query.get('days'));
      if (!(await deps.keys.get(id))) throw notFound();
      return ok(await deps.usage.forKey(id, days));
    }),
  );

  route(
    'get',
    '/admin/api-keys/:id/records',
    authed(async (ctx) => {
      const id = keyIdParam(ctx);
      const limit = Number(ctx.query.get('limit') ?? 50);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw invalid('limit: expected an integer from 1 to 1000.');
      if (!(await deps.keys.get(id))) throw notFound();
      return ok({ items: await deps.usage.records(id, limit) });
    }),
  );

  route(
    'get',
    '/admin/api-keys/:id/limits',
    authed(async (ctx) => {
      const key = await deps.keys.get(keyIdParam(ctx));
      if (!key) throw notFound();
      return ok(await deps.limits.usage(key));
    }),
  );
}
