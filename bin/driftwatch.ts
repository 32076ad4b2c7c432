#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerDetect } from './cli/commands/detect.ts';
import { registerDrift } from './cli/commands/drift.ts';
import { registerEstimate } from './cli/commands/estimate.ts';
import { registerEvaluate } from './cli/commands/evaluate.ts';
import { registerInit } from './cli/commands/init.ts';
import { registerProfile } from './cli/commands/profile.ts';
import { EXIT, reportError } from './cli/exit.ts';
import { addExamples } from './cli/help.ts';
import { exitQuietlyOnClosedPipe } from './cli/output.ts';

exitQuietlyOnClosedPipe();

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('driftwatch')
  .description('Data drift and model performance checks for ML models, locally and on AWS.')
  .version(version)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerInit(program);
registerProfile(program);
registerDrift(program);
registerEvaluate(program);
registerDetect(program);
registerEstimate(program);
// The commands that talk to AWS load the AWS SDK (a few hundred milliseconds and tens of MB): only when one
// of them, the help or an unknown command is asked for.
const command = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
if (
  command === undefined ||
  !['init', 'profile', 'drift', 'evaluate', 'detect', 'estimate'].includes(command)
) {
  const [{ registerRetrain }, { registerHistory }, { registerRollback }] = await Promise.all([
    import('./cli/commands/retrain.ts'),
    import('./cli/commands/history.ts'),
    import('./cli/commands/rollback.ts'),
  ]);
  registerRetrain(program);
  registerHistory(program);
  registerRollback(program);
}

addExamples(program);

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
