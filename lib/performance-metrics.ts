import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC_DIRECTION, type MetricName } from '../lambdas/core/performance/metrics.ts';
import { DIMENSION, METRIC, segmentDimensionValue } from '../lambdas/shared/contract.ts';
import { type MetricSpec, metricSearch, modelMetric } from './metric-factory.ts';

/**
 * @default period of performance metrics in alarms and dashboards. A check emits each value once per run;
 * an hour holds one run of any schedule of an hour or more, and several of a faster one (the statistic then
 * takes the worst).
 */
export const DEFAULT_PERFORMANCE_PERIOD = Duration.hours(1);

/**
 * Which metric, statistic and period: the one definition of a model's performance metrics, used by its
 * alarms and its dashboard. Names and dimensions come from `lambdas/shared/contract.ts`, which the
 * performance Lambda emits by. Pure: it creates no resources.
 *
 * @example
 * ```ts
 * const metrics = new PerformanceMetrics('credit', 'tier');
 * metrics.value('gini', 'subprime'); // PerformanceMetric {Model=credit, Metric=gini, Segment=tier=subprime}
 * ```
 */
export class PerformanceMetrics {
  readonly model: string;
  /** The column segment values belong to; null when the model has none. */
  readonly segmentColumn: string | null;
  readonly period: Duration;

  constructor(model: string, segmentColumn: string | null, period: Duration = DEFAULT_PERFORMANCE_PERIOD) {
    this.model = model;
    this.segmentColumn = segmentColumn;
    this.period = period;
  }

  /** The `Segment` dimension of a segment value (`<column>=<value>`), or `all` for null. */
  segmentDimension(segment: string | null): string {
    if (segment === null) return segmentDimensionValue(null);
    if (this.segmentColumn === null) {
      throw new Error(
        `model ${this.model} has no segment column, so segment ${JSON.stringify(segment)} has no metric`,
      );
    }
    return segmentDimensionValue({ column: this.segmentColumn, value: segment });
  }

  /**
   * The value of `metric` over the whole golden dataset (segment null) or one segment value. The statistic
   * defaults to the worst value of the period: Minimum where higher is better, Maximum where lower is, and
   * Average for positiveRate.
   */
  value(
    metric: MetricName,
    segment: string | null = null,
    statistic: string = worstStatistic(metric),
  ): cloudwatch.Metric {
    return this.metric(METRIC.performanceMetric, statistic, {
      [DIMENSION.metric]: metric,
      [DIMENSION.segment]: this.segmentDimension(segment),
    });
  }

  /** The relative degradation of `metric` against the baseline report (0.05 = 5% worse), Maximum. */
  drop(metric: MetricName, segment: string | null = null): cloudwatch.Metric {
    return this.metric(METRIC.performanceDrop, 'Maximum', {
      [DIMENSION.metric]: metric,
      [DIMENSION.segment]: this.segmentDimension(segment),
    });
  }

  /** Every segment's value of `metric` (whole dataset included), one line each, found by SEARCH. */
  valueBySegment(metric: MetricName): cloudwatch.MathExpression {
    const filters = [
      `MetricName="${METRIC.performanceMetric.name}"`,
      `${DIMENSION.model}="${this.model}"`,
      `${DIMENSION.metric}="${metric}"`,
    ];
    return metricSearch(
      [DIMENSION.model, DIMENSION.metric, DIMENSION.segment],
      filters,
      'Average',
      this.period,
    );
  }

  /** Checks that stored a report (Sum). */
  checks(): cloudwatch.Metric {
    return this.metric(METRIC.performanceChecks, 'Sum');
  }

  /** Checks that could not complete (Sum). */
  checkErrors(): cloudwatch.Metric {
    return this.metric(METRIC.performanceCheckErrors, 'Sum');
  }

  /** Limits breached (Sum). */
  breaches(): cloudwatch.Metric {
    return this.metric(METRIC.performanceBreaches, 'Sum');
  }

  /** Rows of the golden dataset evaluated (Maximum: a check's count, not a total). */
  rowsEvaluated(): cloudwatch.Metric {
    return this.metric(METRIC.performanceRows, 'Maximum');
  }

  private metric(
    spec: MetricSpec,
    statistic: string,
    dimensions: Record<string, string> = {},
  ): cloudwatch.Metric {
    return modelMetric(this.model, this.period, spec, statistic, dimensions);
  }
}

function worstStatistic(metric: MetricName): string {
  const direction = METRIC_DIRECTION[metric];
  return direction === 'higher' ? 'Minimum' : direction === 'lower' ? 'Maximum' : 'Average';
}
