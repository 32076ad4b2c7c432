import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricUnit } from '@aws-lambda-powertools/metrics/types';
import { DIMENSION, METRIC, METRIC_NAMESPACE, REASON_DIMENSION } from './contract.ts';

/** One of the contract's metric definitions. */
export type MetricDefinition = (typeof METRIC)[keyof typeof METRIC];

/** One value of one metric with its full set of dimensions (Model always among them). */
export interface MetricPoint {
  name: MetricDefinition['name'];
  unit: MetricDefinition['unit'];
  value: number;
  dimensions: Readonly<Record<string, string>>;
}

/** A {@link MetricPoint} of a contract metric. */
export const metricPoint = (
  metric: MetricDefinition,
  value: number,
  dimensions: Record<string, string>,
): MetricPoint => ({
  name: metric.name,
  unit: metric.unit,
  value,
  dimensions,
});

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

/** The points of events that page on-call for `model`: `Page` once per reason, and `PageReason` by reason. */
export function pagePoints(model: string, reasons: readonly string[]): MetricPoint[] {
  return reasons.flatMap((reason) => [
    metricPoint(METRIC.page, 1, { [DIMENSION.model]: model }),
    metricPoint(METRIC.pageReason, 1, { [DIMENSION.model]: model, [REASON_DIMENSION]: reason }),
  ]);
}
