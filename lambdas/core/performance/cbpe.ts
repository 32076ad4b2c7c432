import { InputError } from '../errors.ts';
import type { TableInput } from '../readers/input.ts';
import { type ReadTableOptions, readTable } from '../readers/read-table.ts';
import { pairwiseSum } from '../stats/pairwise-sum.ts';
import {
  type EvaluateOptions,
  groupBySegment,
  PerformanceAccumulator,
  resolveEvaluateOptions,
  type ScoredRows,
} from './evaluate.ts';
import { calibrateAll, fitIsotonic, type IsotonicCalibrator } from './isotonic.ts';
import {
  accuracy,
  type ConfusionCounts,
  f1,
  gini,
  LOG_LOSS_EPSILON,
  type PerformanceMetrics,
  precision,
  recall,
} from './metrics.ts';
import type { PerformanceReport, SegmentPerformance } from './report.ts';

/**
 * Confidence-based performance estimation (CBPE, as NannyML names it): the performance a binary classifier
 * is expected to have on rows whose labels have not arrived, from its scores alone.
 *
 * A calibrator fitted on labelled reference rows turns a score into p, the probability that the row is
 * positive (isotonic regression, {@link fitIsotonic}). With prediction ŷ = [score >= threshold], a row is a
 * true positive with probability ŷ·p, a false positive with ŷ·(1 − p), and so on; summed over the rows
 * these are the expected confusion counts, and accuracy, precision, recall and F1 follow from them as from
 * real counts. The expected ROC curve puts at each score threshold t TPR(t) = Σ_{score>=t} p / Σ p and
 * FPR(t) = Σ_{score>=t} (1 − p) / Σ (1 − p); its trapezoidal area is the expected ROC AUC. Log loss, Brier
 * score and positive rate are their expectations under p (a row is positive with probability p).
 *
 * The estimate is as good as the calibration: it holds while the relation between score and outcome stays
 * what it was on the reference (covariate shift), and cannot see a change of that relation (concept drift).
 */

/** The share of current scores outside the reference's range above which the estimate warns. */
export const OUTSIDE_RANGE_WARNING_SHARE = 0.01;

/** An estimated performance: the metrics and the expected confusion counts behind them. */
export interface EstimatedPerformance {
  metrics: PerformanceMetrics;
  confusion: ConfusionCounts;
}

/**
 * The CBPE estimate for rows with these scores and calibrated probabilities (at least one row).
 *
 * @example estimatePerformance(Float64Array.of(0.9, 0.2), Float64Array.of(0.8, 0.1), 0.5).metrics.accuracy // 0.85
 */
export function estimatePerformance(
  scores: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  threshold: number,
): EstimatedPerformance {
  const n = scores.length;
  const tp = new Float64Array(n);
  const fp = new Float64Array(n);
  const fn = new Float64Array(n);
  const tn = new Float64Array(n);
  const logLosses = new Float64Array(n);
  const squares = new Float64Array(n);
  const high = 1 - LOG_LOSS_EPSILON;
  for (let i = 0; i < n; i++) {
    const p = probabilities[i]!;
    const q = 1 - p;
    const score = scores[i]!;
    if (score >= threshold) {
      tp[i] = p;
      fp[i] = q;
    } else {
      fn[i] = p;
      tn[i] = q;
    }
    // As metrics.ts's logLoss: the score clipped to [ε, 1 − ε] and renormalised, −ln of each class's entry.
    const clipped = Math.min(Math.max(score, LOG_LOSS_EPSILON), high);
    const sum = 1 - clipped + clipped;
    logLosses[i] = p * -Math.log(clipped / sum) + q * -Math.log((1 - clipped) / sum);
    squares[i] = p * (1 - score) * (1 - score) + q * score * score;
  }
  const confusion: ConfusionCounts = {
    truePositives: pairwiseSum(tp),
    falsePositives: pairwiseSum(fp),
    trueNegatives: pairwiseSum(tn),
    falseNegatives: pairwiseSum(fn),
  };
  const auc = expectedRocAuc(scores, probabilities);
  return {
    metrics: {
      accuracy: accuracy(confusion),
      precision: precision(confusion),
      recall: recall(confusion),
      f1: f1(confusion),
      rocAuc: auc,
      gini: gini(auc),
      logLoss: pairwiseSum(logLosses) / n,
      brier: pairwiseSum(squares) / n,
      positiveRate: pairwiseSum(probabilities) / n,
    },
    confusion,
  };
}

