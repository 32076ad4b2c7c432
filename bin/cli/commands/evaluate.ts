import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import { evaluateTable, type TableEvaluation } from '../../../lambdas/core/performance/evaluate.ts';
import {
  compareWithEstimate,
  evaluateWithGroundTruth,
  type GroundTruthJoin,
  type LabelFileSummary,
  sortLabelFiles,
} from '../../../lambdas/core/performance/ground-truth.ts';
import {
  assertDistinctLimits,
  checkLimits,
  describeBreach,
  describeUnchecked,
  type LimitKind,
  type PerformanceLimit,
  parseLimitFlag,
} from '../../../lambdas/core/performance/limits.ts';
import {
  type PerformanceReport,
  performanceReportFromJson,
} from '../../../lambdas/core/performance/report.ts';
import {
  renderEstimateComparisonText,
  renderGroundTruthText,
  renderPerformanceText,
} from '../../../lambdas/core/performance/text.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import {
  addCaptureFlags,
  type CaptureFlags,
  captureOptions,
  openTable,
  warnBadCaptureRecords,
} from '../capture.ts';
import { EXIT } from '../exit.ts';
import { collectRepeated } from '../flags.ts';
import { emit, readTextFile } from '../output.ts';
import { addPerformanceFlags } from '../performance-flags.ts';
import { ProgressReporter } from '../progress.ts';

export interface EvaluateFlags extends CaptureFlags {
  label: string;
  score: string;
  positive?: string;
  threshold?: string;
  segment?: string;
  classes?: string[];
  format?: string;
  out?: string;
  baseline?: string;
  min?: string[];
  max?: string[];
  maxDrop?: string[];
  maxSegments?: number;
  maxDecompressedBytes?: number;
  quiet?: boolean;
  groundTruth?: string[];
  groundTruthId?: string;
  groundTruthLabel?: string;
  groundTruthTime?: string;
  estimated?: string;
}

const LABEL_FILE = /\.(jsonl|json|csv|tsv|parquet)(\.gz)?$/i;

/** Label files of `--ground-truth` paths: files as given, directories recursively (label-like names only). */
function labelFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) throw new ConfigError('--ground-truth', `no such file or directory: ${path}`);
    if (!stats.isDirectory()) {
      files.push(path);
      continue;
    }
    const found = (readdirSync(path, { recursive: true }) as string[])
      .filter((name) => LABEL_FILE.test(name))
      .map((name) => join(path, name))
      .filter((name) => statSync(name).isFile());
    if (found.length === 0) {
      throw new ConfigError(
        '--ground-truth',
        `${path} holds no label files (*.jsonl, *.csv, *.parquet, .gz)`,
      );
    }
    files.push(...found);
  }
  return files;
}

const LIMIT_FLAGS: readonly { kind: LimitKind; flag: string; key: 'min' | 'max' | 'maxDrop' }[] = [
  { kind: 'min', flag: '--min', key: 'min' },
  { kind: 'max', flag: '--max', key: 'max' },
  { kind: 'maxDrop', flag: '--max-drop', key: 'maxDrop' },
];

function parseThreshold(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const threshold = Number(text);
  if (text.trim() === '' || !(threshold >= 0 && threshold <= 1)) {
    throw new ConfigError('--threshold', `expected a number in [0, 1], got ${JSON.stringify(text)}`);
  }
  return threshold;
}

function limitsFromFlags(flags: Pick<EvaluateFlags, 'min' | 'max' | 'maxDrop'>): PerformanceLimit[] {
  const entries: { limit: PerformanceLimit; field: string }[] = [];
  for (const { kind, flag, key } of LIMIT_FLAGS) {
    for (const text of flags[key] ?? [])
      entries.push({ limit: parseLimitFlag(text, kind, flag), field: flag });
  }
  assertDistinctLimits(entries);
  return entries.map((entry) => entry.limit);
}

/** A report written by `driftwatch evaluate --format json` (optionally gzip-compressed). */
async function loadBaselineReport(path: string): Promise<PerformanceReport> {
  return performanceReportFromJson(await readTextFile(path), path);
}

/**
 * What `evaluate` and `estimate` read from the same flags: the output format, the limits (a `--max-drop`
 * needs `--baseline`), the baseline report and the core's options, each flag named in its errors.
 */
export async function performanceSettings(flags: EvaluateFlags) {
  const format = flags.format ?? (process.stdout.isTTY && !flags.out ? 'text' : 'json');
  if (!['text', 'json'].includes(format)) {
    throw new ConfigError('--format', `expected text or json, got ${JSON.stringify(format)}`);
  }
  const limits = limitsFromFlags(flags);
  if (flags.baseline === undefined && limits.some((limit) => limit.maxDrop !== undefined)) {
    throw new ConfigError('--max-drop', 'needs --baseline, the report to compare with');
  }
  const baseline = flags.baseline === undefined ? null : await loadBaselineReport(flags.baseline);
  const options = {
    label: flags.label,
    score: flags.score,
    positive: flags.positive,
    threshold: parseThreshold(flags.threshold),
    segment: flags.segment,
    classes: flags.classes,
    maxSegments: flags.maxSegments,
    fields: {
      label: '--label',
      score: '--score',
      positive: '--positive',
      threshold: '--threshold',
      segment: '--segment',
      classes: '--classes',
      maxSegments: '--max-segments',
    },
  };
  return { format, limits, baseline, options };
}

