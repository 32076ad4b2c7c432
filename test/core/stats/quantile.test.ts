import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatisticInputError } from '../../../lambdas/core/stats/errors.ts';
import {
  binCounts,
  binIndex,
  decileEdges,
  PADDED_EDGES,
  paddedBinIndex,
  padEdges,
  quantileLinear,
} from '../../../lambdas/core/stats/quantile.ts';
import { goldenSample, goldenSortedSample, goldenStats } from '../../helpers/golden-stats.ts';

const cases = goldenStats().quantile;

/** Exact equality, with -0 equal to 0 (numpy's sign of a zero quantile is not part of the contract). */
function expectSameNumbers(actual: ArrayLike<number>, expected: readonly number[], label: string): void {
  expect(Array.from(actual).length, `${label}: length`).toBe(expected.length);
  expected.forEach((value, i) => {
    if (actual[i] !== value) expect.fail(`${label}[${i}]: expected ${value}, got ${actual[i]}`);
  });
}

describe('quantileLinear', () => {
  it.each(cases.map((c) => [c.name, c] as const))('reproduces np.quantile bit for bit: %s', (_, c) => {
    const sorted = goldenSortedSample(c.sample);
    expectSameNumbers(
      c.q.map((q) => quantileLinear(sorted, q)),
      c.quantiles,
      c.name,
    );
  });

  it('uses (n - 1) * q as the virtual index, as numpy 1.24 does', () => {
    // For n = 2, q = 0.1: (n - 1) * q = 0.1, but the general n*q + (1 - q) - 1 = 0.10000000000000009,
    // which would interpolate to 100.50000000000009.
    expect(quantileLinear(Float64Array.of(0.5, 1000.5), 0.1)).toBe(100.5);
  });

  it('takes the far end when the weight rounds past 0.5, landing exactly on the upper value', () => {
    const sorted = Float64Array.of(0.1, 0.7);
    expect(quantileLinear(sorted, 0.9)).toBe(0.7 - (0.7 - 0.1) * (1 - 0.9));
    expect(quantileLinear(sorted, 1)).toBe(0.7);
    expect(quantileLinear(sorted, 0)).toBe(0.1);
  });

  it('rejects empty data and probabilities outside [0, 1]', () => {
    expect(() => quantileLinear(new Float64Array(0), 0.5)).toThrow(StatisticInputError);
    expect(() => quantileLinear(Float64Array.of(1), 1.5)).toThrow(/q must lie in \[0, 1\]/);
    expect(() => quantileLinear(Float64Array.of(1), Number.NaN)).toThrow(StatisticInputError);
  });
});

describe('decileEdges', () => {
  it.each(cases.map((c) => [c.name, c] as const))('equals np.unique of the deciles: %s', (_, c) => {
    expectSameNumbers(decileEdges(goldenSortedSample(c.sample)), c.edges, c.name);
  });

  it('collapses constant data to one edge', () => {
    expectSameNumbers(decileEdges(new Float64Array(50).fill(3)), [3], 'constant');
  });

  it('is strictly ascending and within the data range', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 80 }), (ints) => {
        const sorted = Float64Array.from(ints, (v) => v / 4).sort();
        const edges = decileEdges(sorted);
        for (let i = 1; i < edges.length; i++) expect(edges[i]!).toBeGreaterThan(edges[i - 1]!);
        expect(edges[0]!).toBeGreaterThanOrEqual(sorted[0]!);
        expect(edges[edges.length - 1]!).toBeLessThanOrEqual(sorted[sorted.length - 1]!);
      }),
    );
  });
});

describe('binIndex and binCounts', () => {
  it.each(cases.map((c) => [c.name, c] as const))(
    'match np.searchsorted(side=left) and bincount: %s',
    (_, c) => {
      const edges = Float64Array.from(c.edges);
      const probes = goldenSample(c.probes);
      expectSameNumbers(
        Array.from(probes, (x) => binIndex(edges, x)),
        c.bins,
        `${c.name} bins`,
      );
      expectSameNumbers(binCounts(edges, probes), c.binCounts, `${c.name} unsorted counts`);
      expectSameNumbers(binCounts(edges, probes.slice().sort()), c.binCounts, `${c.name} sorted counts`);
    },
  );

  it('puts a value equal to an edge in the bin below it (bins are open below, closed above)', () => {
    const edges = Float64Array.of(1, 2, 3);
    expect([0.5, 1, 1.5, 2, 3, 3.5].map((x) => binIndex(edges, x))).toEqual([0, 0, 1, 1, 2, 3]);
    expect(binIndex(new Float64Array(0), 7)).toBe(0);
  });

  it('gives the same bin through padded edges, for every count of edges up to the padding', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: PADDED_EDGES }),
        fc.array(fc.double({ noNaN: true }), { maxLength: 40 }),
        (edgeValues, values) => {
          const edges = Float64Array.from(edgeValues).sort();
          const padded = padEdges(edges)!;
          // The edges themselves, either side of them, and anything else.
          const probes = [...edges, ...edges.map((e) => e + 1e-9), ...edges.map((e) => e - 1), ...values];
          for (const x of probes) expect(paddedBinIndex(padded, x)).toBe(binIndex(edges, x));
        },
      ),
    );
    expect(padEdges(new Float64Array(PADDED_EDGES + 1))).toBeNull();
    expect(paddedBinIndex(padEdges(Float64Array.of(1, 2))!, Number.POSITIVE_INFINITY)).toBe(2);
  });

  it('counts every value once, the same for sorted and shuffled input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: -25, max: 25 }), { maxLength: 200 }),
        (baseline, values) => {
          const edges = decileEdges(Float64Array.from(baseline).sort());
          const expected = new Float64Array(edges.length + 1);
          for (const x of values) expected[binIndex(edges, x)]!++;
          expect(binCounts(edges, values)).toEqual(expected);
          expect(binCounts(edges, Float64Array.from(values).sort())).toEqual(expected);
          expect(binCounts(edges, values).reduce((sum, count) => sum + count, 0)).toBe(values.length);
        },
      ),
    );
  });
});
