import { RelayError } from '../errors/catalogue.js';
import type { ApiKeyId } from '../ids.js';
import { USAGE_TTL } from '../store/index.js';
import { task } from '../work/pool.js';
import { CONTENT_TYPES, head, tail, type Format } from './csv.js';
import {
  exportChunk,
  RECORD_COLUMNS,
  USAGE_COLUMNS,
  type ChunkInput,
  type ChunkOutput,
  type ExportGroup,
  type ExportSubject,
} from './export-chunk.js';
import type { ReportDeps } from './deps.js';
import { calendar, STEPS, type Step } from './periods.js';
import { listSubjects } from './subjects.js';

/** Where an export's text goes: written in order, awaiting backpressure; aborted when the client leaves. */
export interface ExportSink {
  write(text: string): Promise<void> | undefined;
  readonly signal: AbortSignal;
  /** Told after each chunk is written (the CLI's progress bar). */
  progress?(done: number, total: number, rows: number): void;
}

/** An export ready to stream: its headers (known before the first row) and the writer. */
export interface PreparedExport {
  headers: Record<string, string>;
  run(sink: ExportSink): Promise<{ rows: number; bytes: number }>;
}

export interface UsageExportQuery {
  format: Format;
  group: ExportGroup;
  step: Step;
  from: number;
  to: number;
  /** Only periods ending after this instant (the previous pull's `x-next-since`). */
  since?: number;
}

export interface RecordExportQuery {
  format: Format;
  from: number;
  to: number;
  since?: number;
  keyId?: ApiKeyId;
}

/** Subjects per chunk: one pool task reads and serialises them (a few thousand rows). */
const SUBJECTS_PER_CHUNK = 40;
const KEYS_PER_RECORD_CHUNK = 20;
/** Records booked later than this after they finished are missed by a `since` pull. */
export const RECORD_SAFETY_LAG_MS = 60_000;

const CHUNK_TASK = task<ChunkInput, ChunkOutput>(new URL('./export-task.js', import.meta.url), 'chunk');
const invalid = (message: string) => new RelayError('admin_invalid', { message });
const iso = (ms: number) => new Date(ms).toISOString();

export interface Exporter {
  usage(q: UsageExportQuery): Promise<PreparedExport>;
  records(q: RecordExportQuery): Promise<PreparedExport>;
}

/**
 * Streamed exports of the usage buckets and the kept usage records. Subjects go in chunks to the
 * pool (each thread reads its chunk's hashes over its own connection and serialises them), at
 * most two chunks ahead of the socket: memory stays bounded whatever the export's size, and a
 * client that leaves stops the reading (the sink's signal).
 */
