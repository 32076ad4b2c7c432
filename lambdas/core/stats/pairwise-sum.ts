/**
 * numpy's summation order for float64 (`pairwise_sum` in numpy/core/src/umath/loops_utils.h.src, 1.24).
 *
 * `np.sum` of a contiguous float64 array does not add left to right: below 8 values it does, up to 128 it
 * keeps 8 running partial sums and combines them as a tree, and above that it splits the range in two (at a
 * multiple of 8) and recurses. The result differs from a naive loop in the last bits; reproducing the order
 * makes statistics built on sums (mean, variance, PSI, Wasserstein, chi-square) agree with numpy to the last
 * bit or so, not just to 1e-12.
 */

/** numpy's block below which the 8-accumulator loop is used instead of recursing. */
const PAIRWISE_BLOCK = 128;

/**
 * Sum of `length` values from `start`, in numpy's pairwise order (what `np.sum(values[start:start+length])`
 * returns for float64 input).
 *
 * @example pairwiseSum([0.1, 0.2, 0.3]) // 0.6000000000000001, like np.sum
 */
export function pairwiseSum(values: ArrayLike<number>, start = 0, length = values.length - start): number {
  if (length < 8) {
    let sum = 0;
    for (let i = start; i < start + length; i++) sum += values[i]!;
    return sum;
  }
  if (length <= PAIRWISE_BLOCK) {
    let r0 = values[start]!;
    let r1 = values[start + 1]!;
    let r2 = values[start + 2]!;
    let r3 = values[start + 3]!;
    let r4 = values[start + 4]!;
    let r5 = values[start + 5]!;
    let r6 = values[start + 6]!;
    let r7 = values[start + 7]!;
    const unrolledEnd = start + length - (length % 8);
    let i = start + 8;
    for (; i < unrolledEnd; i += 8) {
      r0 += values[i]!;
      r1 += values[i + 1]!;
      r2 += values[i + 2]!;
      r3 += values[i + 3]!;
      r4 += values[i + 4]!;
      r5 += values[i + 5]!;
      r6 += values[i + 6]!;
      r7 += values[i + 7]!;
    }
    let sum = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < start + length; i++) sum += values[i]!;
    return sum;
  }
  // Split in two halves, the first a multiple of 8 long, as numpy does.
  let half = Math.floor(length / 2);
  half -= half % 8;
  return pairwiseSum(values, start, half) + pairwiseSum(values, start + half, length - half);
}
