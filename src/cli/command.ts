import type { OptionSpec, Values } from './args.js';
import type { CliContext } from './context.js';
import type { Output } from './output.js';

/** One parsed invocation of a command. */
export interface Invocation {
  values: Values;
  /** Positional arguments after the command name (e.g. the ID). */
  args: string[];
  out: Output;
}

export interface Command {
  name: string;
  /** Synopsis after `crs <group> `, e.g. `show ID`. */
  synopsis: string;
  summary: string;
  /** Names of the positional arguments, in order (all required). */
  args?: readonly string[];
  options?: OptionSpec;
  run(ctx: CliContext, inv: Invocation): Promise<void>;
}

export interface Group {
  name: string;
  summary: string;
  commands: readonly Command[];
  /** Extra lines for the group's help (flag meanings, examples). */
  notes?: readonly string[];
}

export function groupHelp(group: Group): string {
  const lines = [`crs ${group.name}: ${group.summary}`, '', 'Usage:'];
  for (const c of group.commands) lines.push(`  crs ${group.name} ${c.synopsis}`, `      ${c.summary}`);
  if (group.notes?.length) lines.push('', ...group.notes);
  lines.push('', 'Every command takes --json (machine-readable output) and --help.');
  return lines.join('\n') + '\n';
}
