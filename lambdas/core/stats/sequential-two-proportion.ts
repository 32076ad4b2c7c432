import { StatisticInputError } from './errors.ts';

/**
 * Always-valid tests of proportions: the mixture sequential probability ratio test (mSPRT) of Johari,
 * Pekelis & Walsh ("Always Valid Inference: Bringing Sequential Analysis to A/B Testing", 2015; Johari,
 * Koomen, Pekelis & Walsh, "Peeking at A/B Tests", KDD 2017), with the normal approximation they use for
 * binary outcomes.
 *
 * The estimate θ̂ of the difference is approximately N(θ, V). Against H0: θ = 0, the likelihood ratio
 * averaged over a normal mixture θ ~ N(0, τ²) is
 *
 *   Λ = √(V / (V + τ²)) · exp( τ² θ̂² / (2 V (V + τ²)) ).
 *
 * Under H0, Λ after each new outcome is a nonnegative martingale with mean 1, so by Ville's inequality
 * P(Λ ever reaches 1/α) ≤ α: the test may be looked at after every outcome, as often as one likes, and
 * stopping at the first look where Λ ≥ 1/α keeps the false alarm rate at or below α (a fixed-sample z-test
 * repeated at every look does not). The always-valid p-value is min over the looks so far of 1/Λ.
 *
 * τ (the mixture's standard deviation) is the size of difference the test is most sensitive to; 0.05 (five
 * points of a rate) suits the accuracy, error and conversion rates this project compares. The validity
 * does not depend on τ, only the power does.
 */

/** τ: the default standard deviation of the normal mixture over differences. */
export const DEFAULT_MIXTURE_SD = 0.05;

export interface SequentialTest {
  /** The estimated difference θ̂. */
  difference: number;
  /** Its variance V under the null hypothesis. */
  variance: number;
  /** The mixture likelihood ratio Λ (0 when V = 0: both samples all successes or all failures). */
  likelihoodRatio: number;
  /** 1/Λ capped at 1: the always-valid p-value of this look alone (a running test keeps the minimum). */
  pValue: number;
  /** τ of the mixture. */
  mixtureSd: number;
}

/** ln Λ of an estimate `difference` with variance `variance` (see the module doc); −∞ when V = 0. */
export function logMixtureLikelihoodRatio(difference: number, variance: number, mixtureSd: number): number {
  if (!(mixtureSd > 0))
    throw new StatisticInputError('mixtureLikelihoodRatio', `mixtureSd must be > 0, got ${mixtureSd}`);
  if (variance <= 0) return Number.NEGATIVE_INFINITY;
  const tau2 = mixtureSd * mixtureSd;
  return (
    0.5 * Math.log(variance / (variance + tau2)) +
    (tau2 * difference * difference) / (2 * variance * (variance + tau2))
  );
}

/** The mixture likelihood ratio Λ of an estimate `difference` with variance `variance`. */
export function mixtureLikelihoodRatio(difference: number, variance: number, mixtureSd: number): number {
  return Math.exp(logMixtureLikelihoodRatio(difference, variance, mixtureSd));
}

function test(difference: number, variance: number, mixtureSd: number): SequentialTest {
  const likelihoodRatio = mixtureLikelihoodRatio(difference, variance, mixtureSd);
  return {
    difference,
    variance,
    likelihoodRatio,
    pValue: likelihoodRatio > 1 ? 1 / likelihoodRatio : 1,
    mixtureSd,
  };
}

/** The result of {@link sequentialTwoProportionTest}. */
export interface SequentialTwoProportionTest extends SequentialTest {
  /** x1 / n1 */
  proportion1: number;
  /** x2 / n2 */
  proportion2: number;
}

function checkCounts(name: string, counts: readonly (readonly [string, number])[]): void {
  for (const [field, value] of counts) {
    if (!Number.isInteger(value) || value < 0)
      throw new StatisticInputError(name, `${field} must be a whole number >= 0, got ${value}`);
  }
}

/**
 * The mSPRT of H0: p1 = p2 after x1 successes of n1 and x2 of n2, two-sided. θ̂ = x1/n1 − x2/n2 and V is the
 * pooled variance p̂(1 − p̂)(1/n1 + 1/n2), p̂ = (x1 + x2)/(n1 + n2), as the two-proportion z-test uses.
 *
 * @throws StatisticInputError when a count is negative or not whole, a success count exceeds its sample
 * size, or a sample is empty.
 * @example sequentialTwoProportionTest(600, 1000, 450, 1000).pValue // ≈ 1.7e-8: significant at any alpha in use
 */
export function sequentialTwoProportionTest(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  mixtureSd = DEFAULT_MIXTURE_SD,
): SequentialTwoProportionTest {
  checkCounts('sequentialTwoProportionTest', [
    ['x1', x1],
    ['n1', n1],
    ['x2', x2],
    ['n2', n2],
  ]);
  if (n1 === 0 || n2 === 0)
    throw new StatisticInputError(
      'sequentialTwoProportionTest',
      'both samples need at least one observation',
    );
  if (x1 > n1 || x2 > n2)
    throw new StatisticInputError('sequentialTwoProportionTest', 'a success count exceeds its sample size');
  const proportion1 = x1 / n1;
  const proportion2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2);
  return { proportion1, proportion2, ...test(proportion1 - proportion2, variance, mixtureSd) };
}

/**
 * The mSPRT of H0: p = p0 after x successes of n, against a baseline rate p0 that is known (`baselineTrials`
 * null) or was estimated from `baselineTrials` outcomes (its sampling variance is then added). θ̂ = x/n − p0,
 * V = p0(1 − p0)(1/n + 1/baselineTrials).
 */
export function sequentialRateTest(
  x: number,
  n: number,
  baselineRate: number,
  baselineTrials: number | null = null,
  mixtureSd = DEFAULT_MIXTURE_SD,
): SequentialTest & { rate: number } {
  checkCounts('sequentialRateTest', [
    ['x', x],
    ['n', n],
  ]);
  if (n === 0 || x > n) throw new StatisticInputError('sequentialRateTest', 'need 0 <= x <= n and n >= 1');
  if (!(baselineRate >= 0 && baselineRate <= 1))
    throw new StatisticInputError(
      'sequentialRateTest',
      `baselineRate must be in [0, 1], got ${baselineRate}`,
    );
  const rate = x / n;
  const variance =
    baselineRate * (1 - baselineRate) * (1 / n + (baselineTrials === null ? 0 : 1 / baselineTrials));
  return { rate, ...test(rate - baselineRate, variance, mixtureSd) };
}
