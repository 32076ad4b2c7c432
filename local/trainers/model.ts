import { encodedWidth, encodeRows, type FeatureSpec } from './encoding.ts';
import { ModelFormatError } from './errors.ts';
import { type Tree, treeValue } from './gbt.ts';
import { sigmoid } from './logistic.ts';

/** The `format` field of every driftwatch model artifact. */
export const MODEL_FORMAT = 'driftwatch-model';
/** The artifact's file inside `model.tar.gz`. */
export const MODEL_FILE = 'model.json';

/** Algorithms of the local trainers, chosen by the training image. */
export type Algorithm = 'logistic' | 'gbt';

interface ModelBase {
  format: typeof MODEL_FORMAT;
  version: 1;
  algorithm: Algorithm;
  /** The label column it was trained on. */
  label: string;
  /** The label value scored as the positive class. */
  positive: string;
  /** Input features in encoding order; a CSV invocation lists values in this order. */
  features: FeatureSpec[];
  /** Margin added to every row: the logistic intercept, or the boosting's starting margin. */
  intercept: number;
}

/** Logistic regression: score = σ(intercept + Σ weights · encoded inputs). */
export interface LogisticModel extends ModelBase {
  algorithm: 'logistic';
  weights: number[];
}

/** Boosted trees: score = σ(intercept + Σ tree values). */
export interface BoostedTreesModel extends ModelBase {
  algorithm: 'gbt';
  trees: Tree[];
}

export type Model = LogisticModel | BoostedTreesModel;

/** Scores rows already encoded with the model's features (row-major). */
export function scoreEncoded(model: Model, x: Float64Array, count: number): Float64Array {
  const d = encodedWidth(model.features);
  const scores = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const offset = i * d;
    let margin = model.intercept;
    if (model.algorithm === 'logistic') {
      for (let j = 0; j < d; j++) margin += model.weights[j]! * x[offset + j]!;
    } else {
      for (const tree of model.trees) margin += treeValue(tree, x, offset);
    }
    scores[i] = sigmoid(margin);
  }
  return scores;
}

/**
 * The probability of the positive class for each row, a record of feature values (numbers or numeric
 * strings for numeric features, strings for categories; other keys are ignored). A missing numeric value
 * scores as the training mean; a missing or unseen category as no level at all.
 *
 * @example
 * ```ts
 * scoreRows(model, [{ total_day_minutes: 265.1, international_plan: 'no' }]); // [0.21]
 * ```
 */
export function scoreRows(model: Model, rows: readonly Readonly<Record<string, unknown>>[]): number[] {
  const names = model.features.map((feature) => feature.name);
  const x = encodeRows(model.features, rows.length, (row, f) => {
    const record = rows[row]!;
    return Object.hasOwn(record, names[f]!) ? record[names[f]!] : null;
  });
  return Array.from(scoreEncoded(model, x, rows.length));
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isNumberArray = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'number' && Number.isFinite(item));

function fail(field: string, reason: string): never {
  throw new ModelFormatError(`${MODEL_FILE}: ${field} ${reason}`);
}

function checkFeature(value: unknown, index: number): FeatureSpec {
  const field = `features[${index}]`;
  if (!isObject(value) || typeof value.name !== 'string') fail(field, 'must be an object with a name');
  if (value.kind === 'numeric') {
    if (typeof value.mean !== 'number' || typeof value.std !== 'number' || !(value.std > 0)) {
      fail(field, 'must have a numeric mean and a positive std');
    }
    return { name: value.name, kind: 'numeric', mean: value.mean, std: value.std };
  }
  if (value.kind === 'categorical') {
    const { levels } = value;
    if (!Array.isArray(levels) || !levels.every((level) => typeof level === 'string')) {
      fail(field, 'must have string levels');
    }
    return { name: value.name, kind: 'categorical', levels: levels as string[] };
  }
  return fail(`${field}.kind`, `must be "numeric" or "categorical", not ${JSON.stringify(value.kind)}`);
}

function checkTree(value: unknown, index: number, width: number): Tree {
  const field = `trees[${index}]`;
  if (!isObject(value)) fail(field, 'must be an object');
  const { feature, threshold, left, right } = value;
  const values = value.value;
  if (![feature, threshold, left, right, values].every(isNumberArray)) {
    fail(field, 'must have number arrays feature, threshold, left, right and value');
  }
  const tree = { feature, threshold, left, right, value: values } as Tree;
  const size = tree.feature.length;
  if (
    [tree.threshold, tree.left, tree.right, tree.value].some((array) => array.length !== size) ||
    size === 0
  ) {
    fail(field, 'must have arrays of one non-zero length');
  }
  for (let node = 0; node < size; node++) {
    const input = tree.feature[node]!;
    if (input === -1) continue;
    // Children come after their parent, so walking a tree always ends.
    const ok =
      Number.isInteger(input) &&
      input >= 0 &&
      input < width &&
      [tree.left[node]!, tree.right[node]!].every(
        (child) => Number.isInteger(child) && child > node && child < size,
      );
    if (!ok) fail(`${field} node ${node}`, 'has an input or child out of range');
  }
  return tree;
}

/**
 * Checks that parsed JSON is a driftwatch model and returns it typed.
 * @throws ModelFormatError naming the first field that is wrong.
 */
export function parseModel(json: unknown): Model {
  if (!isObject(json)) fail('the document', 'must be a JSON object');
  if (json.format !== MODEL_FORMAT) fail('format', `must be ${JSON.stringify(MODEL_FORMAT)}`);
  if (json.version !== 1) fail('version', `must be 1, not ${JSON.stringify(json.version)}`);
  for (const field of ['label', 'positive'] as const) {
    if (typeof json[field] !== 'string') fail(field, 'must be a string');
  }
  if (typeof json.intercept !== 'number') fail('intercept', 'must be a number');
  if (!Array.isArray(json.features)) fail('features', 'must be an array');
  const features = json.features.map(checkFeature);
  const width = encodedWidth(features);
  const base = {
    format: MODEL_FORMAT,
    version: 1,
    label: json.label as string,
    positive: json.positive as string,
    features,
    intercept: json.intercept,
  } as const;
  if (json.algorithm === 'logistic') {
    if (!isNumberArray(json.weights) || json.weights.length !== width) {
      fail('weights', `must be ${width} numbers, one per encoded input`);
    }
    return { ...base, algorithm: 'logistic', weights: json.weights };
  }
  if (json.algorithm === 'gbt') {
    if (!Array.isArray(json.trees)) fail('trees', 'must be an array');
    return { ...base, algorithm: 'gbt', trees: json.trees.map((tree, i) => checkTree(tree, i, width)) };
  }
  return fail('algorithm', `must be "logistic" or "gbt", not ${JSON.stringify(json.algorithm)}`);
}
