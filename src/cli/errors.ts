import { RelayError } from '../errors/catalogue.js';
import { PricingTableError } from '../usage/pricing.js';
import { FLAG_OF_FIELD, kebab } from './flags.js';

/** Exit codes: 1 = the command failed, 2 = the command line or its input is wrong. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** An error the CLI reports as one clear line (no stack), with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT_USAGE);

/**
 * Payload field → flag: every field of the settings tables, and the admin password. Others are their kebab-case name.
 */
const FLAG_FOR_FIELD: Record<string, string> = {
  ...FLAG_OF_FIELD,
  newPassword: '--password',
};

export function flagFor(field: string): string {
  return FLAG_FOR_FIELD[field] ?? `--${kebab(field)}`;
}

/**
 * Turns any error into what the user sees. Validation errors come from the same helpers as the
 * admin API's and name a payload field (`expiresAt: …`); here they name the flag instead, also
 * where a message mentions another field (`… required with expiryMode after-first-use`).
 */
export function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof RelayError && err.code === 'admin_invalid') {
    const message = err.message
      .replace(/^([A-Za-z]+):/, (_, field: string) => `${flagFor(field)}:`)
      .replace(/\b[a-z]+[A-Z][A-Za-z]*\b/g, (word) => FLAG_FOR_FIELD[word] ?? word);
    return { message, exitCode: EXIT_USAGE };
  }
  if (err instanceof PricingTableError)
    return { message: `Invalid pricing table: ${err.message}.`, exitCode: EXIT_FAILED };
  if (err instanceof Error) return { message: err.message, exitCode: EXIT_FAILED };
  return { message: String(err), exitCode: EXIT_FAILED };
}
