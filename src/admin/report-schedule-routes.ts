import {
  createScheduleStore,
  MAX_SCHEDULE_CHANNELS,
  REPORT_KINDS,
  type ReportKind,
  type ScheduleStore,
} from '../reports/schedule/index.js';
import { bearer, noContent, notFound, ok } from './route-kit.js';
import type { AdminDeps, AdminRequest, Authed, Route } from './types.js';
import { asObject, invalid, onlyFields, optBool, optInt, optStringList } from './validate.js';

const CHANNEL_ID = /^ch_[0-9a-f]{16}$/;

const kindOf = (ctx: AdminRequest): ReportKind => {
  const kind = ctx.params[0] ?? '';
  if (!(REPORT_KINDS as readonly string[]).includes(kind)) throw notFound();
  return kind as ReportKind;
};

/** Channel ids from the body, each one a channel of the alert engine (400 naming the first that is not). */
async function channelsOf(deps: AdminDeps, body: Record<string, unknown>): Promise<string[] | undefined> {
  const ids = optStringList(body, 'channels', { max: MAX_SCHEDULE_CHANNELS, pattern: CHANNEL_ID });
  if (ids === undefined) return undefined;
  for (const id of ids) if (!(await deps.alerts.channels.get(id))) throw invalid(`channels: no channel ${id}`);
  return ids;
}

/**
 * Scheduled reports (docs/SCHEDULED-REPORTS.md): a daily, weekly and monthly summary each to its
 * channels at its hour; and "send the last complete period now", which the jobs lease holder
 * picks up within seconds (so it goes through the same outbox, once).
 */
export function registerReportScheduleRoutes(route: Route, authed: Authed, deps: AdminDeps): void {
  const schedules: ScheduleStore = createScheduleStore({
    store: deps.store,
    clock: deps.clock,
    timeZone: deps.reports.calendar.timeZone,
  });

  route(
    'get',
    '/admin/reports/schedules',
    authed(async () =>
      ok({ timeZone: schedules.timeZone, items: (await schedules.list()).map((s) => schedules.view(s)) }),
    ),
  );

  route(
    'get',
    '/admin/reports/schedules/:kind',
    authed(async (ctx) => {
      const s = await schedules.get(kindOf(ctx));
      if (!s) throw notFound();
      return ok(schedules.view(s));
    }),
  );

  route(
    'put',
    '/admin/reports/schedules/:kind',
    authed(async (ctx) => {
      const kind = kindOf(ctx);
      const body = asObject(ctx.body);
      onlyFields(body, ['channels', 'hour', 'enabled']);
      const channels = await channelsOf(deps, body);
      if (!channels || channels.length === 0) throw invalid('channels: expected at least one channel id');
      const hour = optInt(body, 'hour', 0, 23);
      const enabled = optBool(body, 'enabled');
      return ok(schedules.view(await schedules.put(kind, { channels, hour, enabled })));
    }),
  );

  route(
    'del',
    '/admin/reports/schedules/:kind',
    authed(async (ctx) => {
      if (!(await schedules.remove(kindOf(ctx)))) throw notFound();
      return noContent();
    }),
  );

  route(
    'post',
    '/admin/reports/schedules/:kind/send',
    authed(async (ctx) => {
      const kind = kindOf(ctx);
      const body = ctx.body === undefined ? {} : asObject(ctx.body);
      onlyFields(body, ['channels']);
      const channels = (await channelsOf(deps, body)) ?? (await schedules.get(kind))?.channels ?? [];
      if (channels.length === 0) throw invalid(`channels: there is no ${kind} schedule; name the channels`);
      const by = (await deps.auth.verify(bearer(ctx))) ?? 'admin';
      const r = await schedules.requestSend(kind, channels, by);
      return {
        status: 202,
        body: { id: r.id, kind, period: r.period.name, channels: r.channels, at: new Date(r.at).toISOString() },
      };
    }),
  );
}
