import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricUnit } from '@aws-lambda-powertools/metrics/types';
import type { DriftReport } from '../core/drift/types.ts';
import {
  DIMENSION,
  METRIC,
  METRIC_NAMESPACE,
  segmentDimensionValue,
  WHOLE_DATASET_SEGMENT,
} from '../shared/contract.ts';

type MetricDefinition = (typeof METRIC)[keyof typeof METRIC];

/** One value of one metric with its full set of dimensions (Model always among them). */
export interface MetricPoint {
  name: MetricDefinition['name'];
  unit: MetricDefinition['unit'];
  value: number;
  dimensions: Readonly<Record<string, string>>;
}

const point = (metric: MetricDefinition, value: number, dimensions: Record<string, string>): MetricPoint => ({
  name: metric.name,
  unit: metric.unit,
  value,
  dimensions,
});

/**
 * The metrics of one checked file, as the contract in `lambdas/shared/contract.ts` declares them: per file
 * (Model) whether the dataset drifted, whether a critical feature drifted, the file and its rows; the drift
 * share (Model, Segment=all); and for every report entry, whole-dataset and per segment, the decision score
 * and the drifted flag (Model, Feature, Segment). Scores that are not finite (CloudWatch refuses them) are
 * left out; the flag is still there.
 *
 * @example
 * ```ts
 * publishMetricPoints(metrics, driftMetricPoints(report, { model: 'churn', criticalFeatures: ['age'] }));
 * ```
 */
export function driftMetricPoints(
  report: DriftReport,
  config: { model: string; criticalFeatures: readonly string[] },
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
  return points;
}

/** The metric of a file that could not be checked. */
export function fileErrorPoints(model: string): MetricPoint[] {
  return [point(METRIC.fileErrors, 1, { [DIMENSION.model]: model })];
}

/**
 * Powertools Metrics in namespace {@link METRIC_NAMESPACE} without default dimensions. Powertools adds a
 * `service` dimension to every metric unless told otherwise; the contract's metrics have exactly the
 * dimensions it lists, so alarms and dashboards find them. The caller sets `Model` as default dimension
 * once it knows the model (`metrics.setDefaultDimensions({ Model: name })`).
 */
export function createMetrics(logger?: Logger): Metrics {
  // Powertools' own warnings (an invocation without metrics, say) go through the structured logger.
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, ...(logger ? { logger } : {}) });
  metrics.clearDefaultDimensions();
  return metrics;
}

/**
 * Writes points through Powertools as EMF. Points whose only dimension is `Model` go to the buffer of
 * `metrics` (made by {@link createMetrics}, `Model` set as its default dimension), flushed once per invocation by the `logMetrics`
 * middleware. Every other point has its own dimensions and is written at once as its own EMF document
 * (`singleMetric()`), since the dimensions of an EMF document apply to every metric in it.
 */
export function publishMetricPoints(metrics: Metrics, points: readonly MetricPoint[]): void {
  for (const { name, unit, value, dimensions } of points) {
    const names = Object.keys(dimensions);
    if (names.length === 1 && names[0] === DIMENSION.model) {
      metrics.addMetric(name, unit as MetricUnit, value);
      continue;
    }
    const single = metrics.singleMetric();
    single.clearDefaultDimensions();
    for (const dimension of names) single.addDimension(dimension, dimensions[dimension]!);
    single.addMetric(name, unit as MetricUnit, value);
  }
}