export function createExporter(deps: ReportDeps & { prefix: string }): Exporter {
  const cal = calendar(deps.timeZone);

  const runChunks = async (
    format: Format,
    columns: readonly string[],
    inputs: ChunkInput[],
    sink: ExportSink,
  ): Promise<{ rows: number; bytes: number }> => {
    const target = deps.redisTarget;
    const one = (input: ChunkInput): Promise<ChunkOutput> =>
      target.kind === 'embedded'
        ? exportChunk(deps.store.redis, input)
        : deps.work.run(CHUNK_TASK, input, { signal: sink.signal });
    let rows = 0;
    let bytes = 0;
    const emit = async (text: string) => {
      if (text.length === 0) return;
      sink.signal.throwIfAborted();
      bytes += Buffer.byteLength(text);
      await sink.write(text);
    };
    await emit(head(format, columns));
    // Two chunks in flight: the next one is read while this one is written.
    let next = inputs.length > 0 ? one(inputs[0]!) : undefined;
    for (let i = 0; next; i++) {
      const current = await next;
      next = i + 1 < inputs.length ? one(inputs[i + 1]!) : undefined;
      let text = current.text;
      if (format === 'json' && rows === 0 && text.startsWith(',')) text = text.slice(1);
      rows += current.rows;
      try {
        await emit(text);
        sink.progress?.(i + 1, inputs.length, rows);
      } catch (err) {
        next?.catch(() => {});
        throw err;
      }
    }
    await emit(tail(format));
    return { rows, bytes };
  };

  const resolved = () => {
    const t = deps.redisTarget;
    // The embedded store is reached only through the process's own connection (read inline).
    return t.kind === 'embedded' ? { kind: 'url' as const, url: '' } : t;
  };
  const chunks = <T>(xs: T[], n: number): T[][] => {
    const out: T[][] = [];
    for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
    return out;
  };
  const filename = (what: string, format: Format, from: number, to: number) =>
    `attachment; filename="crs-${what}-${iso(from).slice(0, 10)}-${iso(to).slice(0, 10)}.${format === 'ndjson' ? 'ndjson' : format}"`;

  return {
    async usage(q) {
      if (!STEPS.includes(q.step)) throw invalid(`step must be one of ${STEPS.join(', ')}.`);
      if (!(q.from < q.to)) throw invalid('from must be before to.');
      if (q.group === 'model' && q.step === 'hour')
        throw invalid('Usage per model is kept per day: use step day, week or month.');
      const now = deps.clock.now();
      let periods = cal.periods(q.from, q.to, q.step);
      const kept =
        (q.step === 'hour' ? USAGE_TTL.hourly : q.step === 'month' ? USAGE_TTL.monthly : USAGE_TTL.daily) * 1000;
      if ((periods[0]?.start ?? now) < now - kept)
        throw invalid(`These usage buckets are kept ${kept / 86_400_000} days; use a later from or a coarser step.`);
      if (q.since !== undefined) periods = periods.filter((p) => p.end > (q.since as number));
      // The next pull starts at the first period not complete yet (its rows are written again, as upserts).
      const open = periods.find((p) => p.end > now);
      const nextSince = open ? open.start : (periods[periods.length - 1]?.end ?? q.to);
      const subjects = await listSubjects(deps, q.group);
      const accountIds = q.group === 'model' ? (await listSubjects(deps, 'account')).map((a) => a.id) : [];
      const inputs: ChunkInput[] = chunks(subjects, SUBJECTS_PER_CHUNK).map((s) => ({
        kind: 'usage',
        target: resolved(),
        prefix: deps.prefix,
        format: q.format,
        subjects: s,
        group: q.group,
        step: q.step,
        timeZone: deps.timeZone,
        periods,
        now,
        accountIds,
      }));
      return {
        headers: {
          'content-type': CONTENT_TYPES[q.format],
          'content-disposition': filename(`usage-by-${q.group}-${q.step}`, q.format, q.from, q.to),
          'x-next-since': iso(nextSince),
          'cache-control': 'no-store',
        },
        run: (sink) => runChunks(q.format, USAGE_COLUMNS, inputs, sink),
      };
    },

    async records(q) {
      if (!(q.from < q.to)) throw invalid('from must be before to.');
      const until = deps.clock.now() - RECORD_SAFETY_LAG_MS;
      let keys: ExportSubject[] = await listSubjects(deps, 'key');
      if (q.keyId) {
        keys = keys.filter((k) => k.id === q.keyId);
        if (keys.length === 0) throw new RelayError('admin_not_found', { message: `No API key ${q.keyId}.` });
      }
      const inputs: ChunkInput[] = chunks(keys, KEYS_PER_RECORD_CHUNK).map((s) => ({
        kind: 'records',
        target: resolved(),
        prefix: deps.prefix,
        format: q.format,
        subjects: s,
        from: q.from,
        to: q.to,
        since: q.since ?? 0,
        until,
      }));
      return {
        headers: {
          'content-type': CONTENT_TYPES[q.format],
          'content-disposition': filename('records', q.format, q.from, q.to),
          'x-next-since': iso(until),
          'cache-control': 'no-store',
        },
        run: (sink) => runChunks(q.format, RECORD_COLUMNS, inputs, sink),
      };
    },
  };
}
