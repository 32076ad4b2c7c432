import { ConfigError, InputError } from '../../lambdas/core/errors.ts';
import { ConfigValidationError } from '../../lib/config/errors.ts';

/** Exit codes of every command, documented in docs/cli.md. */
export const EXIT = {
  ok: 0,
  /** Bad input data, or a failure while running. */
  failure: 1,
  /** Bad flags or configuration. */
  usage: 2,
  /** The check ran and found what it is asked to fail on (drift with --fail-on-drift, a breached limit). */
  breach: 3,
} as const;

/** Prints one clear line for an error and gives the exit code it deserves. */
export function reportError(error: unknown): number {
  if (error instanceof ConfigError || error instanceof ConfigValidationError) {
    process.stderr.write(`driftwatch: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof InputError) {
    process.stderr.write(`driftwatch: ${error.message}\n`);
    return EXIT.failure;
  }
  const err = error as NodeJS.ErrnoException;
  // The reader of stdout went away (`| head`): nothing left to say to anyone.
  if (err?.code === 'EPIPE') return EXIT.ok;
  if (err?.code === 'ENOENT' && err.path) {
    process.stderr.write(`driftwatch: ${err.path}: no such file\n`);
    return EXIT.failure;
  }
  if (err?.code === 'EACCES' && err.path) {
    process.stderr.write(`driftwatch: ${err.path}: permission denied\n`);
    return EXIT.failure;
  }
  process.stderr.write(`driftwatch: ${err?.message ?? String(error)}\n`);
  if (process.env['DRIFTWATCH_DEBUG']) process.stderr.write(`${err?.stack ?? ''}\n`);
  return EXIT.failure;
}
