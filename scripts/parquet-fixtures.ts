/**
 * `node scripts/parquet-fixtures.ts`: writes the small Parquet files of test/fixtures/parquet with DuckDB
 * (`@duckdb/node-api`, a devDependency), the writer the benchmark compares against and the one most data
 * lakes' files look like: data pages v1, PLAIN or dictionary per column chunk, OPTIONAL columns. The tests
 * read the committed files (hyparquet-writer's files, data pages v2, are made in the tests themselves).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const OUT = join(import.meta.dirname, '..', 'test', 'fixtures', 'parquet');

/** Every type the reader maps, with a null in each column (row 3). */
const TYPES = `
  SELECT * FROM (VALUES
    (1, 10000000000::BIGINT, 1.5::FLOAT, 0.1::DOUBLE, true, 123.45::DECIMAL(9,2), 1.5::DECIMAL(18,3),
     -0.0001::DECIMAL(38,4), TIMESTAMP '2024-01-02 03:04:05.25', TIMESTAMP_MS '2024-01-02 03:04:05.5',
     TIMESTAMP_NS '1970-01-01 00:00:01.000000001', TIMESTAMPTZ '2024-01-02 03:04:05+00', DATE '2024-01-02',
     TIME '01:00:30', 'a', 200::UTINYINT, 4000000000::UINTEGER, 18000000000000000000::UBIGINT, 'x'::BLOB,
     1.5::HUGEINT),
    (-2, -5, -0.25::FLOAT, -1e300, false, -0.01::DECIMAL(9,2), -2.25::DECIMAL(18,3),
     12345678901234.5678::DECIMAL(38,4), TIMESTAMP '1969-12-31 23:59:59', TIMESTAMP_MS '1970-01-01 00:00:00',
     TIMESTAMP_NS '2024-01-02 03:04:05', TIMESTAMPTZ '1970-01-01 00:00:00+00', DATE '1969-12-31',
     TIME '23:59:59.5', 'é', 0::UTINYINT, 0::UINTEGER, 1::UBIGINT, '\\xFF'::BLOB, -3::HUGEINT),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL)
  ) t(i32, i64, f32, f64, flag, dec9, dec18, dec38, ts, ts_ms, ts_ns, tstz, day, clock, text, u8, u32, u64,
      raw, huge)`;

/**
 * 4,500 rows in row groups of 2,048 (DuckDB's smallest): numbers, a category, a nullable column, and a text
 * column that is dictionary-encoded in the first row group and PLAIN in the others (too many distinct values).
 */
const MIXED = `
  SELECT i AS id, i * 0.5 AS half, ['red', 'green', 'blue'][i % 3 + 1] AS colour,
         CASE WHEN i < 2048 THEN 'k' || (i % 4) ELSE 'u' || i END AS label,
         CASE WHEN i % 10 = 0 THEN NULL ELSE i % 7 END AS sparse
  FROM range(4500) r(i)`;

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  const copy = (query: string, file: string, options: string) =>
    connection.run(`COPY (${query}) TO '${join(OUT, file)}' (FORMAT parquet, ${options})`);
  await copy(TYPES, 'types.parquet', 'COMPRESSION snappy');
  for (const codec of ['uncompressed', 'snappy', 'gzip', 'zstd']) {
    await copy(MIXED, `mixed-${codec}.parquet`, `COMPRESSION ${codec}, ROW_GROUP_SIZE 2048`);
  }
  await copy(`${MIXED} LIMIT 0`, 'empty.parquet', 'COMPRESSION snappy');
  // One row group of 140,000 rows, one page per column (PLAIN numbers, dictionary-encoded numbers and text):
  // longer than the reader's long pages.
  await copy(
    `SELECT CASE WHEN i % 9 = 4 THEN NULL ELSE i * 0.5 - 7e4 END AS d, i - 99 + (i % 3) * 8589934592 AS big,
            CASE WHEN i % 11 = 3 THEN NULL ELSE (i % 500) / 4 END AS few,
            CASE WHEN i % 13 = 6 THEN NULL ELSE 'c' || (i % 17) END AS cat
     FROM range(140000) r(i)`,
    'long-plain.parquet',
    'COMPRESSION snappy, ROW_GROUP_SIZE 200000',
  );
  await copy(
    `SELECT i AS id, [i, i + 1] AS pair, {'x': i, 'y': i * 2} AS point FROM range(5) r(i)`,
    'nested.parquet',
    'COMPRESSION snappy',
  );
  connection.closeSync();
  console.log(`wrote ${OUT}`);
}

await main();
