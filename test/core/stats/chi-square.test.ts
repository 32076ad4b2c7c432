import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chiSquareHomogeneity } from '../../../lambdas/core/stats/chi-square.ts';
import { StatisticInputError } from '../../../lambdas/core/stats/errors.ts';
import { expectClose, expectRelativelyClose } from '../../helpers/close.ts';
import { goldenStats } from '../../helpers/golden-stats.ts';

const cases = goldenStats().chi2;

const countPair = fc
  .integer({ min: 1, max: 15 })
  .chain((categories) =>
    fc.tuple(
      fc.array(fc.integer({ min: 0, max: 500 }), { minLength: categories, maxLength: categories }),
      fc.array(fc.integer({ min: 0, max: 500 }), { minLength: categories, maxLength: categories }),
    ),
  );
const positive = (values: readonly number[]) => values.some((v) => v > 0);

describe('chiSquareHomogeneity against scipy.stats.chi2_contingency(correction=False)', () => {
  it.each(cases.map((c) => [`${c.name} (${c.baseline.length} categories)`, c] as const))('%s', (_, c) => {
    const result = chiSquareHomogeneity(c.baseline, c.current);
    expectClose(result.statistic, c.statistic, `${c.name} statistic`);
    expectClose(result.pValue, c.pValue, `${c.name} pValue`);
    if (c.pValue > 0) expectRelativelyClose(result.pValue, c.pValue, `${c.name} pValue (relative)`, 1e-9);
  });

  it('gives statistic 0 and p-value 1 with fewer than 2 categories', () => {
    expect(chiSquareHomogeneity([12], [30])).toEqual({ statistic: 0, pValue: 1 });
    expect(chiSquareHomogeneity([], [])).toEqual({ statistic: 0, pValue: 1 });
  });

  it('leaves out categories counted 0 on both sides (where scipy would raise)', () => {
    expect(chiSquareHomogeneity([10, 0, 20], [20, 0, 10])).toEqual(chiSquareHomogeneity([10, 20], [20, 10]));
    expect(chiSquareHomogeneity([10, 0], [20, 0])).toEqual({ statistic: 0, pValue: 1 });
  });

  it('rejects mismatched, negative or one-sided empty counts', () => {
    expect(() => chiSquareHomogeneity([1, 2], [1])).toThrow(StatisticInputError);
    expect(() => chiSquareHomogeneity([1, -2], [1, 2])).toThrow(/finite and >= 0/);
    expect(() => chiSquareHomogeneity([0, 0], [1, 2])).toThrow(/one side has no counts/);
  });
});

describe('chiSquareHomogeneity properties', () => {
  it('is symmetric in its two rows', () => {
    fc.assert(
      fc.property(countPair, ([b, c]) => {
        fc.pre(positive(b) && positive(c));
        const forward = chiSquareHomogeneity(b, c);
        const backward = chiSquareHomogeneity(c, b);
        // The rows swap places in numpy's pairwise sum, so the last bit may differ.
        expectClose(backward.statistic, forward.statistic, 'statistic', { relative: 1e-13, absolute: 1e-13 });
        expectClose(backward.pValue, forward.pValue, 'pValue', { relative: 1e-12, absolute: 1e-15 });
      }),
    );
  });

  it('gives statistic 0 and p-value 1 when both rows have the same proportions', () => {
    fc.assert(
      fc.property(countPair, fc.integer({ min: 1, max: 5 }), ([b], factor) => {
        fc.pre(positive(b));
        const result = chiSquareHomogeneity(
          b,
          b.map((v) => v * factor),
        );
        expectClose(result.statistic, 0, 'statistic', { relative: 0, absolute: 1e-9 });
        expectClose(result.pValue, 1, 'pValue', { relative: 1e-9, absolute: 0 });
      }),
    );
  });
});
