import type { Command } from 'commander';
import { collectList, collectRepeated, maxDecompressedBytesOption, maxSegmentsOption } from './flags.ts';

/**
 * The flags `evaluate` and `estimate` share, after their own `--label` and `--score`: how a score becomes a
 * prediction, the segment and classes, the limits (`--min`, `--max`, `--max-drop` against `--baseline`),
 * the input limits and the output. `performanceSettings` (commands/evaluate.ts) reads them.
 */
export function addPerformanceFlags(command: Command, verb: 'evaluate' | 'estimate'): Command {
  return command
    .option('--positive <value>', 'the positive label, compared as raw text (default "1")')
    .option('--threshold <t>', 'predict positive when score >= t (default 0.5)')
    .option('--segment <column>', `also ${verb} each value of this column`)
    .option(
      '--classes <labels>',
      'the only labels allowed (comma-separated); any other label is an error',
      collectList,
    )
    .option(
      '--baseline <report>',
      'a report of `driftwatch evaluate --format json` to compare with (--max-drop)',
    )
    .option(
      '--min <metric=value>',
      'floor of a higher-is-better metric or positiveRate (repeatable)',
      collectRepeated,
    )
    .option('--max <metric=value>', 'ceiling of logLoss, brier or positiveRate (repeatable)', collectRepeated)
    .option(
      '--max-drop <metric=share>',
      'largest relative degradation against --baseline (repeatable)',
      collectRepeated,
    )
    .addOption(maxSegmentsOption())
    .addOption(maxDecompressedBytesOption())
    .option('--format <format>', 'text or json (default: text on a terminal, json otherwise)')
    .option('-o, --out <file>', 'write the report to FILE instead of stdout')
    .option('-q, --quiet', 'no progress or warnings on stderr');
}
