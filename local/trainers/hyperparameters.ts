import { HyperparameterError } from './errors.ts';
import type { BoostedTreesOptions } from './gbt.ts';
import type { LogisticOptions } from './logistic.ts';
import type { Algorithm } from './model.ts';

/** Training settings, read once from the string map SageMaker passes as `HyperParameters`. */
export interface TrainingParameters {
  algorithm: Algorithm;
  /** The label column. */
  label: string;
  /** The label value that is the positive class (compared as text: `yes`, `1`, `true`). */
  positive: string;
  /** Columns that are not features (ids, timestamps, leaked outcomes). */
  exclude: string[];
  /** Most one-hot levels kept per categorical feature. */
  maxLevels: number;
  logistic: LogisticOptions;
  gbt: BoostedTreesOptions;
}

const COMMON = ['algorithm', 'label', 'positive', 'exclude', 'max_levels', 'seed'];
const ALLOWED: Record<Algorithm, string[]> = {
  logistic: [...COMMON, 'l2', 'epochs', 'learning_rate', 'solver', 'tolerance'],
  gbt: [...COMMON, 'l2', 'num_round', 'max_depth', 'eta', 'subsample', 'min_child_weight', 'max_bins'],
};

interface NumberRule {
  min?: number;
  max?: number;
  /** Whether min itself is excluded. */
  exclusive?: boolean;
  integer?: boolean;
}

function numberParameter(
  raw: Record<string, string>,
  field: string,
  fallback: number,
  rule: NumberRule,
): number {
  if (!Object.hasOwn(raw, field)) return fallback;
  const text = raw[field]!.trim();
  const value = Number(text);
  if (text === '' || !Number.isFinite(value))
    throw new HyperparameterError(field, `${JSON.stringify(raw[field])} is not a number`);
  if (rule.integer && !Number.isInteger(value))
    throw new HyperparameterError(field, `must be an integer, got ${text}`);
  if (rule.min !== undefined && (rule.exclusive ? value <= rule.min : value < rule.min)) {
    throw new HyperparameterError(field, `must be ${rule.exclusive ? '>' : '>='} ${rule.min}, got ${text}`);
  }
  if (rule.max !== undefined && value > rule.max)
    throw new HyperparameterError(field, `must be <= ${rule.max}, got ${text}`);
  return value;
}

/**
 * Reads and checks the hyperparameters of a training job for the algorithm its image selects. Keys
 * starting with `sagemaker_` (set by SageMaker's own tooling) are ignored; any other unknown key is an
 * error, so a typo (`learning-rate`) does not silently train with the default.
 *
 * | key | meaning | default |
 * | --- | --- | --- |
 * | `label` | label column (required) | |
 * | `positive` | positive class label | `1` |
 * | `exclude` | comma-separated columns to leave out | none |
 * | `max_levels` | one-hot levels kept per category | 50 |
 * | `seed` | seed of every random draw | 0 |
 * | `l2` | L2 penalty (weights, or leaf values for gbt) | 0.001 (logistic), 1 (gbt) |
 * | `solver`, `epochs`, `learning_rate`, `tolerance` | logistic: `newton` or `gd`, iterations, GD step, Newton stop | newton, 50 (500 for gd), 0.1, 1e-8 |
 * | `num_round`, `max_depth`, `eta`, `subsample`, `min_child_weight`, `max_bins` | gbt | 100, 3, 0.1, 1, 1, 32 |
 *
 * @throws HyperparameterError naming the key.
 */
export function parseHyperparameters(algorithm: Algorithm, raw: Record<string, string>): TrainingParameters {
  for (const key of Object.keys(raw)) {
    if (key.startsWith('sagemaker_') || ALLOWED[algorithm].includes(key)) continue;
    const other = ALLOWED[algorithm === 'logistic' ? 'gbt' : 'logistic'].includes(key);
    throw new HyperparameterError(
      key,
      other
        ? `applies to the other algorithm, not ${algorithm}`
        : `unknown for ${algorithm} (known: ${ALLOWED[algorithm].join(', ')})`,
    );
  }
  if (Object.hasOwn(raw, 'algorithm') && raw.algorithm !== algorithm) {
    throw new HyperparameterError(
      'algorithm',
      `is ${JSON.stringify(raw.algorithm)} but the training image is a ${algorithm} image`,
    );
  }
  const label = raw.label?.trim() ?? '';
  if (label === '') throw new HyperparameterError('label', 'is required: the name of the label column');
  const solver = raw.solver ?? 'newton';
  if (solver !== 'newton' && solver !== 'gd')
    throw new HyperparameterError('solver', `must be newton or gd, got ${JSON.stringify(solver)}`);
  const seed = numberParameter(raw, 'seed', 0, { integer: true, min: 0 });
  return {
    algorithm,
    label,
    positive: raw.positive ?? '1',
    exclude: (raw.exclude ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
    maxLevels: numberParameter(raw, 'max_levels', 50, { integer: true, min: 1 }),
    logistic: {
      solver,
      l2: numberParameter(raw, 'l2', 1e-3, { min: 0 }),
      epochs: numberParameter(raw, 'epochs', solver === 'newton' ? 50 : 500, { integer: true, min: 1 }),
      learningRate: numberParameter(raw, 'learning_rate', 0.1, { min: 0, exclusive: true }),
      tolerance: numberParameter(raw, 'tolerance', 1e-8, { min: 0 }),
    },
    gbt: {
      rounds: numberParameter(raw, 'num_round', 100, { integer: true, min: 1 }),
      maxDepth: numberParameter(raw, 'max_depth', 3, { integer: true, min: 1, max: 12 }),
      eta: numberParameter(raw, 'eta', 0.1, { min: 0, exclusive: true, max: 1 }),
      l2: numberParameter(raw, 'l2', 1, { min: 0 }),
      minChildWeight: numberParameter(raw, 'min_child_weight', 1, { min: 0 }),
      subsample: numberParameter(raw, 'subsample', 1, { min: 0, exclusive: true, max: 1 }),
      maxBins: numberParameter(raw, 'max_bins', 32, { integer: true, min: 2, max: 65535 }),
      seed,
    },
  };
}
