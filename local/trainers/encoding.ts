import type { Table } from './dataset.ts';

/**
 * How one input column becomes model inputs. A numeric feature is one input, standardised with the
 * training mean and population standard deviation; a categorical feature is one 0/1 input per kept level
 * (one-hot), and a value outside the levels is all zeros.
 */
export type FeatureSpec =
  | { name: string; kind: 'numeric'; mean: number; std: number }
  | { name: string; kind: 'categorical'; levels: string[] };

/**
 * A cell as a number: finite numbers as they are, strings that read as a finite number (`" 1.5 "`, `"1e3"`).
 * Null for anything else, including `null`, `""` and booleans, which count as missing.
 */
export function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text === '') return null;
  const number = Number(text);
  return Number.isFinite(number) ? number : null;
}

/** A cell as a category: strings as written, numbers and booleans as their text; null for `null` and `""`. */
export function toCategory(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** Orders strings by code point, the same everywhere (unlike `localeCompare`). */
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Learns the feature specs of `names` from a table. A column is numeric when every value present reads as a
 * number (and at least one is present), categorical otherwise. A categorical column keeps its `maxLevels`
 * most frequent levels, ties broken by code point, so the encoding does not depend on row order.
 *
 * @example inferFeatures({ columns: ['x'], rows: [['1'], ['3']] }, ['x'], 10) // [{ x numeric, mean 2, std 1 }]
 */
export function inferFeatures(table: Table, names: readonly string[], maxLevels: number): FeatureSpec[] {
  return names.map((name) => {
    const column = table.columns.indexOf(name);
    const values = table.rows.map((row) => row[column] ?? null);
    let present = 0;
    let numeric = true;
    for (const value of values) {
      if (value === null || value === '') continue;
      present++;
      if (toNumber(value) === null) {
        numeric = false;
        break;
      }
    }
    if (numeric && present > 0) return numericSpec(name, values);
    const counts = new Map<string, number>();
    for (const value of values) {
      const level = toCategory(value);
      if (level !== null) counts.set(level, (counts.get(level) ?? 0) + 1);
    }
    const levels = [...counts.entries()]
      .sort(([a, countA], [b, countB]) => countB - countA || byCodePoint(a, b))
      .slice(0, maxLevels)
      .map(([level]) => level);
    return { name, kind: 'categorical', levels };
  });
}

function numericSpec(name: string, values: readonly unknown[]): FeatureSpec {
  let count = 0;
  let sum = 0;
  for (const value of values) {
    const number = toNumber(value);
    if (number === null) continue;
    count++;
    sum += number;
  }
  const mean = sum / count;
  let squares = 0;
  for (const value of values) {
    const number = toNumber(value);
    if (number !== null) squares += (number - mean) ** 2;
  }
  const std = Math.sqrt(squares / count);
  // A constant column carries no information; a unit scale keeps it at 0 instead of dividing by zero.
  return { name, kind: 'numeric', mean, std: std > 0 ? std : 1 };
}

/** The number of model inputs the features encode to. */
export function encodedWidth(features: readonly FeatureSpec[]): number {
  let width = 0;
  for (const feature of features) width += feature.kind === 'numeric' ? 1 : feature.levels.length;
  return width;
}

/** Names of the encoded inputs, `name` for a numeric feature and `name=level` for a one-hot input. */
export function encodedNames(features: readonly FeatureSpec[]): string[] {
  return features.flatMap((feature) =>
    feature.kind === 'numeric' ? [feature.name] : feature.levels.map((level) => `${feature.name}=${level}`),
  );
}

/**
 * Encodes `count` rows into a row-major matrix of {@link encodedWidth} columns. `valueAt(row, feature)` gives
 * the raw value of feature number `feature` in a row. A missing or unreadable numeric value becomes the
 * training mean (0 once standardised); a missing or unknown category is all zeros.
 */
export function encodeRows(
  features: readonly FeatureSpec[],
  count: number,
  valueAt: (row: number, feature: number) => unknown,
): Float64Array {
  const width = encodedWidth(features);
  const matrix = new Float64Array(count * width);
  const levelIndex = features.map((feature) =>
    feature.kind === 'categorical' ? new Map(feature.levels.map((level, i) => [level, i])) : null,
  );
  for (let row = 0; row < count; row++) {
    let offset = row * width;
    for (let f = 0; f < features.length; f++) {
      const feature = features[f]!;
      const value = valueAt(row, f);
      if (feature.kind === 'numeric') {
        const number = toNumber(value);
        matrix[offset++] = number === null ? 0 : (number - feature.mean) / feature.std;
      } else {
        const category = toCategory(value);
        const index = category === null ? undefined : levelIndex[f]!.get(category);
        if (index !== undefined) matrix[offset + index] = 1;
        offset += feature.levels.length;
      }
    }
  }
  return matrix;
}

/** Encodes the rows of a table whose columns include every feature. */
export function encodeTable(features: readonly FeatureSpec[], table: Table): Float64Array {
  const columns = features.map((feature) => table.columns.indexOf(feature.name));
  return encodeRows(features, table.rows.length, (row, f) => {
    const column = columns[f]!;
    return column < 0 ? null : (table.rows[row]![column] ?? null);
  });
}
