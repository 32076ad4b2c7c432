import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatisticInputError } from '../../../lambdas/core/stats/errors.ts';
import {
  flooredProportions,
  PROPORTION_FLOOR,
  populationStabilityIndex,
} from '../../../lambdas/core/stats/psi.ts';
import { binCounts, decileEdges } from '../../../lambdas/core/stats/quantile.ts';
import { expectClose } from '../../helpers/close.ts';
import { goldenSample, goldenStats } from '../../helpers/golden-stats.ts';

const golden = goldenStats();
const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/** Count vectors of the same length, some bins empty. */
const countPair = fc
  .integer({ min: 1, max: 12 })
  .chain((bins) =>
    fc.tuple(
      fc.array(fc.integer({ min: 0, max: 50 }), { minLength: bins, maxLength: bins }),
      fc.array(fc.integer({ min: 0, max: 50 }), { minLength: bins, maxLength: bins }),
    ),
  );

describe('flooredProportions', () => {
  it.each(golden.proportions.map((c) => [c.name, c] as const))('matches the reference: %s', (_, c) => {
    expect(Array.from(flooredProportions(c.baselineCounts, sum(c.baselineCounts)))).toEqual(
      c.baselineProportions,
    );
    expect(Array.from(flooredProportions(c.currentCounts, sum(c.currentCounts)))).toEqual(
      c.currentProportions,
    );
  });

  it('replaces only exact zeros and does not renormalise', () => {
    const proportions = flooredProportions([0, 1, 3], 4);
    expect(Array.from(proportions)).toEqual([PROPORTION_FLOOR, 0.25, 0.75]);
    expect(sum(Array.from(proportions))).toBeGreaterThan(1);
  });
});

describe('populationStabilityIndex', () => {
  it.each(golden.proportions.map((c) => [c.name, c] as const))(
    'matches numpy over count vectors: %s',
    (_, c) => {
      const baseline = flooredProportions(c.baselineCounts, sum(c.baselineCounts));
      const current = flooredProportions(c.currentCounts, sum(c.currentCounts));
      expectClose(populationStabilityIndex(baseline, current), c.psi, c.name);
    },
  );

  it.each(golden.numericBins.map((c) => [c.name, c] as const))('matches the numeric pipeline: %s', (_, c) => {
    const baseline = goldenSample(c.b);
    const current = goldenSample(c.c);
    const edges = decileEdges(baseline.slice().sort());
    expect(Array.from(edges)).toEqual(c.edges);
    const baselineCounts = binCounts(edges, baseline);
    const currentCounts = binCounts(edges, current);
    expect(Array.from(baselineCounts)).toEqual(c.baselineCounts);
    expect(Array.from(currentCounts)).toEqual(c.currentCounts);
    const psi = populationStabilityIndex(
      flooredProportions(baselineCounts, baseline.length),
      flooredProportions(currentCounts, current.length),
    );
    expectClose(psi, c.psi, c.name);
  });

  it('is 0 for identical distributions and >= 0 otherwise', () => {
    fc.assert(
      fc.property(countPair, ([b, c]) => {
        fc.pre(sum(b) > 0 && sum(c) > 0);
        const pb = flooredProportions(b, sum(b));
        const pc = flooredProportions(c, sum(c));
        expect(populationStabilityIndex(pb, pb.slice())).toBe(0);
        expect(populationStabilityIndex(pb, pc)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('rejects vectors of different lengths', () => {
    expect(() => populationStabilityIndex([0.5, 0.5], [1])).toThrow(StatisticInputError);
  });
});
