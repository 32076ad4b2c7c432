import { describe, expect, it } from 'vitest';
import { checkLimits, type PerformanceLimit } from '../../../lambdas/core/performance/limits.ts';
import type { PerformanceReport } from '../../../lambdas/core/performance/report.ts';
import {
  checkErrorPoints,
  limitDrops,
  performanceMetricPoints,
} from '../../../lambdas/performance/emit-metrics.ts';
import { CREDIT_BASELINE_REPORT, CREDIT_CURRENT_REPORT } from './golden-data.ts';

const LIMITS: PerformanceLimit[] = [
  { metric: 'rocAuc', min: 0.75 },
  { metric: 'gini', segment: 'subprime', maxDrop: 0.05 },
  { metric: 'gini', segment: 'prime', maxDrop: 0.05 },
  { metric: 'logLoss', maxDrop: 0.5 },
];

describe('performanceMetricPoints', () => {
  const report = CREDIT_CURRENT_REPORT;
  const check = checkLimits(report, LIMITS, CREDIT_BASELINE_REPORT);
  const drops = limitDrops(report, CREDIT_BASELINE_REPORT, LIMITS);
  const points = performanceMetricPoints(report, check, drops, 'credit');

  it('gives every metric of the whole dataset and of each segment, with Model, Metric and Segment', () => {
    const values = points.filter((point) => point.name === 'PerformanceMetric');
    expect(values).toHaveLength(9 * 3);
    expect(values).toContainEqual({
      name: 'PerformanceMetric',
      unit: 'None',
      value: report.metrics.accuracy,
      dimensions: { Model: 'credit', Metric: 'accuracy', Segment: 'all' },
    });
    expect(values).toContainEqual({
      name: 'PerformanceMetric',
      unit: 'None',
      value: report.segments[1]!.metrics.gini,
      dimensions: { Model: 'credit', Metric: 'gini', Segment: 'tier=subprime' },
    });
  });

  it('gives the drop of every relative limit compared, breached or not', () => {
    expect(drops.map((drop) => [drop.metric, drop.segment?.value ?? null])).toEqual([
      ['gini', 'subprime'],
      ['gini', 'prime'],
      ['logLoss', null],
    ]);
    const subprime = points.find(
      (point) => point.name === 'PerformanceDrop' && point.dimensions['Segment'] === 'tier=subprime',
    )!;
    const before = CREDIT_BASELINE_REPORT.segments[1]!.metrics.gini!;
    expect(subprime.value).toBeCloseTo((before - report.segments[1]!.metrics.gini!) / before, 12);
    expect(check.breaches.map((breach) => breach.segment?.value)).toEqual(['subprime']);
  });

  it('counts the check, its breaches and rows per model', () => {
    expect(points.filter((point) => Object.keys(point.dimensions).length === 1)).toEqual([
      { name: 'PerformanceChecks', unit: 'Count', value: 1, dimensions: { Model: 'credit' } },
      { name: 'PerformanceBreaches', unit: 'Count', value: 1, dimensions: { Model: 'credit' } },
      { name: 'PerformanceRowsEvaluated', unit: 'Count', value: 2227, dimensions: { Model: 'credit' } },
    ]);
  });

  it('leaves out null metrics and infinite drops, which CloudWatch cannot take', () => {
    const oneClass: PerformanceReport = {
      ...report,
      metrics: { ...report.metrics, rocAuc: null, gini: null },
      segments: [],
    };
    const zero: PerformanceReport = { ...report, metrics: { ...report.metrics, logLoss: 0 }, segments: [] };
    const limits: PerformanceLimit[] = [{ metric: 'logLoss', maxDrop: 0.1 }];
    const infinite = limitDrops(report, zero, limits);
    expect(infinite).toEqual([{ metric: 'logLoss', segment: null, drop: Number.POSITIVE_INFINITY }]);
    const emitted = performanceMetricPoints(oneClass, checkLimits(oneClass, limits, zero), infinite, 'm');
    expect(emitted.filter((point) => point.name === 'PerformanceMetric')).toHaveLength(7);
    expect(emitted.filter((point) => point.name === 'PerformanceDrop')).toEqual([]);
  });

  it('has no drops without a baseline, or when the baseline lacks the segment', () => {
    expect(limitDrops(report, null, LIMITS)).toEqual([]);
    expect(limitDrops(report, { ...CREDIT_BASELINE_REPORT, segments: [] }, LIMITS)).toHaveLength(1);
  });
});

describe('checkErrorPoints', () => {
  it('is one PerformanceCheckErrors per failed check', () => {
    expect(checkErrorPoints('churn')).toEqual([
      { name: 'PerformanceCheckErrors', unit: 'Count', value: 1, dimensions: { Model: 'churn' } },
    ]);
  });
});
