/**
 * Two-sample two-sided Kolmogorov-Smirnov test, `scipy.stats.ks_2samp(b, c)` of scipy 1.10 (method 'auto').
 */

import type { StatisticWithPValue } from '../drift/types.ts';
import { StatisticInputError } from './errors.ts';
import { kolmogorovSmirnovSurvival } from './special/kolmogorov.ts';

/** 'auto' computes the exact p-value when both samples are at most this large, the asymptotic one above. */
export const KS_MAX_EXACT_SIZE = 10_000;

/**
 * D = sup |F_b - F_c| and its p-value, exactly as scipy 1.10's `ks_2samp(b, c)` reports them:
 * - D is evaluated at every pooled value with F = (values <= x) / size, so ties are handled the same way;
 * - exact path (max(n1, n2) <= 10,000): h = round(D · lcm(n1, n2)) and D is reported as h / lcm; h = 0
 *   gives p = 1; equal sizes use the closed-form alternating sum, unequal sizes Hodges' lattice-path
 *   recursion in Viehmann's 1 - p form; a result outside [0, 1] (the equal-size sum can round to
 *   1.0000000000000002 for small h) makes scipy fall back to the asymptotic p-value, and so does this;
 * - asymptotic path: kstwo.sf(D, round(n1·n2 / (n1 + n2))), the one-sample distribution at the effective
 *   sample size (round half to even, like np.round);
 * - the p-value is clipped to [0, 1].
 *
 * @param sortedB baseline sample, ascending, no NaN.
 * @param sortedC current sample, ascending, no NaN.
 * @example ksTwoSample(Float64Array.of(1, 2, 3), Float64Array.of(4, 5, 6)) // { statistic: 1, pValue: 0.09999999999999999 }
 * @throws {StatisticInputError} when a sample is empty (scipy raises ValueError).
 */
export function ksTwoSample(sortedB: Float64Array, sortedC: Float64Array): StatisticWithPValue {
  const n1 = sortedB.length;
  const n2 = sortedC.length;
  if (n1 === 0 || n2 === 0) throw new StatisticInputError('ksTwoSample', 'a sample is empty');
  const d = ksStatistic(sortedB, sortedC);
  if (Math.max(n1, n2) > KS_MAX_EXACT_SIZE) return { statistic: d, pValue: asymptoticPValue(d, n1, n2) };

  const g = greatestCommonDivisor(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = roundHalfToEven(d * lcm);
  const rounded = h / lcm;
  if (h === 0) return { statistic: rounded, pValue: 1 };
  const p = n1 === n2 ? probabilityOutsideSquare(n1, h) : probabilityOutsideInsideMethod(n1, n2, g, h);
  if (p >= 0 && p <= 1) return { statistic: rounded, pValue: p };
  return { statistic: rounded, pValue: asymptoticPValue(rounded, n1, n2) };
}

/** The largest absolute difference of the two empirical CDFs, evaluated at every pooled value. */
function ksStatistic(b: Float64Array, c: Float64Array): number {
  const n1 = b.length;
  const n2 = c.length;
  let i = 0;
  let j = 0;
  let largest = Number.NEGATIVE_INFINITY;
  let smallest = Number.POSITIVE_INFINITY;
  while (i < n1 || j < n2) {
    const x = j >= n2 || (i < n1 && b[i]! <= c[j]!) ? b[i]! : c[j]!;
    while (i < n1 && b[i]! <= x) i++;
    while (j < n2 && c[j]! <= x) j++;
    const difference = i / n1 - j / n2;
    if (difference > largest) largest = difference;
    if (difference < smallest) smallest = difference;
  }
  // scipy: minS = clip(-min, 0, 1); D = minS if minS > maxS else maxS.
  const below = Math.min(Math.max(-smallest, 0), 1);
  return Math.max(below, largest);
}

function asymptoticPValue(d: number, n1: number, n2: number): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const effectiveSize = (m * n) / (m + n);
  const p = kolmogorovSmirnovSurvival(d, roundHalfToEven(effectiveSize));
  return Math.min(Math.max(p, 0), 1);
}

/**
 * Pr(D_{n,n} >= h/n) (`_compute_prob_outside_square`): 2·Σ_k (-1)^k C(2n, n - kh) / C(2n, n), with each
 * ratio as a product of h simple factors and the alternating sum in Horner form,
 * P = 2·A0·(1 - A1·(1 - A2·(1 - ...))), which avoids the cancellation of the plain sum.
 */
function probabilityOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let factor = 1;
    for (let j = 0; j < h; j++) factor = ((n - k * h - j) * factor) / (n + k * h + j + 1);
    p = factor * (1 - p);
  }
  return 2 * p;
}

/**
 * Pr(D_{m,n} >= h / lcm(m, n)) for m != n (`_compute_outer_prob_inside_method`, scipy's pythran kernel).
 *
 * Counts lattice paths from (0, 0) to (m, n) that leave the band |x/m - y/n| < h/lcm, one column x at a
 * time over the window of y inside the band. Following Viehmann (2021) each entry holds the probability
 * of having left the band already, A(x, y) = (x·A(x-1, y) + y·A(x, y-1)) / (x + y), so values stay in
 * [0, 1] (no overflow, no rescaling) and the final entry is the p-value itself rather than 1 - p. Rows
 * above a column's window read as 1 (every path there has left the band), and so does the row below its
 * first one, unless the window starts at row 0.
 *
 * The work is m columns × a window of about 2·D·n + 2 rows, up to 10^8 cells at 10,000 × 9,999 with
 * D near 1. Within a column each cell waits for the division of the cell below, so a plain loop runs at the
 * divider's latency (~5 ns a cell, 0.5 s in that worst case). Cell (x, y) needs only (x - 1, y) and
 * (x, y - 1), so WAVEFRONT columns are computed together, each LAG rows behind the previous one, and their
 * independent divisions overlap in the pipeline. Every cell still gets scipy's exact operations, so the
 * result is bit for bit the same as the sequential loop (exported so a test can check exactly that).
 */
