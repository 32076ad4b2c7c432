import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DIMENSION, METRIC, METRIC_NAMESPACE, WHOLE_DATASET_SEGMENT } from '../../lambdas/shared/contract.ts';
import { DriftMetrics } from '../../lib/drift-metrics.ts';

describe('DriftMetrics', () => {
  const metrics = new DriftMetrics('churn');

  it('takes names and dimensions from the contract', () => {
    const cases = [
      [metrics.datasetDrift(), METRIC.datasetDrift.name, 'Maximum', { [DIMENSION.model]: 'churn' }],
      [
        metrics.criticalFeatureDrift(),
        METRIC.criticalFeatureDrift.name,
        'Maximum',
        { [DIMENSION.model]: 'churn' },
      ],
      [
        metrics.datasetDriftShare(),
        METRIC.datasetDriftShare.name,
        'Maximum',
        { [DIMENSION.model]: 'churn', [DIMENSION.segment]: WHOLE_DATASET_SEGMENT },
      ],
      [metrics.filesChecked(), METRIC.filesChecked.name, 'Sum', { [DIMENSION.model]: 'churn' }],
      [metrics.fileErrors(), METRIC.fileErrors.name, 'Sum', { [DIMENSION.model]: 'churn' }],
      [metrics.rowsChecked(), METRIC.rowsChecked.name, 'Sum', { [DIMENSION.model]: 'churn' }],
    ] as const;
    for (const [metric, name, statistic, dimensions] of cases) {
      expect(metric.namespace).toBe(METRIC_NAMESPACE);
      expect(metric.metricName).toBe(name);
      expect(metric.statistic).toBe(statistic);
      expect(metric.dimensions).toEqual(dimensions);
      expect(metric.period.toSeconds()).toBe(300);
      // No unit filter: it would hide data points emitted under another unit.
      expect(metric.unit).toBeUndefined();
    }
  });

  it('finds every feature score with a SEARCH over the contract dimensions', () => {
    expect(metrics.featureDriftScores().expression).toBe(
      `SEARCH('{Driftwatch,Model,Feature,Segment} MetricName="FeatureDriftScore" Model="churn" Segment="all"', 'Maximum', 300)`,
    );
    expect(new DriftMetrics('credit', Duration.minutes(1)).featureDrifted().expression).toBe(
      `SEARCH('{Driftwatch,Model,Feature,Segment} MetricName="FeatureDrifted" Model="credit"', 'Maximum', 60)`,
    );
  });
});
