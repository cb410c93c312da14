import { groupCreateInput, groupPatchInput } from './inputs.js';
import { created, groupIdParam, noContent, notFound, ok } from './route-kit.js';

import { checkGroupMembers, forgetGroup } from './references.js';
import { asObject } from './validate.js';
import { groupView } from './views.js';
import type { AdminDeps, Authed, Route } from './types.js';

/** Account groups: named sets of accounts of one platform, bindable to keys, with their own strategy. */
export function registerGroupRoutes(route: Route, authed: Authed, deps: AdminDeps): void {
  route(
    'get',
    '/admin/groups',
    authed(async () => ok({ items: (await deps.groups.list()).map(groupView) })),
  );

  route(
    'post',
    '/admin/groups',
    authed(async (ctx) => {
      const input = groupCreateInput(asObject(ctx.body));
      await checkGroupMembers(deps, input, input.platform);
      return created(groupView(await deps.groups.create(input)));
    }),
  );

  route(
    'get',
    '/admin/groups/:id',
    authed(async (ctx) => {
      const g = await deps.groups.get(groupIdParam(ctx));
      if (!g) throw notFound();
      return ok(groupView(g));
    }),
  );

  route(
    'patch',
    '/admin/groups/:id',
    authed(async (ctx) => {
      const current = await deps.groups.get(groupIdParam(ctx));
      if (!current) throw notFound();
      const input = await checkGroupMembers(deps, groupPatchInput(asObject(ctx.body)), current.platform);
      return ok(groupView((await deps.groups.update(current.id, input)) ?? current));
    }),
  );

  route(
    'del',
    '/admin/groups/:id',
    authed(async (ctx) => {
      const id = groupIdParam(ctx);
      if (!(await deps.groups.remove(id))) throw notFound();
      await forgetGroup(deps, id);
      return noContent();
    }),
  );
}
