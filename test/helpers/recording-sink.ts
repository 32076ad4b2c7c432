import { ValueError } from '../../lambdas/core/errors.ts';
import type { CellValue, TableSink } from '../../lambdas/core/readers/types.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A {@link TableSink} that keeps everything it is given: the columns in declaration order and each row as a
 * record of column name to value (text fields as strings, typed values as they came). A column not given a
 * value in a row is absent from that row's record. Checks the sink contract as it goes: values only for
 * declared columns, at most one per column and row.
 */
export class RecordingSink implements TableSink {
  readonly columns: string[] = [];
  readonly rows: Record<string, CellValue>[] = [];
  // No prototype, so a column named `__proto__` is a plain key.
  private current: Record<string, CellValue> = Object.create(null);
  private readonly failOn: ((column: string, value: CellValue) => boolean) | undefined;
  /** Set by a test to have readers leave columns out (see TableSink.ignores). */
  ignores?: (column: number) => boolean;

  /** `failOn` makes the sink throw a {@link ValueError} for the values it matches, as a real sink may. */
  constructor(failOn?: (column: string, value: CellValue) => boolean) {
    this.failOn = failOn;
  }

  column(name: string): number {
    if (this.columns.includes(name)) throw new ValueError(`duplicate column name ${JSON.stringify(name)}`);
    this.columns.push(name);
    return this.columns.length - 1;
  }

  bytes(column: number, buf: Uint8Array, start: number, end: number): void {
    this.value(column, utf8.decode(buf.subarray(start, end)));
  }

  value(column: number, value: CellValue): void {
    const name = this.columns[column];
    if (name === undefined) throw new Error(`value for undeclared column ${column}`);
    if (Object.hasOwn(this.current, name)) throw new Error(`second value for column ${name} in one row`);
    if (this.failOn?.(name, value)) throw new ValueError('the value is not acceptable');
    this.current[name] = value;
  }

  endRow(): void {
    this.rows.push(this.current);
    this.current = Object.create(null);
  }

  /** The rows as arrays in column order, with `undefined` where a row had no value. */
  table(): (CellValue | undefined)[][] {
    return this.rows.map((row) => this.columns.map((name) => row[name]));
  }
}

/** A sink that does nothing, for throughput measurements and tests that only look at errors. */
export function nullSink(): TableSink {
  let next = 0;
  return { column: () => next++, bytes: () => {}, value: () => {}, endRow: () => {} };
}
