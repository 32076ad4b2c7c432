import type { Command } from 'commander';
import { estimateTables, type TableEstimate } from '../../../lambdas/core/performance/cbpe.ts';
import { checkLimits, describeBreach, describeUnchecked } from '../../../lambdas/core/performance/limits.ts';
import { renderPerformanceText } from '../../../lambdas/core/performance/text.ts';
import { addCaptureFlags, openTable, warnBadCaptureRecords } from '../capture.ts';
import { EXIT } from '../exit.ts';
import { emit } from '../output.ts';
import { addPerformanceFlags } from '../performance-flags.ts';
import { ProgressReporter } from '../progress.ts';
import { type EvaluateFlags, performanceSettings } from './evaluate.ts';

export function registerEstimate(program: Command): void {
  const command = program
    .command('estimate')
    .summary("estimate a model's performance on CURRENT before its labels arrive (CBPE)")
    .description(
      'Fit a calibrator (isotonic regression of the label on the score) on the labelled REFERENCE, then\n' +
        'estimate the accuracy, precision, recall, f1, ROC AUC, Gini, log loss, Brier score and positive rate\n' +
        "the scores in CURRENT are expected to have: confidence-based performance estimation. CURRENT's labels\n" +
        'are not needed (and not used). The report has the shape of `driftwatch evaluate`\'s with "estimated":\n' +
        'true and the expected confusion counts. Limits as in evaluate; exits ' +
        `${EXIT.breach} when one is breached.\n` +
        'The estimate assumes the relation between score and outcome is what it was on REFERENCE: it follows\n' +
        'changes in who the model sees, not changes in what their features mean.',
    )
    .argument('<reference>', 'labelled data the model was validated on (label and score columns)')
    .argument('<current>', 'data to estimate, with a score column (labels not needed)')
    .requiredOption('--label <column>', 'the label column of REFERENCE')
    .requiredOption('--score <column>', "the score column: the model's probability of the positive class");
  addPerformanceFlags(command, 'estimate');
  addCaptureFlags(command).action(
    async (referencePath: string, currentPath: string, flags: EvaluateFlags) => {
      const { format, limits, baseline, options } = await performanceSettings(flags);
      const progress = new ProgressReporter(!flags.quiet);
      const readOptions = (path: string) => ({
        maxDecompressedBytes: flags.maxDecompressedBytes,
        onProgress: (update: Parameters<ProgressReporter['update']>[1]) => progress.update(path, update),
      });
      let estimate: TableEstimate;
      const { input: reference } = await openTable(referencePath, flags);
      const { input: current } = await openTable(currentPath, flags);
      try {
        estimate = await estimateTables(reference, current, options, {
          reference: readOptions(referencePath),
          current: readOptions(currentPath),
        });
      } finally {
        progress.done();
      }
      warnBadCaptureRecords([reference, current], flags.quiet);
      const { report } = estimate;
      const check = limits.length > 0 ? checkLimits(report, limits, baseline) : null;
      if (!flags.quiet) {
        for (const warning of estimate.warnings) process.stderr.write(`driftwatch: warning: ${warning}\n`);
        for (const unchecked of check?.unchecked ?? []) {
          process.stderr.write(`driftwatch: warning: ${describeUnchecked(unchecked)}\n`);
        }
      }
      for (const breach of check?.breaches ?? []) {
        process.stderr.write(`driftwatch: breach (estimated): ${describeBreach(breach)}\n`);
      }
      const body =
        format === 'json'
          ? JSON.stringify(report, null, 2)
          : renderPerformanceText(report, {
              input: currentPath,
              positive: options.positive ?? '1',
              check,
              estimatedFrom: referencePath,
            });
      await emit(body, flags.out);
      if (check !== null && check.breaches.length > 0) process.exitCode = EXIT.breach;
    },
  );
}
