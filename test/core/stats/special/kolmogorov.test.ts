import { describe, expect, it } from 'vitest';
import {
  kolmogorovSmirnovSurvival,
  smirnovSurvival,
} from '../../../../lambdas/core/stats/special/kolmogorov.ts';
import { expectClose, expectRelativelyClose } from '../../../helpers/close.ts';
import { goldenStats } from '../../../helpers/golden-stats.ts';

const golden = goldenStats();

/** kstwo cases grouped by the branch of scipy's kolmogn that produced them. */
const byBranch = new Map<string, [number, number, number, string][]>();
for (const entry of golden.kstwo) byBranch.set(entry[3], [...(byBranch.get(entry[3]) ?? []), entry]);

describe('kolmogorovSmirnovSurvival against scipy.stats.kstwo.sf', () => {
  it.each([...byBranch.entries()])('%s', (_, entries) => {
    for (const [d, n, expected] of entries) {
      const actual = kolmogorovSmirnovSurvival(d, n);
      expectClose(actual, expected, `kstwo.sf(${d}, ${n})`);
      expectRelativelyClose(actual, expected, `kstwo.sf(${d}, ${n})`, 1e-9);
    }
  });

  it('exercises every method of kolmogn', () => {
    expect([...byBranch.keys()].sort()).toEqual(
      [
        'durbin',
        'pelz-good',
        'pomeranz',
        'ruben-gambino-high',
        'ruben-gambino-low',
        'smirnov',
        'smirnov-small-n',
        'smirnov-x>=0.5',
        'support-lower',
        'support-upper',
        'zero',
      ].sort(),
    );
  });

  it('is 1 up to the support start 1/(2n), 0 from 1, NaN for a non-integer n', () => {
    expect(kolmogorovSmirnovSurvival(0.05, 10)).toBe(1);
    expect(kolmogorovSmirnovSurvival(1, 10)).toBe(0);
    expect(kolmogorovSmirnovSurvival(0.3, 2.5)).toBeNaN();
  });
});

describe('smirnovSurvival against scipy.special.smirnov', () => {
  it('agrees to 1e-10 relative for n from 1 to 50,000', () => {
    for (const [n, x, expected] of golden.smirnov) {
      expectRelativelyClose(smirnovSurvival(n, x), expected, `smirnov(${n}, ${x})`, 1e-10);
    }
  });

  it('has the closed forms at the ends', () => {
    expect(smirnovSurvival(1, 0.3)).toBe(0.7);
    expect(smirnovSurvival(7, 0)).toBe(1);
    expect(smirnovSurvival(7, 1)).toBe(0);
    expectClose(smirnovSurvival(4, 0.9), 0.1 ** 4, 'smirnov(4, 0.9)', { relative: 1e-14, absolute: 0 });
  });
});
