import { open, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parallelProfiler } from '../../../bin/cli/parallel/profile-parallel.ts';
import { startEarlyWorker } from '../../../bin/early-worker.mjs';
import { type DriftOptions, resolveColumnOptions } from '../../../lambdas/core/drift/options.ts';
import { type BaselineSource, type ReadSettings, runDrift } from '../../../lambdas/core/drift/run.ts';
import type { DriftReport } from '../../../lambdas/core/drift/types.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import { tempDir } from '../../helpers/cli.ts';

function table(rows: number, seed: number, shift: number): string {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const lines = ['x,count,label,region,maybe,y'];
  for (let i = 0; i < rows; i++) {
    const x = (random() + random() + random() - 1.5 + shift).toFixed(4);
    const count = Math.floor(random() * 8 + shift * 3);
    const label = ['a', 'b', 'c', 'd'][Math.floor(random() * (shift > 0 ? 3 : 4))];
    const region = ['north', 'south', 'east'][i % 3];
    const maybe = random() < 0.1 ? 'NA' : (random() * 100).toFixed(1);
    lines.push(`${x},${count},${label},${region},${maybe},${(random() * 1e6).toFixed(0)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The spec's part of a report: everything but metadata (timings, names). */
const specOf = (report: DriftReport) => ({ ...report, metadata: undefined });

let work: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  work = await tempDir('driftwatch-parallel-');
  await writeFile(join(work.dir, 'base.csv'), table(40_000, 1, 0));
  await writeFile(join(work.dir, 'cur.csv'), table(30_000, 2, 0.2));
  // Above a sample cap of 100,000: the shares must sample the same rows.
  await writeFile(join(work.dir, 'big-base.csv'), table(160_000, 3, 0));
  await writeFile(join(work.dir, 'big-cur.csv.gz'), gzipSync(table(150_000, 4, 0.05)));
  const quoted = table(40_000, 5, 0).replace('\nnorth', '\n"nor\nth"');
  await writeFile(join(work.dir, 'quoted.csv'), quoted);
  const lines = table(40_000, 6, 0).split('\n');
  lines[30_000] = '1,2,3';
  await writeFile(join(work.dir, 'ragged.csv'), lines.join('\n'));
  // Text in the last feature, which the second of two threads profiles, and later in the first one's.
  const mixed = table(40_000, 7, 0).split('\n');
  mixed[20_000] = mixed[20_000]!.replace(/,[^,]*$/, ',oops');
  mixed[30_000] = `oops,${mixed[30_000]!.split(',').slice(1).join(',')}`;
  await writeFile(join(work.dir, 'mixed.csv'), mixed.join('\n'));
  // The same tables as JSON Lines and Parquet.
  for (const [name, text] of [
    ['base', table(40_000, 1, 0)],
    ['cur', table(30_000, 2, 0.2)],
  ] as const) {
    const [header, ...records] = text.trim().split('\n');
    const keys = header!.split(',');
    const cells = records.map((line) => line.split(','));
    const typed = (cell: string) => (cell === 'NA' ? null : /^[a-z]/.test(cell) ? cell : Number(cell));
    const objects = cells.map((row) => Object.fromEntries(keys.map((key, i) => [key, typed(row[i]!)])));
    await writeFile(join(work.dir, `${name}.jsonl`), `${objects.map((o) => JSON.stringify(o)).join('\n')}\n`);
    const columnData = keys.map((key, i) => {
      const values = cells.map((row) => typed(row[i]!));
      return { name: key, data: values, type: typeof values[0] === 'string' ? 'STRING' : 'DOUBLE' } as const;
    });
    await writeFile(
      join(work.dir, `${name}.parquet`),
      new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize: 7000 })),
    );
  }
});
afterAll(async () => work.cleanup());

const path = (name: string) => join(work.dir, name);
const data = (name: string): BaselineSource => ({ kind: 'data', input: fileInput(path(name)) });
/** Both files read together (each thread its share of each), or each file on its own. */
const threaded = (threads: number, together = true): ReadSettings => {
  const profiler = parallelProfiler({ threads, minBytes: 0 });
  return together ? { profiler, pairProfiler: profiler.pair } : { profiler };
};

describe('profiling large CSV files on several threads, a share of the columns each', () => {
  it('gives exactly the single-threaded report, below and above the sample cap, with and without segments', async () => {
    const cases: [string, string, DriftOptions][] = [
      ['base.csv', 'cur.csv', {}],
      ['base.csv', 'cur.csv', { segment: 'region' }],
      ['big-base.csv', 'big-cur.csv.gz', { sampleCap: 100_000 }],
      ['big-base.csv', 'big-cur.csv.gz', { sampleCap: 100_000, segment: 'region', exclude: ['y'] }],
      ['quoted.csv', 'cur.csv', { numeric: ['count'] }],
    ];
    for (const [baseline, current, options] of cases) {
      const single = await runDrift(data(baseline), fileInput(path(current)), options);
      for (const [threads, together] of [
        [2, true],
        [3, true],
        [2, false],
      ] as const) {
        const settings = threaded(threads, together);
        const report = await runDrift(data(baseline), fileInput(path(current)), options, settings);
        expect(specOf(report)).toEqual(specOf(single));
      }
    }
    // Twenty drift runs with worker threads: on a busy 2-core machine this takes more than a minute.
  }, 180_000);

  it.each(['jsonl', 'parquet'])('gives exactly the single-threaded report for %s files', async (format) => {
    const single = await runDrift(data(`base.${format}`), fileInput(path(`cur.${format}`)), {});
    const settings = threaded(2);
    const report = await runDrift(data(`base.${format}`), fileInput(path(`cur.${format}`)), {}, settings);
    expect(specOf(report)).toEqual(specOf(single));
    // The threads did read it (a failing share would leave the file to the single pass).
    const shared = await threaded(2).pairProfiler!(
      fileInput(path(`base.${format}`)),
      fileInput(path(`cur.${format}`)),
      resolveColumnOptions({}),
      {},
      new Map(),
    );
    expect(shared?.current.rows).toBe(30_000);
    // And the CSV one: the same rows.
    const csv = await runDrift(data('base.csv'), fileInput(path('cur.csv')), {});
    expect(specOf(report).features.map((feature) => feature.score)).toEqual(
      specOf(csv).features.map((feature) => feature.score),
    );
  });

  it('reads with a profiler that starts its workers at once and stops them after the last file', async () => {
    const single = await runDrift(data('base.csv'), fileInput(path('cur.csv')), {});
    for (const together of [true, false]) {
      const profiler = parallelProfiler({ threads: 2, minBytes: 0, files: 2, startNow: true });
      const settings = together ? { profiler, pairProfiler: profiler.pair } : { profiler };
      const report = await runDrift(data('base.csv'), fileInput(path('cur.csv')), {}, settings);
      expect(specOf(report)).toEqual(specOf(single));
    }
  });

  it.runIf(availableParallelism() > 1)(
    'adopts the worker the launcher started early for a large CSV file, and no worker is started otherwise',
    async () => {
      const store = globalThis as { [key: symbol]: unknown };
      const key = Symbol.for('driftwatch.earlyWorker');
      // A sparse file: 17 MB by its size, nothing written.
      const big = path('big-sparse.csv');
      const handle = await open(big, 'w');
      await handle.truncate(17 * 1024 * 1024);
      await handle.close();
      const idle = new URL('data:text/javascript,');
      for (const args of [
        ['drift', big, '--threads', '1'],
        ['profile', big, '--threads=1'],
        ['evaluate', big],
        ['drift', path('base.csv'), path('cur.csv')],
      ]) {
        startEarlyWorker(idle, args);
        expect(store[key], args.join(' ')).toBeUndefined();
      }
      startEarlyWorker(idle, ['drift', path('base.csv'), big]);
      const early = store[key];
      expect(early).toBeInstanceOf(Worker);
      parallelProfiler({ threads: 2, startNow: true });
      expect(store[key]).toBeUndefined();
      await (early as Worker).terminate();
    },
  );

  it('reports bad input with the exact line, as the single pass does', async () => {
    const settings = threaded(2);
    // In the current data too: its shares are read right after the baseline's.
    await expect(runDrift(data('cur.csv'), fileInput(path('ragged.csv')), {}, settings)).rejects.toThrow(
      /ragged\.csv: line 30001.*expected 6 fields, found 3/,
    );
    await expect(runDrift(data('ragged.csv'), fileInput(path('cur.csv')), {}, settings)).rejects.toThrow(
      /ragged\.csv: line 30001.*expected 6 fields, found 3/,
    );
    // Whichever thread finds its error first, the report names the first one in the file.
    await expect(
      runDrift(data('mixed.csv'), fileInput(path('cur.csv')), { numeric: ['x', 'y'] }, settings),
    ).rejects.toThrow(/mixed\.csv: line 20001, column 6 \("y"\).*declared --numeric/);
    await expect(
      runDrift(data('mixed.csv'), fileInput(path('cur.csv')), { numeric: ['x'] }, settings),
    ).rejects.toThrow(/mixed\.csv: line 30001, column 1 \("x"\).*declared --numeric/);
  });
});
