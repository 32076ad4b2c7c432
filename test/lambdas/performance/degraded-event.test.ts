import { describe, expect, it } from 'vitest';
import type { PerformanceBreach } from '../../../lambdas/core/performance/limits.ts';
import { breachSummary, performanceDegradedDetails } from '../../../lambdas/performance/degraded-event.ts';

const CONTEXT = {
  model: 'credit',
  reportKey: 'reports/credit/performance/2025-01-02T03:04:05.000Z.json',
  bucket: 'data',
  key: 'credit/golden/labelled.csv',
  versionId: 'v1',
  checkedAt: '2025-01-02T03:04:05.000Z',
  runId: 'exec-1',
};

const subprime: PerformanceBreach = {
  metric: 'gini',
  segment: { column: 'tier', value: 'subprime' },
  kind: 'maxDrop',
  value: 0.4397,
  limit: 0.05,
  baseline: 0.5252,
  drop: 0.1628,
};

describe('performanceDegradedDetails', () => {
  it('gives one detail per breach naming model, metric, segment, value, limit and baseline', () => {
    const floor: PerformanceBreach = {
      metric: 'accuracy',
      segment: null,
      kind: 'min',
      value: 0.77,
      limit: 0.85,
      baseline: null,
      drop: null,
    };
    expect(performanceDegradedDetails([subprime, floor], CONTEXT)).toEqual([
      {
        ...CONTEXT,
        metric: 'gini',
        segment: { column: 'tier', value: 'subprime' },
        limitKind: 'maxDrop',
        value: 0.4397,
        limit: 0.05,
        baseline: 0.5252,
        drop: 0.1628,
      },
      {
        ...CONTEXT,
        metric: 'accuracy',
        segment: null,
        limitKind: 'min',
        value: 0.77,
        limit: 0.85,
        baseline: null,
        drop: null,
      },
    ]);
  });

  it('gives an infinite drop (a baseline of 0) as null, which JSON can hold', () => {
    const [detail] = performanceDegradedDetails(
      [{ ...subprime, baseline: 0, drop: Number.POSITIVE_INFINITY }],
      CONTEXT,
    );
    expect(detail!.drop).toBeNull();
    expect(JSON.parse(JSON.stringify(detail))).toEqual(detail);
  });

  it('is empty without breaches', () => {
    expect(performanceDegradedDetails([], CONTEXT)).toEqual([]);
  });
});

describe('breachSummary', () => {
  it('keeps what history items list', () => {
    expect(breachSummary(subprime)).toEqual({
      metric: 'gini',
      segment: { column: 'tier', value: 'subprime' },
      limitKind: 'maxDrop',
      value: 0.4397,
      limit: 0.05,
      baseline: 0.5252,
    });
  });
});
