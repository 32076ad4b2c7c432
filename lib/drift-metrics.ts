import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DIMENSION, METRIC, WHOLE_DATASET_SEGMENT } from '../lambdas/shared/contract.ts';
import { type MetricSpec, metricSearch, modelMetric } from './metric-factory.ts';

/**
 * The model name the shared dashboard's widgets carry: its `model` variable (a pattern variable) replaces
 * it with the selected model. Model names are lower case, so it can never be one.
 */
export const DRIFT_METRICS_MODEL_VARIABLE = 'MODEL_SELECTED';

/** @default period of driftwatch's metrics in alarms and dashboards. */
export const DEFAULT_METRIC_PERIOD = Duration.minutes(5);

/**
 * Which metric, statistic and period: the one definition of a model's drift metrics, used by its alarms and
 * its dashboard. Names and dimensions come from `lambdas/shared/contract.ts`, which the handler emits by.
 * Pure: it creates no resources.
 *
 * @example
 * ```ts
 * const metrics = new DriftMetrics('churn');
 * metrics.datasetDrift().createAlarm(this, 'Drift', { threshold: 1, evaluationPeriods: 1 });
 * ```
 */
export class DriftMetrics {
  readonly model: string;
  readonly period: Duration;

  constructor(model: string, period: Duration = DEFAULT_METRIC_PERIOD) {
    this.model = model;
    this.period = period;
  }

  /** 1 when a file's dataset drifted (Maximum). */
  datasetDrift(): cloudwatch.Metric {
    return this.metric(METRIC.datasetDrift, 'Maximum');
  }

  /** 1 when a critical feature drifted in a file (Maximum). */
  criticalFeatureDrift(): cloudwatch.Metric {
    return this.metric(METRIC.criticalFeatureDrift, 'Maximum');
  }

  /** Share of drifted features of the whole dataset, 0-1 (Maximum). */
  datasetDriftShare(): cloudwatch.Metric {
    return this.metric(METRIC.datasetDriftShare, 'Maximum', { [DIMENSION.segment]: WHOLE_DATASET_SEGMENT });
  }

  filesChecked(): cloudwatch.Metric {
    return this.metric(METRIC.filesChecked, 'Sum');
  }

  fileErrors(): cloudwatch.Metric {
    return this.metric(METRIC.fileErrors, 'Sum');
  }

  rowsChecked(): cloudwatch.Metric {
    return this.metric(METRIC.rowsChecked, 'Sum');
  }

  /**
   * Every feature's whole-dataset drift score, one line per feature, found by a SEARCH expression so the
   * features need not be listed (they may be typed from the data).
   */
  featureDriftScores(): cloudwatch.MathExpression {
    return this.search(METRIC.featureDriftScore, 'Maximum', WHOLE_DATASET_SEGMENT);
  }

  /** Drifted features in every segment (1 = drifted), one line per feature and segment. */
  featureDrifted(): cloudwatch.MathExpression {
    return this.search(METRIC.featureDrifted, 'Maximum');
  }

  private metric(
    spec: MetricSpec,
    statistic: string,
    dimensions: Record<string, string> = {},
  ): cloudwatch.Metric {
    return modelMetric(this.model, this.period, spec, statistic, dimensions);
  }

  private search(spec: MetricSpec, statistic: string, segment?: string): cloudwatch.MathExpression {
    const filters = [`MetricName="${spec.name}"`, `${DIMENSION.model}="${this.model}"`];
    if (segment !== undefined) filters.push(`${DIMENSION.segment}="${segment}"`);
    return metricSearch(
      [DIMENSION.model, DIMENSION.feature, DIMENSION.segment],
      filters,
      statistic,
      this.period,
    );
  }
}
