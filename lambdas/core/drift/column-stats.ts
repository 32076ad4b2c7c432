import { NUMBERS_STATE, numbersKernel } from '../stats/numbers-kernel.ts';
import { binIndex, paddedBinIndex, padEdges } from '../stats/quantile.ts';
import type { CategoryDictionary } from './category-dictionary.ts';
import type { RowSample } from './row-sample.ts';

/**
 * Above this many distinct labels a column whose type is inferred stops counting the raw text of its numbers
 * as potential categories (a column of many distinct numbers with some text is rejected as ambiguous).
 */
export const NUMERIC_CATEGORY_LIMIT = 1000;

/** A column's running state on its way to and from the numbers kernel. */
const KERNEL_STATE = new Float64Array(NUMBERS_STATE);

/** The rows of a batch that go to the row sample, and their slots there (see {@link ColumnStats.addNumbers}). */
export interface SampledRows {
  count: number;
  readonly rows: Int32Array;
  readonly slots: Int32Array;
}

/**
 * Everything one pass learns about one column (or one column within one segment) on one side: counts,
 * moments, a bounded sample of the numbers, category counts and, on the current side, exact counts over the
 * baseline's PSI bins.
 */
export class ColumnStats {
  /** Non-missing values. */
  present = 0;
  /** Values that were not numbers (they make an undeclared column categorical). */
  textCount = 0;
  numericCount = 0;
  private shift = 0;
  private sum = 0;
  private sumOfSquares = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  /** The sample of rows this column's numbers go to (shared with the other columns), and its place there. */
  private readonly rowSample: RowSample;
  private readonly position: number;
  /** Counts per category id of the column's dictionary. */
  categoryCounts: Float64Array = new Float64Array(8);
  /** Baseline PSI bin edges (current side only) and the exact counts over them. */
  readonly edges: Float64Array | null;
  readonly binCounts: Float64Array | null;
  /** The edges padded for {@link paddedBinIndex} (decile edges always are), or null. */
  private readonly padded: Float64Array | null;

  constructor(rowSample: RowSample, position: number, edges: Float64Array | null) {
    this.rowSample = rowSample;
    this.position = position;
    this.edges = edges;
    this.binCounts = edges === null ? null : new Float64Array(edges.length + 1);
    this.padded = edges === null ? null : padEdges(edges);
  }

  private bin(x: number): number {
    return this.padded !== null ? paddedBinIndex(this.padded, x) : binIndex(this.edges!, x);
  }

  addNumber(x: number): void {
    this.present++;
    if (this.numericCount++ === 0) this.shift = x;
    // Sums of the values shifted by the first one: no division per value, and no cancellation for data far
    // from 0 (epochs, say) as long as the spread is not tiny next to the first value.
    const d = x - this.shift;
    this.sum += d;
    this.sumOfSquares += d * d;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    this.rowSample.put(this.position, x);
    if (this.binCounts !== null) this.binCounts[this.bin(x)]!++;
  }

  /**
   * {@link addNumber} for `values[0..rows)`, NaN where a row has no number. The rows that go to the row
   * sample are `sampled.rows[0..sampled.count)`, in order, at `sampled.slots`. The same arithmetic in the same
   * order: the sums in the numbers kernel, then the sampled values.
   */
  addNumbers(values: Float64Array, rows: number, sampled: SampledRows): void {
    const state = KERNEL_STATE;
    state[0] = this.numericCount;
    state[1] = this.shift;
    state[2] = this.sum;
    state[3] = this.sumOfSquares;
    state[4] = this.min;
    state[5] = this.max;
    numbersKernel().accumulate(values, rows, state, this.edges, this.binCounts);
    // Missing values (NaN) go to the sample too: a slot taken twice in the batch keeps the later row's.
    const sample = this.rowSample.column(this.position);
    const room = sample.length;
    const { rows: sampledRows, slots } = sampled;
    for (let k = 0; k < sampled.count; k++) {
      const slot = slots[k]!;
      if (slot < room) sample[slot] = values[sampledRows[k]!]!;
    }
    this.present += state[0]! - this.numericCount;
    this.numericCount = state[0]!;
    this.shift = state[1]!;
    this.sum = state[2]!;
    this.sumOfSquares = state[3]!;
    this.min = state[4]!;
    this.max = state[5]!;
  }

  /** The sampled numbers, sorted ascending: every number while the rows fit under the sample's capacity. Once only. */
  takeSample(): Float64Array {
    return this.position < 0 ? new Float64Array(0) : this.rowSample.takeSorted(this.position);
  }

  /** A text value, or `count` of them: a category of the column's dictionary. */
  addCategory(id: number, count = 1): void {
    this.present += count;
    this.textCount += count;
    this.addLabel(id, count);
  }

  /**
   * Counts a label without counting a value: the raw text of a number (added with {@link addNumber}), kept
   * in case the column turns out to mix numbers and text and so is categorical, labelled by its raw text.
   */
  addLabel(id: number, count = 1): void {
    if (id >= this.categoryCounts.length) {
      const grown = new Float64Array(Math.max(id + 1, this.categoryCounts.length * 2));
      grown.set(this.categoryCounts);
      this.categoryCounts = grown;
    }
    this.categoryCounts[id]! += count;
  }

  /** Mean of every number seen (0 when none). */
  get mean(): number {
    return this.numericCount > 0 ? this.shift + this.sum / this.numericCount : 0;
  }

  /** Population standard deviation (ddof 0) of every number seen, from the shifted sums. */
  get std(): number {
    const n = this.numericCount;
    if (n === 0) return 0;
    const mean = this.sum / n;
    return Math.sqrt(Math.max(0, this.sumOfSquares / n - mean * mean));
  }

  /**
   * Category label -> count over text values and the raw text of numbers. Null when the column has numbers
   * whose labels were not all kept (`numbersLabelled` false: too many distinct numbers to be categorical).
   */
  categories(dictionary: CategoryDictionary, numbersLabelled: boolean): Map<string, number> | null {
    if (this.numericCount > 0 && !numbersLabelled) return null;
    const result = new Map<string, number>();
    for (let id = 0; id < dictionary.size; id++) {
      const count = this.categoryCounts[id] ?? 0;
      if (count > 0) result.set(dictionary.labels[id]!, count);
    }
    return result;
  }
}
