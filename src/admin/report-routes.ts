import { checkNames, rankQueryOf, trendsQueryOf, usageQueryOf, type Params } from '../reports/params.js';
import { ok } from './route-kit.js';
import type { AdminDeps, AdminRequest, Authed, Route } from './types.js';

/** The query string as report parameters, refusing names the report does not take. */
function params(ctx: AdminRequest, report: Parameters<typeof checkNames>[0]): Params {
  checkNames(report, ctx.query.keys());
  return (name) => ctx.query.get(name) ?? undefined;
}

/** Usage over time, rankings and trends over the usage buckets. See docs/REPORTS.md. */
export function registerReportRoutes(route: Route, authed: Authed, deps: AdminDeps): void {
  const cal = () => deps.reports.calendar;
  route(
    'get',
    '/admin/reports/usage',
    authed(async (ctx) => ok(await deps.reports.usage(usageQueryOf(params(ctx, 'usage'), cal(), deps.clock.now())))),
  );
  route(
    'get',
    '/admin/reports/rankings',
    authed(async (ctx) =>
      ok(await deps.reports.rankings(rankQueryOf(params(ctx, 'rankings'), cal(), deps.clock.now()))),
    ),
  );
  route(
    'get',
    '/admin/reports/trends',
    authed(async (ctx) => ok(await deps.reports.trends(trendsQueryOf(params(ctx, 'trends'))))),
  );
}
