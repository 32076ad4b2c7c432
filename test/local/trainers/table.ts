import { readFileSync } from 'node:fs';
import { CsvParser } from '../../../lambdas/core/readers/csv.ts';
import { type Table, TableCollector } from '../../../local/trainers/dataset.ts';

/** Parses CSV text (with a header) into a table with the core CSV reader. */
export function csvTable(text: string | Uint8Array, name = 'inline.csv'): Table {
  const collector = new TableCollector();
  const parser = new CsvParser(collector, { name });
  parser.push(typeof text === 'string' ? new TextEncoder().encode(text) : text);
  parser.finish();
  return collector.table;
}

/** The churn fixture split 80/20 by row number: every fifth row (1-based multiples of 5) is validation. */
export function churnSplit(): { train: Table; validation: Table } {
  const table = csvTable(readFileSync('test/fixtures/data/mlc_churn.csv'), 'mlc_churn.csv');
  return {
    train: { columns: table.columns, rows: table.rows.filter((_, i) => i % 5 !== 4) },
    validation: { columns: table.columns, rows: table.rows.filter((_, i) => i % 5 === 4) },
  };
}
