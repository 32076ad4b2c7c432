import { Duration, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { PerformanceMetrics } from '../../lib/performance-metrics.ts';

describe('PerformanceMetrics', () => {
  const metrics = new PerformanceMetrics('credit', 'tier');
  const stack = new Stack();

  it('names the whole dataset "all" and a segment "<column>=<value>", as the handler emits them', () => {
    expect(metrics.value('gini', 'subprime').dimensions).toEqual({
      Model: 'credit',
      Metric: 'gini',
      Segment: 'tier=subprime',
    });
    expect(metrics.value('accuracy').dimensions).toEqual({
      Model: 'credit',
      Metric: 'accuracy',
      Segment: 'all',
    });
    expect(metrics.drop('gini', 'subprime')).toMatchObject({
      namespace: 'Driftwatch',
      metricName: 'PerformanceDrop',
      statistic: 'Maximum',
    });
  });

  it('takes the worst value of a period by default', () => {
    expect(metrics.value('rocAuc').statistic).toBe('Minimum');
    expect(metrics.value('brier').statistic).toBe('Maximum');
    expect(metrics.value('positiveRate').statistic).toBe('Average');
    expect(metrics.value('accuracy', null, 'Average').statistic).toBe('Average');
  });

  it('counts checks, failures and breaches per model, over an hour by default', () => {
    for (const metric of [metrics.checks(), metrics.checkErrors(), metrics.breaches()]) {
      expect(metric).toMatchObject({ statistic: 'Sum', dimensions: { Model: 'credit' } });
      expect(metric.period.toSeconds()).toBe(3600);
    }
    expect(metrics.checkErrors().metricName).toBe('PerformanceCheckErrors');
    expect(new PerformanceMetrics('m', null, Duration.days(1)).checks().period.toSeconds()).toBe(86400);
  });

  it('finds every segment of a metric by SEARCH', () => {
    const expression = metrics.valueBySegment('gini').toMetricConfig().mathExpression!.expression;
    expect(stack.resolve(expression)).toBe(
      `SEARCH('{Driftwatch,Model,Metric,Segment} MetricName="PerformanceMetric" Model="credit" Metric="gini"', 'Average', 3600)`,
    );
  });

  it('refuses a segment of a model without a segment column', () => {
    expect(() => new PerformanceMetrics('m', null).value('gini', 'x')).toThrow(/has no segment column/);
  });
});
