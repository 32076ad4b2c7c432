import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatisticInputError } from '../../../lambdas/core/stats/errors.ts';
import { ksTwoSample, probabilityOutsideInsideMethod } from '../../../lambdas/core/stats/ks.ts';
import { expectClose, expectRelativelyClose } from '../../helpers/close.ts';
import { goldenSortedSample, goldenStats } from '../../helpers/golden-stats.ts';

const cases = goldenStats().ks;

function sortedOf(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

/**
 * scipy 1.10's `_compute_outer_prob_inside_method`, transcribed loop for loop (one column at a time,
 * in place), as the oracle for the wavefront version in ks.ts.
 */
function sequentialInsideMethod(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const a = new Float64Array(Math.min(2 * maxj + 2, n + 1)).fill(1);
  a.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (a[jj + minj - lastminj]! * i + val * j) / (i + j);
      a[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) a.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return a[maxj - minj - 1]!;
}

/** Small samples with many ties: quarters between -8 and 8. */
const tiedSample = fc
  .array(fc.integer({ min: -32, max: 32 }), { minLength: 1, maxLength: 60 })
  .map((ints) => ints.map((v) => v / 4));

describe('ksTwoSample against scipy.stats.ks_2samp', () => {
  it.each(cases.map((c) => [`${c.name} [${c.path}]`, c] as const))('%s', (_, c) => {
    const result = ksTwoSample(goldenSortedSample(c.b), goldenSortedSample(c.c));
    expectClose(result.statistic, c.statistic, `${c.name} statistic`);
    expectClose(result.pValue, c.pValue, `${c.name} pValue`);
  });

  it('keeps relative accuracy for p-values far below the absolute tolerance', () => {
    const tiny = cases.filter((c) => c.pValue > 0 && c.pValue < 1e-9);
    expect(tiny.some((c) => c.pValue < 1e-100)).toBe(true);
    for (const c of tiny) {
      const result = ksTwoSample(goldenSortedSample(c.b), goldenSortedSample(c.c));
      expectRelativelyClose(result.pValue, c.pValue, c.name, 1e-6);
    }
  });

  it('covers the exact path, its fallback to the asymptotic p-value, and the asymptotic path', () => {
    const paths = new Set(cases.map((c) => c.path));
    expect(paths).toEqual(new Set(['exact', 'exact->asymp', 'asymp']));
  });

  it('falls back to the asymptotic p-value where scipy does (equal sizes, D = 1/n, 2P rounds above 1)', () => {
    const odd = Float64Array.from({ length: 7 }, (_, i) => 2 * i + 1);
    const even = Float64Array.from({ length: 7 }, (_, i) => 2 * i + 2);
    // The exact value is 1; scipy 1.10 reports kstwo.sf(1/7, 4).
    expect(ksTwoSample(odd, even)).toEqual({ statistic: 1 / 7, pValue: 0.9999609537692629 });
  });

  it('rejects an empty sample', () => {
    expect(() => ksTwoSample(new Float64Array(0), Float64Array.of(1))).toThrow(StatisticInputError);
    expect(() => ksTwoSample(Float64Array.of(1), new Float64Array(0))).toThrow(/a sample is empty/);
  });
});

describe('probabilityOutsideInsideMethod', () => {
  it('equals a sequential transcription of the scipy loop, bit for bit', () => {
    const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 400 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (m, n, fraction) => {
          fc.pre(m !== n);
          const g = gcd(m, n);
          const lcm = (m / g) * n;
          const h = Math.max(1, Math.round(fraction * fraction * lcm));
          expect(probabilityOutsideInsideMethod(m, n, g, h)).toBe(sequentialInsideMethod(m, n, g, h));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('ksTwoSample properties', () => {
  it('gives D = 0 and p = 1 for identical samples', () => {
    fc.assert(
      fc.property(tiedSample, (values) => {
        const sorted = sortedOf(values);
        expect(ksTwoSample(sorted, sorted.slice())).toEqual({ statistic: 0, pValue: 1 });
      }),
    );
  });

  it('is symmetric in its two samples', () => {
    fc.assert(
      fc.property(tiedSample, tiedSample, (b, c) => {
        expect(ksTwoSample(sortedOf(c), sortedOf(b))).toEqual(ksTwoSample(sortedOf(b), sortedOf(c)));
      }),
    );
  });

  it('never lowers D when the current sample is shifted further', () => {
    fc.assert(
      fc.property(
        tiedSample,
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        (b, first, extra) => {
          const sorted = sortedOf(b);
          const near = ksTwoSample(
            sorted,
            sorted.map((x) => x + first / 8),
          );
          const far = ksTwoSample(
            sorted,
            sorted.map((x) => x + (first + extra) / 8),
          );
          expect(far.statistic).toBeGreaterThanOrEqual(near.statistic);
        },
      ),
    );
  });

  it('reports D as a multiple of 1/lcm(n1, n2) and both numbers within [0, 1]', () => {
    fc.assert(
      fc.property(tiedSample, tiedSample, (b, c) => {
        const { statistic, pValue } = ksTwoSample(sortedOf(b), sortedOf(c));
        const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
        const lcm = (b.length / gcd(b.length, c.length)) * c.length;
        expect(Number.isInteger(Math.round(statistic * lcm * 1e6) / 1e6)).toBe(true);
        expect(statistic).toBeGreaterThanOrEqual(0);
        expect(statistic).toBeLessThanOrEqual(1);
        expect(pValue).toBeGreaterThanOrEqual(0);
        expect(pValue).toBeLessThanOrEqual(1);
      }),
    );
  });
});
