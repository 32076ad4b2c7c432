import { pairwiseSum } from '../stats/pairwise-sum.ts';

/**
 * Binary classification metrics of docs/performance-spec.md, each matching the scikit-learn 1.2 call
 * the spec names. Inputs are parallel arrays: `labels[i]` is 1 for the positive class and 0 otherwise,
 * `scores[i]` the model's probability of the positive class, a finite number in [0, 1] (the evaluator
 * checks this at the edge). Every function needs at least one row; callers never pass empty arrays.
 */

/** The metric keys of the report, in the spec's order. */
export const METRIC_NAMES = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'rocAuc',
  'gini',
  'logLoss',
  'brier',
  'positiveRate',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

/** The metrics of one set of rows (the whole dataset or a segment), as the spec's report holds them. */
export interface PerformanceMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Null when only one class is present (sklearn raises there). */
  rocAuc: number | null;
  /** 2 · rocAuc − 1; null with rocAuc. */
  gini: number | null;
  logLoss: number;
  brier: number;
  positiveRate: number;
}

/** Which way a metric improves: decides what a "drop" is and which limits make sense. */
export const METRIC_DIRECTION: Readonly<Record<MetricName, 'higher' | 'lower' | 'neither'>> = {
  accuracy: 'higher',
  precision: 'higher',
  recall: 'higher',
  f1: 'higher',
  rocAuc: 'higher',
  gini: 'higher',
  logLoss: 'lower',
  brier: 'lower',
  positiveRate: 'neither',
};

/** The default decision threshold: a row is predicted positive when its score is >= this. */
export const DEFAULT_THRESHOLD = 0.5;

/**
 * The clip bound of {@link logLoss}: `np.finfo(np.float64).eps` = 2^-52 ≈ 2.22e-16, which is what
 * sklearn 1.2's `log_loss(eps='auto')` uses for float64 scores. (Releases before 1.2 used 1e-15; the spec's
 * reference is the 1.2 call, so a score of exactly 0 or 1 on the wrong side costs −ln(2^-52) ≈ 36.04.)
 */
export const LOG_LOSS_EPSILON = Number.EPSILON;

