/**
 * A per-cohort rate monitor: is a cohort's click-through, approval or error rate still its baseline rate?
 * Each outcome (1 = the event happened, 0 = it did not) updates an always-valid mixture SPRT of the cohort's
 * rate against the baseline (the statistic of `sequentialRateTest`), checked after every outcome: the false alarm rate stays
 * at or below `alpha` however long the stream runs and however often it is looked at.
 *
 * The state is a small JSON value, one per cohort, for a stream consumer that loads it, applies a batch of
 * outcomes and stores it. After a detection the test starts again on fresh counts (the baseline stays), so
 * a rate that stays changed is reported again once the new counts show it.
 *
 * @example
 * ```ts
 * let state = createRateMonitor({ baselineRate: 0.2, alpha: 0.05 });
 * const { state: next, detections } = updateRateMonitor(state, [0, 1, 0, 0]);
 * ```
 */
import { ConfigError, ValueError } from '../errors.ts';
import { DEFAULT_MIXTURE_SD, logMixtureLikelihoodRatio } from '../stats/sequential-two-proportion.ts';

export interface RateMonitorSettings {
  /** The cohort's expected rate, in [0, 1]. */
  baselineRate: number;
  /** Outcomes the baseline rate was estimated from (its uncertainty widens the test); null: known exactly. */
  baselineTrials: number | null;
  /** Largest false alarm rate per test. @default 0.05 */
  alpha: number;
  /** Outcomes before the first look (the normal approximation needs some). @default 100 */
  minSamples: number;
  /** τ, the size of change the test is most sensitive to. @default 0.05 */
  mixtureSd: number;
}

export interface RateMonitorState {
  method: 'rate-sprt';
  settings: RateMonitorSettings;
  /** Outcomes seen since the monitor was created (the position of the next one). */
  n: number;
  /** Outcomes and events of the current test (since creation or the last detection). */
  trials: number;
  events: number;
  /** The always-valid p-value of the current test: the smallest 1/Λ so far, 1 before any look. */
  pValue: number;
}

export interface RateDetection {
  /** 0-based position of the outcome at which the test crossed 1/alpha. */
  position: number;
  /** The cohort's rate over the test's outcomes. */
  rate: number;
  baselineRate: number;
  /** Outcomes the test used. */
  trials: number;
  direction: 'up' | 'down';
  likelihoodRatio: number;
  pValue: number;
}

const DEFAULTS = { baselineTrials: null, alpha: 0.05, minSamples: 100, mixtureSd: DEFAULT_MIXTURE_SD };

/**
 * @throws ConfigError naming the setting when one is out of range.
 */
export function createRateMonitor(
  settings: Pick<RateMonitorSettings, 'baselineRate'> & Partial<RateMonitorSettings>,
  field = 'settings',
): RateMonitorState {
  const merged: RateMonitorSettings = { ...DEFAULTS, ...settings };
  const { baselineRate, baselineTrials, alpha, minSamples, mixtureSd } = merged;
  const fail = (name: string, rule: string, value: unknown) =>
    new ConfigError(`${field}.${name}`, `expected ${rule}, got ${JSON.stringify(value)}`);
  if (!(baselineRate > 0 && baselineRate < 1)) throw fail('baselineRate', 'a rate in (0, 1)', baselineRate);
  if (baselineTrials !== null && !(Number.isInteger(baselineTrials) && baselineTrials >= 1))
    throw fail('baselineTrials', 'a whole number >= 1 or null', baselineTrials);
  if (!(alpha > 0 && alpha <= 0.5)) throw fail('alpha', 'a number in (0, 0.5]', alpha);
  if (!(Number.isInteger(minSamples) && minSamples >= 1))
    throw fail('minSamples', 'a whole number >= 1', minSamples);
  if (!(mixtureSd > 0 && Number.isFinite(mixtureSd))) throw fail('mixtureSd', 'a number > 0', mixtureSd);
  return { method: 'rate-sprt', settings: merged, n: 0, trials: 0, events: 0, pValue: 1 };
}

/**
 * Applies `outcomes` (0/1 or booleans) to a copy of `state`, testing after each one.
 *
 * @throws ValueError for an outcome that is not 0, 1, true or false; the state passed in is unchanged.
 */
export function updateRateMonitor(
  state: RateMonitorState,
  outcomes: Iterable<number | boolean>,
): { state: RateMonitorState; detections: RateDetection[] } {
  const next = structuredClone(state);
  const { baselineRate, baselineTrials, alpha, minSamples, mixtureSd } = next.settings;
  const detections: RateDetection[] = [];
  const baselineVariance = baselineRate * (1 - baselineRate);
  const baselineShare = baselineTrials === null ? 0 : 1 / baselineTrials;
  for (const outcome of outcomes) {
    const event = outcome === true || outcome === 1 ? 1 : outcome === false || outcome === 0 ? 0 : -1;
    if (event < 0) throw new ValueError(`an outcome is 0, 1, true or false, got ${JSON.stringify(outcome)}`);
    const position = next.n++;
    next.trials++;
    next.events += event;
    if (next.trials < minSamples) continue;
    // sequentialRateTest's statistic, inline: this runs after every outcome.
    const rate = next.events / next.trials;
    const variance = baselineVariance * (1 / next.trials + baselineShare);
    const log = logMixtureLikelihoodRatio(rate - baselineRate, variance, mixtureSd);
    if (log <= 0) continue;
    // pValue = 1/Λ = exp(−ln Λ), kept as the running minimum.
    const pValue = Math.exp(-log);
    if (pValue < next.pValue) next.pValue = pValue;
    if (pValue > alpha) continue;
    const likelihoodRatio = 1 / pValue;
    detections.push({
      position,
      rate,
      baselineRate,
      trials: next.trials,
      direction: rate > baselineRate ? 'up' : 'down',
      likelihoodRatio,
      pValue,
    });
    next.trials = 0;
    next.events = 0;
    next.pValue = 1;
  }
  return { state: next, detections };
}
