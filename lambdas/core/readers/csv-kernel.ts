import { wasmInstance } from '../wasm-instance.ts';
import {
  align,
  INPUT_SLACK,
  KERNEL_MISSING,
  KERNEL_ROWS,
  LineKernel,
  type LineKernelExports,
} from './line-kernel.ts';
import { CSV_LINES_WASM } from './wasm/csv-lines.wasm.ts';

export { KERNEL_MISSING, KERNEL_ROWS };

/** `kinds[f]` of a field the kernel read as a plain decimal number (`numbers[f]` holds it). */
export const KERNEL_NUMBER = 1;
/** `kinds[f]` of a number written as digits alone without a leading zero (`0` aside): its value gives its text. */
export const KERNEL_PLAIN_WHOLE = 2;

interface Exports extends LineKernelExports {
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
}

/** Columns that may get a label table: the first ones that need one (a table takes 37 KB). */
const MAX_TABLES = 64;

/**
 * The WebAssembly loop of the CSV reader (source: wasm/csv-lines.as.ts) for one table: it reads whole lines
 * of unquoted ASCII fields, about twice as fast as the JavaScript state machine, which keeps everything else
 * (quotes, CRLF, errors). The caller copies a chunk in with {@link load}, then calls {@link scan} and reads
 * the fields of the lines it took from {@link kinds}, {@link numbers}, {@link starts} and {@link ends}: the
 * field in `row` and `column` is at `column * KERNEL_ROWS + row`. A column is its own slot.
 */
export class CsvLinesKernel extends LineKernel<Exports> {
  private readonly columns: number;
  private readonly delimiter: number;
  /** Where {@link load} maps the input for the scans: just past it and the room the mapping reads beyond it. */
  private bitmapAt = 0;

  /**
   * `skipped[column]` true: the column's fields get nothing (the reader leaves them out). `countLabels`: text
   * fields with a label are also counted in the kernel ({@link takeLabelCounts}), so the caller need not hand
   * them over one by one.
   */
  constructor(columns: number, delimiter: number, skipped: readonly boolean[] = [], countLabels = false) {
    super(wasmInstance<Exports>(CSV_LINES_WASM, 'CSV kernel'), columns, {
      maxTables: Math.min(columns, MAX_TABLES),
      ownBytes: 0,
      countLabels,
    });
    this.columns = columns;
    this.delimiter = delimiter;
    // Per column, how many skipped columns start there (the kernel passes them over in one step).
    const skips = new Int32Array(this.exports.memory.buffer, this.skipsAt, columns);
    for (let column = columns - 1; column >= 0; column--)
      skips[column] = skipped[column] ? 1 + (column + 1 < columns ? skips[column + 1]! : 0) : 0;
  }

  protected columnOf(column: number): number {
    return column;
  }

  /** Copies `buf[from, to)` in and maps it: the input of the following scans. */
  load(buf: Uint8Array, from: number, to: number): void {
    const length = to - from;
    this.bitmapAt = align(this.inputAt + length + INPUT_SLACK);
    this.copyIn(buf, from, to, this.bitmapAt + this.exports.indexBytes(length));
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
}
