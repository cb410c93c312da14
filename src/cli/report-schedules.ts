import {
  createScheduleStore,
  MAX_SCHEDULE_CHANNELS,
  REPORT_KINDS,
  type ReportKind,
  type ScheduleStore,
} from '../reports/schedule/index.js';
import { systemClock } from '../util/clock.js';
import { str, type Values } from './args.js';
import type { Command } from './command.js';
import type { CliContext } from './context.js';
import { CliError, usageError } from './errors.js';
import { when } from './output.js';

/**
 * `crs reports schedules | schedule-set | schedule-remove | schedule-send`: the scheduled reports
 * (docs/SCHEDULED-REPORTS.md), as the admin API manages them. These are commands of the
 * `reports` group.
 */

const schedulesOf = async (ctx: CliContext): Promise<ScheduleStore> =>
  createScheduleStore({ store: await ctx.store(), clock: systemClock, timeZone: ctx.config.statsTimezone });

function kindOf(raw: string | undefined): ReportKind {
  if (!(REPORT_KINDS as readonly (string | undefined)[]).includes(raw))
    throw usageError(`KIND must be one of ${REPORT_KINDS.join(', ')}.`);
  return raw as ReportKind;
}

/** `--channels a,b`, each a channel of the alert engine. */
async function channelsOf(ctx: CliContext, values: Values): Promise<string[] | undefined> {
  const raw = str(values, 'channels');
  if (raw === undefined) return undefined;
  const ids = [
    ...new Set(
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (ids.length === 0 || ids.length > MAX_SCHEDULE_CHANNELS)
    throw usageError(`--channels: 1 to ${MAX_SCHEDULE_CHANNELS} channel ids.`);
  const alerts = await ctx.alerts();
  for (const id of ids)
    if (!(await alerts.channels.get(id))) throw new CliError(`No channel ${id}. See crs alerts channels.`);
  return ids;
}

export const scheduleCommands: Command[] = [
  {
    name: 'schedules',
    synopsis: 'schedules',
    summary: 'The scheduled reports: where each kind goes, at what hour, and the next one.',
    async run(ctx, { out }) {
      const s = await schedulesOf(ctx);
      const items = (await s.list()).map((x) => s.view(x));
      if (out.json) return out.data({ timeZone: s.timeZone, items });
      if (items.length === 0)
        return out.line('No scheduled reports. crs reports schedule-set KIND --channels … adds one.');
      out.table(
        ['KIND', 'HOUR', 'ENABLED', 'CHANNELS', 'NEXT PERIOD', 'NEXT SEND'],
        items.map((i) => [
          i.kind,
          `${String(i.hour).padStart(2, '0')}:00`,
          i.enabled ? 'yes' : 'no',
          i.channels.join(','),
          i.next?.period ?? '-',
          when(i.next?.at ?? null),
        ]),
      );
      out.line(`Times in ${s.timeZone}.`);
    },
  },
  {
    name: 'schedule-set',
    synopsis: 'schedule-set KIND --channels a,b [--hour H] [--enabled B]',
    summary: 'Send the daily, weekly or monthly report to these channels at hour H (default 8) of the day after.',
    args: ['KIND'],
    options: { channels: { type: 'string' }, hour: { type: 'string' }, enabled: { type: 'string' } },
    async run(ctx, { args, values, out }) {
      const kind = kindOf(args[0]);
      const channels = await channelsOf(ctx, values);
      if (!channels) throw usageError('--channels is required.');
      const rawHour = str(values, 'hour');
      const hour = rawHour === undefined ? undefined : Number(rawHour);
      if (hour !== undefined && !(Number.isInteger(hour) && hour >= 0 && hour <= 23))
        throw usageError('--hour: expected an integer from 0 to 23.');
      const rawEnabled = str(values, 'enabled');
      if (rawEnabled !== undefined && rawEnabled !== 'true' && rawEnabled !== 'false')
        throw usageError('--enabled: expected true or false.');
      const s = await schedulesOf(ctx);
      const view = s.view(
        await s.put(kind, { channels, hour, enabled: rawEnabled === undefined ? undefined : rawEnabled === 'true' }),
      );
      if (out.json) return out.data(view);
      out.line(`The ${kind} report goes to ${view.channels.length} channel(s) at ${view.hour}:00 (${s.timeZone}).`);
      if (view.next) out.line(`Next: ${view.next.period} at ${when(view.next.at)}.`);
    },
  },
  {
    name: 'schedule-remove',
    synopsis: 'schedule-remove KIND',
    summary: 'No more reports of this kind.',
    args: ['KIND'],
    async run(ctx, { args, out }) {
      const kind = kindOf(args[0]);
      if (!(await (await schedulesOf(ctx)).remove(kind))) throw new CliError(`There is no ${kind} schedule.`);
      if (out.json) return out.data({ removed: kind });
      out.line(`Removed the ${kind} schedule.`);
    },
  },
  {
    name: 'schedule-send',
    synopsis: 'schedule-send KIND [--channels a,b]',
    summary: "Send the last complete period's report now (to the schedule's channels by default).",
    args: ['KIND'],
    options: { channels: { type: 'string' } },
    async run(ctx, { args, values, out }) {
      const kind = kindOf(args[0]);
      const s = await schedulesOf(ctx);
      const channels = (await channelsOf(ctx, values)) ?? (await s.get(kind))?.channels ?? [];
      if (channels.length === 0) throw usageError(`There is no ${kind} schedule: give --channels.`);
      const r = await s.requestSend(kind, channels, 'crs');
      if (out.json) return out.data({ id: r.id, kind, period: r.period.name, channels: r.channels });
      out.line(`Queued the ${kind} report of ${r.period.name}: the node running the jobs sends it within seconds.`);
    },
  },
];
