import { reserveMemory, type WasmMemory, wasmInstance } from '../wasm-instance.ts';
import { CSV_LINES_WASM } from './wasm/csv-lines.wasm.ts';

/** `kinds[f]` of a field the kernel read as a plain decimal number (`numbers[f]` holds it). */
export const KERNEL_NUMBER = 1;
/** `kinds[f]` of a number written as digits alone without a leading zero (`0` aside): its value gives its text. */
export const KERNEL_PLAIN_WHOLE = 2;
/**
 * `labels[f]` of a text field registered as a missing value ({@link CsvLinesKernel.registerMissing}): the
 * caller passes over it. Category labels stay below it (MISSING_LABEL of the kernel).
 */
export const KERNEL_MISSING = 1023;
/** Lines per call: small output arrays, and the sink still sees rows in order as they come. */
export const KERNEL_ROWS = 256;

interface Exports {
  memory: WasmMemory;
  heapBase(): number;
  consumedBytes(): number;
  indexBytes(length: number): number;
  index(input: number, length: number, delimiter: number, bitmap: number): void;
  scanLines(
    input: number,
    from: number,
    length: number,
    columns: number,
    maxRows: number,
    kinds: number,
    numbers: number,
    starts: number,
    ends: number,
    texts: number,
    tables: number,
    labels: number,
    skips: number,
    bitmap: number,
    countLabels: number,
  ): number;
  tableBytes(): number;
  countsOffset(): number;
  register(table: number, bytes: number, length: number, id: number): number;
}

/** Columns that may get a label table: the first ones that need one (a table takes 37 KB). */
const MAX_TABLES = 64;

/**
 * The WebAssembly loop of the CSV reader (source: wasm/csv-lines.as.ts) for one table: it reads whole lines
 * of unquoted ASCII fields, about twice as fast as the JavaScript state machine, which keeps everything else
 * (quotes, CRLF, errors). The caller copies a chunk in with {@link load}, then calls {@link scan} and reads
 * the fields of the lines it took from {@link kinds}, {@link numbers}, {@link starts} and {@link ends}: the
 * field in `row` and `column` is at `column * KERNEL_ROWS + row`.
 */
export class CsvLinesKernel {
  kinds = new Uint8Array(0);
  numbers = new Float64Array(0);
  /** Offsets (from the scan's start) of each field's first byte and of the delimiter or LF after it. */
  starts = new Int32Array(0);
  ends = new Int32Array(0);
  /** Per column, at least the number of its fields in the scan that are not numbers. */
  texts = new Int32Array(0);
  /**
   * For a text field: the id of its bytes in its column's label table (see {@link register}),
   * {@link KERNEL_MISSING}, or -1.
   */
  labels = new Int32Array(0);
  /** Bytes of the input the last {@link scan} took: its lines, each with its LF. */
  consumed = 0;
  private readonly exports: Exports;
  private readonly columns: number;
  private readonly delimiter: number;
  private readonly kindsAt: number;
  private readonly numbersAt: number;
  private readonly startsAt: number;
  private readonly endsAt: number;
  private readonly textsAt: number;
  private readonly labelsAt: number;
  private readonly tablesAt: number;
  private readonly skipsAt: number;
  private readonly tableAreaAt: number;
  private readonly tableBytes: number;
  private tablesUsed = 0;
  /** Per column with a label table: its table's address and how many label ids it may hold counts for. */
  private readonly counted: { column: number; table: number; ids: number }[] = [];
  private readonly countLabels: boolean;
  private readonly inputAt: number;
  private inputLength = 0;
  /** Where {@link load} maps the input for the scans: just past it and the room the mapping reads beyond it. */
  private bitmapAt = 0;

  /**
   * `skipped[column]` true: the column's fields get nothing (the reader leaves them out). `countLabels`: text
   * fields with a label are also counted in the kernel ({@link takeLabelCounts}), so the caller need not hand
   * them over one by one.
   */
  constructor(columns: number, delimiter: number, skipped: readonly boolean[] = [], countLabels = false) {
    this.countLabels = countLabels;
    this.exports = wasmInstance<Exports>(CSV_LINES_WASM, 'CSV kernel');
    this.columns = columns;
    this.delimiter = delimiter;
    const fields = KERNEL_ROWS * columns;
    this.numbersAt = align(this.exports.heapBase());
    this.startsAt = this.numbersAt + 8 * fields;
    this.endsAt = this.startsAt + 4 * fields;
    this.textsAt = this.endsAt + 4 * fields;
    this.labelsAt = this.textsAt + 4 * columns;
    this.tablesAt = this.labelsAt + 4 * fields;
    this.skipsAt = this.tablesAt + 4 * columns;
    this.kindsAt = this.skipsAt + 4 * columns;
    // Label tables before the input, so the input can grow; pages stay untouched until a table is used.
    this.tableBytes = align(this.exports.tableBytes());
    this.tableAreaAt = align(this.kindsAt + fields);
    this.inputAt = this.tableAreaAt + Math.min(columns, MAX_TABLES) * this.tableBytes;
    this.reserve(this.inputAt);
    // Per column, how many skipped columns start there (the kernel passes them over in one step).
    const skips = new Int32Array(this.exports.memory.buffer, this.skipsAt, columns);
    for (let column = columns - 1; column >= 0; column--)
      skips[column] = skipped[column] ? 1 + (column + 1 < columns ? skips[column + 1]! : 0) : 0;
  }

