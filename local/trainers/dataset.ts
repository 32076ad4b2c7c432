import { ValueError } from '../../lambdas/core/errors.ts';
import type { TableInput } from '../../lambdas/core/readers/input.ts';
import { readTable } from '../../lambdas/core/readers/read-table.ts';
import type { CellValue, TableSink } from '../../lambdas/core/readers/types.ts';
import { TrainingDataError } from './errors.ts';

/**
 * A table held in memory: column names and rows of cells in column order (`null` where a row has no
 * value). CSV cells are strings as written; JSON Lines and Parquet cells keep their types.
 */
export interface Table {
  columns: string[];
  rows: CellValue[][];
}

/**
 * A {@link TableSink} that keeps every row, for data small enough to train on in memory. Columns first
 * seen in a later JSON row are missing (`null`) in the rows before.
 *
 * @example
 * ```ts
 * const collector = new TableCollector();
 * await readTable(fileInput('train.csv'), collector);
 * collector.table.rows.length;
 * ```
 */
export class TableCollector implements TableSink {
  readonly table: Table = { columns: [], rows: [] };
  private current: CellValue[] = [];
  private readonly decoder = new TextDecoder();
  private readonly seen = new Set<string>();

  column(name: string): number {
    if (this.seen.has(name)) throw new ValueError(`duplicate column ${JSON.stringify(name)}`);
    this.seen.add(name);
    return this.table.columns.push(name) - 1;
  }

  bytes(column: number, buf: Uint8Array, start: number, end: number): void {
    this.current[column] = this.decoder.decode(buf.subarray(start, end));
  }

  value(column: number, value: CellValue): void {
    this.current[column] = value;
  }

  endRow(): void {
    const row = this.current;
    for (let i = 0; i < this.table.columns.length; i++) row[i] ??= null;
    this.table.rows.push(row);
    this.current = [];
  }
}

/**
 * Reads the files of one channel (CSV with a header, JSON Lines or Parquet, any gzip'd) into one table.
 * Every file must have the same columns in the same order, as the parts of one export do.
 *
 * @throws TrainingDataError when the channel has no files or two files disagree on their columns;
 *   InputError from the readers for malformed files.
 */
export async function readChannel(channel: string, inputs: readonly TableInput[]): Promise<Table> {
  if (inputs.length === 0) throw new TrainingDataError(channel, 'no data files found');
  let table: Table | undefined;
  for (const input of inputs) {
    const collector = new TableCollector();
    await readTable(input, collector);
    const part = collector.table;
    if (table === undefined) {
      table = part;
      continue;
    }
    if (part.columns.join('\u0000') !== table.columns.join('\u0000')) {
      throw new TrainingDataError(
        channel,
        `${input.name} has columns [${part.columns.join(', ')}], expected [${table.columns.join(', ')}] as in ${inputs[0]!.name}`,
      );
    }
    for (const row of part.rows) table.rows.push(row);
  }
  return table!;
}
