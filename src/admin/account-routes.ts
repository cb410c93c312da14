import type { Account } from '../accounts/service.js';
import type { AccountId } from '../ids.js';
import { updateAccount } from './account-update.js';
import { accountCreateInput, accountPatchInput, usageDays } from './inputs.js';
import { forgetAccount } from './references.js';
import { accountIdParam, created, noContent, notFound, ok } from './route-kit.js';

import { asObject } from './validate.js';
import { accountView, healthView } from './views.js';
import type { AdminDeps, Authed, Route } from './types.js';

/** Upstream accounts: CRUD, usage, health (routable now? why not, until when?) and reset. */
export function registerAccountRoutes(route: Route, authed: Authed, deps: AdminDeps): void {
  const load = async (id: AccountId): Promise<Account> => {
    const account = await deps.accounts.get(id);
    if (!account) throw notFound();
    return account;
  };
  /** Whether the account is routable now (for `model`, if given), and if not why and until when. */
  const healthOf = async (account: Account, model?: string) => healthView(await deps.scheduler.explain(account, model));

  route(
    'get',
    '/admin/accounts',
    authed(async () => {
      const accounts = await deps.accounts.list();
      const items = await Promise.all(accounts.map(async (a) => accountView(a, await healthOf(a))));
      return ok({ items });
    }),
  );

  route(
    'post',
    '/admin/accounts',
    authed(async (ctx) => created(accountView(await deps.accounts.create(accountCreateInput(asObject(ctx.body)))))),
  );

  route(
    'get',
    '/admin/accounts/:id',
    authed(async (ctx) => {
      const account = await load(accountIdParam(ctx));
      return ok(accountView(account, await healthOf(account)));
    }),
  );

  route(
    'patch',
    '/admin/accounts/:id',
    authed(async (ctx) => {
      const current = await load(accountIdParam(ctx));
      const account = await updateAccount(deps, current, accountPatchInput(asObject(ctx.body), current));
      if (!account) throw notFound();
      return ok(accountView(account, await healthOf(account)));
    }),
  );

  route(
    'del',
    '/admin/accounts/:id',
    authed(async (ctx) => {
      const id = accountIdParam(ctx);
      if (!(await deps.accounts.remove(id))) throw notFound();
      await forgetAccount(deps, id);
      return noContent();
    }),
  );

  route(
    'get',
    '/admin/accounts/:id/usage',
    authed(async (ctx) => {
      const id = accountIdParam(ctx);
      const days = usageDays(ctx.query.get('days'));
      await load(id);
      return ok(await deps.usage.forAccount(id, days));
    }),
  );

  route(
    'get',
    '/admin/accounts/:id/health',
    authed(async (ctx) => {
      const model = ctx.query.get('model') ?? undefined;
      const account = await load(accountIdParam(ctx));
      return ok({ id: account.id, name: account.name, model: model ?? null, ...(await healthOf(account, model)) });
    }),
  );

  route(
    'post',
    '/admin/accounts/:id/reset',
    authed(async (ctx) => {
      const account = await load(accountIdParam(ctx));
      await deps.health.reset(account.id);
      // The alert engine hears of it at once (its refresh-failed rule ends with a reset too).
      deps.events.emit('account.reset', { accountId: account.id, by: 'admin' });
      return ok(accountView(account, await healthOf(account)));
    }),
  );
}
