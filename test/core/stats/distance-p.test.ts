import { describe, expect, it } from 'vitest';
import { chiSquareHomogeneity } from '../../../lambdas/core/stats/chi-square.ts';
import {
  cramersV,
  effectiveSize,
  jensenShannonPValue,
  psiPValue,
} from '../../../lambdas/core/stats/distance-p.ts';
import { jensenShannonDistance } from '../../../lambdas/core/stats/jensen-shannon.ts';
import { flooredProportions, populationStabilityIndex } from '../../../lambdas/core/stats/psi.ts';
import { binCounts, decileEdges } from '../../../lambdas/core/stats/quantile.ts';
import { mulberry32 } from '../../../lambdas/core/stats/random.ts';

/** Standard normal draws (Box-Muller) from a seeded generator. */
function normals(random: () => number, size: number, shift = 0): Float64Array {
  const values = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    values[i] = shift + Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  }
  return values.sort();
}

/** The spec's numeric pipeline: baseline decile edges, floored proportions, PSI, JS and their p-values. */
function binnedPValues(baseline: Float64Array, current: Float64Array) {
  const edges = decileEdges(baseline);
  const b = flooredProportions(binCounts(edges, baseline), baseline.length);
  const c = flooredProportions(binCounts(edges, current), current.length);
  const bins = edges.length + 1;
  const psi = populationStabilityIndex(b, c);
  const js = jensenShannonDistance(b, c);
  return {
    psi: psiPValue(psi, bins, baseline.length, current.length),
    js: jensenShannonPValue(js, bins, baseline.length, current.length),
    chi2: chiSquareHomogeneity(binCounts(edges, baseline), binCounts(edges, current)).pValue,
  };
}

describe('p-values of PSI and Jensen-Shannon (asymptotic chi-square)', () => {
  it('agree with the chi-square test on the same bins', () => {
    const random = mulberry32(7);
    for (const shift of [0, 0.05, 0.1, 0.2]) {
      const p = binnedPValues(normals(random, 20_000), normals(random, 20_000, shift));
      // Same law to second order: close in log scale across five orders of magnitude.
      expect(Math.abs(Math.log(p.psi) - Math.log(p.chi2))).toBeLessThan(
        0.25 * Math.max(1, -Math.log(p.chi2)),
      );
      expect(Math.abs(Math.log(p.js) - Math.log(p.chi2))).toBeLessThan(0.25 * Math.max(1, -Math.log(p.chi2)));
    }
  });

  it('reject about 5% of clean comparisons at 0.05 (baseline decile bins, 500 per side)', () => {
    const random = mulberry32(11);
    let psi = 0;
    let js = 0;
    const runs = 400;
    for (let run = 0; run < runs; run++) {
      const p = binnedPValues(normals(random, 500), normals(random, 500));
      if (p.psi < 0.05) psi++;
      if (p.js < 0.05) js++;
    }
    expect(psi / runs).toBeGreaterThan(0.02);
    expect(psi / runs).toBeLessThan(0.09);
    expect(js / runs).toBeGreaterThan(0.02);
    expect(js / runs).toBeLessThan(0.09);
  });

  it('give p-value 1 with fewer than two bins, and the effective size n·m/(n+m)', () => {
    expect(psiPValue(0.3, 1, 100, 100)).toBe(1);
    expect(jensenShannonPValue(0.3, 0, 100, 100)).toBe(1);
    expect(effectiveSize(100, 300)).toBe(75);
    expect(effectiveSize(0, 300)).toBe(0);
  });
});

describe("Cramér's V", () => {
  it('is sqrt(chi2 / N) on a 2 x K table: 1 for sides with disjoint categories, 0 for equal shares', () => {
    const disjoint = chiSquareHomogeneity([50, 0], [0, 50]);
    expect(cramersV(disjoint.statistic, 100, 2)).toBeCloseTo(1, 12);
    const equal = chiSquareHomogeneity([10, 20, 30], [20, 40, 60]);
    expect(cramersV(equal.statistic, 180, 3)).toBe(0);
    // scipy.stats.contingency.association([[10, 20], [20, 10]], method="cramer") = 0.3333333333333333
    const table = chiSquareHomogeneity([10, 20], [20, 10]);
    expect(cramersV(table.statistic, 60, 2)).toBeCloseTo(1 / 3, 12);
    expect(cramersV(5, 60, 1)).toBe(0);
  });
});
