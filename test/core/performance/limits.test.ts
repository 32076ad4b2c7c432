import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import {
  checkLimits,
  describeBreach,
  describeUnchecked,
  type PerformanceLimit,
  parseLimitFlag,
  relativeDrop,
  validateLimit,
  validateLimits,
} from '../../../lambdas/core/performance/limits.ts';
import type { PerformanceMetrics } from '../../../lambdas/core/performance/metrics.ts';
import {
  type PerformanceReport,
  performanceReportFromJson,
} from '../../../lambdas/core/performance/report.ts';

const SCENARIOS = new URL('../../fixtures/performance/', import.meta.url);
const scenarioReport = (name: string): PerformanceReport =>
  performanceReportFromJson(
    readFileSync(new URL(`${name}/expected.json`, SCENARIOS), 'utf8'),
    `${name}/expected.json`,
  );

const METRICS: PerformanceMetrics = {
  accuracy: 0.9,
  precision: 0.8,
  recall: 0.7,
  f1: 0.75,
  rocAuc: 0.9,
  gini: 0.8,
  logLoss: 0.3,
  brier: 0.1,
  positiveRate: 0.2,
};

function report(
  metrics: Partial<PerformanceMetrics> = {},
  segments: Record<string, Partial<PerformanceMetrics>> = {},
): PerformanceReport {
  return {
    rows: 100,
    skipped: 0,
    threshold: 0.5,
    metrics: { ...METRICS, ...metrics },
    segments: Object.entries(segments).map(([value, m]) => ({
      column: 'tier',
      value,
      rows: 10,
      metrics: { ...METRICS, ...m },
    })),
  };
}

describe('parseLimitFlag', () => {
  it.each([
    ['accuracy=0.85', 'min', { metric: 'accuracy', min: 0.85 }],
    ['accuracy=85%', 'min', { metric: 'accuracy', min: 0.85 }],
    ['logLoss=0.4', 'max', { metric: 'logLoss', max: 0.4 }],
    ['gini=0.05@segment=subprime', 'maxDrop', { metric: 'gini', maxDrop: 0.05, segment: 'subprime' }],
    ['gini=5%@segment=subprime', 'maxDrop', { metric: 'gini', maxDrop: 0.05, segment: 'subprime' }],
    ['brier=0.1@segment=a=b@c', 'maxDrop', { metric: 'brier', maxDrop: 0.1, segment: 'a=b@c' }],
    ['positiveRate=0.01', 'min', { metric: 'positiveRate', min: 0.01 }],
    ['gini=-0.1', 'min', { metric: 'gini', min: -0.1 }],
  ] as const)('%s as %s', (text, kind, expected) => {
    expect(parseLimitFlag(text, kind, '--flag')).toEqual(expected);
  });

  it.each([
    ['accuracy', 'min', '--min: expected METRIC=VALUE or METRIC=VALUE@segment=SEGMENT, got "accuracy"'],
    ['accuracy=', 'min', '--min: expected METRIC=VALUE or METRIC=VALUE@segment=SEGMENT, got "accuracy="'],
    ['accuracy=high', 'min', '--min: expected a number after "=", got "accuracy=high"'],
    [
      'accuracy=0.8@tier=x',
      'min',
      '--min: expected METRIC=VALUE or METRIC=VALUE@segment=SEGMENT, got "accuracy=0.8@tier=x"',
    ],
    [
      'auc=0.8',
      'min',
      '--min: unknown metric "auc"; expected one of accuracy, precision, recall, f1, rocAuc, gini, logLoss, brier, positiveRate',
    ],
    ['logLoss=0.3', 'min', '--min: logLoss is better when lower, so a floor never warns; use max'],
    ['accuracy=0.95', 'max', '--max: accuracy is better when higher, so a ceiling never warns; use min'],
    [
      'positiveRate=0.1',
      'maxDrop',
      '--max-drop: positiveRate has no better direction, so it cannot drop; use min and max',
    ],
    ['gini=-0.05', 'maxDrop', '--max-drop: expected a share >= 0 (0.05 is 5%)'],
  ] as const)('rejects %s as %s', (text, kind, message) => {
    const flag = { min: '--min', max: '--max', maxDrop: '--max-drop' }[kind];
    expect(() => parseLimitFlag(text, kind, flag)).toThrow(ConfigError);
    expect(() => parseLimitFlag(text, kind, flag)).toThrow(message);
  });
});