/** Counts of the confusion matrix at a threshold. */
export interface ConfusionCounts {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

/**
 * The confusion matrix of predictions `score >= threshold` (a score equal to the threshold is a positive
 * prediction, as `(s >= t).astype(int)` in the reference).
 *
 * @example confusionCounts([1, 0, 1], [0.9, 0.6, 0.2], 0.5) // { tp 1, fp 1, tn 0, fn 1 }
 */
export function confusionCounts(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number = DEFAULT_THRESHOLD,
): ConfusionCounts {
  let truePositives = 0;
  let falsePositives = 0;
  let trueNegatives = 0;
  let falseNegatives = 0;
  for (let i = 0; i < labels.length; i++) {
    const predicted = scores[i]! >= threshold;
    if (labels[i] === 1) {
      if (predicted) truePositives++;
      else falseNegatives++;
    } else if (predicted) falsePositives++;
    else trueNegatives++;
  }
  return { truePositives, falsePositives, trueNegatives, falseNegatives };
}

function total(counts: ConfusionCounts): number {
  return counts.truePositives + counts.falsePositives + counts.trueNegatives + counts.falseNegatives;
}

/** `accuracy_score`: the share of correct predictions. */
export function accuracy(counts: ConfusionCounts): number {
  return (counts.truePositives + counts.trueNegatives) / total(counts);
}

/** `precision_score(zero_division=0)`: tp / (tp + fp), and 0 when nothing is predicted positive. */
export function precision(counts: ConfusionCounts): number {
  const predicted = counts.truePositives + counts.falsePositives;
  return predicted === 0 ? 0 : counts.truePositives / predicted;
}

/** `recall_score(zero_division=0)`: tp / (tp + fn), and 0 when there are no positives. */
export function recall(counts: ConfusionCounts): number {
  const actual = counts.truePositives + counts.falseNegatives;
  return actual === 0 ? 0 : counts.truePositives / actual;
}

/**
 * `f1_score(zero_division=0)`, computed as sklearn 1.2 does, from the rounded precision and recall:
 * `2 · p · r / (p + r)`, and 0 when p + r is 0 (then both are 0, so sklearn's 0 / 1 is 0 too).
 */
export function f1(counts: ConfusionCounts): number {
  const p = precision(counts);
  const r = recall(counts);
  const denominator = p + r;
  return denominator === 0 ? 0 : (2 * p * r) / denominator;
}

/**
 * `roc_auc_score(y, s)`: the probability that a random positive scores above a random negative, ties
 * counting one half. Null when only one class is present, where sklearn raises.
 *
 * sklearn builds the ROC curve with one point per distinct score (`_binary_clf_curve`) and integrates it
 * with the trapezoid rule; a tied group of scores becomes one diagonal segment, whose trapezoid is exactly
 * the "one half per tied pair" of the Mann-Whitney U statistic. So this counts, group by group of equal
 * scores, 2·U = Σ positives_in_group · (2 · negatives_below + negatives_in_group), an integer, and divides
 * once: AUC = 2U / (2 · P · N). The integers are exact while 2·P·N < 2^53 (any n up to 1.3e8 rows), so the
 * result is the exact AUC correctly rounded, and sklearn's floating-point trapezoid sum agrees with it to
 * about 1e-15. Positive and negative scores are sorted apart (typed-array sorts, no comparator) and merged.
 *
 * @example rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) // 0.75
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return null;
  const positive = new Float64Array(positives);
  const negative = new Float64Array(negatives);
  let p = 0;
  let n = 0;
  for (let i = 0; i < labels.length; i++) {
    // `+ 0` turns -0 into 0, so the two sort as the one value they are.
    if (labels[i] === 1) positive[p++] = scores[i]! + 0;
    else negative[n++] = scores[i]! + 0;
  }
  positive.sort();
  negative.sort();
  let twiceU = 0;
  let below = 0;
  let i = 0;
  while (i < positives) {
    const value = positive[i]!;
    while (below < negatives && negative[below]! < value) below++;
    let groupEnd = i + 1;
    while (groupEnd < positives && positive[groupEnd] === value) groupEnd++;
    let tiedNegatives = 0;
    while (below + tiedNegatives < negatives && negative[below + tiedNegatives] === value) tiedNegatives++;
    twiceU += (groupEnd - i) * (2 * below + tiedNegatives);
    i = groupEnd;
  }
  return twiceU / (2 * positives * negatives);
}

/** The Gini coefficient 2 · AUC − 1 (in [−1, 1]); null when the AUC is. */
export function gini(auc: number | null): number | null {
  return auc === null ? null : 2 * auc - 1;
}

/**
 * `log_loss(y, s, labels=[0, 1])` of sklearn 1.2, step by step so the result agrees to the last bits:
 * the score is clipped to [ε, 1 − ε] with ε = {@link LOG_LOSS_EPSILON}, the row [1 − p, p] is divided by
 * its (floating-point) sum, the loss of a row is −ln of its true class's entry, and the mean is numpy's
 * pairwise sum divided by n. Defined for one class too (the `labels` argument makes sklearn accept it).
 */
export function logLoss(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const losses = new Float64Array(labels.length);
  const high = 1 - LOG_LOSS_EPSILON;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(Math.max(scores[i]!, LOG_LOSS_EPSILON), high);
    const q = 1 - p;
    const sum = q + p;
    losses[i] = -Math.log((labels[i] === 1 ? p : q) / sum);
  }
  return pairwiseSum(losses) / losses.length;
}

/** `brier_score_loss(y, s)`: the mean of (y − s)², summed in numpy's pairwise order. */
export function brier(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const squares = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const difference = labels[i]! - scores[i]!;
    squares[i] = difference * difference;
  }
  return pairwiseSum(squares) / squares.length;
}

/** The share of rows whose label is the positive class. */
export function positiveRate(labels: ArrayLike<number>): number {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  return positives / labels.length;
}

/**
 * Every metric of the spec for one set of rows (at least one).
 *
 * @example
 * ```ts
 * const metrics = computeMetrics(Uint8Array.of(0, 1, 1), Float64Array.of(0.2, 0.7, 0.4), 0.5);
 * metrics.recall; // 0.5
 * ```
 */
export function computeMetrics(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number = DEFAULT_THRESHOLD,
): PerformanceMetrics {
  const counts = confusionCounts(labels, scores, threshold);
  const auc = rocAuc(labels, scores);
  return {
    accuracy: accuracy(counts),
    precision: precision(counts),
    recall: recall(counts),
    f1: f1(counts),
    rocAuc: auc,
    gini: gini(auc),
    logLoss: logLoss(labels, scores),
    brier: brier(labels, scores),
    positiveRate: positiveRate(labels),
  };
}
