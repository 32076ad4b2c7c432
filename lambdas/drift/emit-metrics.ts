import type { DriftReport } from '../core/drift/types.ts';
import { DIMENSION, METRIC, segmentDimensionValue, WHOLE_DATASET_SEGMENT } from '../shared/contract.ts';
import { type MetricPoint, metricPoint as point } from '../shared/metrics.ts';

// Shared with the performance Lambda; re-exported here, where the drift handler and its tests find them.
export { createMetrics, type MetricPoint, publishMetricPoints } from '../shared/metrics.ts';

/**
 * The metrics of one checked file, as the contract in `lambdas/shared/contract.ts` declares them: per file
 * (Model) whether the dataset drifted, whether a critical feature drifted, the file and its rows; the drift
 * share (Model, Segment=all); and for every report entry, whole-dataset and per segment, the decision score
 * and the drifted flag (Model, Feature, Segment). Scores that are not finite (CloudWatch refuses them) are
 * left out; the flag is still there.
 *
 * A Data Capture window's check also names its `<endpoint>/<variant>`: the drift of that variant's inputs gets
 * the same whole-dataset values again with (Model, Variant): dataset drift, critical feature drift, drift
 * share, rows and each feature's score (Model, Variant, Feature), so a canary's inputs are watched apart
 * from the production variant's. No alarm watches them (the model's alarms watch the Model values, which
 * every window still emits); per-segment values are not repeated per variant (metrics cost per name and
 * dimension set).
 *
 * @example
 * ```ts
 * publishMetricPoints(metrics, driftMetricPoints(report, { model: 'churn', criticalFeatures: ['age'] }));
 * ```
 */
export function driftMetricPoints(
  report: DriftReport,
  config: { model: string; criticalFeatures: readonly string[]; variant?: string },
): MetricPoint[] {
  const model = { [DIMENSION.model]: config.model };
  const critical = new Set(config.criticalFeatures);
  const criticalDrift = report.features.some(
    (entry) => entry.segment === null && entry.drifted && critical.has(entry.feature),
  );
  const points: MetricPoint[] = [
    point(METRIC.filesChecked, 1, model),
    point(METRIC.rowsChecked, report.rows.current, model),
    point(METRIC.datasetDrift, report.datasetDrift ? 1 : 0, model),
    point(METRIC.criticalFeatureDrift, criticalDrift ? 1 : 0, model),
    point(METRIC.datasetDriftShare, report.driftShare, {
      ...model,
      [DIMENSION.segment]: WHOLE_DATASET_SEGMENT,
    }),
  ];
  for (const entry of report.features) {
    const dimensions = {
      ...model,
      [DIMENSION.feature]: entry.feature,
      [DIMENSION.segment]: segmentDimensionValue(entry.segment),
    };
    if (Number.isFinite(entry.score)) points.push(point(METRIC.featureDriftScore, entry.score, dimensions));
    points.push(point(METRIC.featureDrifted, entry.drifted ? 1 : 0, dimensions));
  }
  if (config.variant !== undefined) {
    const variant = { ...model, [DIMENSION.variant]: config.variant };
    points.push(
      point(METRIC.rowsChecked, report.rows.current, variant),
      point(METRIC.datasetDrift, report.datasetDrift ? 1 : 0, variant),
      point(METRIC.criticalFeatureDrift, criticalDrift ? 1 : 0, variant),
      point(METRIC.datasetDriftShare, report.driftShare, variant),
    );
    for (const entry of report.features)
      if (entry.segment === null && Number.isFinite(entry.score))
        points.push(
          point(METRIC.featureDriftScore, entry.score, { ...variant, [DIMENSION.feature]: entry.feature }),
        );
  }
  return points;
}

/** The metric of a file that could not be checked. */
export function fileErrorPoints(model: string): MetricPoint[] {
  return [point(METRIC.fileErrors, 1, { [DIMENSION.model]: model })];
}
