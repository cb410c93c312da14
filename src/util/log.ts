import type { LogLevel } from '../config/index.js';

export type Fields = Record<string, unknown>;

/** Structured logs: one JSON object per line, fields not prose. */
export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** Whether lines of this level are written (build costly fields only when they are). */
  enabled(level: LogLevel): boolean;
  child(bindings: Fields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (line: string) => void;
export type LogFormat = 'json' | 'pretty';

const stdoutSink: LogSink = (line) => {
  process.stdout.write(line + '\n');
};

/**
 * Fields that would hold a secret if a caller ever passed one. Callers log ids, never keys, tokens
 * or bodies; this is the second line of defence, so a mistake prints `[redacted]`, not the secret.
 */
const SECRET_FIELDS = new Set([
  'apikey',
  'api_key',
  'key',
  'secret',
  'password',
  'token',
  'accesstoken',
  'refreshtoken',
  'authorization',
  'cookie',
  'credentials',
]);

export function createLogger(
  level: LogLevel,
  bindings: Fields = {},
  sink: LogSink = stdoutSink,
  format: LogFormat = 'json',
): Logger {
  const min = RANK[level];
  const emit = (lvl: LogLevel, msg: string, fields?: Fields) => {
    if (RANK[lvl] < min) return;
    const entry: Fields = { t: new Date().toISOString(), level: lvl, msg, ...bindings, ...fields };
    for (const name of Object.keys(entry)) if (SECRET_FIELDS.has(name.toLowerCase())) entry[name] = '[redacted]';
    const err = entry.err;
    if (err instanceof Error)
      entry.err = { name: err.name, message: err.message, stack: err.stack, cause: describeCause(err.cause) };
    sink(format === 'pretty' ? pretty(entry) : JSON.stringify(entry));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (lvl) => RANK[lvl] >= min,
    child: (b) => createLogger(level, { ...bindings, ...b }, sink, format),
  };
}

const COLOURS: Record<string, string> = { debug: '\x1b[90m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };

/** `12:03:04.567 INFO  request  requestId=… status=200 …` for a human at a terminal. */
function pretty(entry: Fields): string {
  const { t, level, msg, ...rest } = entry;
  const time = typeof t === 'string' ? t.slice(11, 23) : '';
  const lvl = String(level);
  const colour = process.stdout.isTTY ? (COLOURS[lvl] ?? '') : '';
  const reset = colour ? '\x1b[0m' : '';
  const pairs = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`);
  return `${time} ${colour}${lvl.toUpperCase().padEnd(5)}${reset} ${String(msg)}  ${pairs.join(' ')}`.trimEnd();
}

function describeCause(cause: unknown): unknown {
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return cause;
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger('error', {}, () => {});
