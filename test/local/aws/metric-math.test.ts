import { describe, expect, it } from 'vitest';
import { MetricMathError } from '../../../local/aws/errors.ts';
import { evaluateMetricMath } from '../../../local/aws/metric-math.ts';
import { MetricStore, parseEmf, statisticOf } from '../../../local/aws/metrics.ts';

describe('evaluateMetricMath', () => {
  const series = { a: [undefined, 1, 4], b: [2, 3, undefined] };

  it('computes per period, a missing operand giving a missing value', () => {
    expect(evaluateMetricMath('a + b', series, 3)).toEqual([undefined, 4, undefined]);
    expect(evaluateMetricMath('FILL(a, 0) + FILL(b, 0)', series, 3)).toEqual([2, 4, 4]);
    expect(evaluateMetricMath('-a * 2 ^ 2', series, 3)).toEqual([undefined, -4, -16]);
    expect(evaluateMetricMath('(a + 1) / 2', series, 3)).toEqual([undefined, 1, 2.5]);
    expect(evaluateMetricMath('a / 0', series, 3)).toEqual([undefined, undefined, undefined]);
  });

  it('compares, combines and branches', () => {
    expect(evaluateMetricMath('a >= 2', series, 3)).toEqual([undefined, 0, 1]);
    expect(evaluateMetricMath('a > 0 AND b > 2', series, 3)).toEqual([undefined, 1, undefined]);
    expect(evaluateMetricMath('IF(FILL(a, 0) > 1, 10, 20)', series, 3)).toEqual([20, 20, 10]);
    expect(evaluateMetricMath('SUM([a, b])', series, 3)).toEqual([2, 4, 4]);
    expect(evaluateMetricMath('MAX(a)', series, 3)).toEqual([4, 4, 4]);
    expect(evaluateMetricMath('ABS(b - 5)', series, 3)).toEqual([3, 2, undefined]);
  });

  it('says what it cannot evaluate', () => {
    expect(() => evaluateMetricMath("SEARCH('{AWS/Lambda} Errors', 'Sum', 300)", series, 3)).toThrow(
      MetricMathError,
    );
    expect(() => evaluateMetricMath('c + 1', series, 3)).toThrow(/unknown metric id c/);
    expect(() => evaluateMetricMath('a +', series, 3)).toThrow(/unexpected end/);
  });
});

describe('metric store', () => {
  it('reads every metric and dimension set of an EMF document', () => {
    const metrics = parseEmf({
      _aws: {
        Timestamp: 1,
        CloudWatchMetrics: [
          {
            Namespace: 'Driftwatch',
            Dimensions: [['Model'], ['Model', 'Segment']],
            Metrics: [{ Name: 'RowsChecked', Unit: 'Count' }, { Name: 'Missing' }],
          },
        ],
      },
      Model: 'churn',
      Segment: 'all',
      RowsChecked: [10, 20],
    });
    expect(metrics).toEqual([
      {
        namespace: 'Driftwatch',
        name: 'RowsChecked',
        dimensions: { Model: 'churn' },
        unit: 'Count',
        values: [10, 20],
      },
      {
        namespace: 'Driftwatch',
        name: 'RowsChecked',
        dimensions: { Model: 'churn', Segment: 'all' },
        unit: 'Count',
        values: [10, 20],
      },
    ]);
    expect(parseEmf({ level: 'INFO', message: 'not EMF' })).toEqual([]);
  });

  it('gives the statistics of a window, with statistic sets and percentiles', () => {
    const store = new MetricStore();
    const metric = { namespace: 'N', name: 'M', dimensions: {} };
    store.put({ ...metric, values: [1, 2, 3, 4] }, 10);
    store.put({ ...metric, statisticValues: { SampleCount: 2, Sum: 30, Minimum: 10, Maximum: 20 } }, 20);
    store.put({ ...metric, value: 100 }, 30);
    const window = store.query(metric, 0, 20);
    expect(statisticOf(window, 'SampleCount')).toBe(6);
    expect(statisticOf(window, 'Sum')).toBe(40);
    expect(statisticOf(window, 'Average')).toBeCloseTo(40 / 6);
    expect(statisticOf(window, 'Minimum')).toBe(1);
    expect(statisticOf(window, 'Maximum')).toBe(20);
    expect(statisticOf(store.query(metric, 0, 10), 'p50')).toBe(2);
    expect(store.statistic(metric, 20, 30, 'Sum')).toBe(100);
    expect(store.statistic(metric, 30, 40, 'Sum')).toBeUndefined();
  });
});
