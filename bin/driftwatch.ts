#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerDrift } from './cli/commands/drift.ts';
import { registerEvaluate } from './cli/commands/evaluate.ts';
import { registerHistory } from './cli/commands/history.ts';
import { registerProfile } from './cli/commands/profile.ts';
import { registerRetrain } from './cli/commands/retrain.ts';
import { registerRollback } from './cli/commands/rollback.ts';
import { EXIT, reportError } from './cli/exit.ts';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('driftwatch')
  .description('Data drift and model performance checks for ML models, locally and on AWS.')
  .version(version)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerProfile(program);
registerDrift(program);
registerEvaluate(program);
registerRetrain(program);
registerHistory(program);
registerRollback(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help/version text).
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.exitCode = reportError(error);
  }
}
