import { ConfigError } from '../errors.ts';
import type { MethodSetting } from './options.ts';
import type { DriftMethod, FeatureType } from './types.ts';

/** Threshold of each method when none is given (the `auto` ones follow the spec). */
export const DEFAULT_THRESHOLDS: Readonly<Record<DriftMethod, number>> = {
  ks: 0.05,
  chi2: 0.05,
  psi: 0.1,
  jensenShannon: 0.1,
  wasserstein: 0.1,
};

const METHODS_BY_TYPE: Readonly<Record<FeatureType, readonly DriftMethod[]>> = {
  numeric: ['ks', 'psi', 'jensenShannon', 'wasserstein'],
  categorical: ['chi2', 'psi', 'jensenShannon'],
};

export const ALL_METHODS: readonly DriftMethod[] = ['ks', 'chi2', 'psi', 'jensenShannon', 'wasserstein'];

/** Baseline sizes up to this use a statistical test in `auto`; larger ones a distance. */
export const AUTO_TEST_MAX_BASELINE = 1000;

/** Methods whose score is a p-value: drift is a score below the threshold, not at or above it. */
export function isPValueMethod(method: DriftMethod): boolean {
  return method === 'ks' || method === 'chi2';
}

export function isDrifted(method: DriftMethod, score: number, threshold: number): boolean {
  return isPValueMethod(method) ? score < threshold : score >= threshold;
}

export function appliesTo(method: DriftMethod, type: FeatureType): boolean {
  return METHODS_BY_TYPE[type].includes(method);
}

export interface ChosenMethod {
  method: DriftMethod;
  threshold: number;
}

/**
 * The spec's decision: a per-feature setting wins, then a setting for all features where it applies to the
 * feature's type, then `auto` (a test for small baselines, a distance for large ones).
 */
export function chooseMethod(
  feature: string,
  type: FeatureType,
  baselineCount: number,
  forAll: MethodSetting | undefined,
  forFeature: MethodSetting | undefined,
): ChosenMethod {
  if (forFeature && forFeature.method !== 'auto') {
    if (!appliesTo(forFeature.method, type)) {
      throw new ConfigError(
        '--feature-method',
        `${forFeature.method} does not apply to ${JSON.stringify(feature)}, a ${type} feature ` +
          `(use one of ${METHODS_BY_TYPE[type].join(', ')})`,
      );
    }
    return withThreshold(forFeature.method, forFeature.threshold);
  }
  if (!forFeature && forAll && forAll.method !== 'auto' && appliesTo(forAll.method, type)) {
    return withThreshold(forAll.method, forAll.threshold);
  }
  const small = baselineCount <= AUTO_TEST_MAX_BASELINE;
  const method: DriftMethod =
    type === 'numeric' ? (small ? 'ks' : 'wasserstein') : small ? 'chi2' : 'jensenShannon';
  return withThreshold(method, undefined);
}

function withThreshold(method: DriftMethod, threshold: number | undefined): ChosenMethod {
  return { method, threshold: threshold ?? DEFAULT_THRESHOLDS[method] };
}

/** Parses `psi`, `psi:0.2` or `auto` as given on the command line or in a config file. */
export function parseMethodSetting(text: string, field: string): MethodSetting {
  const [name, thresholdText, ...rest] = text.split(':');
  if (rest.length > 0 || name === undefined)
    throw new ConfigError(field, `expected METHOD[:THRESHOLD], got ${JSON.stringify(text)}`);
  if (name === 'auto') {
    if (thresholdText !== undefined)
      throw new ConfigError(field, "auto takes no threshold: it uses the spec's thresholds");
    return { method: 'auto' };
  }
  const method = ALL_METHODS.find((m) => m.toLowerCase() === name.toLowerCase());
  if (!method) {
    throw new ConfigError(
      field,
      `unknown method ${JSON.stringify(name)} (use auto, ${ALL_METHODS.join(', ')})`,
    );
  }
  if (thresholdText === undefined) return { method };
  const threshold = Number(thresholdText);
  if (thresholdText.trim() === '' || !Number.isFinite(threshold) || threshold < 0) {
    throw new ConfigError(field, `threshold ${JSON.stringify(thresholdText)} is not a number >= 0`);
  }
  if (isPValueMethod(method) && threshold > 1)
    throw new ConfigError(field, `${method} takes a p-value threshold in [0, 1]`);
  return { method, threshold };
}