describe('validateLimits (model config)', () => {
  it('accepts the config form, several bounds in one limit', () => {
    const limits = validateLimits(
      [
        { metric: 'accuracy', min: 0.85 },
        { metric: 'gini', maxDrop: 0.05, segment: 'subprime' },
        { metric: 'logLoss', max: 0.5, maxDrop: 0.1, segment: null },
      ],
      'performance.limits',
    );
    expect(limits).toEqual([
      { metric: 'accuracy', min: 0.85 },
      { metric: 'gini', maxDrop: 0.05, segment: 'subprime' },
      { metric: 'logLoss', max: 0.5, maxDrop: 0.1 },
    ]);
  });

  it.each([
    [[{ metric: 'accuracy' }], 'performance.limits[0]: expected at least one of min, max, maxDrop'],
    [[{ metric: 'accuracy', min: '0.8' }], 'performance.limits[0].min: expected a finite number'],
    [[{ metric: 'accuracy', min: 0.8, max_drop: 0.1 }], 'performance.limits[0].max_drop: unknown key'],
    [[{ metric: 'gini', min: 0.1, segment: '' }], 'performance.limits[0].segment: expected a segment value'],
    [['accuracy=0.8'], 'performance.limits[0]: expected an object'],
    [
      [
        { metric: 'gini', maxDrop: 0.05, segment: 'a' },
        { metric: 'gini', min: 0.2, segment: 'a' },
        { metric: 'gini', maxDrop: 0.1, segment: 'a' },
      ],
      'performance.limits[2]: maxDrop of gini [segment a] is also set by performance.limits[0]',
    ],
  ])('rejects %j', (values, message) => {
    expect(() => validateLimits(values, 'performance.limits')).toThrow(message);
  });

  it('names the field of a single limit', () => {
    expect(() => validateLimit({ metric: 'f2', min: 1 }, 'models[0].performance.limits[3]')).toThrow(
      /^models\[0\]\.performance\.limits\[3\]\.metric: unknown metric "f2"/,
    );
  });
});