  /**
   * Adds label `id` of `column` with the bytes [offset, offset + length) of the input, so later text fields
   * with those bytes get it in {@link labels}. Does nothing for ids from {@link KERNEL_MISSING} on, or once
   * the column's table, or the tables, are full.
   */
  register(column: number, offset: number, length: number, id: number): void {
    if (id < KERNEL_MISSING && this.add(column, offset, length, id)) {
      const entry = this.counted.find((counted) => counted.column === column)!;
      entry.ids = Math.max(entry.ids, id + 1);
    }
  }

  /** Marks later text fields of `column` with these bytes {@link KERNEL_MISSING}, and never counts them. */
  registerMissing(column: number, offset: number, length: number): void {
    this.add(column, offset, length, KERNEL_MISSING);
  }

  private add(column: number, offset: number, length: number, id: number): boolean {
    const tables = new Int32Array(this.exports.memory.buffer, this.tablesAt, this.columns);
    if (tables[column] === 0) {
      if (this.tablesUsed === Math.min(this.columns, MAX_TABLES)) return false;
      tables[column] = this.tableAreaAt + this.tablesUsed++ * this.tableBytes;
      this.counted.push({ column, table: tables[column]!, ids: 0 });
    }
    return this.exports.register(tables[column]!, this.inputAt + offset, length, id) !== 0;
  }

  /** Hands over the label counts gathered by the scans since the last call (with `countLabels`), then zeroes them. */
  takeLabelCounts(take: (column: number, label: number, count: number) => void): void {
    const offset = this.exports.countsOffset();
    for (const { column, table, ids } of this.counted) {
      const counts = new Int32Array(this.exports.memory.buffer, table + offset, ids);
      for (let label = 0; label < ids; label++) {
        const count = counts[label]!;
        if (count === 0) continue;
        counts[label] = 0;
        take(column, label, count);
      }
    }
  }

  /** Copies `buf[from, to)` in and maps it: the input of the following scans. */
  load(buf: Uint8Array, from: number, to: number): void {
    const length = to - from;
    this.bitmapAt = align(this.inputAt + length + INPUT_SLACK);
    this.reserve(this.bitmapAt + this.exports.indexBytes(length));
    new Uint8Array(this.exports.memory.buffer, this.inputAt, length).set(buf.subarray(from, to));
    this.inputLength = length;
    this.exports.index(this.inputAt, length, this.delimiter, this.bitmapAt);
  }

  /** Reads up to {@link KERNEL_ROWS} lines from `offset` of the input; returns how many. */
  scan(offset: number): number {
    const rows = this.exports.scanLines(
      this.inputAt,
      offset,
      this.inputLength,
      this.columns,
      KERNEL_ROWS,
      this.kindsAt,
      this.numbersAt,
      this.startsAt,
      this.endsAt,
      this.textsAt,
      this.tablesAt,
      this.labelsAt,
      this.skipsAt,
      this.bitmapAt,
      this.countLabels ? 1 : 0,
    );
    this.consumed = this.exports.consumedBytes();
    return rows;
  }

  /** Grows the memory to reach `end` (and a little past it). */
  private reserve(end: number): void {
    const memory = this.exports.memory;
    reserveMemory(memory, end + INPUT_SLACK);
    if (this.kinds.buffer !== memory.buffer) {
      const fields = KERNEL_ROWS * this.columns;
      this.kinds = new Uint8Array(memory.buffer, this.kindsAt, fields);
      this.numbers = new Float64Array(memory.buffer, this.numbersAt, fields);
      this.starts = new Int32Array(memory.buffer, this.startsAt, fields);
      this.ends = new Int32Array(memory.buffer, this.endsAt, fields);
      this.texts = new Int32Array(memory.buffer, this.textsAt, this.columns);
      this.labels = new Int32Array(memory.buffer, this.labelsAt, fields);
    }
  }
}

const align = (offset: number) => Math.ceil(offset / 8) * 8;
/** Bytes past the input that the mapping reads, 16 at a time (they count for nothing). */
const INPUT_SLACK = 64;
