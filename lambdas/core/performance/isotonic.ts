/**
 * Isotonic regression of a 0/1 label on a score, as scikit-learn 1.2's
 * `IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(scores, labels)` builds and predicts it:
 *
 * 1. the rows are ordered by score (ties by label, `np.lexsort((y, X))`) and each distinct score becomes one
 *    point, its label the mean of its rows' labels, its weight their number (`_make_unique`);
 * 2. pool adjacent violators over those points (weighted means of blocks until the means never decrease),
 *    then clipped to [y_min, y_max];
 * 3. points whose value equals both neighbours' are dropped (`trim_duplicates`), which changes nothing a
 *    prediction gives;
 * 4. a prediction clips the score to [lowest, highest] fitted score and interpolates linearly between the
 *    two points around it, as `np.interp` does (scipy's `interp1d(kind="linear")` delegates to it for
 *    float64): exactly the point's value on a point, `slope * (x - x_j) + y_j` between points.
 *
 * The result is the calibrated probability of the positive class at a score, as CBPE needs it.
 */

/** `np.finfo(np.float64).resolution`: scores closer than this to their group's first are one point. */
const RESOLUTION = 1e-15;

/** A fitted calibrator: increasing knots and their values in [0, 1]. */
export interface IsotonicCalibrator {
  /** Distinct fitted scores, increasing (at least one). */
  readonly x: Float64Array;
  /** The fitted value at each knot, non-decreasing, in [yMin, yMax]. */
  readonly y: Float64Array;
}

/**
 * Fits the calibrator. `labels[i]` is 1 for the positive class and 0 otherwise; `scores` are finite.
 *
 * @throws RangeError when there are no rows or the arrays differ in length.
 * @example fitIsotonic(Float64Array.of(0.1, 0.4, 0.35, 0.8), Uint8Array.of(0, 0, 1, 1)).y // [0, 0.5, 0.5, 1]
 */
export function fitIsotonic(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  yMin = 0,
  yMax = 1,
): IsotonicCalibrator {
  const n = scores.length;
  if (n === 0) throw new RangeError('isotonic regression needs at least one row');
  if (labels.length !== n) throw new RangeError('scores and labels differ in length');

  // 1. Sort by score (-0 as 0), then by label; group equal scores: mean label and count per group. As
  // sklearn's _make_unique, a score within float64's resolution (1e-15) of its group's first score joins it.
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) sorted[i] = scores[i]! + 0;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => sorted[a]! - sorted[b]! || labels[a]! - labels[b]!);
  const knots: number[] = [];
  const fitted: number[] = [];
  const weights: number[] = [];
  let i = 0;
  while (i < n) {
    const first = sorted[order[i]!]!;
    let sum = 0;
    let count = 0;
    while (i < n && sorted[order[i]!]! - first < RESOLUTION) {
      sum += labels[order[i]!]!;
      count++;
      i++;
    }
    knots.push(first);
    fitted.push(sum / count);
    weights.push(count);
  }

  // 2. Pool adjacent violators as sklearn's _inplace_contiguous_isotonic_regression does (the same
  // order of pooling and the same sums, so equal block means come out bit-equal): a block [i..j] has
  // target[i] = j and target[j] = i; a decreasing (or flat) run after a block start is pooled whole.
  const count = knots.length;
  const target = Int32Array.from({ length: count }, (_, k) => k);
  let start = 0;
  while (start < count) {
    let k = target[start]! + 1;
    if (k === count) break;
    if (fitted[start]! < fitted[k]!) {
      start = k;
      continue;
    }
    let sumWy = weights[start]! * fitted[start]!;
    let sumW = weights[start]!;
    for (;;) {
      const previous = fitted[k]!;
      sumWy += weights[k]! * fitted[k]!;
      sumW += weights[k]!;
      k = target[k]! + 1;
      if (k === count || previous < fitted[k]!) {
        fitted[start] = sumWy / sumW;
        weights[start] = sumW;
        target[start] = k - 1;
        target[k - 1] = start;
        // Step back one block: pooling may have made the previous block violate.
        if (start > 0) start = target[start - 1]!;
        break;
      }
    }
  }
  for (let block = 0; block < count; ) {
    const end = target[block]! + 1;
    const value = Math.min(Math.max(fitted[block]!, yMin), yMax);
    for (let k = block; k < end; k++) fitted[k] = value;
    block = end;
  }

  // 3. Keep the ends and every point whose value differs from a neighbour's.
  const keptX: number[] = [];
  const keptY: number[] = [];
  for (let k = 0; k < knots.length; k++) {
    const inner = k > 0 && k < knots.length - 1;
    if (inner && fitted[k - 1] === fitted[k] && fitted[k + 1] === fitted[k]) continue;
    keptX.push(knots[k]!);
    keptY.push(fitted[k]!);
  }
  return { x: Float64Array.from(keptX), y: Float64Array.from(keptY) };
}

/**
 * The calibrated value at `score`: clipped to the fitted range, then interpolated linearly as `np.interp`.
 *
 * @example calibrate(fitIsotonic([0, 1], [0, 1]), 0.25) // 0.25
 */
export function calibrate(calibrator: IsotonicCalibrator, score: number): number {
  const { x, y } = calibrator;
  const last = x.length - 1;
  if (last === 0 || score <= x[0]!) return y[0]!;
  if (score >= x[last]!) return y[last]!;
  // The last knot <= score (binary search): x[j] <= score < x[j + 1].
  let low = 0;
  let high = last;
  while (high - low > 1) {
    const middle = (low + high) >>> 1;
    if (x[middle]! <= score) low = middle;
    else high = middle;
  }
  if (x[low] === score) return y[low]!;
  const slope = (y[low + 1]! - y[low]!) / (x[low + 1]! - x[low]!);
  return slope * (score - x[low]!) + y[low]!;
}

/** {@link calibrate} for every score. */
export function calibrateAll(calibrator: IsotonicCalibrator, scores: ArrayLike<number>): Float64Array {
  const probabilities = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) probabilities[i] = calibrate(calibrator, scores[i]!);
  return probabilities;
}