describe('relativeDrop', () => {
  it('is positive when worse, for both directions', () => {
    expect(relativeDrop('higher', 0.8, 0.72)).toBeCloseTo(0.1, 15);
    expect(relativeDrop('higher', 0.8, 0.88)).toBeCloseTo(-0.1, 15);
    expect(relativeDrop('lower', 0.4, 0.44)).toBeCloseTo(0.1, 15);
    expect(relativeDrop('lower', 0.4, 0.36)).toBeCloseTo(-0.1, 15);
  });

  it('divides by |baseline|, so a negative Gini baseline still drops when it falls', () => {
    expect(relativeDrop('higher', -0.2, -0.3)).toBeCloseTo(0.5, 15);
  });

  it('takes the limit at a baseline of 0', () => {
    expect(relativeDrop('higher', 0, -0.01)).toBe(Number.POSITIVE_INFINITY);
    expect(relativeDrop('higher', 0, 0)).toBe(0);
    expect(relativeDrop('lower', 0, 0.01)).toBe(Number.POSITIVE_INFINITY);
    expect(relativeDrop('lower', 0, 0)).toBe(0);
    expect(relativeDrop('higher', 0, 0.1)).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('checkLimits', () => {
  it('breaches a floor when below it, not when equal', () => {
    const limits: PerformanceLimit[] = [{ metric: 'accuracy', min: 0.9 }];
    expect(checkLimits(report({ accuracy: 0.9 }), limits).breaches).toEqual([]);
    const { breaches, checked } = checkLimits(report({ accuracy: 0.8999 }), limits);
    expect(checked).toBe(1);
    expect(breaches).toEqual([
      {
        metric: 'accuracy',
        segment: null,
        kind: 'min',
        value: 0.8999,
        limit: 0.9,
        baseline: null,
        drop: null,
      },
    ]);
    expect(describeBreach(breaches[0]!)).toBe('accuracy [all rows]: 0.8999 is below the min of 0.9');
  });

  it('breaches a ceiling when above it, and names the segment and the baseline', () => {
    const limits: PerformanceLimit[] = [{ metric: 'logLoss', max: 0.5, segment: 'subprime' }];
    const current = report({}, { prime: { logLoss: 0.6 }, subprime: { logLoss: 0.55 } });
    const baseline = report({}, { subprime: { logLoss: 0.45 } });
    const [breach] = checkLimits(current, limits, baseline).breaches;
    expect(breach).toMatchObject({
      segment: { column: 'tier', value: 'subprime' },
      value: 0.55,
      baseline: 0.45,
    });
    expect(describeBreach(breach!)).toBe(
      'logLoss [tier=subprime]: 0.55 is above the max of 0.5 (baseline 0.45)',
    );
  });

  it('shows enough digits to tell the value from the limit', () => {
    const [breach] = checkLimits(report({ accuracy: 0.849996 }), [
      { metric: 'accuracy', min: 0.85 },
    ]).breaches;
    expect(describeBreach(breach!)).toBe('accuracy [all rows]: 0.849996 is below the min of 0.85');
  });

  it('breaches a relative drop only when it is more than the limit', () => {
    const limits: PerformanceLimit[] = [{ metric: 'gini', maxDrop: 0.05 }];
    const baseline = report({ gini: 0.8 });
    // 0.8 → 0.76 is exactly 5% in decimal; floating point gives 0.05000000000000004.
    expect(checkLimits(report({ gini: 0.76 }), limits, baseline).breaches).toEqual([]);
    const [breach] = checkLimits(report({ gini: 0.7599 }), limits, baseline).breaches;
    expect(breach).toMatchObject({ kind: 'maxDrop', value: 0.7599, limit: 0.05, baseline: 0.8 });
    expect(breach!.drop).toBeCloseTo(0.050125, 12);
    expect(describeBreach(breach!)).toBe(
      'gini [all rows]: 0.7599 is 5.013% worse than the baseline 0.8, more than the max drop of 5%',
    );
  });

  it('measures the drop of lower-is-better metrics upwards', () => {
    const limits: PerformanceLimit[] = [{ metric: 'brier', maxDrop: 0.1 }];
    const baseline = report({ brier: 0.1 });
    expect(checkLimits(report({ brier: 0.05 }), limits, baseline).breaches).toEqual([]);
    expect(checkLimits(report({ brier: 0.111 }), limits, baseline).breaches).toHaveLength(1);
  });

  it('breaches any worsening from a baseline of 0', () => {
    const [breach] = checkLimits(
      report({ gini: -0.01 }),
      [{ metric: 'gini', maxDrop: 0.5 }],
      report({ gini: 0 }),
    ).breaches;
    expect(breach!.drop).toBe(Number.POSITIVE_INFINITY);
    expect(describeBreach(breach!)).toBe(
      'gini [all rows]: -0.01 is worse than the baseline 0, more than the max drop of 50%',
    );
    expect(
      checkLimits(report({ gini: 0 }), [{ metric: 'gini', maxDrop: 0 }], report({ gini: 0 })).breaches,
    ).toEqual([]);
  });

  it('reports what it cannot check instead of passing it', () => {
    const current = report({ rocAuc: null, gini: null }, { prime: {}, north: { gini: null } });
    const baseline = report({}, { prime: { gini: null } });
    const limits: PerformanceLimit[] = [
      { metric: 'rocAuc', min: 0.7 },
      { metric: 'gini', min: 0.1, segment: 'gone' },
      { metric: 'gini', maxDrop: 0.05, segment: 'prime' },
      { metric: 'accuracy', min: 0.5, maxDrop: 0.1, segment: 'north' },
    ];
    const result = checkLimits(current, limits, baseline);
    expect(result.breaches).toEqual([]);
    expect(result.checked).toBe(1);
    expect(result.unchecked.map(describeUnchecked)).toEqual([
      'rocAuc [all rows] min not checked: rocAuc is undefined: the rows hold one class only',
      'gini [segment gone] min not checked: the report has no evaluated rows in segment "gone"',
      'gini [segment prime] max drop not checked: gini of the baseline is undefined (one class only)',
      'accuracy [segment north] max drop not checked: the baseline report has no evaluated rows in segment "north"',
    ]);
    expect(checkLimits(current, [{ metric: 'accuracy', maxDrop: 0.1 }]).unchecked[0]!.reason).toBe(
      'no baseline report was given',
    );
    expect(checkLimits(report(), [{ metric: 'accuracy', min: 0.1, segment: 'x' }]).unchecked[0]!.reason).toBe(
      'the report has no segments',
    );
  });

  it('does not compare segments of different columns', () => {
    const baseline = report({}, { prime: {} });
    baseline.segments[0]!.column = 'grade';
    const { unchecked } = checkLimits(
      report({}, { prime: {} }),
      [{ metric: 'f1', maxDrop: 0.1, segment: 'prime' }],
      baseline,
    );
    expect(unchecked[0]!.reason).toBe('the baseline report\'s segments are by "grade", not "tier"');
  });

  describe('seed scenarios (generated with sklearn)', () => {
    it('churn: an accuracy floor of 0.85 holds on the scored data and breaks after the population shifts', () => {
      const limits = [parseLimitFlag('accuracy=0.85', 'min', '--min')];
      const churn = scenarioReport('churn');
      expect(churn.metrics.accuracy).toBeGreaterThan(0.85);
      expect(checkLimits(churn, limits).breaches).toEqual([]);
      const shifted = scenarioReport('churn-shifted');
      const { breaches } = checkLimits(shifted, limits, churn);
      expect(breaches).toEqual([
        {
          metric: 'accuracy',
          segment: null,
          kind: 'min',
          value: shifted.metrics.accuracy,
          limit: 0.85,
          baseline: churn.metrics.accuracy,
          drop: null,
        },
      ]);
      expect(describeBreach(breaches[0]!)).toBe(
        'accuracy [all rows]: 0.7768 is below the min of 0.85 (baseline 0.8616)',
      );
    });

    it('credit: the subprime Gini falls more than 5% below its baseline, the overall and prime Gini do not', () => {
      const baseline = scenarioReport('credit-baseline');
      const current = scenarioReport('credit-current');
      const limits = [
        parseLimitFlag('gini=0.05@segment=subprime', 'maxDrop', '--max-drop'),
        parseLimitFlag('gini=0.05@segment=prime', 'maxDrop', '--max-drop'),
        parseLimitFlag('gini=0.05', 'maxDrop', '--max-drop'),
      ];
      const result = checkLimits(current, limits, baseline);
      expect(result.checked).toBe(3);
      expect(result.unchecked).toEqual([]);
      expect(result.breaches).toHaveLength(1);
      const [breach] = result.breaches;
      const before = baseline.segments.find((s) => s.value === 'subprime')!.metrics.gini!;
      const after = current.segments.find((s) => s.value === 'subprime')!.metrics.gini!;
      expect(breach).toEqual({
        metric: 'gini',
        segment: { column: 'tier', value: 'subprime' },
        kind: 'maxDrop',
        value: after,
        limit: 0.05,
        baseline: before,
        drop: (before - after) / Math.abs(before),
      });
      expect(breach!.drop).toBeGreaterThan(0.05);
      expect(describeBreach(breach!)).toBe(
        'gini [tier=subprime]: 0.4397 is 16.29% worse than the baseline 0.5252, more than the max drop of 5%',
      );
    });
  });
});

describe('performanceReportFromJson', () => {
  it('reads a report and ignores fields it does not know', () => {
    const text = JSON.stringify({ ...report({ rocAuc: null, gini: null }, { a: {} }), version: 1 });
    expect(performanceReportFromJson(text, 'r.json')).toEqual(
      report({ rocAuc: null, gini: null }, { a: {} }),
    );
  });

  it.each([
    ['not json', 'r.json: not JSON: expected a report of `driftwatch evaluate --format json`'],
    ['[]', 'r.json ("(root)"): expected an object'],
    [JSON.stringify({ ...report(), rows: -1 }), 'r.json ("rows"): expected a whole number >= 0'],
    [
      JSON.stringify({ ...report(), metrics: { ...METRICS, accuracy: null } }),
      'r.json ("metrics.accuracy"): expected a number',
    ],
    [JSON.stringify({ ...report(), segments: {} }), 'r.json ("segments"): expected an array'],
    [
      JSON.stringify({
        ...report({}, { a: {} }),
        segments: [{ column: 'tier', value: 3, rows: 1, metrics: METRICS }],
      }),
      'r.json ("segments[0].value"): expected a string',
    ],
  ])('rejects %s', (text, message) => {
    expect(() => performanceReportFromJson(text, 'r.json')).toThrow(message);
  });
});