export function registerEvaluate(program: Command): void {
  const command = program
    .command('evaluate')
    .summary('measure model performance on a labelled FILE, optionally against limits')
    .description(
      'Compute accuracy, precision, recall, f1, ROC AUC, Gini, log loss, Brier score and the positive rate of\n' +
        'the scores in FILE (CSV, JSON Lines or Parquet, optionally .gz) against its labels, overall and per\n' +
        'segment, as docs/performance-spec.md defines. Limits take METRIC=VALUE[@segment=VALUE]; VALUE\n' +
        `may end in % (5% = 0.05). Exits ${EXIT.breach} when a limit is breached.`,
    )
    .argument('<file>', 'labelled data file with a score column')
    .requiredOption('--label <column>', 'the label column')
    .requiredOption('--score <column>', "the score column: the model's probability of the positive class");
  addPerformanceFlags(command, 'evaluate')
    .option(
      '--ground-truth <path>',
      'delayed labels joined to the captured predictions of FILE (repeatable; directories recursively): ' +
        'SageMaker ground-truth records, or CSV/JSON Lines/Parquet with an id and a label column',
      collectRepeated,
    )
    .option('--ground-truth-id <column>', 'id column of a label table (default inferenceId)')
    .option('--ground-truth-label <column>', 'label column of a label table (default label)')
    .option('--ground-truth-time <column>', 'column of a label table: when the label was known (delay)')
    .option(
      '--estimated <report>',
      'a report of `driftwatch estimate --format json` for the same predictions: shown beside the realized values',
    );
  addCaptureFlags(command).action(async (path: string, flags: EvaluateFlags) => {
    const { format, limits, baseline, options } = await performanceSettings(flags);
    const progress = new ProgressReporter(!flags.quiet);
    let evaluation: Pick<TableEvaluation, 'report' | 'warnings'>;
    let join: GroundTruthJoin | null = null;
    const { input } = await openTable(path, flags);
    const readOptions = {
      maxDecompressedBytes: flags.maxDecompressedBytes,
      onProgress: (update: Parameters<ProgressReporter['update']>[1]) => progress.update(path, update),
    };
    try {
      if (flags.groundTruth === undefined) {
        evaluation = await evaluateTable(input, options, readOptions);
      } else {
        const files = sortLabelFiles(labelFiles(flags.groundTruth).map(fileInput));
        const joined = await evaluateWithGroundTruth(
          input,
          files,
          options,
          {
            idColumn: flags.groundTruthId,
            labelColumn: flags.groundTruthLabel,
            timeColumn: flags.groundTruthTime ?? null,
            maxBadShare: captureOptions(flags).maxBadShare,
          },
          readOptions,
        );
        evaluation = joined;
        join = joined.report.groundTruth;
        warnBadLabelRecords(joined.labels.files, flags.quiet);
      }
    } finally {
      progress.done();
    }
    warnBadCaptureRecords([input], flags.quiet);
    const { report } = evaluation;
    const estimate =
      flags.estimated === undefined
        ? null
        : compareWithEstimate(
            report,
            performanceReportFromJson(await readTextFile(flags.estimated), flags.estimated),
          );
    const check = limits.length > 0 ? checkLimits(report, limits, baseline) : null;
    if (!flags.quiet) {
      for (const warning of evaluation.warnings) process.stderr.write(`driftwatch: warning: ${warning}\n`);
      for (const unchecked of check?.unchecked ?? []) {
        process.stderr.write(`driftwatch: warning: ${describeUnchecked(unchecked)}\n`);
      }
    }
    for (const breach of check?.breaches ?? [])
      process.stderr.write(`driftwatch: breach: ${describeBreach(breach)}\n`);
    const body =
      format === 'json'
        ? JSON.stringify(
            estimate === null
              ? report
              : { ...report, estimate: { report: flags.estimated, metrics: estimate } },
            null,
            2,
          )
        : renderPerformanceText(report, { input: path, positive: options.positive ?? '1', check }) +
          (join === null ? '' : renderGroundTruthText(join)) +
          (estimate === null ? '' : renderEstimateComparisonText(estimate, flags.estimated!));
    await emit(body, flags.out);
    if (check !== null && check.breaches.length > 0) process.exitCode = EXIT.breach;
  });
}

/** Warns on stderr about every label file with bad records (left out of the join). */
function warnBadLabelRecords(files: readonly LabelFileSummary[], quiet: boolean | undefined): void {
  if (quiet) return;
  for (const file of files) {
    if (file.badRecords === 0 || file.firstError === null) continue;
    const where = file.format === 'sagemaker' ? 'line' : 'row';
    process.stderr.write(
      `driftwatch: warning: ${file.file}: ${file.badRecords} of ${file.records} label records are bad and left ` +
        `out; the first, on ${where} ${file.firstError.line}: ${file.firstError.reason}\n`,
    );
  }
}
