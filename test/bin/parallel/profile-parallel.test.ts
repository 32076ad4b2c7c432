import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parallelProfiler } from '../../../bin/cli/parallel/profile-parallel.ts';
import { runDrift } from '../../../lambdas/core/drift/run.ts';
import type { DriftReport } from '../../../lambdas/core/drift/types.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import { tempDir } from '../../helpers/cli.ts';
import { expectClose } from '../../helpers/close.ts';

/** Small parts so that test files of a few MB take the parallel path, four of them (merged in turn). */
const parallel = parallelProfiler({ workers: 4, minBytes: 0, partBytes: 256 * 1024 });

function table(rows: number, seed: number, shift: number): string {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const lines = ['x,count,label,region,maybe'];
  for (let i = 0; i < rows; i++) {
    const x = (random() + random() + random() - 1.5 + shift).toFixed(4);
    const count = Math.floor(random() * 8 + shift * 3);
    const label = ['a', 'b', 'c', 'd'][Math.floor(random() * (shift > 0 ? 3 : 4))];
    const region = ['north', 'south', 'east'][i % 3];
    const maybe = random() < 0.1 ? 'NA' : (random() * 100).toFixed(1);
    lines.push(`${x},${count},${label},${region},${maybe}`);
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
  await writeFile(join(work.dir, 'big-base.csv'), table(260_000, 3, 0));
  await writeFile(join(work.dir, 'big-cur.csv'), table(240_000, 4, 0.05));
  const quoted = table(40_000, 5, 0).replace('\nnorth', '\n"nor\nth"');
  await writeFile(join(work.dir, 'quoted.csv'), quoted);
  // Short rows, then long ones: the first half of the bytes holds nine rows in ten.
  const short = Array.from({ length: 180_000 }, (_, i) => `${(i % 997) / 10},s`);
  const long = Array.from({ length: 20_000 }, (_, i) => `${(i % 991) / 10 + 3},${'l'.repeat(80)}`);
  await writeFile(join(work.dir, 'uneven.csv'), `x,pad\n${[...short, ...long].join('\n')}\n`);
  const lines = table(40_000, 6, 0).split('\n');
  lines[30_000] = '1,2,3';
  await writeFile(join(work.dir, 'ragged.csv'), lines.join('\n'));
});
afterAll(async () => work.cleanup());

const path = (name: string) => join(work.dir, name);

describe('parallel profiling of large CSV files', () => {
  it('gives exactly the single-threaded report while the data fit under the sample cap', async () => {
    for (const segment of [undefined, 'region']) {
      const options = { segment, sampleCap: 100_000 };
      const baseline = { kind: 'data', input: fileInput(path('base.csv')) } as const;
      const single = await runDrift(baseline, fileInput(path('cur.csv')), options);
      const threaded = await runDrift(baseline, fileInput(path('cur.csv')), options, { profiler: parallel });
      expect(specOf(threaded)).toEqual(specOf(single));
    }
  });

  it('stays close to the single pass above the cap, and is reproducible', async () => {
    const options = { sampleCap: 100_000 };
    const baseline = { kind: 'data', input: fileInput(path('big-base.csv')) } as const;
    const current = () => fileInput(path('big-cur.csv'));
    const single = await runDrift(baseline, current(), options);
    const threaded = await runDrift(baseline, current(), options, { profiler: parallel });
    const again = await runDrift(baseline, current(), options, { profiler: parallel });
    expect(specOf(again)).toEqual(specOf(threaded));
    for (const [i, entry] of threaded.features.entries()) {
      const reference = single.features[i]!;
      expect(entry.feature).toBe(reference.feature);
      expect(entry.missing).toEqual(reference.missing);
      if (entry.type === 'categorical') {
        // Counts are exact at any size.
        expect(entry.tests).toEqual(reference.tests);
      } else if (entry.tests && 'ks' in entry.tests && reference.tests && 'ks' in reference.tests) {
        // Two uniform samples of 100,000: the DKW bound of the README (0.0123 at m = 100,000).
        expect(Math.abs(entry.tests.ks.statistic - reference.tests.ks.statistic)).toBeLessThan(0.0123);
        expectClose(entry.tests.wasserstein.value, reference.tests.wasserstein.value, 'wasserstein', {
          relative: 0.2,
          absolute: 0.01,
        });
      }
    }
  });

  it('reads with a profiler that starts its worker at once and stops it after the last file', async () => {
    const profiler = parallelProfiler({
      workers: 2,
      minBytes: 0,
      partBytes: 256 * 1024,
      files: 2,
      startNow: true,
    });
    const baseline = { kind: 'data', input: fileInput(path('base.csv')) } as const;
    const single = await runDrift(baseline, fileInput(path('cur.csv')), { sampleCap: 100_000 });
    const threaded = await runDrift(
      baseline,
      fileInput(path('cur.csv')),
      { sampleCap: 100_000 },
      { profiler },
    );
    expect(specOf(threaded)).toEqual(specOf(single));
  });

  it('leaves a file whose rows crowd into one part to the single pass (a part holds its share of the sample)', async () => {
    // Above the cap a merge samples differently from the single pass, so equal reports mean it declined.
    // Two parts: the first holds nine rows in ten but room for 62,500 of the 100,000 the merge draws.
    const parallel = parallelProfiler({ workers: 2, minBytes: 0, partBytes: 2 * 1024 * 1024 });
    const options = { sampleCap: 100_000 };
    const baseline = { kind: 'data', input: fileInput(path('uneven.csv')) } as const;
    const single = await runDrift(baseline, fileInput(path('uneven.csv')), options);
    const threaded = await runDrift(baseline, fileInput(path('uneven.csv')), options, { profiler: parallel });
    expect(specOf(threaded)).toEqual(specOf(single));
    const evenOptions = { sampleCap: 100_000 };
    const even = { kind: 'data', input: fileInput(path('big-base.csv')) } as const;
    const merged = await runDrift(even, fileInput(path('big-cur.csv')), evenOptions, { profiler: parallel });
    const onePass = await runDrift(even, fileInput(path('big-cur.csv')), evenOptions);
    expect(specOf(merged)).not.toEqual(specOf(onePass));
  });

  it('leaves files with quoted line breaks to the single pass', async () => {
    const baseline = { kind: 'data', input: fileInput(path('quoted.csv')) } as const;
    const single = await runDrift(baseline, fileInput(path('cur.csv')), {});
    const threaded = await runDrift(baseline, fileInput(path('cur.csv')), {}, { profiler: parallel });
    expect(specOf(threaded)).toEqual(specOf(single));
    expect(threaded.rows.baseline).toBe(40_000);
  });

  it('reports bad input with the exact line, as the single pass does', async () => {
    const baseline = { kind: 'data', input: fileInput(path('ragged.csv')) } as const;
    await expect(runDrift(baseline, fileInput(path('cur.csv')), {}, { profiler: parallel })).rejects.toThrow(
      /ragged\.csv: line 30001.*expected 5 fields, found 3/,
    );
  });
});
