/**
 * The contract between readers and whatever consumes rows. Readers push; sinks never pull. A reader calls
 * `column` for each column before its first value, then for each row zero or more `bytes`/`number`/
 * `textLabel`/`value` calls or numbers stored in the `numberBatch` (at most one value per column; a column not
 * given a value in a row is missing there), then `endRow`.
 */

/** A typed value from a self-describing format. `null` is a missing value. */
export type CellValue = string | number | boolean | null;

export interface TableSink {
  /**
   * Declares a column and returns the index used for its values. Called for every header field before the
   * first row, and for JSON keys first seen in a later row (earlier rows count as missing there).
   * @throws ValueError when the name is a duplicate or otherwise unusable.
   */
  column(name: string): number;
  /**
   * Optional: true when the sink takes nothing from the column (excluded, or profiled elsewhere), so a
   * reader may leave its fields out; the table's shape is checked all the same. Asked once per column after
   * the header.
   */
  ignores?(column: number): boolean;
  /**
   * A text field from a delimited file: bytes [start, end) of `buf`, quotes already removed. The bytes are
   * valid UTF-8 and are only valid during the call (the buffer is reused).
   */
  bytes(column: number, buf: Uint8Array, start: number, end: number): void;
  /**
   * Optional fast path of a delimited file: a field that is a plain decimal number (`-?digits(.digits)?`
   * whose digits fit in 2^53, at most 22 after the point), with its value parsed as the number grammar of
   * `drift/values.ts` parses it (correctly rounded). Without this method such fields go to `bytes`.
   */
  number?(column: number, value: number, buf: Uint8Array, start: number, end: number): void;
  /**
   * Optional, with `number`: columns whose fast-path numbers are stored rather than passed in a call, so a
   * wide table of numbers is read without a call per field. Read once, when the reader is made.
   */
  readonly numberBatch?: NumberBatch;
  /**
   * Optional pair, for readers that recognise repeated text. `lastTextLabel` gives the label the column's
   * last value got as text (a category, not a number) and forgets it: a later field of the column with
   * exactly the same bytes may then come as `textLabel` instead of `bytes`. {@link MISSING_TEXT} when the
   * value was missing: the sink takes nothing for such a field, so a reader may pass over later ones with the
   * same bytes. -1 when it got neither.
   */
  lastTextLabel?(column: number): number;
  textLabel?(column: number, label: number): void;
  /**
   * Optional, with that pair: `count` more fields of the column with the text of `label`. A sink that has it
   * keeps nothing per row for such fields, so a reader may count them itself and report the counts now and
   * then (before the input ends) instead of calling `textLabel` per field. Read once, when the reader is made.
   */
  readonly textLabelCounts?: ((column: number, label: number, count: number) => void) | undefined;
  /** A typed value from JSON Lines or Parquet. */
  value(column: number, value: CellValue): void;
  /** Ends the current row. */
  endRow(): void;
  /**
   * Optional: `count` calls of {@link endRow} at once, for rows that got no value by call (their numbers are
   * in the number batch, at most to its end, and their text counted with `textLabelCounts`).
   */
  endRows?(count: number): void;
}

/** What `lastTextLabel` gives for a missing value. */
export const MISSING_TEXT = -2;

/**
 * Where a delimited reader stores fast-path numbers: `values[column][row] = value` when `values[column]` is an
 * array (NaN for a field without a number; arrays start filled with NaN); other columns get `number` calls.
 */
export interface NumberBatch {
  row: number;
  /** Rows the arrays hold: `endRow` counts them and starts again at row 0 when `row` reaches it. */
  readonly size: number;
  readonly values: (Float64Array | null)[];
  /**
   * For stored columns that also count the text of their numbers as labels: `plain[column][row] = 1` marks
   * a finite number whose text is its value's shortest form (`String(value)`: digits alone without a leading
   * zero, `0` aside, in a delimited file; any number of a typed format), which the sink labels itself. Any
   * other number of such a column still comes in a `number` call.
   */
  readonly plain: (Uint8Array | null)[];
}

/** Progress of a read, for progress bars. */
export interface ReadProgress {
  /** Compressed bytes consumed from the source so far. */
  bytesRead: number;
  /** Total source size when known. */
  totalBytes?: number;
  rows: number;
}

export interface ReadOptions {
  /** Name used in error messages (the file path or object key). */
  name: string;
  /**
   * Largest number of bytes the input may expand to after gzip decompression.
   * @default 10 GiB
   */
  maxDecompressedBytes?: number;
  /** Called now and then while reading. */
  onProgress?: (progress: ReadProgress) => void;
}

/** Input formats the readers understand; any may be gzip-compressed. */
export type InputFormat = 'csv' | 'jsonl' | 'parquet';
