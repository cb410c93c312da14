#!/usr/bin/env node
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadConfig } from '../config/index.js';
import { createLogger, type Logger } from '../util/log.js';
import { VERSION } from '../version.js';
import { accountsGroup } from './accounts.js';
import { alertsGroup } from './alerts.js';
import { adminGroup } from './admin.js';
import { parseCommandLine } from './args.js';
import { groupHelp, type Group } from './command.js';
import { createCliContext, type CliContext } from './context.js';
import { describeError, EXIT_USAGE, usageError } from './errors.js';
import { exportGroup } from './export.js';
import { groupsGroup } from './groups.js';
import { keysGroup } from './keys.js';
import { createOutput } from './output.js';
import { pricingGroup } from './pricing.js';
import { reportsGroup } from './reports.js';

/**
 * `crs`: administration from the command line. It talks to the relay's Redis through the same
 * services as the relay (configured by the same environment), so every change reaches running
 * relays through the usual pub/sub invalidation.
 */
const GROUPS: readonly Group[] = [
  keysGroup,
  accountsGroup,
  groupsGroup,
  alertsGroup,
  adminGroup,
  pricingGroup,
  reportsGroup,
  exportGroup,
];

const HELP_WORDS = new Set(['help', '--help', '-h']);
const CLOSE_TIMEOUT_MS = 3_000;

function mainHelp(): string {
  const width = Math.max(...GROUPS.map((g) => g.name.length));
  return (
    [
      `crs ${VERSION}: administer a Claude Relay Service deployment.`,
      '',
      'Usage: crs <group> <command> [options]',
      '',
      ...GROUPS.map((g) => `  ${g.name.padEnd(width)}  ${g.summary}`),
      '',
      ...GROUPS.flatMap((g) => g.commands.map((c) => `  crs ${g.name} ${c.synopsis}`)),
      '',
      "crs <group> --help shows a group's commands. Every command takes --json for machine output.",
      '',
      "crs reads the relay's configuration from the same environment variables (REDIS_URL or",
      'REDIS_CLUSTER_NODES, REDIS_KEY_PREFIX, ENCRYPTION_KEY, DATA_DIR, ...). Without REDIS_URL it',
      'talks to the embedded Redis of a relay running from the same DATA_DIR.',
    ].join('\n') + '\n'
  );
}

async function run(argv: string[], write: (text: string) => void): Promise<number> {
  const [groupName, commandName, ...rest] = argv;
  if (groupName === undefined || HELP_WORDS.has(groupName)) {
    const target = groupName === 'help' && commandName ? GROUPS.find((g) => g.name === commandName) : undefined;
    if (groupName === 'help' && commandName && !target)
      throw usageError(`Unknown group "${commandName}". Groups: ${GROUPS.map((g) => g.name).join(', ')}.`);
    write(target ? groupHelp(target) : mainHelp());
    return groupName === undefined ? EXIT_USAGE : 0;
  }
  if (groupName === '--version' || groupName === 'version') {
    write(`${VERSION}\n`);
    return 0;
  }
  const group = GROUPS.find((g) => g.name === groupName);
  if (!group) throw usageError(`Unknown command "${groupName}". Run crs help.`);
  if (commandName === undefined || HELP_WORDS.has(commandName)) {
    write(groupHelp(group));
    return commandName === undefined ? EXIT_USAGE : 0;
  }
  const command = group.commands.find((c) => c.name === commandName);
  if (!command) throw usageError(`Unknown command "crs ${group.name} ${commandName}". Run crs ${group.name} --help.`);

  const { values, positionals } = parseCommandLine(rest, command.options ?? {});
  if (values.help === true) {
    write(groupHelp(group));
    return 0;
  }
  const expected = command.args ?? [];
  if (positionals.length < expected.length)
    throw usageError(
      `Missing ${expected.slice(positionals.length).join(' ')}. Usage: crs ${group.name} ${command.synopsis}`,
    );
  if (positionals.length > expected.length)
    throw usageError(
      `Unexpected argument "${positionals[expected.length]}". Usage: crs ${group.name} ${command.synopsis}`,
    );

  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw usageError(`Configuration error: ${err.message}`);
    throw err;
  }
  const log = cliLogger(config.logLevel);
  const ctx: CliContext = createCliContext(config, log);
  try {
    await command.run(ctx, { values, args: positionals, out: createOutput(values.json === true, write) });
  } finally {
    // Bounded: a Redis that went away mid-command must not keep the CLI from exiting.
    await Promise.race([ctx.close(), sleep(CLOSE_TIMEOUT_MS)]);
  }
  return 0;
}

/** Logs go to stderr, errors only unless LOG_LEVEL=debug (Redis reconnect warnings are noise here). */
function cliLogger(level: string): Logger {
  return createLogger(
    level === 'debug' ? 'debug' : 'error',
    { role: 'cli' },
    (line) => void process.stderr.write(line + '\n'),
  );
}

const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));

/** Exits once stdout and stderr are written out (they can be asynchronous pipes). */
async function exit(code: number): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

// `crs keys list | head -1` closes the pipe early; that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

run(process.argv.slice(2), (text) => void process.stdout.write(text)).then(
  (code) => exit(code),
  (err: unknown) => {
    const { message, exitCode } = describeError(err);
    process.stderr.write(`crs: ${message}\n`);
    return exit(exitCode);
  },
);
