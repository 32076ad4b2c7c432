import type { Command } from 'commander';
import { runDrift } from '../../../lambdas/core/drift/run.ts';
import type { DriftReport } from '../../../lambdas/core/drift/types.ts';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import { renderHtmlReport } from '../../../lambdas/core/report/html.ts';
import { renderTextReport } from '../../../lambdas/core/report/text.ts';
import { loadBaseline } from '../baseline.ts';
import {
  addCaptureFlags,
  type CaptureFlags,
  captureColumnOptions,
  openTable,
  warnBadCaptureRecords,
} from '../capture.ts';
import { EXIT } from '../exit.ts';
import {
  type ColumnFlags,
  collectList,
  collectRepeated,
  columnOptions,
  type DecisionFlags,
  decisionOptions,
  maxDecompressedBytesOption,
  maxSegmentsOption,
  parseWholeNumber,
} from '../flags.ts';
import { emit, useColor } from '../output.ts';
import { commandProfiler, defaultThreads, MAX_DEFAULT_THREADS } from '../parallel/profile-parallel.ts';
import { ProgressReporter } from '../progress.ts';

interface DriftFlags extends ColumnFlags, DecisionFlags, CaptureFlags {
  format?: string;
  out?: string;
  quiet?: boolean;
  failOnDrift?: boolean;
  maxDecompressedBytes?: number;
  threads?: number;
}

/** Flags shared by `drift` and `profile`: which columns are what and how they are sampled. */
export function addColumnFlags(command: Command): Command {
  return addCaptureFlags(command)
    .option('--numeric <columns>', 'treat these columns as numeric (comma-separated)', collectList)
    .option('--categorical <columns>', 'treat these columns as categorical, labels as raw text', collectList)
    .option('--exclude <columns>', 'columns that are not features: labels, predictions, ids', collectList)
    .option('--segment <column>', 'also test every feature within each value of this column')
    .option(
      '--sample-cap <n>',
      'rows sampled per side for KS/Wasserstein; exact below it (default 250000)',
      parseWholeNumber('--sample-cap', 1),
    )
    .option('--seed <n>', 'seed of the sampler (default 42)', parseWholeNumber('--seed', 0))
    .option(
      '--max-categories <n>',
      'distinct values above which a categorical column is rejected (default 10000)',
      parseWholeNumber('--max-categories', 2),
    )
    .addOption(maxSegmentsOption())
    .addOption(maxDecompressedBytesOption())
    .option(
      '--threads <n>',
      'threads reading each local CSV file over 16 MB, each profiling every N-th column (default: ' +
        `the cores, at most ${MAX_DEFAULT_THREADS}); the report is the same for any N`,
      parseWholeNumber('--threads', 1),
    );
}

export function registerDrift(program: Command): void {
  const command = program
    .command('drift')
    .summary('compare CURRENT data with a BASELINE data file or profile')
    .description(
      'Compare CURRENT with BASELINE (a CSV, JSON Lines or Parquet file, optionally .gz, or a profile from\n' +
        '`driftwatch profile`) feature by feature, as docs/drift-spec.md defines.',
    )
    .argument('<baseline>', 'baseline data file or profile')
    .argument('<current>', 'current data file');
  addColumnFlags(command)
    .option(
      '--method <method[:threshold]>',
      'method for every feature it applies to: auto, ks, psi, jensenShannon, wasserstein, chi2',
    )
    .option(
      '--feature-method <feature=method[:threshold]>',
      'method for one feature (repeatable)',
      collectRepeated,
    )
    .option('--drift-share <share>', 'share of drifted features that makes the dataset drifted (default 0.5)')
    .option(
      '--fdr <q>',
      'decide drift on p-values adjusted for false discoveries (Benjamini-Hochberg at level Q, e.g. 0.05) ' +
        "AND a minimum effect: drift spec version 2 (every method's p-value, raw and adjusted, in the report)",
    )
    .option(
      '--min-effect <method:value>',
      "with --fdr: smallest effect that counts as drift, ks:D and chi2:Cramér's V (default ks:0.1,chi2:0.1; " +
        'the distances use their threshold)',
      collectList,
    )
    .option('--format <format>', 'text, json or html (default: text on a terminal, json otherwise)')
    .option('-o, --out <file>', 'write the report to FILE instead of stdout')
    .option('--fail-on-drift', `exit ${EXIT.breach} when the dataset drifted`)
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (baselinePath: string, currentPath: string, flags: DriftFlags) => {
      const format = flags.format ?? (process.stdout.isTTY && !flags.out ? 'text' : 'json');
      if (!['text', 'json', 'html'].includes(format))
        throw new ConfigError('--format', `expected text, json or html, got ${JSON.stringify(format)}`);
      const baseline = await loadBaseline(baselinePath, flags);
      const { input: current, capture } = await openTable(currentPath, flags);
      const options = {
        ...captureColumnOptions(columnOptions(flags), capture || baseline.capture),
        ...decisionOptions(flags),
      };
      const progress = new ProgressReporter(!flags.quiet);
      const inputs = baseline.kind === 'data' ? [baseline.input, current] : [current];
      const profiler = commandProfiler(flags.threads ?? defaultThreads(), inputs);
      let report: DriftReport;
      try {
        report = await runDrift(baseline, current, options, {
          maxDecompressedBytes: flags.maxDecompressedBytes,
          profiler,
          pairProfiler: profiler?.pair,
          onProgress: (input, update) => progress.update(input, update),
        });
      } finally {
        progress.done();
      }
      warnBadCaptureRecords(
        baseline.captureInput ? [baseline.captureInput, current] : [current],
        flags.quiet,
      );
      const body =
        format === 'json'
          ? JSON.stringify(report, null, 2)
          : format === 'html'
            ? renderHtmlReport(report)
            : renderTextReport(report, {
                color: useColor(process.stdout) && !flags.out,
                width: process.stdout.columns,
              });
      await emit(body, flags.out);
      if (flags.failOnDrift && report.datasetDrift) process.exitCode = EXIT.breach;
    });
}
