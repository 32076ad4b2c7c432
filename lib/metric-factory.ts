import type { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DIMENSION, type METRIC, METRIC_NAMESPACE } from '../lambdas/shared/contract.ts';

/** One metric of `lambdas/shared/contract.ts`. */
export type MetricSpec = (typeof METRIC)[keyof typeof METRIC];

/** A model's metric in driftwatch's namespace: the `Model` dimension plus any others. Pure. */
export function modelMetric(
  model: string,
  period: Duration,
  spec: MetricSpec,
  statistic: string,
  dimensions: Record<string, string> = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName: spec.name,
    dimensionsMap: { [DIMENSION.model]: model, ...dimensions },
    statistic,
    period,
    // No unit filter: an alarm with one ignores data points emitted under any other unit.
  });
}

/**
 * A SEARCH expression over driftwatch's namespace with the dimensions `schemaDimensions`, matching
 * `filters` (`Name="value"` terms), one line per metric found. Pure.
 */
export function metricSearch(
  schemaDimensions: readonly string[],
  filters: readonly string[],
  statistic: string,
  period: Duration,
): cloudwatch.MathExpression {
  const schema = `{${[METRIC_NAMESPACE, ...schemaDimensions].join(',')}}`;
  return new cloudwatch.MathExpression({
    expression: `SEARCH('${schema} ${filters.join(' ')}', '${statistic}', ${period.toSeconds()})`,
    usingMetrics: {},
    period,
    label: '',
  });
}
