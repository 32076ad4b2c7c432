import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatisticInputError } from '../../../lambdas/core/stats/errors.ts';
import { pairwiseSum } from '../../../lambdas/core/stats/pairwise-sum.ts';
import { populationStd, wassersteinDistance } from '../../../lambdas/core/stats/wasserstein.ts';
import { expectClose } from '../../helpers/close.ts';
import { goldenSample, goldenSortedSample, goldenStats } from '../../helpers/golden-stats.ts';

const golden = goldenStats();

const tiedSample = fc
  .array(fc.integer({ min: -40, max: 40 }), { minLength: 1, maxLength: 50 })
  .map((ints) => Float64Array.from(ints, (v) => v / 8).sort());

describe('wassersteinDistance against scipy.stats.wasserstein_distance', () => {
  it.each(golden.wasserstein.map((c) => [c.name, c] as const))('%s', (_, c) => {
    expectClose(wassersteinDistance(goldenSortedSample(c.u), goldenSortedSample(c.v)), c.distance, c.name);
  });

  it('is the shift between a sample and its translate', () => {
    expect(wassersteinDistance(Float64Array.of(0, 1), Float64Array.of(1, 2))).toBe(1);
    expect(wassersteinDistance(Float64Array.of(0), Float64Array.of(0, 0, 3))).toBe(1);
  });

  it('rejects an empty sample', () => {
    expect(() => wassersteinDistance(new Float64Array(0), Float64Array.of(1))).toThrow(StatisticInputError);
  });
});

/** scipy's `_cdf_distance` step by step: pool and sort, count with searchsorted(side='right'), sum pairwise. */
function scipyWasserstein(u: Float64Array, v: Float64Array): number {
  const pooled = Float64Array.from([...u, ...v]).sort();
  const atOrBelow = (sorted: Float64Array, x: number) => {
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (sorted[middle]! <= x) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  const terms = new Float64Array(pooled.length - 1);
  for (let k = 0; k < terms.length; k++) {
    const cdfs = atOrBelow(u, pooled[k]!) / u.length - atOrBelow(v, pooled[k]!) / v.length;
    terms[k] = Math.abs(cdfs) * (pooled[k + 1]! - pooled[k]!);
  }
  return pairwiseSum(terms, 0, terms.length);
}

describe('wassersteinDistance properties', () => {
  it("forms scipy's terms exactly, ties and signed zeros included", () => {
    const values = fc.oneof(
      fc.integer({ min: -5, max: 5 }).map((x) => x / 4),
      fc.constantFrom(0, -0, Number.MAX_VALUE, -1e-300),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    const sample = fc
      .array(values, { minLength: 1, maxLength: 60 })
      .map((xs) => Float64Array.from(xs).sort());
    fc.assert(
      fc.property(sample, sample, (u, v) => {
        expect(Object.is(wassersteinDistance(u, v), scipyWasserstein(u, v))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('is symmetric, 0 for identical samples, and grows with the shift of a translate', () => {
    fc.assert(
      fc.property(tiedSample, tiedSample, fc.integer({ min: 0, max: 64 }), (u, v, shift) => {
        expect(wassersteinDistance(v, u)).toBe(wassersteinDistance(u, v));
        expect(wassersteinDistance(u, u.slice())).toBe(0);
        const translate = u.map((x) => x + shift / 8);
        expectClose(wassersteinDistance(u, translate), shift / 8, 'translate', {
          relative: 1e-12,
          absolute: 1e-12,
        });
      }),
    );
  });
});

describe('populationStd against numpy.std', () => {
  it.each(golden.std.map((c) => [c.sample, c] as const))('%s', (name, c) => {
    // numpy sums pairwise; following the same order gives agreement far beyond the spec's 1e-6.
    expectClose(populationStd(goldenSample(name)), c.std, name, { relative: 1e-12, absolute: 0 });
  });

  it('keeps precision on data with a large offset, where naive formulas cancel', () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => 1e9 + (i % 2 === 0 ? 1e-3 : -1e-3));
    expectClose(populationStd(values), 1e-3, 'offset', { relative: 1e-4, absolute: 0 });
  });

  it('rejects an empty sample', () => {
    expect(() => populationStd([])).toThrow(StatisticInputError);
  });
});