/**
 * The area under the expected ROC curve: one point per distinct score, from the highest down, at
 * (Σ_{score>=t} (1 − p) / Σ (1 − p), Σ_{score>=t} p / Σ p), joined to (0, 0) and integrated with the
 * trapezoid rule (a group of tied scores is one diagonal step, as in `roc_auc_score`). Null when Σ p or
 * Σ (1 − p) is 0: every row is then certainly positive or certainly negative.
 */
export function expectedRocAuc(scores: ArrayLike<number>, probabilities: ArrayLike<number>): number | null {
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Highest score first; -0 and 0 compare equal, so they form one group.
  order.sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < n; i++) {
    positives += probabilities[i]!;
    negatives += 1 - probabilities[i]!;
  }
  if (!(positives > 0 && negatives > 0)) return null;
  let area = 0;
  let positivesAbove = 0;
  let i = 0;
  while (i < n) {
    const value = scores[order[i]!]!;
    let groupPositives = 0;
    let groupNegatives = 0;
    while (i < n && scores[order[i]!] === value) {
      const p = probabilities[order[i]!]!;
      groupPositives += p;
      groupNegatives += 1 - p;
      i++;
    }
    area += groupNegatives * (2 * positivesAbove + groupPositives);
    positivesAbove += groupPositives;
  }
  return area / (2 * positives * negatives);
}

/** The report of `driftwatch estimate`: the spec's performance report, estimated. */
export interface EstimatedReport extends PerformanceReport {
  /** Always true: these numbers are CBPE's expectations, not measurements against labels. */
  estimated: true;
  /** The expected confusion counts of all rows (fractional). */
  confusion: ConfusionCounts;
  segments: EstimatedSegment[];
  /** What the calibrator was fitted on. */
  reference: {
    /** Labelled reference rows the calibrator was fitted on. */
    rows: number;
    /** Reference rows left out (label or score missing). */
    skipped: number;
    /** The share of positive labels among them. */
    positiveRate: number;
    /** The lowest and highest reference score: scores outside are calibrated as these. */
    scoreRange: [number, number];
  };
  /** Current rows whose score lies outside the reference's score range. */
  outsideReferenceRange: number;
}

export interface EstimatedSegment extends SegmentPerformance {
  confusion: ConfusionCounts;
}

/** The result of {@link estimateTables}. */
export interface TableEstimate {
  report: EstimatedReport;
  calibrator: IsotonicCalibrator;
  /** Likely mistakes in the options or data, for stderr. */
  warnings: string[];
}

/** What an estimate says of the reference its calibrator was fitted on (see {@link EstimatedReport}). */
export type ReferenceSummary = EstimatedReport['reference'];

/** A calibrator fitted on labelled reference rows, with what the report says of them. */
export interface FittedReference {
  calibrator: IsotonicCalibrator;
  reference: ReferenceSummary;
  /** Positive and negative reference rows: a calibrator of one class says nothing. */
  classes: { positive: number; negative: number };
  warnings: string[];
}

/** Fits the calibrator on the labelled reference rows (at least one). */
export function fitReference(reference: ScoredRows): FittedReference {
  const calibrator = fitIsotonic(reference.scores, reference.labels);
  let positives = 0;
  for (const label of reference.labels) positives += label;
  const warnings = [...reference.warnings];
  if (positives === 0 || positives === reference.scores.length) {
    warnings.push(
      'the reference holds one class only, so every calibrated probability is the same; the estimate says nothing',
    );
  }
  return {
    calibrator,
    reference: {
      rows: reference.scores.length,
      skipped: reference.rowsRead - reference.scores.length,
      positiveRate: positives / reference.scores.length,
      scoreRange: [calibrator.x[0]!, calibrator.x[calibrator.x.length - 1]!],
    },
    classes: { positive: positives, negative: reference.scores.length - positives },
    warnings,
  };
}

