/**
 * Baseline decile bins for PSI and Jensen-Shannon, as numpy 1.24 computes them:
 * `edges = np.unique(np.quantile(b, [0.1, ..., 0.9]))` and `bin = np.searchsorted(edges, x, side='left')`.
 */

import { StatisticInputError } from './errors.ts';

/** The decile probabilities; i / 10 is the double nearest to 0.i, the same as numpy's literals. */
const DECILES = Array.from({ length: 9 }, (_, i) => (i + 1) / 10);

/**
 * `np.quantile(x, q)` with the default method 'linear' (Hyndman & Fan type 7), on ascending data, with
 * numpy's exact float operations so ties and edges reproduce bit for bit:
 * - the virtual index is `(n - 1) * q` (numpy 1.24's `linear` uses this directly, not the general
 *   `n*q + alpha + q*(1 - alpha - beta) - 1`, which rounds differently for some n and q);
 * - an index at or above n - 1 takes the last value;
 * - `_lerp` interpolates as `a + (b - a) * t`, but as `b - (b - a) * (1 - t)` when `t >= 0.5`, so a weight
 *   near 1 lands exactly on b.
 *
 * @example quantileLinear(Float64Array.of(1, 2, 3, 4), 0.5) // 2.5
 * @throws {StatisticInputError} on empty data or q outside [0, 1].
 */
export function quantileLinear(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new StatisticInputError('quantileLinear', 'the sample is empty');
  if (!(q >= 0 && q <= 1)) throw new StatisticInputError('quantileLinear', `q must lie in [0, 1], got ${q}`);
  const virtualIndex = (n - 1) * q;
  if (virtualIndex >= n - 1) return sorted[n - 1]!;
  const previous = Math.floor(virtualIndex);
  const gamma = virtualIndex - previous;
  const a = sorted[previous]!;
  const b = sorted[previous + 1]!;
  const difference = b - a;
  return gamma >= 0.5 ? b - difference * (1 - gamma) : a + difference * gamma;
}

/**
 * PSI bin edges of a baseline: the distinct values, ascending, of its deciles (like `np.unique`). Constant
 * data gives one edge; data with heavy ties gives fewer than nine.
 *
 * @example decileEdges(Float64Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1, 2)) // [0, 0.20000000000000018, 1.0999999999999996]
 */
export function decileEdges(sorted: Float64Array): Float64Array {
  if (sorted.length === 0) throw new StatisticInputError('decileEdges', 'the sample is empty');
  // Interpolation may round a later decile one ulp below an earlier one, so sort before dropping duplicates.
  const deciles = Float64Array.from(DECILES, (q) => quantileLinear(sorted, q)).sort();
  const edges: number[] = [];
  for (const edge of deciles) if (edges.length === 0 || edge !== edges[edges.length - 1]) edges.push(edge);
  return Float64Array.from(edges);
}

/**
 * `np.searchsorted(edges, x, side='left')`: the number of edges strictly below x. Bin i holds the values
 * with edge[i-1] < x <= edge[i]; bin 0 is everything up to edge[0], bin edges.length everything above the
 * last edge.
 *
 * @example binIndex(Float64Array.of(1, 2), 2) // 1
 */
export function binIndex(edges: Float64Array, x: number): number {
  if (edges.length <= 16) {
    // Decile edges: counting every comparison has no branch to mispredict, and beats a binary search.
    let count = 0;
    for (let i = 0; i < edges.length; i++) count += +(edges[i]! < x);
    return count;
  }
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (edges[middle]! < x) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Most edges {@link padEdges} takes: a search over them is four steps. */
export const PADDED_EDGES = 15;

/**
 * Up to {@link PADDED_EDGES} ascending edges padded with +Infinity to that length, for {@link paddedBinIndex};
 * null when there are more.
 */
export function padEdges(edges: Float64Array): Float64Array | null {
  if (edges.length > PADDED_EDGES) return null;
  const padded = new Float64Array(PADDED_EDGES).fill(Number.POSITIVE_INFINITY);
  padded.set(edges);
  return padded;
}

/**
 * {@link binIndex} over edges from {@link padEdges} (x not NaN): a binary search whose four steps add a
 * comparison's outcome rather than branch on it, so data in random order costs no mispredicted branches (the
 * padding is never below x).
 */
export function paddedBinIndex(padded: Float64Array, x: number): number {
  let i = +(padded[7]! < x) << 3;
  i += +(padded[i + 3]! < x) << 2;
  i += +(padded[i + 1]! < x) << 1;
  return i + +(padded[i]! < x);
}

/**
 * Counts per bin (length edges.length + 1) of values binned by {@link binIndex}. Sorted input costs O(1)
 * per value (each value is first checked against the previous value's bin); unsorted input O(log bins).
 *
 * @example binCounts(Float64Array.of(1, 2), [0, 1, 1.5, 3]) // Float64Array [2, 1, 1]
 */
export function binCounts(edges: Float64Array, values: ArrayLike<number>): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  const last = edges.length;
  let bin = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    // Same bin as the previous value when edge[bin-1] < x <= edge[bin] (open at both ends).
    const aboveLower = bin === 0 || edges[bin - 1]! < x;
    const atMostUpper = bin === last || x <= edges[bin]!;
    if (!(aboveLower && atMostUpper)) bin = binIndex(edges, x);
    counts[bin]!++;
  }
  return counts;
}
