/**
 * The DuckDB side of the format benchmark (`bench/formats.ts`): reads each file given and computes, per
 * column, min, max, mean and population standard deviation of numbers and the counts of each text value, in
 * one scan per file, with `--threads` threads (2). A bare scan and aggregate: less than a drift report.
 *
 * ```sh
 * node bench/duckdb-scan.ts --threads 2 bench/data/base-1000000.parquet bench/data/cur-1000000.parquet
 * ```
 */
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';

/** How DuckDB reads each benchmark format: the CSV's missing marks as NULL, so its numbers are numbers. */
export function duckdbSource(path: string): string {
  const quoted = `'${path.replaceAll("'", "''")}'`;
  if (/\.parquet$/.test(path)) return `read_parquet(${quoted})`;
  if (/\.jsonl$/.test(path)) return `read_json(${quoted}, format = 'newline_delimited')`;
  return `read_csv(${quoted}, header = true, nullstr = ['', 'NA', 'NaN'])`;
}

const NUMERIC = /^(DOUBLE|FLOAT|DECIMAL|BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER)/;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { threads: { type: 'string', default: '2' } },
    allowPositionals: true,
  });
  const db = await DuckDBInstance.create(':memory:', { threads: values.threads });
  const connection = await db.connect();
  for (const path of positionals) {
    const source = duckdbSource(path);
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const columns = described.getRows().map(([name, type]) => ({ name: String(name), type: String(type) }));
    const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
    const aggregates = columns.flatMap(({ name, type }) =>
      NUMERIC.test(type)
        ? [`min(${quote(name)})`, `max(${quote(name)})`, `avg(${quote(name)})`, `stddev_pop(${quote(name)})`]
        : [`histogram(${quote(name)})`],
    );
    const result = await connection.runAndReadAll(`SELECT ${aggregates.join(', ')} FROM ${source}`);
    if (result.getRows().length !== 1) throw new Error(`${path}: no result`);
  }
  connection.closeSync();
}

if (import.meta.main) await main();
