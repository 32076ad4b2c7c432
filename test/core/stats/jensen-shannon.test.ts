import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatisticInputError } from '../../../lambdas/core/stats/errors.ts';
import { jensenShannonDistance } from '../../../lambdas/core/stats/jensen-shannon.ts';
import { flooredProportions } from '../../../lambdas/core/stats/psi.ts';
import { binCounts, decileEdges } from '../../../lambdas/core/stats/quantile.ts';
import { expectClose } from '../../helpers/close.ts';
import { goldenSample, goldenStats } from '../../helpers/golden-stats.ts';

const golden = goldenStats();
const sum = (values: ArrayLike<number>) => Array.from(values).reduce((total, value) => total + value, 0);
const floored = (counts: readonly number[]) => flooredProportions(counts, sum(counts));

const vectorPair = fc
  .integer({ min: 1, max: 12 })
  .chain((length) =>
    fc.tuple(
      fc.array(fc.integer({ min: 0, max: 100 }), { minLength: length, maxLength: length }),
      fc.array(fc.integer({ min: 0, max: 100 }), { minLength: length, maxLength: length }),
    ),
  );

describe('jensenShannonDistance against scipy.spatial.distance.jensenshannon', () => {
  it.each(golden.proportions.map((c) => [c.name, c] as const))('floored count proportions: %s', (_, c) => {
    const distance = jensenShannonDistance(floored(c.baselineCounts), floored(c.currentCounts));
    expectClose(distance, c.jensenShannon, c.name);
  });

  it.each(golden.numericBins.map((c) => [c.name, c] as const))('numeric pipeline: %s', (_, c) => {
    const baseline = goldenSample(c.b);
    const current = goldenSample(c.c);
    const edges = decileEdges(baseline.slice().sort());
    const distance = jensenShannonDistance(
      flooredProportions(binCounts(edges, baseline), baseline.length),
      flooredProportions(binCounts(edges, current), current.length),
    );
    expectClose(distance, c.jensenShannon, c.name);
  });

  it('normalises its inputs, so scaling a vector changes nothing', () => {
    expectClose(
      jensenShannonDistance([1, 2, 3], [3, 2, 1]),
      jensenShannonDistance([10, 20, 30], [0.3, 0.2, 0.1]),
      'scaled',
    );
    expect(jensenShannonDistance([1, 0], [0, 1])).toBe(Math.sqrt(Math.LN2));
  });

  it('rejects vectors of different lengths', () => {
    expect(() => jensenShannonDistance([1], [0.5, 0.5])).toThrow(StatisticInputError);
  });
});

describe('jensenShannonDistance properties', () => {
  it('is symmetric, 0 for equal vectors and at most sqrt(ln 2)', () => {
    fc.assert(
      fc.property(vectorPair, ([p, q]) => {
        fc.pre(sum(p) > 0 && sum(q) > 0);
        const distance = jensenShannonDistance(p, q);
        expect(jensenShannonDistance(q, p)).toBe(distance);
        expect(jensenShannonDistance(p, p.slice())).toBe(0);
        expect(distance).toBeGreaterThanOrEqual(0);
        expect(distance).toBeLessThanOrEqual(Math.sqrt(Math.LN2) * (1 + 1e-12));
      }),
    );
  });
});
