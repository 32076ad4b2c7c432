import { sortFloat64 } from '../stats/radix-sort.ts';
import { mulberry32 } from '../stats/random.ts';

/** How many rows a sample allocates room for at first: a small table stays small. */
const FIRST_ROWS = 1024;
/**
 * Rows a sample then allocates room for at once (up to its capacity; larger capacities grow fourfold from
 * there): the default capacity of 250,000 rows needs no growth, so no copy and no pages of a smaller array
 * touched first and thrown away. Memory never written costs nothing.
 */
const ALLOCATED_ROWS = 1 << 18;
const GROWTH = 4;
/**
 * Rows made missing (NaN) at a time as rows arrive, rather than all of the room at once: each block is
 * written soon after, so its pages are touched when they are needed (a fresh page costs a fault, which is
 * far dearer than the write).
 */
const FILL_ROWS = 8192;
const EMPTY = new Float64Array(0);

/**
 * A uniform random sample of at most `capacity` rows of a table's numeric columns, from a stream of unknown
 * length, reproducible from its seed. Below the capacity it holds every row, which is what lets KS and
 * Wasserstein be exact there. Past it, Li's Algorithm L draws how many rows to skip before the next
 * replacement (K. Li, ACM TOMS 20(4), 1994).
 *
 * One draw per row serves every column, and it is made before the row is read: {@link slot} says where the
 * row goes (-1: not sampled), so each value is written once, straight to its column ({@link put}). A column's
 * sample is its present values in the sampled rows (missing values are NaN there): a uniform sample of those
 * values. Columns are stored apart so that each is sorted in place when it is taken, without a copy.
 */
export class RowSample {
  capacity: number;
  /** Rows ended so far. */
  rows = 0;
  /** Columns per row. */
  width = 0;
  /** Where the row being read goes, or -1 when it is not sampled. */
  slot = 0;
  /** Each column's values in the sampled rows, NaN where missing; empty once retired or taken. */
  private columns: Float64Array[] = [];
  /**
   * Positions of the columns whose old values are cleared when a row is replaced: all but those whose every
   * row is written, missing or not ({@link writesEveryRow}). The clearing is a cache miss per column.
   */
  private cleared: number[] = [];
  private allocatedRows: number;
  /** Rows of every column made missing so far; rows from there on are unwritten memory. */
  private filledRows: number;
  private readonly random: () => number;
  /** Index (in row order) of the next row that replaces a sampled one. */
  private next = 0;
  /** Algorithm L's running weight. */
  private weight = 0;

  constructor(capacity: number, seed: number) {
    this.capacity = capacity;
    this.allocatedRows = Math.min(capacity, FIRST_ROWS);
    this.filledRows = this.allocatedRows;
    this.random = mulberry32(seed >>> 0 || 0x9e3779b9);
  }

  /**
   * Adds a column; returns its position in a row. One that first appears after some rows (a key new to a
   * JSON Lines record) is missing in the rows already sampled.
   */
  addColumn(): number {
    this.columns.push(new Float64Array(this.allocatedRows).fill(Number.NaN, 0, this.filledRows));
    this.cleared.push(this.width);
    return this.width++;
  }

  /**
   * From now on the caller writes the column's value at the slot of every row, NaN where it is missing (see
   * `ColumnStats.addNumbers`), so a row that replaces a sampled one need not clear its old value there.
   */
  writesEveryRow(position: number): void {
    this.cleared = this.cleared.filter((cleared) => cleared !== position);
  }

  /** Records a value of the row being read. */
  put(position: number, value: number): void {
    const slot = this.slot;
    if (slot < 0) return;
    const column = this.columns[position]!;
    // A retired column is empty: its values are not kept.
    if (slot < column.length) column[slot] = value;
  }

  /**
   * The column's values by slot, for writing values of rows read earlier at the slots they had; empty once
   * the column is retired or taken. It changes when the sample grows.
   */
  column(position: number): Float64Array {
    return this.columns[position]!;
  }

