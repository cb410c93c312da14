import { checkNames, recordExportOf, usageExportOf, type Params } from '../reports/params.js';
import type { PreparedExport } from '../reports/export.js';
import type { AdminDeps, AdminReply, AdminRequest, Authed, Route } from './types.js';

function params(ctx: AdminRequest, what: 'exportUsage' | 'exportRecords'): Params {
  checkNames(what, ctx.query.keys());
  return (name) => ctx.query.get(name) ?? undefined;
}

/** Status and headers now; the rows as the client takes them (the server stops when it leaves). */
const streamed = (prepared: PreparedExport): AdminReply => ({
  status: 200,
  body: undefined,
  headers: prepared.headers,
  stream: (out) => prepared.run(out),
});

/** Streamed exports of the usage buckets and of the usage records. See docs/EXPORT.md. */
export function registerExportRoutes(route: Route, authed: Authed, deps: AdminDeps): void {
  const cal = () => deps.reports.calendar;
  route(
    'get',
    '/admin/export/usage',
    authed(async (ctx) => {
      const q = usageExportOf(params(ctx, 'exportUsage'), cal(), deps.clock.now());
      return streamed(await deps.exporter.usage(q));
    }),
  );
  route(
    'get',
    '/admin/export/records',
    authed(async (ctx) => {
      const q = recordExportOf(params(ctx, 'exportRecords'), cal(), deps.clock.now());
      return streamed(await deps.exporter.records(q));
    }),
  );
}
