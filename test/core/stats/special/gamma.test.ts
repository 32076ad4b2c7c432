import { describe, expect, it } from 'vitest';
import {
  chiSquareSurvival,
  logGamma,
  upperIncompleteGammaRegularized,
} from '../../../../lambdas/core/stats/special/gamma.ts';
import { expectClose, expectRelativelyClose } from '../../../helpers/close.ts';
import { goldenStats } from '../../../helpers/golden-stats.ts';

const golden = goldenStats();

/** Cases grouped by dof so a failure names the regime (small dof, the asymptotic-series region, huge dof). */
const byDof = new Map<number, [number, number, number][]>();
for (const entry of golden.chi2Sf) byDof.set(entry[1], [...(byDof.get(entry[1]) ?? []), entry]);

describe('chiSquareSurvival against scipy.stats.chi2.sf', () => {
  it.each([...byDof.entries()])('dof %d', (dof, entries) => {
    for (const [x, , expected] of entries) {
      const actual = chiSquareSurvival(x, dof);
      expectClose(actual, expected, `chi2.sf(${x}, ${dof})`);
      // Also relatively, down to p-values of 1e-300: scipy's igamc is accurate there and so must this be.
      expectRelativelyClose(actual, expected, `chi2.sf(${x}, ${dof})`, 1e-10);
    }
  });

  it('covers p-values down to 1e-300 and dof up to 1e6', () => {
    const values = golden.chi2Sf.map(([, , p]) => p).filter((p) => p > 0);
    expect(Math.min(...values)).toBeLessThan(1e-299);
    expect(Math.max(...byDof.keys())).toBeGreaterThanOrEqual(1e6);
  });

  it('is 1 at and below 0 and NaN for a non-positive dof', () => {
    expect(chiSquareSurvival(0, 3)).toBe(1);
    expect(chiSquareSurvival(-2, 3)).toBe(1);
    expect(chiSquareSurvival(Number.POSITIVE_INFINITY, 3)).toBe(0);
    expect(chiSquareSurvival(1, 0)).toBeNaN();
  });
});

describe('upperIncompleteGammaRegularized against scipy.special.gammaincc', () => {
  it('agrees to 1e-10 relative over a from 0.05 to 1e6 in every method region', () => {
    for (const [a, x, expected] of golden.gammaincc) {
      expectRelativelyClose(upperIncompleteGammaRegularized(a, x), expected, `gammaincc(${a}, ${x})`, 1e-10);
    }
  });

  it('has the closed forms Q(1, x) = e^-x and Q(1/2, x) = erfc(sqrt(x))', () => {
    for (const x of [0.01, 0.3, 1, 2.5, 10, 100]) {
      expectClose(upperIncompleteGammaRegularized(1, x), Math.exp(-x), `Q(1, ${x})`, {
        relative: 1e-14,
        absolute: 0,
      });
    }
    // erfc(sqrt(2)) = 0.04550026389635842 (chi-square with 1 dof at 2 sigma squared, i.e. x = 4).
    expectClose(upperIncompleteGammaRegularized(0.5, 2), 0.04550026389635842, 'Q(1/2, 2)', {
      relative: 1e-14,
      absolute: 0,
    });
  });
});

describe('logGamma', () => {
  it('matches ln((n - 1)!) and ln(sqrt(pi))', () => {
    let factorial = 1;
    for (let n = 1; n <= 25; n++) {
      expectClose(logGamma(n), Math.log(factorial), `lgam(${n})`, { relative: 1e-14, absolute: 1e-15 });
      factorial *= n;
    }
    expectClose(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 'lgam(1/2)', { relative: 1e-15, absolute: 0 });
  });
});
