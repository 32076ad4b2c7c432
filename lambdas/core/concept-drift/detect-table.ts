/**
 * Runs a concept-drift detector over one numeric column of a table (any format the readers take), in file
 * order: the core of `driftwatch detect`.
 */
import { isMissingBytes, isMissingText, parseNumberBytes, parseNumberText } from '../drift/values.ts';
import { ConfigError, InputError, ValueError } from '../errors.ts';
import type { TableInput } from '../readers/input.ts';
import { type ReadTableOptions, readTable } from '../readers/read-table.ts';
import type { CellValue, TableSink } from '../readers/types.ts';
import {
  createDetector,
  Detector,
  type DetectorMethod,
  type DetectorParameters,
  type DetectorParametersOf,
  valueProblem,
} from './detector.ts';

export interface DetectOptions<M extends DetectorMethod = DetectorMethod> {
  /** The column of 0/1 errors or real-valued losses. */
  column: string;
  method: M;
  parameters?: Partial<DetectorParametersOf[M]>;
  /** How errors name the column option (e.g. `--column`). @default "column" */
  columnField?: string;
}

/** What `driftwatch detect --format json` prints. */
export interface DetectReport {
  method: DetectorMethod;
  parameters: DetectorParameters;
  /** Values the detector took (rows with a value in the column). */
  n: number;
  /** Rows without a value in the column (empty, NA, NaN, null, None, an absent key): passed over. */
  skipped: number;
  /** 0-based data-row indices (header excluded, skipped rows counted) where a drift was signalled. */
  detections: number[];
  /** DDM only: 0-based data-row indices where a warning period began. */
  warnings?: number[];
}

/**
 * A {@link TableSink} that feeds one column to a detector as the rows arrive (constant memory). A value that
 * is not a number, or one the method cannot take (DDM: only 0 and 1), is a ValueError the reader turns into
 * an InputError naming the file, line and column. JSON booleans count as 1 (true) and 0 (false).
 */
class DetectorSink implements TableSink {
  private readonly names: string[] = [];
  private target = -1;
  private rowValue = Number.NaN;
  private row = 0;
  private taken = 0;
  readonly detections: number[] = [];
  readonly warnings: number[] = [];

  private readonly detector: Detector;
  private readonly wanted: string;

  constructor(detector: Detector, wanted: string) {
    this.detector = detector;
    this.wanted = wanted;
  }

  column(name: string): number {
    if (this.names.includes(name)) throw new ValueError(`duplicate column name ${JSON.stringify(name)}`);
    const index = this.names.length;
    this.names.push(name);
    if (name === this.wanted) this.target = index;
    return index;
  }

  ignores(index: number): boolean {
    return index !== this.target;
  }

  bytes(index: number, buf: Uint8Array, start: number, end: number): void {
    if (index !== this.target || isMissingBytes(buf, start, end)) return;
    this.take(parseNumberBytes(buf, start, end));
  }

  value(index: number, value: CellValue): void {
    if (index !== this.target || value === null) return;
    if (typeof value === 'number') {
      if (!Number.isNaN(value)) this.take(value);
    } else if (typeof value === 'boolean') {
      this.take(value ? 1 : 0);
    } else if (!isMissingText(value)) {
      this.take(parseNumberText(value));
    }
  }

  private take(value: number): void {
    if (Number.isNaN(value)) throw new ValueError('the value is not a number');
    const problem = valueProblem(this.detector.method, value);
    if (problem !== null) throw new ValueError(problem);
    this.rowValue = value;
  }

  endRow(): void {
    const value = this.rowValue;
    this.rowValue = Number.NaN;
    const row = this.row++;
    if (Number.isNaN(value)) return;
    this.taken++;
    const signal = this.detector.update(value);
    if (signal?.kind === 'drift') this.detections.push(row);
    else if (signal?.kind === 'warning') this.warnings.push(row);
  }

  finish(name: string, field: string): { n: number; skipped: number } {
    if (this.target < 0)
      throw new ConfigError(
        field,
        `column ${JSON.stringify(this.wanted)} is not in ${name} (columns: ${this.names.join(', ')})`,
      );
    if (this.taken === 0)
      throw new InputError(
        { file: name, field: this.wanted },
        `no row has a value in the column (${this.row} rows)`,
      );
    return { n: this.taken, skipped: this.row - this.taken };
  }
}

/**
 * Reads `input` and runs the detector over `options.column`.
 *
 * @throws ConfigError for bad parameters or a column that is not in the table (naming `parameters.<name>` and
 * `options.columnField`); InputError for unreadable input, a value that is not a number or that the method
 * cannot take (file, line, column), or a column without any value.
 * @example
 * ```ts
 * const report = await detectInTable(fileInput('errors.csv'), { column: 'error', method: 'adwin' });
 * report.detections; // [5023]
 * ```
 */
export async function detectInTable(
  input: TableInput,
  options: DetectOptions,
  readOptions: ReadTableOptions = {},
): Promise<DetectReport> {
  const state = createDetector(options.method, options.parameters ?? {});
  const detector = new Detector(state);
  const sink = new DetectorSink(detector, options.column);
  await readTable(input, sink, readOptions);
  const { n, skipped } = sink.finish(input.name, options.columnField ?? 'column');
  const report: DetectReport = {
    method: options.method,
    parameters: { ...state.parameters },
    n,
    skipped,
    detections: sink.detections,
  };
  if (options.method === 'ddm') report.warnings = sink.warnings;
  return report;
}
