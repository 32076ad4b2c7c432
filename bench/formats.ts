/**
 * The format benchmark of `npm run bench`: the benchmark tables as CSV, CSV gzip, JSON Lines and Parquet
 * (Snappy, row groups of 122,880 rows, as DuckDB writes them), `driftwatch drift` against DuckDB's scan and
 * aggregate of the same two files (bench/duckdb-scan.ts) in the same run, taking turns, and driftwatch's
 * peak RSS on the large tables. The other formats are written from the CSV by DuckDB and cached next to it.
 */
import { createReadStream, createWriteStream, existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckdbSource } from './duckdb-scan.ts';
import { BENCH_DIR, type BenchFiles, benchFiles } from './generate.ts';
import { best, type Measurement, megabytes, scientific, seconds, table, verdict } from './print.ts';

const OUT_DIR = join(BENCH_DIR, 'out');

export const FORMATS = ['csv', 'csv.gz', 'jsonl', 'parquet'] as const;
export type BenchFormat = (typeof FORMATS)[number];

export const FORMAT_LABELS: Record<BenchFormat, string> = {
  csv: 'CSV',
  'csv.gz': 'CSV gzip',
  jsonl: 'JSON Lines',
  parquet: 'Parquet',
};

/** The benchmark's two files in `format`, written from the CSV files when missing or older. */
export async function formatFiles(
  files: BenchFiles,
  format: BenchFormat,
  log: (line: string) => void,
): Promise<{ baseline: string; current: string }> {
  if (format === 'csv') return { baseline: files.baseline, current: files.current };
  const convert = async (csv: string): Promise<string> => {
    const path = csv.replace(/\.csv$/, `.${format}`);
    if (existsSync(path) && statSync(path).mtimeMs >= statSync(csv).mtimeMs) return path;
    const started = performance.now();
    const partial = `${path}.partial`;
    if (format === 'csv.gz') {
      await pipeline(createReadStream(csv), createGzip({ level: 6 }), createWriteStream(partial));
    } else {
      const db = await DuckDBInstance.create(':memory:', { threads: '2' });
      const connection = await db.connect();
      const options =
        format === 'parquet' ? 'FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880' : 'FORMAT json';
      await connection.run(`COPY (SELECT * FROM ${duckdbSource(csv)}) TO '${partial}' (${options})`);
      connection.closeSync();
    }
    renameSync(partial, path);
    log(`wrote ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return path;
  };
  return { baseline: await convert(files.baseline), current: await convert(files.current) };
}

/** Format speed must stay within this multiple of DuckDB's scan and aggregate. */
const TARGET_RATIO = 1.5;
const TARGET_RSS_MB = 300;
const TARGET_RSS_GROWTH = 0.1;

interface DuckdbRun {
  rows: number;
  bigRows: number;
  runs: number;
  formats: BenchFormat[];
  log: (line: string) => void;
  /** `driftwatch drift baseline current` writing its JSON report to `out`, measured. */
  drift(label: string, baseline: string, current: string, out: string): Promise<Measurement>;
  /** DuckDB's scan and aggregate of the two files, measured. */
  scan(label: string, baseline: string, current: string): Promise<Measurement>;
}

/**
 * For each format: `runs` turns of driftwatch and DuckDB on the `rows`-row files (the best time of each and
 * the highest RSS count), then driftwatch once on the `bigRows`-row files; prints the table, how far each
 * format's report is from the CSV one, and the verdicts.
 */
export async function againstDuckdb(run: DuckdbRun): Promise<void> {
  const { rows, bigRows, runs, formats, log } = run;
  const label = rows.toLocaleString('en-US');
  process.stdout.write(
    `\n== Formats at ${label} rows: driftwatch drift vs DuckDB scan + aggregate (2 threads)\n`,
  );
  const files = await benchFiles(rows, log);
  const results: { format: BenchFormat; ours: Measurement; duckdb: Measurement; big?: Measurement }[] = [];
  const reports = new Map<BenchFormat, string>();
  for (const format of formats) {
    const { baseline, current } = await formatFiles(files, format, log);
    const out = join(OUT_DIR, `driftwatch-${format}.json`);
    const ours: Measurement[] = [];
    const duckdb: Measurement[] = [];
    for (let turn = 1; turn <= runs; turn++) {
      const suffix = runs > 1 ? ` ${format} (run ${turn} of ${runs})` : ` ${format}`;
      ours.push(await run.drift(`driftwatch${suffix}`, baseline, current, out));
      duckdb.push(await run.scan(`duckdb${suffix}`, baseline, current));
    }
    reports.set(format, out);
    results.push({ format, ours: best(ours), duckdb: best(duckdb) });
  }
  if (bigRows > 0) {
    const bigLabel = bigRows.toLocaleString('en-US');
    process.stdout.write(`\n== Formats at ${bigLabel} rows, driftwatch only\n`);
    const bigFiles = await benchFiles(bigRows, log);
    for (const result of results) {
      const { baseline, current } = await formatFiles(bigFiles, result.format, log);
      const out = join(OUT_DIR, `driftwatch-${result.format}-${bigRows}.json`);
      result.big = await run.drift(`driftwatch ${result.format} ${bigLabel}`, baseline, current, out);
    }
  }

  const bigHeader = bigRows > 0 ? [`driftwatch ${bigRows.toLocaleString('en-US')} rows`, 'RSS growth'] : [];
  const rowsOut = [
    ['input (both files)', 'driftwatch drift', 'DuckDB scan + aggregate', 'ratio', ...bigHeader],
  ];
  const verdicts: string[] = [];
  for (const { format, ours, duckdb, big } of results) {
    const ratio = ours.wallSeconds / duckdb.wallSeconds;
    const growth = big ? big.peakRssMB / ours.peakRssMB - 1 : 0;
    rowsOut.push([
      FORMAT_LABELS[format],
      `${seconds(ours.wallSeconds)}, ${megabytes(ours.peakRssMB)}`,
      `${seconds(duckdb.wallSeconds)}, ${megabytes(duckdb.peakRssMB)}`,
      `${ratio.toFixed(2)}x`,
      ...(big
        ? [
            `${seconds(big.wallSeconds)}, ${megabytes(big.peakRssMB)}`,
            `${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%`,
          ]
        : []),
    ]);
    const name = FORMAT_LABELS[format];
    verdicts.push(
      verdict(
        ratio <= TARGET_RATIO,
        `${name}: ${ratio.toFixed(2)}x DuckDB's time (target <= ${TARGET_RATIO}x)`,
      ),
      verdict(
        Math.max(ours.peakRssMB, big?.peakRssMB ?? 0) <= TARGET_RSS_MB,
        `${name}: peak RSS ${megabytes(Math.max(ours.peakRssMB, big?.peakRssMB ?? 0))} (target <= ${TARGET_RSS_MB} MB)`,
      ),
    );
    if (big) {
      verdicts.push(
        verdict(
          Math.abs(growth) <= TARGET_RSS_GROWTH,
          `${name}: RSS ${(growth * 100).toFixed(1)}% from ${label} to ${bigRows.toLocaleString('en-US')} rows (target within ${TARGET_RSS_GROWTH * 100}%)`,
        ),
      );
    }
  }
  process.stdout.write(`\n${table(rowsOut)}\n`);
  const csv = reports.get('csv');
  if (csv !== undefined) {
    for (const [format, path] of reports) {
      if (format === 'csv') continue;
      const difference = reportDifference(readJson(csv), readJson(path));
      verdicts.push(
        verdict(
          difference.worst <= 1e-6 && difference.mismatches.length === 0,
          `${FORMAT_LABELS[format]} report = CSV report (worst relative difference ${scientific(difference.worst)}${difference.mismatches.length > 0 ? `; ${difference.mismatches.slice(0, 3).join('; ')}` : ''})`,
        ),
      );
    }
  }
  process.stdout.write(`\nVerdict (formats):\n${verdicts.join('\n')}\n`);
}

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

/**
 * How far two reports are apart: the worst |a - b| / max(|a|, |b|, 1e-3) over their numbers, and the paths
 * where anything else differs. Metadata (timings, file names, formats) is left out.
 */
export function reportDifference(a: unknown, b: unknown): { worst: number; mismatches: string[] } {
  let worst = 0;
  const mismatches: string[] = [];
  const walk = (x: unknown, y: unknown, path: string): void => {
    if (typeof x === 'number' && typeof y === 'number') {
      const scale = Math.max(Math.abs(x), Math.abs(y), 1e-3);
      if (x !== y) worst = Math.max(worst, Number.isFinite(x - y) ? Math.abs(x - y) / scale : 1);
      return;
    }
    if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') {
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      for (const key of keys) {
        if (path === '' && ['metadata', 'baseline', 'current', 'generatedAt', 'inputs'].includes(key))
          continue;
        walk((x as Record<string, unknown>)[key], (y as Record<string, unknown>)[key], `${path}/${key}`);
      }
      return;
    }
    if (x !== y) mismatches.push(`${path}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
  };
  walk(a, b, '');
  return { worst, mismatches };
}
