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

const stdoutSink: LogSink = (line) => {
  process.stdout.write(line + '\n');
};

export function createLogger(level: LogLevel, bindings: Fields = {}, sink: LogSink = stdoutSink): Logger {
  const min = RANK[level];
  const emit = (lvl: LogLevel, msg: string, fields?: Fields) => {
    if (RANK[lvl] < min) return;
    const entry: Fields = { t: new Date().toISOString(), level: lvl, msg, ...bindings, ...fields };
    const err = entry.err;
    if (err instanceof Error)
      entry.err = { name: err.name, message: err.message, stack: err.stack, cause: describeCause(err.cause) };
    sink(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (lvl) => RANK[lvl] >= min,
    child: (b) => createLogger(level, { ...bindings, ...b }, sink),
  };
}

function describeCause(cause: unknown): unknown {
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return cause;
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger('error', {}, () => {});
