import { computeMetrics, type PerformanceMetrics } from '../../lambdas/core/performance/metrics.ts';
import type { Table } from './dataset.ts';
import { encodedWidth, encodeTable, inferFeatures, toCategory, toNumber } from './encoding.ts';
import { TrainingDataError } from './errors.ts';
import { fitBoostedTrees } from './gbt.ts';
import type { TrainingParameters } from './hyperparameters.ts';
import { fitLogistic } from './logistic.ts';
import { MODEL_FORMAT, type Model, scoreEncoded } from './model.ts';

/** A metric as SageMaker reports it in `FinalMetricDataList`: `validation:accuracy`, `train:logloss`. */
export interface MetricValue {
  name: string;
  value: number;
}

export interface TrainingResult {
  model: Model;
  /** Metrics on the train channel and, when given, the validation channel. */
  metrics: MetricValue[];
  /** The validation metrics in full, when a validation channel was given. */
  validation: PerformanceMetrics | null;
}

/**
 * Whether a label cell is the positive class: equal as text, or as numbers when both read as numbers
 * (so `1.0` and `1` agree).
 */
function isPositive(value: unknown, positive: string): boolean {
  const text = toCategory(value);
  if (text === null) return false;
  if (text === positive) return true;
  const number = toNumber(value);
  const target = toNumber(positive);
  return number !== null && target !== null && number === target;
}

/**
 * The 0/1 labels of a channel.
 * @throws TrainingDataError when the label column is absent or a row has no label.
 */
export function labelsOf(channel: string, table: Table, label: string, positive: string): Uint8Array {
  const column = table.columns.indexOf(label);
  if (column < 0) {
    throw new TrainingDataError(
      channel,
      `label column ${JSON.stringify(label)} is not in the data (columns: ${table.columns.join(', ')})`,
    );
  }
  const labels = new Uint8Array(table.rows.length);
  table.rows.forEach((row, i) => {
    const value = row[column] ?? null;
    if (toCategory(value) === null) {
      throw new TrainingDataError(
        channel,
        `data row ${i + 1} has no value in label column ${JSON.stringify(label)}`,
      );
    }
    labels[i] = isPositive(value, positive) ? 1 : 0;
  });
  return labels;
}

function asMetricValues(channel: string, metrics: PerformanceMetrics): MetricValue[] {
  const values: MetricValue[] = [
    { name: `${channel}:accuracy`, value: metrics.accuracy },
    { name: `${channel}:precision`, value: metrics.precision },
    { name: `${channel}:recall`, value: metrics.recall },
    { name: `${channel}:f1`, value: metrics.f1 },
    { name: `${channel}:logloss`, value: metrics.logLoss },
    { name: `${channel}:brier`, value: metrics.brier },
  ];
  if (metrics.rocAuc !== null) values.push({ name: `${channel}:auc`, value: metrics.rocAuc });
  return values;
}

/**
 * Trains a model on the `train` table and measures it on both tables with the performance core's metrics
 * (threshold 0.5). Features are every column but the label and the excluded ones, typed and encoded from
 * the train table; the validation table is encoded with the same specs.
 *
 * @throws TrainingDataError for a missing label column, an excluded column that does not exist, a row
 *   without a label, or a train channel with one class only; ConvergenceError from the solver.
 *
 * @example
 * ```ts
 * const { model, metrics } = trainModel(parseHyperparameters('logistic', { label: 'churn', positive: 'yes' }), train, validation);
 * ```
 */
export function trainModel(parameters: TrainingParameters, train: Table, validation?: Table): TrainingResult {
  const { label, positive } = parameters;
  const y = labelsOf('train', train, label, positive);
  const positives = y.reduce((sum, value) => sum + value, 0);
  if (positives === 0 || positives === y.length) {
    throw new TrainingDataError(
      'train',
      `only one class is present (${positives} of ${y.length} rows are ${JSON.stringify(positive)}): nothing to learn`,
    );
  }
  const missing = parameters.exclude.filter((name) => !train.columns.includes(name));
  if (missing.length > 0) {
    throw new TrainingDataError('train', `excluded column(s) ${missing.join(', ')} are not in the data`);
  }
  const names = train.columns.filter((name) => name !== label && !parameters.exclude.includes(name));
  const features = inferFeatures(train, names, parameters.maxLevels);
  const n = train.rows.length;
  const d = encodedWidth(features);
  const x = encodeTable(features, train);
  const base = { format: MODEL_FORMAT, version: 1, label, positive, features } as const;
  let model: Model;
  if (parameters.algorithm === 'logistic') {
    const fit = fitLogistic(x, n, d, y, parameters.logistic);
    model = { ...base, algorithm: 'logistic', weights: Array.from(fit.weights), intercept: fit.intercept };
  } else {
    const fit = fitBoostedTrees(x, n, d, y, parameters.gbt);
    model = { ...base, algorithm: 'gbt', trees: fit.trees, intercept: fit.intercept };
  }
  const metrics = asMetricValues('train', computeMetrics(y, scoreEncoded(model, x, n)));
  let validationMetrics: PerformanceMetrics | null = null;
  if (validation !== undefined) {
    const labels = labelsOf('validation', validation, label, positive);
    const scores = scoreEncoded(model, encodeTable(features, validation), validation.rows.length);
    validationMetrics = computeMetrics(labels, scores);
    metrics.push(...asMetricValues('validation', validationMetrics));
  }
  return { model, metrics, validation: validationMetrics };
}
