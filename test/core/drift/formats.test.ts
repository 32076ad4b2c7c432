import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type ColumnSource, parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftOptions } from '../../../lambdas/core/drift/options.ts';
import { runDrift } from '../../../lambdas/core/drift/run.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';

/**
 * The same rows as CSV, CSV gzip, JSON Lines (keys in a different order on every other line, missing values
 * as absent keys or null; and with the same keys on every line, as most writers write it) and Parquet (Snappy and gzip, nullable columns, dictionary text) give the same drift
 * report, to the drift spec's tolerance, for every pair of formats.
 */

type Cell = number | string | null;
const COLUMNS = ['x', 'count', 'rating', 'score', 'amount', 'epoch', 'colour', 'region'] as const;
type Row = Record<(typeof COLUMNS)[number], Cell>;

function rows(count: number, seed: number, shift: number): Row[] {
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: count }, (_, i) => ({
    x: Math.round((random() * 10 + shift) * 1000) / 1000,
    count: Math.floor(random() * 100),
    rating: Math.floor(random() * (5 + shift)),
    // Few distinct numbers, negative and fractional: labelled by their text in every format.
    score: ((i * 7919) % (9 + shift)) / 2 - 1,
    amount: random() < 0.1 ? null : Math.round(random() * 1e6 * (1 + shift)) / 100,
    epoch: 1_600_000_000 + Math.floor(random() * 1e7),
    colour: random() < 0.05 ? null : ['red', 'green', 'blue', 'grey'][Math.floor(random() * (3 + shift))]!,
    region: ['north', 'south'][Math.floor(random() * 2)]!,
  }));
}

const csv = (table: Row[]) =>
  `${COLUMNS.join(',')}\n${table.map((row) => COLUMNS.map((c) => (row[c] === null ? (c === 'amount' ? 'NA' : '') : String(row[c]))).join(',')).join('\n')}\n`;

const jsonl = (table: Row[]) =>
  `${table
    .map((row, i) => {
      const keys = i % 2 === 0 ? [...COLUMNS] : [...COLUMNS].reverse();
      // Missing values: the key left out on even lines, null on odd ones.
      const entries = keys.flatMap((key) => (row[key] === null && i % 2 === 0 ? [] : [[key, row[key]]]));
      return JSON.stringify(Object.fromEntries(entries));
    })
    .join('\r\n')}\r\n`;

function parquet(table: Row[], codec: 'SNAPPY' | 'GZIP'): Uint8Array {
  const column = (name: (typeof COLUMNS)[number], type: ColumnSource['type']): ColumnSource => ({
    name,
    data: table.map((row) => row[name]),
    type,
  });
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        column('x', 'DOUBLE'),
        { ...column('count', 'INT32'), data: Int32Array.from(table, (row) => row.count as number) },
        column('rating', 'DOUBLE'),
        column('score', 'DOUBLE'),
        column('amount', 'DOUBLE'),
        { ...column('epoch', 'INT64'), data: table.map((row) => BigInt(row.epoch as number)) },
        column('colour', 'STRING'),
        column('region', 'STRING'),
      ],
      codec,
      rowGroupSize: 700,
      compressors: { GZIP: (bytes) => gzipSync(bytes) },
    }),
  );
}

/** JSON Lines as most writers write it: the same keys in the same order on every line (the parser's kernel). */
const orderedJsonl = (table: Row[]) => `${table.map((row) => JSON.stringify(row)).join('\n')}\n`;

const FORMATS = {
  csv: (table: Row[]) => csv(table),
  'csv.gz': (table: Row[]) => gzipSync(csv(table)),
  jsonl: (table: Row[]) => jsonl(table),
  'jsonl.gz': (table: Row[]) => gzipSync(jsonl(table)),
  'ordered.jsonl': (table: Row[]) => orderedJsonl(table),
  parquet: (table: Row[]) => parquet(table, 'SNAPPY'),
  'gzip.parquet': (table: Row[]) => parquet(table, 'GZIP'),
};

let directory: string;
const baseline = rows(3000, 1, 0);
const current = rows(2500, 2, 1);

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'formats-'));
  for (const [format, write] of Object.entries(FORMATS)) {
    await writeFile(join(directory, `base.${format}`), write(baseline));
    await writeFile(join(directory, `cur.${format}`), write(current));
  }
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** The worst relative difference of two reports' numbers, and what else differs (metadata left out). */
function difference(a: unknown, b: unknown): { worst: number; other: string[] } {
  let worst = 0;
  const other: string[] = [];
  const walk = (x: unknown, y: unknown, path: string): void => {
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y) worst = Math.max(worst, Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1e-3));
    } else if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') {
      for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
        if (path === '' && key === 'metadata') continue;
        walk((x as Record<string, unknown>)[key], (y as Record<string, unknown>)[key], `${path}/${key}`);
      }
    } else if (x !== y) {
      other.push(`${path}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
    }
  };
  walk(a, b, '');
  return { worst, other };
}

describe('the same rows in every format', () => {
  it.each<[string, DriftOptions]>([
    ['default options', {}],
    ['a segment column and a declared type', { segment: 'region', numeric: ['rating'] }],
  ])('give the same drift report for every pair of formats (%s)', async (_, options) => {
    const reports = new Map<string, unknown>();
    for (const format of Object.keys(FORMATS)) {
      const report = await runDrift(
        { kind: 'data', input: fileInput(join(directory, `base.${format}`)) },
        fileInput(join(directory, `cur.${format}`)),
        options,
      );
      reports.set(format, JSON.parse(JSON.stringify(report)));
    }
    const csvReport = reports.get('csv') as { features: { feature: string; type: string }[] };
    // The table is what it should be: every feature, each of the expected type, some drifted.
    expect(csvReport.features.map((feature) => [feature.feature, feature.type])).toEqual(
      expect.arrayContaining([
        ['x', 'numeric'],
        ['amount', 'numeric'],
        ['colour', 'categorical'],
      ]),
    );
    const formats = [...reports.keys()];
    for (const [i, a] of formats.entries()) {
      for (const b of formats.slice(i + 1)) {
        const { worst, other } = difference(reports.get(a), reports.get(b));
        expect(other, `${a} vs ${b}`).toEqual([]);
        expect(worst, `${a} vs ${b}`).toBeLessThanOrEqual(1e-6);
      }
    }
  });
});