/**
 * Estimates the current rows' performance with a fitted calibrator, overall and per segment (one
 * calibrator for all segments: a segment's reference rows are often too few to fit their own). Rows of the
 * current table need a score; their label, when present, is not used.
 */
export function estimateWithCalibrator(
  fitted: FittedReference,
  current: ScoredRows,
  threshold: number,
  segmentColumn: string | null,
): TableEstimate {
  const { calibrator } = fitted;
  const probabilities = calibrateAll(calibrator, current.scores);
  const { metrics, confusion } = estimatePerformance(current.scores, probabilities, threshold);
  const segments: EstimatedSegment[] =
    segmentColumn === null || current.segmentIds === null
      ? []
      : groupBySegment(current.segmentIds, current.segmentValues).map(({ value, rows }) => {
          const estimate = estimatePerformance(
            Float64Array.from(rows, (row) => current.scores[row]!),
            Float64Array.from(rows, (row) => probabilities[row]!),
            threshold,
          );
          return { column: segmentColumn, value, rows: rows.length, ...estimate };
        });
  const [low, high] = fitted.reference.scoreRange;
  let outside = 0;
  for (const score of current.scores) if (score < low || score > high) outside++;
  const report: EstimatedReport = {
    rows: current.scores.length,
    skipped: current.rowsRead - current.scores.length,
    threshold,
    estimated: true,
    metrics,
    confusion,
    segments,
    reference: { ...fitted.reference, scoreRange: [low, high] },
    outsideReferenceRange: outside,
  };
  const warnings = [...fitted.warnings];
  // A few scores beyond the reference's extremes are normal; a share worth a warning means new territory.
  if (outside > OUTSIDE_RANGE_WARNING_SHARE * report.rows) {
    warnings.push(
      `${outside.toLocaleString('en-US')} of ${report.rows.toLocaleString('en-US')} current scores lie outside ` +
        `the reference's score range [${low}, ${high}] and are calibrated as its nearest end`,
    );
  }
  return { report, calibrator, warnings };
}

/**
 * Fits the calibrator on the labelled reference rows and estimates the current rows' performance, overall
 * and per segment: {@link fitReference} then {@link estimateWithCalibrator}.
 */
export function estimateFromRows(
  reference: ScoredRows,
  current: ScoredRows,
  threshold: number,
  segmentColumn: string | null,
): TableEstimate {
  return estimateWithCalibrator(fitReference(reference), current, threshold, segmentColumn);
}

/**
 * Reads a labelled reference table and an unlabelled (or not yet labelled) current table and estimates
 * the current table's performance with CBPE. Options are those of `evaluate`; the label column may be
 * absent from the current table.
 *
 * @throws ConfigError when a column is missing; InputError when the reference has no labelled row or the
 * current table no scored row.
 * @example
 * ```ts
 * const { report } = await estimateTables(fileInput('reference.csv'), fileInput('today.csv'), { label: 'churn', score: 'p', positive: 'yes' });
 * report.metrics.accuracy; // the expected accuracy of today's predictions
 * ```
 */
export async function estimateTables(
  reference: TableInput,
  current: TableInput,
  options: EvaluateOptions,
  readOptions: { reference?: ReadTableOptions; current?: ReadTableOptions } = {},
): Promise<TableEstimate> {
  const resolved = resolveEvaluateOptions(options);
  const referenceSink = new PerformanceAccumulator(resolved, reference.name);
  await readTable(reference, referenceSink, readOptions.reference);
  const referenceRows = referenceSink.rows();
  if (referenceRows.scores.length === 0) {
    throw new InputError(
      { file: reference.name },
      'no row has both a label and a score: the calibrator needs labelled reference rows',
    );
  }
  const currentSink = new PerformanceAccumulator(resolved, current.name, true);
  await readTable(current, currentSink, readOptions.current);
  const currentRows = currentSink.rows();
  if (currentRows.scores.length === 0) {
    throw new InputError({ file: current.name }, `no row has a score (${currentRows.rowsRead} rows read)`);
  }
  return estimateFromRows(referenceRows, currentRows, resolved.threshold, resolved.segment);
}