  /** Stops keeping a column whose sample will not be used (a column that turned out to hold text). */
  retire(position: number): void {
    this.columns[position] = EMPTY;
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

  /** Ends the current row, and draws where the next one goes. */
  endRow(): void {
    const row = ++this.rows;
    const capacity = this.capacity;
    if (row < capacity) {
      if (row === this.filledRows) this.extend();
      this.slot = row;
      return;
    }
    if (row === capacity) {
      this.weight = Math.exp(Math.log(1 - this.random()) / capacity);
      this.skip(row - 1);
    }
    if (row !== this.next) {
      this.slot = -1;
      return;
    }
    const slot = Math.floor(this.random() * capacity);
    this.weight *= Math.exp(Math.log(1 - this.random()) / capacity);
    this.skip(row);
    // The row replaces one whose values may be present where its own are missing.
    for (const position of this.cleared) {
      const column = this.columns[position]!;
      if (slot < column.length) column[slot] = Number.NaN;
    }
    this.slot = slot;
  }

  /**
   * Ends `count` rows, as many {@link endRow} calls do (the same draws), writing each row's slot to
   * `slots[at..at + count)`: runs of rows below the capacity, and of rows between two replacements, without
   * a call each.
   */
  endRows(count: number, slots: Int32Array, at: number): void {
    const end = at + count;
    while (at < end) {
      const rows = this.rows;
      const capacity = this.capacity;
      if (rows >= capacity && this.slot < 0) {
        // Rows before the next replacement (row index `next`) are not sampled.
        const run = Math.min(end - at, this.next - rows - 1);
        if (run > 0) {
          slots.fill(-1, at, at + run);
          this.rows = rows + run;
          at += run;
          continue;
        }
      } else if (this.slot === rows) {
        // Below the capacity (and the filled rows) each row goes to the slot of its index.
        const run = Math.min(end - at, Math.min(capacity, this.filledRows) - rows - 1);
        if (run > 0) {
          for (let k = 0; k < run; k++) slots[at + k] = rows + k;
          this.rows = rows + run;
          this.slot = rows + run;
          at += run;
          continue;
        }
      }
      slots[at++] = this.slot;
      this.endRow();
    }
  }

  /**
   * The present values of the column at `position` in the sampled rows, sorted ascending. Sorts the column in
   * place and hands it over: the column reads as empty afterwards.
   */
  takeSorted(position: number): Float64Array {
    const column = this.columns[position]!.subarray(0, this.size);
    this.columns[position] = EMPTY;
    let present = 0;
    for (let i = 0; i < column.length; i++) {
      const value = column[i]!;
      if (!Number.isNaN(value)) column[present++] = value;
    }
    return sortFloat64(column.subarray(0, present));
  }

  /** Frees the sampled rows of every column not taken; the sample reads as empty afterwards. */
  release(): void {
    this.columns = this.columns.map(() => EMPTY);
    this.rows = 0;
  }

  private skip(from: number): void {
    // random() is in [0, 1); 1 - random() is in (0, 1], so the logarithm is finite.
    this.next = from + Math.floor(Math.log(1 - this.random()) / Math.log(1 - this.weight)) + 1;
  }

  /** Makes the next block of rows missing in every column, growing the columns' room first when it is full. */
  private extend(): void {
    if (this.filledRows === this.allocatedRows) {
      const rows = Math.min(
        this.capacity,
        this.allocatedRows === FIRST_ROWS ? ALLOCATED_ROWS : this.allocatedRows * GROWTH,
      );
      const kept = this.filledRows;
      this.columns = this.columns.map((old) => {
        if (old.length === 0) return old;
        const column = new Float64Array(rows);
        column.set(old.subarray(0, kept));
        return column;
      });
      this.allocatedRows = rows;
    }
    const from = this.filledRows;
    const to = Math.min(this.allocatedRows, from + FILL_ROWS);
    for (const column of this.columns) if (column.length > 0) column.fill(Number.NaN, from, to);
    this.filledRows = to;
  }
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
