import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { PreparedExport } from '../reports/export.js';
import { recordExportOf, usageExportOf, type Params } from '../reports/params.js';
import { str, type OptionSpec, type Values } from './args.js';
import type { Command, Group } from './command.js';
import { count, plural, type Output } from './output.js';

/** Flags are the admin API's parameters (src/reports/params.ts), plus `--out`. */
const paramsOf =
  (values: Values): Params =>
  (name) =>
    str(values, name === 'keyId' ? 'key' : name);
const opts = (...names: string[]): OptionSpec => Object.fromEntries(names.map((n) => [n, { type: 'string' }]));

/** The file name the server would offer, from `attachment; filename="…"`. */
const offeredName = (prepared: PreparedExport) =>
  /filename="([^"]+)"/.exec(prepared.headers['content-disposition'] ?? '')?.[1] ?? 'crs-export';

const BAR = 30;
function progressBar(done: number, total: number, rows: number): string {
  const filled = total === 0 ? BAR : Math.round((done / total) * BAR);
  return `\r[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${done}/${total} chunks, ${count(rows)} rows`;
}

/**
 * Writes an export to `--out` (or the offered file name), with a progress bar on stderr when it
 * is a terminal; `--out -` writes to stdout. Prints where it went and the next `--since`.
 */
async function save(prepared: PreparedExport, values: Values, out: Output): Promise<void> {
  const path = str(values, 'out') ?? offeredName(prepared);
  const file = path === '-' ? process.stdout : createWriteStream(path);
  const tty = process.stderr.isTTY && path !== '-';
  const controller = new AbortController();
  const fail = (err: Error) => controller.abort(err);
  file.on('error', fail);
  const result = await prepared.run({
    signal: controller.signal,
    write: (text) => (file.write(text) ? undefined : once(file, 'drain').then(() => undefined)),
    progress: tty ? (done, total, rows) => void process.stderr.write(progressBar(done, total, rows)) : undefined,
  });
  if (tty) process.stderr.write('\n');
  if (file !== process.stdout)
    await new Promise<void>((resolve, reject) => file.end((err?: Error) => (err ? reject(err) : resolve())));
  const nextSince = prepared.headers['x-next-since'];
  const summary = { file: path, rows: result.rows, bytes: result.bytes, nextSince };
  if (path === '-') return;
  if (out.json) return out.data(summary);
  out.line(`Wrote ${plural(result.rows, 'row')} (${count(result.bytes)} bytes) to ${path}.`);
  out.line(`Next incremental pull: --since ${nextSince}`);
}

const commands: Command[] = [
  {
    name: 'usage',
    synopsis:
      'usage [--format csv|json|ndjson] [--group key|account|model] [--step S] [--from F] [--to T] [--since I] [--out FILE]',
    summary: 'Usage per key, account or model and period, from the usage buckets.',
    options: opts('format', 'group', 'step', 'from', 'to', 'since', 'out'),
    async run(ctx, { values, out }) {
      const exporter = await ctx.exporter();
      const reports = await ctx.reports();
      await save(await exporter.usage(usageExportOf(paramsOf(values), reports.calendar, Date.now())), values, out);
    },
  },
  {
    name: 'records',
    synopsis: 'records [--format csv|json|ndjson] [--from F] [--to T] [--since I] [--key ID] [--out FILE]',
    summary: 'The kept usage records, one row per request (metadata and tokens, never content).',
    options: opts('format', 'from', 'to', 'since', 'key', 'out'),
    async run(ctx, { values, out }) {
      const exporter = await ctx.exporter();
      const reports = await ctx.reports();
      await save(await exporter.records(recordExportOf(paramsOf(values), reports.calendar, Date.now())), values, out);
    },
  },
];

export const exportGroup: Group = {
  name: 'export',
  summary: 'Streamed exports of usage and records to a file (docs/EXPORT.md).',
  commands,
  notes: [
    'F and T: a day (2026-11-01) or month (2026-11) in STATS_TIMEZONE, or an ISO 8601 instant; T is exclusive.',
    'I: the "Next incremental pull" of the previous export. FILE "-" is standard output.',
  ],
};
