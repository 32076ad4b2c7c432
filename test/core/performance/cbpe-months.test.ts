import { describe, expect, it } from 'vitest';
import { cbpeMonths, estimateErrors } from '../../../scripts/cbpe-months.ts';

/**
 * The estimate tracks the realized accuracy over twelve months of churn customers whose covariates shift
 * (without concept drift): the bound docs/deploy.md states, measured by `node scripts/cbpe-months.ts`.
 */
describe('CBPE on shifting churn months', () => {
  it('stays within 0.02 of the realized accuracy on average and 0.05 at worst, while accuracy moves', () => {
    const months = cbpeMonths();
    expect(months).toHaveLength(12);
    // The shift is real: the international plan grows from 1 in 10 to most customers, accuracy moves.
    expect(months[0]!.internationalShare).toBeLessThan(0.15);
    expect(months[11]!.internationalShare).toBeGreaterThan(0.5);
    const realized = months.map((month) => month.realized);
    expect(Math.max(...realized) - Math.min(...realized)).toBeGreaterThan(0.1);
    const { mean, max } = estimateErrors(months);
    expect(mean).toBeLessThanOrEqual(0.02);
    expect(max).toBeLessThanOrEqual(0.05);
  });
});
