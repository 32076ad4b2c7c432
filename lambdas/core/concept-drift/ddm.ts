/**
 * DDM, the Drift Detection Method (Gama, Medas, Castillo & Rodrigues 2004), on a stream of 0/1 errors
 * (1 = the prediction was wrong), as River's `drift.binary.DDM` runs it.
 *
 * After value i the error rate is p = (mean of the errors since the last reset) and s = √(p(1 − p)/i). Once
 * more than `minInstances` values have been seen, the detector remembers the (p, s) at which p + s was
 * lowest (p_min, s_min), and signals
 * - a warning when p + s > p_min + `warningThreshold`·s_min,
 * - a drift when p + s > p_min + `driftThreshold`·s_min, and then starts again from nothing.
 *
 * DDM only detects a rising error rate. A stream without any error during the first instances has s_min = 0,
 * so its first error is a drift: DDM suits error rates well above 1/minInstances.
 */

export interface DdmParameters {
  /** Values after each reset before anything is signalled (River's `warm_start`). @default 30 */
  minInstances: number;
  /** Standard deviations above the best level for a warning. @default 2 */
  warningThreshold: number;
  /** Standard deviations above the best level for a drift. @default 3 */
  driftThreshold: number;
}

export const DDM_DEFAULTS: DdmParameters = { minInstances: 30, warningThreshold: 2, driftThreshold: 3 };

export interface DdmState {
  method: 'ddm';
  parameters: DdmParameters;
  /** Values seen since the detector was created. */
  n: number;
  /** Values since the last reset. */
  count: number;
  /** Running mean of the errors since the last reset (the error rate p). */
  errorRate: number;
  /** p and s where p + s was lowest since the last reset; null before minInstances. */
  pMin: number | null;
  sMin: number | null;
  /** Whether the last value left the detector in the warning zone. */
  warning: boolean;
}

export function createDdm(parameters: DdmParameters): DdmState {
  return { method: 'ddm', parameters, n: 0, count: 0, errorRate: 0, pMin: null, sMin: null, warning: false };
}

/** What one value signalled, with the error rates: the best level p_min and the current p. */
export type DdmSignal = { kind: 'drift' | 'warning'; pMin: number; p: number } | null;

/** Adds one 0/1 value to the (mutable) state. */
export function ddmPush(state: DdmState, value: number): DdmSignal {
  state.n++;
  state.count++;
  // The running mean as River's stats.Mean updates it, so equal ties compare alike.
  state.errorRate += (1 / state.count) * (value - state.errorRate);
  const p = state.errorRate;
  const s = Math.sqrt((p * (1 - p)) / state.count);
  if (state.count <= state.parameters.minInstances) return null;
  if (state.pMin === null || state.sMin === null || p + s <= state.pMin + state.sMin) {
    state.pMin = p;
    state.sMin = s;
  }
  const { pMin, sMin } = state;
  if (p + s > pMin + state.parameters.driftThreshold * sMin) {
    reset(state);
    return { kind: 'drift', pMin, p };
  }
  state.warning = p + s > pMin + state.parameters.warningThreshold * sMin;
  return state.warning ? { kind: 'warning', pMin, p } : null;
}

function reset(state: DdmState): void {
  state.count = 0;
  state.errorRate = 0;
  state.pMin = null;
  state.sMin = null;
  state.warning = false;
}
