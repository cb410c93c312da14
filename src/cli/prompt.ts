import { CliError } from './errors.js';

/** The first line of stdin (without its line break), or undefined when stdin is empty. */
export function firstLine(stream: NodeJS.ReadStream = process.stdin): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const finish = (line: string | undefined) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', reject);
      stream.pause();
      resolve(line?.replace(/\r$/, ''));
    };
    const onData = (chunk: string) => {
      buffer += chunk;
      const eol = buffer.indexOf('\n');
      if (eol >= 0) finish(buffer.slice(0, eol));
    };
    const onEnd = () => finish(buffer.length > 0 ? buffer : undefined);
    stream.setEncoding('utf8');
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', reject);
    stream.resume();
  });
}

/** Reads a line from the terminal without echoing it (the prompt goes to stderr). */
export function readHidden(prompt: string, stream: NodeJS.ReadStream = process.stdin): Promise<string> {
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      stream.off('data', onData);
      stream.setRawMode(false);
      stream.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new CliError('Cancelled.', 130));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stream.setEncoding('utf8');
    stream.setRawMode(true);
    stream.on('data', onData);
    stream.resume();
  });
}

/**
 * A secret the user types: hidden and asked twice on a terminal, else the first line of stdin
 * (so scripts can pipe it in instead of putting it on the command line, where `ps` shows it).
 */
export async function readSecret(what: string, opts: { confirm: boolean }): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await readHidden(`${what}: `);
    if (opts.confirm) {
      const again = await readHidden(`${what} (again): `);
      if (again !== first) throw new CliError('The two entries differ; nothing was changed.', 2);
    }
    return first;
  }
  const line = await firstLine();
  if (line === undefined)
    throw new CliError(
      `No ${what.toLowerCase()} given: pass it as a flag, type it on a terminal, or pipe it to stdin.`,
      2,
    );
  return line;
}