export function probabilityOutsideInsideMethod(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  // Column 0: rows below ceil(h / mg) are inside the band (0), the rest has left it (1).
  let previousMinj = 0;
  let previousWidth = Math.min(Math.ceil(h / mg), n + 1);
  const a = new Float64Array(Math.min(2 * previousWidth + 2, n + 1)).fill(1);
  a.fill(0, 0, previousWidth);

  // Per column of the current group: first row, window width, offset into the previous column's storage,
  // width of the previous column (rows at or above it read as 1), x, and the running cell value.
  const minjs = new Float64Array(WAVEFRONT);
  const widths = new Float64Array(WAVEFRONT);
  const shifts = new Float64Array(WAVEFRONT);
  const sourceWidths = new Float64Array(WAVEFRONT);
  const xs = new Float64Array(WAVEFRONT);
  const values = new Float64Array(WAVEFRONT);
  for (let first = 1; first <= m; first += WAVEFRONT) {
    const columns = Math.min(WAVEFRONT, m - first + 1);
    let steps = 0;
    for (let k = 0; k < columns; k++) {
      const i = first + k;
      const minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
      const maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
      if (maxj <= minj) return 1; // scipy returns 1.0 at the first empty window
      minjs[k] = minj;
      widths[k] = maxj - minj;
      // 0 or 1: consecutive windows move by ng/mg < 1 rows, and the floors are exact (the quotients are
      // integers or at least 1/mg away from one). The wavefront relies on shift < LAG.
      shifts[k] = minj - previousMinj;
      sourceWidths[k] = previousWidth;
      xs[k] = i;
      values[k] = minj === 0 ? 0 : 1;
      previousMinj = minj;
      previousWidth = maxj - minj;
      steps = Math.max(steps, previousWidth + LAG * k);
    }
    // While all four columns are inside their windows, run them unrolled with the state in locals; the
    // ramp-up and ramp-down (and groups of fewer columns) take the general loop.
    let steadyStart = steps;
    let steadyEnd = steps;
    if (columns === WAVEFRONT) {
      steadyStart = LAG * (WAVEFRONT - 1);
      steadyEnd = Math.min(widths[0]!, widths[1]! + LAG, widths[2]! + 2 * LAG, widths[3]! + 3 * LAG);
      if (steadyEnd < steadyStart) steadyEnd = steadyStart;
    }
    for (let t = 0; t < steadyStart; t++)
      wavefrontStep(a, t, columns, minjs, widths, shifts, sourceWidths, xs, values);
    if (steadyEnd > steadyStart) {
      const [x0, x1, x2, x3] = xs;
      const [m0, m1, m2, m3] = minjs;
      const [s0, s1, s2, s3] = shifts;
      const [w0, w1, w2, w3] = sourceWidths;
      let [v0, v1, v2, v3] = values;
      for (let t = steadyStart; t < steadyEnd; t++) {
        let jj = t;
        let source = jj + s0!;
        v0 = ((source < w0! ? a[source]! : 1) * x0! + v0! * (jj + m0!)) / (x0! + jj + m0!);
        a[jj] = v0;
        jj -= LAG;
        source = jj + s1!;
        v1 = ((source < w1! ? a[source]! : 1) * x1! + v1! * (jj + m1!)) / (x1! + jj + m1!);
        a[jj] = v1;
        jj -= LAG;
        source = jj + s2!;
        v2 = ((source < w2! ? a[source]! : 1) * x2! + v2! * (jj + m2!)) / (x2! + jj + m2!);
        a[jj] = v2;
        jj -= LAG;
        source = jj + s3!;
        v3 = ((source < w3! ? a[source]! : 1) * x3! + v3! * (jj + m3!)) / (x3! + jj + m3!);
        a[jj] = v3;
      }
      values.set([v0!, v1!, v2!, v3!]);
    }
    for (let t = steadyEnd; t < steps; t++)
      wavefrontStep(a, t, columns, minjs, widths, shifts, sourceWidths, xs, values);
  }
  return a[previousWidth - 1]!;
}

/** One time step of the wavefront: cell row t - LAG·k of each column k that has it. */
function wavefrontStep(
  a: Float64Array,
  t: number,
  columns: number,
  minjs: Float64Array,
  widths: Float64Array,
  shifts: Float64Array,
  sourceWidths: Float64Array,
  xs: Float64Array,
  values: Float64Array,
): void {
  for (let k = 0; k < columns; k++) {
    const jj = t - LAG * k;
    if (jj < 0 || jj >= widths[k]!) continue;
    const source = jj + shifts[k]!;
    // Column k - 1 wrote row `source` LAG steps ago (shift < LAG); rows at or above its width are 1.
    const left = source < sourceWidths[k]! ? a[source]! : 1;
    const i = xs[k]!;
    const j = jj + minjs[k]!;
    const value = (left * i + values[k]! * j) / (i + j);
    values[k] = value;
    a[jj] = value;
  }
}

/** Columns computed together by the wavefront, and the rows each trails the previous column by. */
const WAVEFRONT = 4;
const LAG = 2;

function greatestCommonDivisor(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** np.round / rint: nearest integer, ties to even. */
function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
