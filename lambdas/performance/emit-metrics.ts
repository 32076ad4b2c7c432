import { type LimitCheck, type PerformanceLimit, relativeDrop } from '../core/performance/limits.ts';
import { METRIC_DIRECTION, METRIC_NAMES, type MetricName } from '../core/performance/metrics.ts';
import type { PerformanceReport } from '../core/performance/report.ts';
import { DIMENSION, METRIC, PAGE_REASON, segmentDimensionValue } from '../shared/contract.ts';
import { type MetricPoint, metricPoint, pagePoints } from '../shared/metrics.ts';

/**
 * The metrics of one successful performance check, as the contract declares them:
 * - `PerformanceMetric` (Model, Metric, Segment): every metric of the report, for the whole dataset
 *   (`Segment=all`) and for each segment (`Segment=<column>=<value>`); null metrics (rocAuc and gini of
 *   one-class rows) are left out, since CloudWatch takes numbers only;
 * - `PerformanceDrop` (Model, Metric, Segment): the relative degradation of every `maxDrop` limit compared
 *   ({@link limitDrops}), when finite (a baseline of 0 makes it infinite: the event still names it);
 * - per check (Model): `PerformanceChecks` 1, `PerformanceBreaches`, `PerformanceRowsEvaluated`.
 * Pure: no I/O.
 *
 * @example
 * ```ts
 * const drops = limitDrops(report, baseline, limits);
 * publishMetricPoints(metrics, performanceMetricPoints(report, checkLimits(report, limits, baseline), drops, 'churn'));
 * ```
 */
export function performanceMetricPoints(
  report: PerformanceReport,
  check: LimitCheck,
  drops: readonly LimitDrop[],
  model: string,
): MetricPoint[] {
  const modelDimension = { [DIMENSION.model]: model };
  const points: MetricPoint[] = [
    metricPoint(METRIC.performanceChecks, 1, modelDimension),
    metricPoint(METRIC.performanceBreaches, check.breaches.length, modelDimension),
    metricPoint(METRIC.performanceRows, report.rows, modelDimension),
  ];
  for (const { name, segment, value } of finiteMetricValues(report)) {
    points.push(
      metricPoint(METRIC.performanceMetric, value, {
        ...modelDimension,
        [DIMENSION.metric]: name,
        [DIMENSION.segment]: segmentDimensionValue(segment),
      }),
    );
  }
  for (const { metric, segment, drop } of drops) {
    if (!Number.isFinite(drop)) continue;
    points.push(
      metricPoint(METRIC.performanceDrop, drop, {
        ...modelDimension,
        [DIMENSION.metric]: metric,
        [DIMENSION.segment]: segmentDimensionValue(segment),
      }),
    );
  }
  return points;
}

/** One metric of a report, for the whole dataset (segment null) or one segment. */
export interface MetricValue {
  name: MetricName;
  segment: { column: string; value: string } | null;
  value: number;
}

/**
 * Every finite metric of a report (measured or estimated): the whole dataset's, then each segment's, in
 * {@link METRIC_NAMES} order. Null metrics (rocAuc and gini of one-class rows) are left out, since
 * CloudWatch takes numbers only.
 */
export function finiteMetricValues(report: PerformanceReport): MetricValue[] {
  const entries = [
    { segment: null, metrics: report.metrics },
    ...report.segments.map((entry) => ({
      segment: { column: entry.column, value: entry.value },
      metrics: entry.metrics,
    })),
  ];
  const values: MetricValue[] = [];
  for (const { segment, metrics } of entries) {
    for (const name of METRIC_NAMES) {
      const value = metrics[name];
      if (value !== null && Number.isFinite(value)) values.push({ name, segment, value });
    }
  }
  return values;
}

/**
 * The metrics of one successful performance check and its page: {@link performanceMetricPoints} with the
 * drops of the `limits` against the baseline, and a `PerformanceLimit` page point when a limit is breached.
 */
export function performanceCheckPoints(
  report: PerformanceReport,
  check: LimitCheck,
  baseline: PerformanceReport | null,
  limits: readonly PerformanceLimit[],
  model: string,
): MetricPoint[] {
  return [
    ...performanceMetricPoints(report, check, limitDrops(report, baseline, limits), model),
    ...pagePoints(model, check.breaches.length > 0 ? [PAGE_REASON.performanceLimit] : []),
  ];
}

/** A `maxDrop` limit compared with the baseline: which metric and segment, and the relative drop. */
export interface LimitDrop {
  metric: MetricName;
  segment: { column: string; value: string } | null;
  drop: number;
}

/**
 * The relative drop of every `maxDrop` limit that can be compared (both reports have a value for its metric
 * and segment), breached or not: `checkLimits` names the breaches only, the dashboard wants them all.
 */
export function limitDrops(
  report: PerformanceReport,
  baseline: PerformanceReport | null,
  limits: readonly PerformanceLimit[],
): LimitDrop[] {
  if (baseline === null) return [];
  const entryOf = (source: PerformanceReport, segment: string | null) =>
    segment === null
      ? { column: null, metrics: source.metrics }
      : source.segments.find((entry) => entry.value === segment);
  const drops: LimitDrop[] = [];
  for (const limit of limits) {
    if (limit.maxDrop === undefined) continue;
    const direction = METRIC_DIRECTION[limit.metric];
    if (direction === 'neither') continue;
    const segment = limit.segment ?? null;
    const current = entryOf(report, segment);
    const before = entryOf(baseline, segment);
    if (current === undefined || before === undefined || current.column !== before.column) continue;
    const value = current.metrics[limit.metric];
    const baselineValue = before.metrics[limit.metric];
    if (value === null || baselineValue === null) continue;
    drops.push({
      metric: limit.metric,
      segment: current.column === null ? null : { column: current.column, value: segment! },
      drop: relativeDrop(direction, baselineValue, value),
    });
  }
  return drops;
}

/** The metric of a check that could not complete. */
export function checkErrorPoints(model: string): MetricPoint[] {
  return [metricPoint(METRIC.performanceCheckErrors, 1, { [DIMENSION.model]: model })];
}
