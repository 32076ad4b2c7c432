import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatisticInputError } from '../../../lambdas/core/stats/errors.ts';
import { benjaminiHochberg } from '../../../lambdas/core/stats/fdr.ts';
import { expectClose } from '../../helpers/close.ts';

interface Case {
  name: string;
  alpha: number;
  pValues: number[];
  adjusted: number[];
  reject: boolean[];
}
const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/fdr.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

describe('benjaminiHochberg against statsmodels multipletests(method="fdr_bh")', () => {
  it.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const adjusted = benjaminiHochberg(c.pValues);
    adjusted.forEach((value, i) => {
      expectClose(value, c.adjusted[i]!, `${c.name}[${i}]`);
    });
    expect(adjusted.map((value) => value <= c.alpha)).toEqual(c.reject);
  });

  it('never lowers a p-value, keeps the order of the raw ones, and caps at 1', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 60 }),
        (p) => {
          const adjusted = benjaminiHochberg(p);
          for (let i = 0; i < p.length; i++) {
            expect(adjusted[i]!).toBeGreaterThanOrEqual(p[i]!);
            expect(adjusted[i]!).toBeLessThanOrEqual(1);
            for (let j = 0; j < p.length; j++)
              if (p[i]! < p[j]!) expect(adjusted[i]!).toBeLessThanOrEqual(adjusted[j]!);
          }
        },
      ),
    );
  });

  it('gives nothing for nothing and rejects p-values outside [0, 1]', () => {
    expect(benjaminiHochberg([])).toEqual([]);
    expect(() => benjaminiHochberg([0.1, Number.NaN])).toThrow(StatisticInputError);
    expect(() => benjaminiHochberg([1.5])).toThrow(StatisticInputError);
  });
});
