import type { Command } from 'commander';

/**
 * An example for the program and each command, shown at the end of `--help` (and kept in docs/cli.md). A
 * test fails when a command has none.
 */
export const EXAMPLES: Record<string, string[]> = {
  driftwatch: [
    'driftwatch init train.csv --name churn --label churn   # watch a new model',
    'driftwatch drift train.csv current.csv                 # compare two files now',
    'driftwatch <command> --help                            # the flags of a command',
  ],
  init: ['driftwatch init data/train.csv --name churn --label churn --segment area_code'],
  profile: ['driftwatch profile train.csv -o baseline.profile.json --exclude churn --segment area_code'],
  drift: [
    'driftwatch drift baseline.profile.json current.csv.gz --format html -o report.html',
    'driftwatch drift train.parquet current.jsonl --format json --fail-on-drift | jq .datasetDrift',
  ],
  evaluate: [
    'driftwatch evaluate golden.csv --label churn --score p --positive yes --min accuracy=0.85',
    'driftwatch evaluate capture/ --ground-truth ground-truth/ --label churn --score score --positive yes',
  ],
  detect: ['driftwatch detect feedback.csv --column error --method adwin --format json'],
  estimate: [
    'driftwatch estimate reference.csv current.csv --label churn --score p --positive yes --format json',
  ],
  retrain: ['driftwatch retrain churn --reason "new pricing" --wait --region eu-west-1'],
  history: ['driftwatch history churn --format json --region eu-west-1'],
  rollback: ['driftwatch rollback churn --to 3 --region eu-west-1'],
};

/** Adds the examples of the program and of every registered command to their help. */
export function addExamples(program: Command): void {
  for (const command of [program, ...program.commands]) {
    const lines = EXAMPLES[command.name()];
    if (lines === undefined) continue;
    const title = lines.length === 1 ? 'Example' : 'Examples';
    command.addHelpText('after', `\n${title}:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`);
  }
}
