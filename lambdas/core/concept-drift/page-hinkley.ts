/**
 * The Page-Hinkley test (Page 1954) with a fading factor, in both directions, as River's `drift.PageHinkley`
 * (mode "both") runs it, on any real-valued stream (a 0/1 error, a loss).
 *
 * With x̄ the running mean since the last reset and d = x − x̄ after each value:
 *   U ← α·U + d − δ,   m_U = min U     (an increase of the mean makes U climb above its minimum)
 *   L ← α·L + d + δ,   M_L = max L     (a decrease makes L fall below its maximum)
 * Once `minInstances` values have been seen, U − m_U > λ or M_L − L > λ is a drift, and the test starts
 * again from nothing. δ is the size of change tolerated, λ (`threshold`) trades delay for false alarms, in
 * the stream's units times values.
 */

export interface PageHinkleyParameters {
  /** Values after each reset before a drift can be signalled. @default 30 */
  minInstances: number;
  /** Magnitude of change tolerated (δ). @default 0.005 */
  delta: number;
  /** Detection threshold (λ). @default 50 */
  threshold: number;
  /** Fading factor of the cumulative sums. @default 0.9999 */
  alpha: number;
  /** Which changes of the mean count. @default "both" */
  direction: 'up' | 'down' | 'both';
}

export const PAGE_HINKLEY_DEFAULTS: PageHinkleyParameters = {
  minInstances: 30,
  delta: 0.005,
  threshold: 50,
  alpha: 1 - 0.0001,
  direction: 'both',
};

export interface PageHinkleyState {
  method: 'page-hinkley';
  parameters: PageHinkleyParameters;
  /** Values seen since the detector was created. */
  n: number;
  /** Values since the last reset. */
  count: number;
  mean: number;
  sumIncrease: number;
  sumDecrease: number;
  /** null until the first value after a reset. */
  minIncrease: number | null;
  maxDecrease: number | null;
}

export function createPageHinkley(parameters: PageHinkleyParameters): PageHinkleyState {
  return {
    method: 'page-hinkley',
    parameters,
    n: 0,
    count: 0,
    mean: 0,
    sumIncrease: 0,
    sumDecrease: 0,
    minIncrease: null,
    maxDecrease: null,
  };
}

/** Adds one value to the (mutable) state; on a drift, the mean since the last reset, else null. */
export function pageHinkleyPush(state: PageHinkleyState, value: number): number | null {
  const { alpha, delta, threshold, minInstances, direction } = state.parameters;
  state.n++;
  state.count++;
  state.mean += (1 / state.count) * (value - state.mean);
  const deviation = value - state.mean;
  state.sumIncrease = alpha * state.sumIncrease + deviation - delta;
  state.sumDecrease = alpha * state.sumDecrease + deviation + delta;
  state.minIncrease = Math.min(state.minIncrease ?? state.sumIncrease, state.sumIncrease);
  state.maxDecrease = Math.max(state.maxDecrease ?? state.sumDecrease, state.sumDecrease);
  if (state.count < minInstances) return null;
  const up = direction !== 'down' && state.sumIncrease - state.minIncrease > threshold;
  const down = direction !== 'up' && state.maxDecrease - state.sumDecrease > threshold;
  if (!up && !down) return null;
  const mean = state.mean;
  state.count = 0;
  state.mean = 0;
  state.sumIncrease = 0;
  state.sumDecrease = 0;
  state.minIncrease = null;
  state.maxDecrease = null;
  return mean;
}
