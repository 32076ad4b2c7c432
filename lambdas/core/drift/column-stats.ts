import { binIndex } from '../stats/quantile.ts';
import type { CategoryDictionary } from './category-dictionary.ts';
import { Reservoir } from './reservoir.ts';

/** Above this many distinct numbers a column stops counting them as potential categories. */
export const NUMERIC_CATEGORY_LIMIT = 1000;

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
  mean = 0;
  private m2 = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  readonly sample: Reservoir;
  /** Counts per category id of the column's dictionary. */
  categoryCounts: Float64Array = new Float64Array(8);
  /**
   * Numbers counted as categories, in case the column turns out to mix numbers and text; dropped (null)
   * once the column has too many distinct numbers to be categorical.
   */
  numberCounts: Map<number, number> | null = new Map();
  /** Baseline PSI bin edges (current side only) and the exact counts over them. */
  readonly edges: Float64Array | null;
  readonly binCounts: Float64Array | null;

  constructor(sampleCap: number, seed: number, edges: Float64Array | null) {
    this.sample = new Reservoir(sampleCap, seed);
    this.edges = edges;
    this.binCounts = edges === null ? null : new Float64Array(edges.length + 1);
  }

  addNumber(x: number): void {
    this.present++;
    const count = ++this.numericCount;
    const delta = x - this.mean;
    this.mean += delta / count;
    this.m2 += delta * (x - this.mean);
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    this.sample.add(x);
    if (this.binCounts !== null) this.binCounts[binIndex(this.edges!, x)]!++;
    const numbers = this.numberCounts;
    if (numbers !== null) {
      const seen = numbers.get(x);
      if (seen !== undefined) numbers.set(x, seen + 1);
      else if (numbers.size < NUMERIC_CATEGORY_LIMIT) numbers.set(x, 1);
      else this.numberCounts = null;
    }
  }

  addCategory(id: number): void {
    this.present++;
    this.textCount++;
    if (id >= this.categoryCounts.length) {
      const grown = new Float64Array(Math.max(id + 1, this.categoryCounts.length * 2));
      grown.set(this.categoryCounts);
      this.categoryCounts = grown;
    }
    this.categoryCounts[id]!++;
  }

  /** Population standard deviation (ddof 0) of every number seen, from Welford's running moments. */
  get std(): number {
    return this.numericCount > 0 ? Math.sqrt(this.m2 / this.numericCount) : 0;
  }

  /**
   * Category label -> count over text values and, where still tracked, numbers (labelled as JS prints them).
   * Null when the numbers are no longer tracked.
   */
  categories(dictionary: CategoryDictionary): Map<string, number> | null {
    if (this.numericCount > 0 && this.numberCounts === null) return null;
    const result = new Map<string, number>();
    for (let id = 0; id < dictionary.size; id++) {
      const count = this.categoryCounts[id] ?? 0;
      if (count > 0) result.set(dictionary.labels[id]!, count);
    }
    if (this.numberCounts !== null) {
      for (const [value, count] of this.numberCounts) {
        const label = String(value);
        result.set(label, (result.get(label) ?? 0) + count);
      }
    }
    return result;
  }
}
