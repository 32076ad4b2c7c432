import { describe, expect, it } from 'vitest';
import { StatisticInputError } from '../../../lambdas/core/stats/errors.ts';
import {
  PERMUTATION_SIZE,
  PERMUTATIONS,
  wassersteinPermutationPValue,
} from '../../../lambdas/core/stats/permutation.ts';
import { mulberry32 } from '../../../lambdas/core/stats/random.ts';
import { wassersteinDistance } from '../../../lambdas/core/stats/wasserstein.ts';

function normals(random: () => number, size: number, shift = 0): Float64Array {
  const values = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    values[i] = shift + Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  }
  return values.sort();
}

const pValue = (b: Float64Array, c: Float64Array, seed = 42) =>
  wassersteinPermutationPValue(b, c, wassersteinDistance(b, c), seed).pValue;

/** The exact permutation p-value: every way of splitting the pooled values into the two sizes. */
function exactPValue(b: number[], c: number[]): number {
  const pooled = [...b, ...c];
  const observed = wassersteinDistance(Float64Array.from(b).sort(), Float64Array.from(c).sort());
  let extreme = 0;
  let splits = 0;
  const choose = (start: number, picked: number[]) => {
    if (picked.length === b.length) {
      const left = Float64Array.from(picked, (i) => pooled[i]!).sort();
      const right = Float64Array.from(
        pooled.filter((_, i) => !picked.includes(i)),
        (x) => x,
      ).sort();
      splits++;
      if (wassersteinDistance(left, right) >= observed * (1 - 1e-12)) extreme++;
      return;
    }
    for (let i = start; i < pooled.length; i++) choose(i + 1, [...picked, i]);
  };
  choose(0, []);
  return extreme / splits;
}

describe('wassersteinPermutationPValue', () => {
  it('agrees with the exact permutation p-value of small samples', () => {
    const cases: [number[], number[]][] = [
      [
        [1.2, 0.4, 2.2, 3.1, 0.9, 1.7],
        [2.5, 3.3, 1.9, 4.2, 2.8, 3.9, 2.1],
      ],
      [
        [0, 1, 1, 2, 3, 3],
        [1, 2, 2, 3, 4, 4, 5],
      ],
      [
        [5, 3, 8, 1, 9, 2],
        [4, 6, 2, 7, 3, 5, 8],
      ],
    ];
    for (const [b, c] of cases) {
      const exact = exactPValue(b, c);
      const estimate = pValue(Float64Array.from(b).sort(), Float64Array.from(c).sort());
      // A Monte Carlo estimate (stopped after 10 exceedances): within a few standard errors.
      const error = Math.max(
        3 * Math.sqrt((exact * (1 - exact)) / Math.min(PERMUTATIONS, 10 / exact)),
        0.003,
      );
      expect(Math.abs(estimate - exact), `${b} vs ${c}: exact ${exact}, estimate ${estimate}`).toBeLessThan(
        error,
      );
    }
  });

  it('repeats with the same seed', () => {
    const random = mulberry32(3);
    const b = normals(random, 800);
    const c = normals(random, 700, 0.05);
    expect(pValue(b, c, 9)).toBe(pValue(b, c, 9));
  });

  it('rejects about 5% of clean comparisons at 0.05 (300 per side, and thinned 5,000 per side)', () => {
    for (const size of [300, 10 * PERMUTATION_SIZE]) {
      const random = mulberry32(size);
      let rejected = 0;
      const runs = size > PERMUTATION_SIZE ? 100 : 200;
      for (let run = 0; run < runs; run++) {
        if (pValue(normals(random, size), normals(random, size), run) < 0.05) rejected++;
      }
      expect(rejected / runs, `${size} per side`).toBeGreaterThan(0.01);
      expect(rejected / runs, `${size} per side`).toBeLessThan(0.1);
    }
  });

  it('finds a shift of 0.2 standard deviations in 2,000 values per side, with the smallest p-value', () => {
    const random = mulberry32(5);
    expect(pValue(normals(random, 2000), normals(random, 2000, 0.2))).toBe(1 / (PERMUTATIONS + 1));
  });

  it('gives 1 for identical samples and fails on an empty one', () => {
    const b = Float64Array.of(1, 2, 3);
    expect(pValue(b, b)).toBe(1);
    expect(() => wassersteinPermutationPValue(new Float64Array(0), b, 1, 1)).toThrow(StatisticInputError);
  });
});
