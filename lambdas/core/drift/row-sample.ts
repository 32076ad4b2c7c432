import { sortFloat64 } from '../stats/radix-sort.ts';
import { mulberry32 } from '../stats/random.ts';

/** How many rows a sample allocates room for at first; it doubles up to its capacity. */
const FIRST_ROWS = 1024;

/**
 * A uniform random sample of at most `capacity` rows of a table's numeric columns, from a stream of unknown
 * length, reproducible from its seed. Below the capacity it holds every row, which is what lets KS and
 * Wasserstein be exact there. Past it, Li's Algorithm L draws how many rows to skip before the next
 * replacement (K. Li, ACM TOMS 20(4), 1994).
 *
 * One draw per row serves every column: the values of a row go to a staging row, which {@link endRow}
 * copies into one contiguous slot when the row is picked. Sampling each column on its own cost a random
 * number and a cache miss per column on every replacement. A column's sample is its present values in the
 * sampled rows (missing values are NaN there): a uniform sample of those values.
 */
export class RowSample {
  capacity: number;
  /** Rows ended so far. */
  rows = 0;
  /** Columns per row. */
  width = 0;
  /** The current row's values, NaN where the row has none; columns write here as the row streams. */
  staging = new Float64Array(0);
  /** The sampled rows, each holding the stored columns in order. */
  private data = new Float64Array(0);
  private allocatedRows = 0;
  /** Columns kept in `data`, in their order there: all but the retired ones retired before allocation. */
  private stored: number[] = [];
  private readonly retired = new Set<number>();
  private readonly random: () => number;
  /** Index (in row order) of the next row that replaces a sampled one. */
  private next = 0;
  /** Algorithm L's running weight. */
  private weight = 0;

  constructor(capacity: number, seed: number) {
    this.capacity = capacity;
    this.random = mulberry32(seed >>> 0 || 0x9e3779b9);
  }

  /**
   * Adds a column; returns its position in a row. One that first appears after some rows (a key new to a
   * JSON Lines record) is missing in the rows already sampled.
   */
  addColumn(): number {
    const position = this.width++;
    const staging = new Float64Array(this.width).fill(Number.NaN);
    staging.set(this.staging);
    this.staging = staging;
    this.relayout(this.allocatedRows, [...this.stored, position]);
    return position;
  }

  /**
   * Stops keeping a column whose sample will not be used (a column that turned out to hold text). Its room
   * is given back at the next growth; its sample reads as empty.
   */
  retire(position: number): void {
    this.retired.add(position);
    if (this.allocatedRows === 0) this.stored = this.stored.filter((stored) => stored !== position);
  }

  /** Changes the capacity before the sample is full (while every row is still kept). */
  setCapacity(capacity: number): void {
    if (this.rows >= Math.min(this.capacity, capacity)) throw new RangeError('the sample is already full');
    this.capacity = capacity;
  }

  /** Rows held. */
  get size(): number {
    return Math.min(this.rows, this.capacity);
  }

  /** Ends the current row: keeps its staged values if the row is picked, and clears the staging row. */
  endRow(): void {
    const row = this.rows++;
    const capacity = this.capacity;
    let slot: number;
    if (row < capacity) {
      if (row === this.allocatedRows) this.grow();
      slot = row;
      if (row + 1 === capacity) {
        this.weight = Math.exp(Math.log(1 - this.random()) / capacity);
        this.skip(row);
      }
    } else if (row === this.next) {
      slot = Math.floor(this.random() * capacity);
      this.weight *= Math.exp(Math.log(1 - this.random()) / capacity);
      this.skip(row);
    } else {
      this.clearStaging();
      return;
    }
    // A loop, not `set`: rows are a few values wide, and a call per row costs more than the copy.
    const { data, staging, stored } = this;
    const width = stored.length;
    for (let k = 0, at = slot * width; k < width; k++, at++) data[at] = staging[stored[k]!]!;
    this.clearStaging();
  }

  /** The column's values in the sampled rows, in row order, NaN where missing (empty once retired). */
  rowColumn(position: number): Float64Array {
    const column = this.retired.has(position) ? -1 : this.stored.indexOf(position);
    if (column < 0) return new Float64Array(0);
    const { data } = this;
    const width = this.stored.length;
    const rows = this.size;
    const values = new Float64Array(rows);
    // Column by column rather than all at once: splitting the rows in one pass would hold the sample twice.
    for (let row = 0, at = column; row < rows; row++, at += width) values[row] = data[at]!;
    return values;
  }

  /** The present values of the column at `position` in the sampled rows, sorted ascending. */
  sortedColumn(position: number): Float64Array {
    return sortedPresent(this.rowColumn(position));
  }

  /** Frees the sampled rows once every column is taken; the sample reads as empty afterwards. */
  release(): void {
    this.data = new Float64Array(0);
    this.allocatedRows = 0;
    this.rows = 0;
  }

  private clearStaging(): void {
    const staging = this.staging;
    for (let i = 0; i < staging.length; i++) staging[i] = Number.NaN;
  }

  private skip(from: number): void {
    // random() is in [0, 1); 1 - random() is in (0, 1], so the logarithm is finite.
    this.next = from + Math.floor(Math.log(1 - this.random()) / Math.log(1 - this.weight)) + 1;
  }

  private grow(): void {
    const rows = Math.min(this.capacity, Math.max(FIRST_ROWS, this.allocatedRows * 2));
    this.relayout(
      rows,
      this.stored.filter((position) => !this.retired.has(position)),
    );
  }

  /** Moves the sampled rows to room for `rows` rows of the `stored` columns. */
  private relayout(rows: number, stored: number[]): void {
    // Rows past those copied are written whole when they are sampled; only a new column needs NaN.
    const data = new Float64Array(rows * stored.length);
    const old = this.stored;
    const oldWidth = old.length;
    const width = stored.length;
    const copied = Math.min(this.size, this.allocatedRows);
    if (width === oldWidth && stored.every((position, k) => old[k] === position)) {
      // The same columns: the rows move as one block.
      data.set(this.data.subarray(0, copied * width));
      this.data = data;
      this.allocatedRows = rows;
      return;
    }
    for (let k = 0; k < width; k++) {
      const from = old.indexOf(stored[k]!);
      for (let row = 0; row < copied; row++) {
        data[row * width + k] = from < 0 ? Number.NaN : this.data[row * oldWidth + from]!;
      }
    }
    this.data = data;
    this.allocatedRows = rows;
    this.stored = stored;
  }
}

/** The values of sampled rows that are present (not NaN), sorted ascending; sorts `rows` itself if all are. */
export function sortedPresent(rows: Float64Array): Float64Array {
  let present = 0;
  for (let i = 0; i < rows.length; i++) if (!Number.isNaN(rows[i])) present++;
  if (present === rows.length) return sortFloat64(rows);
  const values = new Float64Array(present);
  for (let i = 0, next = 0; i < rows.length; i++) {
    const value = rows[i]!;
    if (!Number.isNaN(value)) values[next++] = value;
  }
  return sortFloat64(values);
}

/** A stable 32-bit seed for one column (and segment), so samples do not depend on column order. */
export function seedFor(seed: number, ...parts: string[]): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) hash = Math.imul(hash ^ part.charCodeAt(i), 0x01000193);
    hash = Math.imul(hash ^ 0xff, 0x01000193);
  }
  return hash >>> 0;
}
