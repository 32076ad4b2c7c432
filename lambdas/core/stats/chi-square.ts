/**
 * Pearson's chi-square test of homogeneity on a 2 × K table of counts,
 * `scipy.stats.chi2_contingency([baseline, current], correction=False)` of scipy 1.10.
 */

import type { StatisticWithPValue } from '../drift/types.ts';
import { StatisticInputError } from './errors.ts';
import { pairwiseSum } from './pairwise-sum.ts';
import { chiSquareSurvival } from './special/gamma.ts';

/**
 * Statistic Σ (observed - expected)² / expected with expected = row total · column total / grand total,
 * and its p-value chi2.sf(statistic, K - 1). The float operations and numpy's summation order are kept
 * (row totals and the grand total pairwise-summed, the terms summed pairwise over the row-major table), so
 * the statistic matches scipy to the last bit or so.
 *
 * Edge cases:
 * - fewer than 2 categories: statistic 0, p-value 1 (the spec's rule; scipy has dof 0 there);
 * - a category counted 0 on both sides has an expected count of 0, where scipy raises; such categories
 *   carry no information, so they are left out (the test then has one degree of freedom fewer), which is
 *   what scipy computes on the table without them. The drift code never passes them: its categories are
 *   the union of the values seen;
 * - counts need not be integers (weighted counts work the same way).
 *
 * @example chiSquareHomogeneity([10, 20], [20, 10]) // { statistic: 6.666666666666667, pValue: 0.009823274507519235 }
 * @throws {StatisticInputError} when the vectors differ in length, a count is negative or not finite, or a
 * side has no counts at all (scipy raises on all of these).
 */
export function chiSquareHomogeneity(
  baseline: ArrayLike<number>,
  current: ArrayLike<number>,
): StatisticWithPValue {
  if (baseline.length !== current.length) {
    throw new StatisticInputError(
      'chiSquareHomogeneity',
      `the count vectors differ in length (${baseline.length} and ${current.length})`,
    );
  }
  const b: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < baseline.length; i++) {
    const x = baseline[i]!;
    const y = current[i]!;
    if (!(x >= 0 && y >= 0 && Number.isFinite(x) && Number.isFinite(y))) {
      throw new StatisticInputError(
        'chiSquareHomogeneity',
        `counts must be finite and >= 0, got ${x} and ${y}`,
      );
    }
    if (x + y > 0) {
      b.push(x);
      c.push(y);
    }
  }
  const categories = b.length;
  if (categories < 2) return { statistic: 0, pValue: 1 };

  const baselineTotal = pairwiseSum(b);
  const currentTotal = pairwiseSum(c);
  if (baselineTotal === 0 || currentTotal === 0) {
    throw new StatisticInputError('chiSquareHomogeneity', 'one side has no counts, so expected counts are 0');
  }
  const table = [...b, ...c]; // row-major 2 × K, the order numpy sums in
  const total = pairwiseSum(table);
  const terms = new Float64Array(2 * categories);
  for (let j = 0; j < categories; j++) {
    const columnTotal = b[j]! + c[j]!;
    const expectedB = (baselineTotal * columnTotal) / total;
    const expectedC = (currentTotal * columnTotal) / total;
    terms[j] = (b[j]! - expectedB) ** 2 / expectedB;
    terms[categories + j] = (c[j]! - expectedC) ** 2 / expectedC;
  }
  const statistic = pairwiseSum(terms);
  return { statistic, pValue: chiSquareSurvival(statistic, categories - 1) };
}
