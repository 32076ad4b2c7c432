/**
 * ADWIN (Bifet & Gavaldà 2007), the ADWIN2 variant: the window is kept as an exponential histogram of
 * buckets, as MOA's `ADWIN` and River's `drift.ADWIN` keep it. Row `i` holds buckets that summarise `2^i`
 * consecutive values each (their sum and their variance sum); at most `maxBuckets` per row, and the two
 * oldest of a full row merge into one bucket of the next row. Every `clock` values, once the window holds
 * more than `gracePeriod`, every cut between buckets (oldest first) splits the window into an older W0 and
 * a newer W1 of at least `minWindowLength` values each; when
 *
 *   |mean(W0) − mean(W1)| > ε = √(2 m σ² δ') + (2/3) δ' m,   m = 1/(n0 − L + 1) + 1/(n1 − L + 1),
 *   δ' = ln(2 ln(n) / δ),   σ² = the window's variance,   L = minWindowLength,
 *
 * holds, the oldest bucket is dropped and the search starts again; one or more drops in a check is one
 * detection. The window that is left is the recent data ADWIN believes stationary (`width`, `mean`).
 *
 * Every cut between buckets is evaluated, as in MOA and the paper; this reproduces the detections River
 * documents for its example stream (scripts/golden/detectors.py). A loop that skips the newest bucket of
 * each row, as an older River Cython loop did, detects later and more often on the same streams.
 */

export interface AdwinParameters {
  /** Confidence of the cut test: smaller is fewer false alarms and later detections. @default 0.002 */
  delta: number;
  /** Checks for a change every this many values. @default 32 */
  clock: number;
  /** Buckets per row before the two oldest merge (ADWIN2's M). @default 5 */
  maxBuckets: number;
  /** Fewest values on each side of a cut. @default 5 */
  minWindowLength: number;
  /** No check until the window holds more than this many values. @default 10 */
  gracePeriod: number;
}

export const ADWIN_DEFAULTS: AdwinParameters = {
  delta: 0.002,
  clock: 32,
  maxBuckets: 5,
  minWindowLength: 5,
  gracePeriod: 10,
};

/** One row of the histogram: buckets of `2^row` values, oldest first. */
export interface AdwinRow {
  /** Sum of each bucket's values. */
  totals: number[];
  /** Sum of squared deviations from the bucket's mean, per bucket. */
  variances: number[];
}

/** ADWIN's whole state: plain numbers and arrays, so `JSON.stringify` round-trips it exactly. */
export interface AdwinState {
  method: 'adwin';
  parameters: AdwinParameters;
  /** Values seen since the detector was created (the position of the next value). */
  n: number;
  /** Values in the window. */
  width: number;
  /** Sum of the window's values. */
  total: number;
  /** Sum of squared deviations from the window's mean. */
  variance: number;
  /** Values since the last check, modulo `clock`. */
  tick: number;
  /** rows[i] holds buckets of 2^i values. */
  rows: AdwinRow[];
}

export function createAdwin(parameters: AdwinParameters): AdwinState {
  return {
    method: 'adwin',
    parameters,
    n: 0,
    width: 0,
    total: 0,
    variance: 0,
    tick: 0,
    rows: [{ totals: [], variances: [] }],
  };
}

/** Adds one value to the (mutable) state; true when the window was cut (a detection). */
export function adwinPush(state: AdwinState, value: number): boolean {
  state.n++;
  insert(state, value);
  state.tick = (state.tick + 1) % state.parameters.clock;
  if (state.tick !== 0 || state.width <= state.parameters.gracePeriod) return false;
  let detected = false;
  while (cutOnce(state)) detected = true;
  return detected;
}

/** The mean of the values in the window (0 when it is empty). */
export function adwinMean(state: AdwinState): number {
  return state.width > 0 ? state.total / state.width : 0;
}

function insert(state: AdwinState, value: number): void {
  const row = state.rows[0]!;
  row.totals.push(value);
  row.variances.push(0);
  // Welford's update of the sum of squared deviations, with the mean before this value.
  if (state.width > 0) {
    const deviation = value - state.total / state.width;
    state.variance += (state.width * deviation * deviation) / (state.width + 1);
  }
  state.width++;
  state.total += value;
  compress(state);
}

/** Merges the two oldest buckets of every row that overflowed, carrying into the next row. */
function compress(state: AdwinState): void {
  const { maxBuckets } = state.parameters;
  for (let i = 0; i < state.rows.length; i++) {
    const row = state.rows[i]!;
    if (row.totals.length <= maxBuckets) return;
    if (i + 1 === state.rows.length) state.rows.push({ totals: [], variances: [] });
    const next = state.rows[i + 1]!;
    const size = 2 ** i;
    const [t1, t2] = row.totals.splice(0, 2) as [number, number];
    const [v1, v2] = row.variances.splice(0, 2) as [number, number];
    const gap = t1 / size - t2 / size;
    next.totals.push(t1 + t2);
    // Two groups of equal size n: the pooled sum of squares gains n·n/(2n)·(mean gap)².
    next.variances.push(v1 + v2 + (size * gap * gap) / 2);
  }
}

/** Drops the oldest bucket. */
function dropOldest(state: AdwinState): void {
  const last = state.rows.length - 1;
  const row = state.rows[last]!;
  const size = 2 ** last;
  const total = row.totals.shift()!;
  const variance = row.variances.shift()!;
  state.width -= size;
  state.total -= total;
  const gap = total / size - state.total / state.width;
  state.variance -= variance + (size * state.width * gap * gap) / (size + state.width);
  if (row.totals.length === 0 && last > 0) state.rows.pop();
}

/** Looks for one cut, oldest first; drops the oldest bucket and returns true when one holds. */
function cutOnce(state: AdwinState): boolean {
  const { minWindowLength } = state.parameters;
  let n0 = 0;
  let n1 = state.width;
  let u0 = 0;
  let u1 = state.total;
  for (let i = state.rows.length - 1; i >= 0; i--) {
    const { totals } = state.rows[i]!;
    const size = 2 ** i;
    for (let k = 0; k < totals.length; k++) {
      n0 += size;
      n1 -= size;
      u0 += totals[k]!;
      u1 -= totals[k]!;
      // The cut after the newest bucket would leave W1 empty.
      if (i === 0 && k === totals.length - 1) return false;
      if (n0 >= minWindowLength && n1 >= minWindowLength && significant(state, n0, n1, u0 / n0 - u1 / n1)) {
        dropOldest(state);
        return true;
      }
    }
  }
  return false;
}

function significant(state: AdwinState, n0: number, n1: number, gap: number): boolean {
  const { delta, minWindowLength } = state.parameters;
  const deltaPrime = Math.log((2 * Math.log(state.width)) / delta);
  const m = 1 / (n0 - minWindowLength + 1) + 1 / (n1 - minWindowLength + 1);
  const variance = state.variance / state.width;
  const epsilon = Math.sqrt(2 * m * variance * deltaPrime) + (2 / 3) * deltaPrime * m;
  return Math.abs(gap) > epsilon;
}
