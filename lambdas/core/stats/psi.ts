/**
 * Population Stability Index over binned proportions, as the spec defines it (drift-spec.md, `psi`).
 */

import { StatisticInputError } from './errors.ts';
import { pairwiseSum } from './pairwise-sum.ts';

/** What an empty bin's proportion becomes, so ln(p_c / p_b) stays finite. The spec's 0.0001. */
export const PROPORTION_FLOOR = 0.0001;

/**
 * count / total per bin, an exact zero replaced by {@link PROPORTION_FLOOR} and deliberately not
 * renormalised (the vector may sum to slightly more than 1), like the reference's
 * `p = counts / counts.sum(); p[p == 0] = 0.0001`.
 *
 * @example flooredProportions([0, 3, 1], 4) // Float64Array [0.0001, 0.75, 0.25]
 */
export function flooredProportions(counts: ArrayLike<number>, total: number): Float64Array {
  const proportions = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) {
    const p = counts[i]! / total;
    proportions[i] = p === 0 ? PROPORTION_FLOOR : p;
  }
  return proportions;
}

/**
 * PSI = Σ (p_c − p_b) · ln(p_c / p_b) over two floored proportion vectors of the same bins (summed in
 * numpy's pairwise order, as `np.sum` does). Every term is >= 0, so PSI >= 0 and is 0 exactly when the
 * vectors are equal.
 *
 * @example populationStabilityIndex([0.5, 0.5], [0.25, 0.75]) // 0.2746530721670274
 * @throws {StatisticInputError} when the vectors differ in length.
 */
export function populationStabilityIndex(baseline: ArrayLike<number>, current: ArrayLike<number>): number {
  if (baseline.length !== current.length) {
    throw new StatisticInputError(
      'populationStabilityIndex',
      `the proportion vectors differ in length (${baseline.length} and ${current.length})`,
    );
  }
  const terms = new Float64Array(baseline.length);
  for (let i = 0; i < terms.length; i++) {
    const b = baseline[i]!;
    const c = current[i]!;
    terms[i] = (c - b) * Math.log(c / b);
  }
  return pairwiseSum(terms);
}
