import { StatisticInputError } from './errors.ts';
import { chiSquareSurvival } from './special/gamma.ts';

/** The result of {@link twoProportionZTest}. */
export interface TwoProportionTest {
  /** x1 / n1 */
  proportion1: number;
  /** x2 / n2 */
  proportion2: number;
  /** proportion1 − proportion2 */
  difference: number;
  z: number;
  /** Two-sided p-value, P(|Z| >= |z|) under the null hypothesis p1 = p2. */
  pValue: number;
}

/**
 * Two-proportion z-test with the pooled variance, as `statsmodels.stats.proportion.proportions_ztest([x1, x2],
 * [n1, n2])` computes it (two-sided):
 *
 *   p̂ = (x1 + x2) / (n1 + n2),  se = √(p̂ (1 − p̂) (1/n1 + 1/n2)),  z = (x1/n1 − x2/n2) / se,
 *   p-value = P(|Z| ≥ |z|) = erfc(|z| / √2) = Q(½, z²/2), the χ² survival function with 1 degree of freedom at z².
 *
 * Edge case: when both samples are all successes or all failures, se = 0 and the proportions are equal; the test
 * then reports z = 0 and p = 1 (no evidence of a difference) rather than 0/0.
 *
 * @throws StatisticInputError when a count is negative, not whole, or a success count exceeds its sample size,
 * or a sample is empty.
 * @example twoProportionZTest(60, 100, 45, 100) // z ≈ 2.1240, pValue ≈ 0.03367
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): TwoProportionTest {
  for (const [name, value] of [
    ['x1', x1],
    ['n1', n1],
    ['x2', x2],
    ['n2', n2],
  ] as const) {
    if (!Number.isInteger(value) || value < 0)
      throw new StatisticInputError(
        'twoProportionZTest',
        `${name} must be a whole number >= 0, got ${value}`,
      );
  }
  if (n1 === 0 || n2 === 0)
    throw new StatisticInputError('twoProportionZTest', 'both samples need at least one observation');
  if (x1 > n1 || x2 > n2)
    throw new StatisticInputError('twoProportionZTest', 'a success count exceeds its sample size');
  const proportion1 = x1 / n1;
  const proportion2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const difference = proportion1 - proportion2;
  if (se === 0) return { proportion1, proportion2, difference, z: 0, pValue: 1 };
  const z = difference / se;
  return { proportion1, proportion2, difference, z, pValue: chiSquareSurvival(z * z, 1) };
}
