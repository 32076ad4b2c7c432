/**
 * Concept drift on a labelled feedback stream, pure and SDK-free, for the CLI (`driftwatch detect`) and a
 * stream consumer. Every state here is a small JSON value: load it, apply a batch, store the result.
 *
 * - {@link createDetector} / {@link updateDetector}: ADWIN, DDM, Page-Hinkley over 0/1 errors or losses.
 * - {@link createRateMonitor} / {@link updateRateMonitor}: a cohort's rate against its baseline rate, an
 *   always-valid mixture SPRT looked at after every outcome.
 * - {@link detectInTable}: a detector over one column of a file.
 */
export type { AdwinParameters, AdwinState } from './adwin.ts';
export type { DdmParameters, DdmState } from './ddm.ts';
export { type DetectOptions, type DetectReport, detectInTable } from './detect-table.ts';
export {
  createDetector,
  DETECTOR_METHODS,
  Detector,
  type DetectorMethod,
  type DetectorParameters,
  type DetectorSignal,
  type DetectorState,
  type DetectorUpdate,
  updateDetector,
  valueProblem,
} from './detector.ts';
export type { PageHinkleyParameters, PageHinkleyState } from './page-hinkley.ts';
export {
  createRateMonitor,
  type RateDetection,
  type RateMonitorSettings,
  type RateMonitorState,
  updateRateMonitor,
} from './rate-monitor.ts';
