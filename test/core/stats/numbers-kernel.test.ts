import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ColumnStats } from '../../../lambdas/core/drift/column-stats.ts';
import { RowSample } from '../../../lambdas/core/drift/row-sample.ts';
import { compileKernel } from '../../../scripts/build-wasm.ts';

const CORE_DIR = join(import.meta.dirname, '..', '..', '..', 'lambdas', 'core');

/** The observable state of a column's counts. */
const countsOf = (stats: ColumnStats) => ({
  present: stats.present,
  numericCount: stats.numericCount,
  mean: stats.mean,
  std: stats.std,
  min: stats.min,
  max: stats.max,
  bins: stats.binCounts === null ? null : [...stats.binCounts],
});

describe('the numbers kernel', () => {
  it('is what its AssemblyScript source compiles to', async () => {
    const committed = readFileSync(join(CORE_DIR, 'stats', 'wasm', 'numbers.wasm.ts'), 'utf8');
    expect(await compileKernel('stats/wasm/numbers.as.ts', 'NUMBERS_WASM')).toBe(committed);
  }, 60_000);

  it('counts batches exactly as the value-by-value path does: sums, range and bins, over few or many edges', () => {
    const value = fc.oneof(
      fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
      fc.constantFrom(Number.NaN, -0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e300, -1e300),
      fc.integer({ min: -5, max: 5 }),
    );
    const edgesOf = fc
      .uniqueArray(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }), {
        maxLength: 40,
      })
      .map((edges) => Float64Array.from(edges).sort());
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { maxLength: 60 }), { maxLength: 4 }),
        edgesOf,
        (batches, edges) => {
          const edgesOrNull = edges.length === 0 ? null : edges;
          const stats = () => {
            const sample = new RowSample(10, 1);
            return new ColumnStats(sample, sample.addColumn(), edgesOrNull);
          };
          const [oneByOne, batched] = [stats(), stats()];
          const none = { count: 0, rows: new Int32Array(0), slots: new Int32Array(0) };
          for (const batch of batches) {
            for (const x of batch) if (!Number.isNaN(x)) oneByOne.addNumber(x);
            batched.addNumbers(Float64Array.from(batch), batch.length, none);
          }
          const [expected, actual] = [countsOf(oneByOne), countsOf(batched)];
          // Object.is tells -0 from 0, and NaN from a number.
          for (const key of ['present', 'numericCount', 'mean', 'std', 'min', 'max'] as const) {
            expect(Object.is(actual[key], expected[key]), key).toBe(true);
          }
          expect(actual.bins).toEqual(expected.bins);
        },
      ),
      {
        numRuns: 400,
        examples: [
          // Signed zeros in both orders, and values on, below and above edges, with 3 and 20 edges.
          [
            [
              [0, -0, Number.NaN, 5],
              [-0, 0, 2, 3],
            ],
            Float64Array.of(-1, 2, 3),
          ],
          [
            [
              [-0, 0],
              [19, 19.5, -1, 25, Number.POSITIVE_INFINITY],
            ],
            Float64Array.from({ length: 20 }, (_, i) => i),
          ],
        ],
      },
    );
  });
});
