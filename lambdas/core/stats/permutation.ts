/**
 * A seeded permutation p-value of the normalised Wasserstein distance (drift-spec.md version 2).
 */

import { effectiveSize } from './distance-p.ts';
import { StatisticInputError } from './errors.ts';
import { mulberry32 } from './random.ts';

/** Most permutations: the smallest p-value is 1 / (PERMUTATIONS + 1) = 0.0005. */
export const PERMUTATIONS = 1999;
/** Exceedances after which the permutations stop (Besag & Clifford 1991): the p-value is then >= 10 / 1999. */
export const STOP_AFTER_EXCEEDANCES = 10;
/** Values per side the permutations work on; larger sides are thinned to this many of their quantiles. */
export const PERMUTATION_SIZE = 500;

export interface PermutationResult {
  pValue: number;
  /** Permutations drawn (fewer than {@link PERMUTATIONS} when they stopped early). */
  permutations: number;
}

/**
 * p-value of the first Wasserstein distance `observed` (raw, not normalised) between two sorted samples, by
 * permuting the pooled values between the two sides.
 *
 * - Sides of at most {@link PERMUTATION_SIZE} values are permuted as they are: the p-value is the
 *   permutation p-value at the observed sizes, (1 + exceedances) / (1 + permutations).
 * - A larger side is thinned to {@link PERMUTATION_SIZE} of its quantiles (evenly spaced order
 *   statistics), and distances are compared on the √n_eff scale: under the null, √n_eff · W tends to a law
 *   that depends on the distribution but not on the sizes (del Barrio, Giné & Matrán 1999), so the
 *   permutation law of the thinned samples stands in for the one at the full sizes.
 * - Permutations stop once {@link STOP_AFTER_EXCEEDANCES} permuted distances reached the observed one
 *   (the p-value is then exceedances / permutations, Besag & Clifford's sequential p-value): clean
 *   features cost a few dozen permutations, drifted ones the full {@link PERMUTATIONS}.
 *
 * The same inputs and seed give the same p-value.
 *
 * @throws {StatisticInputError} when a sample is empty.
 */
export function wassersteinPermutationPValue(
  sortedBaseline: Float64Array,
  sortedCurrent: Float64Array,
  observed: number,
  seed: number,
): PermutationResult {
  const n = sortedBaseline.length;
  const m = sortedCurrent.length;
  if (n === 0 || m === 0) throw new StatisticInputError('wassersteinPermutationPValue', 'a sample is empty');
  const b = thin(sortedBaseline, PERMUTATION_SIZE);
  const c = thin(sortedCurrent, PERMUTATION_SIZE);
  const nb = b.length;
  const nc = c.length;
  // The observed distance on the permuted samples' scale.
  const target = observed * Math.sqrt(effectiveSize(n, m) / effectiveSize(nb, nc)) * (1 - 1e-12);
  if (!(target > 0)) return { pValue: 1, permutations: 0 };
  const pooled = new Float64Array(nb + nc);
  pooled.set(b);
  pooled.set(c, nb);
  pooled.sort();
  const total = pooled.length;
  const gaps = new Float64Array(total - 1);
  for (let i = 0; i + 1 < total; i++) gaps[i] = pooled[i + 1]! - pooled[i]!;
  const random = mulberry32(seed);
  const stepBaseline = 1 / nb;
  const stepCurrent = 1 / nc;
  let exceedances = 0;
  let drawn = 0;
  while (drawn < PERMUTATIONS) {
    // A uniformly random split of the pooled values into nb and nc, drawn in pooled order: each value goes
    // to the baseline with probability (baseline places left) / (places left). One pass, no shuffle array;
    // ∫ |F_b - F_c| accumulates as the CDF difference steps by +1/nb or -1/nc.
    let baselineLeft = nb;
    let difference = 0;
    let distance = 0;
    for (let i = 0, left = total; i + 1 < total; i++, left--) {
      if (random() * left < baselineLeft) {
        baselineLeft--;
        difference += stepBaseline;
      } else {
        difference -= stepCurrent;
      }
      distance += Math.abs(difference) * gaps[i]!;
    }
    drawn++;
    if (distance >= target) {
      exceedances++;
      if (exceedances >= STOP_AFTER_EXCEEDANCES) return { pValue: exceedances / drawn, permutations: drawn };
    }
  }
  return { pValue: (1 + exceedances) / (1 + drawn), permutations: drawn };
}

/** `size` evenly spaced order statistics of a sorted sample (the sample itself when it is not larger). */
function thin(sorted: Float64Array, size: number): Float64Array {
  if (sorted.length <= size) return sorted;
  const thinned = new Float64Array(size);
  const last = sorted.length - 1;
  for (let i = 0; i < size; i++) thinned[i] = sorted[Math.round(((i + 0.5) * (last + 1)) / size - 0.5)]!;
  return thinned;
}
