import type { DriftReport, FeatureDrift } from '../../../lambdas/core/drift/types.ts';

/** A report entry with made-up numbers; only what the handler's pure functions read matters. */
export function entry(
  feature: string,
  drifted: boolean,
  score: number,
  segment: { column: string; value: string } | null = null,
): FeatureDrift {
  return {
    feature,
    segment,
    type: 'numeric',
    missing: { baseline: 0, current: 0 },
    method: 'wasserstein',
    score,
    threshold: 0.1,
    drifted,
    tests: {
      ks: { statistic: 0.1, pValue: 0.2 },
      psi: { value: 0.01 },
      jensenShannon: { value: 0.02 },
      wasserstein: { value: score },
    },
    count: { baseline: 100, current: 90 },
    sampled: false,
  };
}

export function report(features: FeatureDrift[], datasetDrift = false): DriftReport {
  const whole = features.filter((feature) => feature.segment === null);
  return {
    rows: { baseline: 100, current: 90 },
    datasetDrift,
    driftShare: whole.filter((feature) => feature.drifted).length / Math.max(whole.length, 1),
    features,
  };
}
