import { describe, expect, it } from 'vitest';
import { checkLimits } from '../../../lambdas/core/performance/limits.ts';
import { computeMetrics } from '../../../lambdas/core/performance/metrics.ts';
import type { PerformanceReport } from '../../../lambdas/core/performance/report.ts';
import { renderPerformanceText } from '../../../lambdas/core/performance/text.ts';

const report: PerformanceReport = {
  rows: 4,
  skipped: 1,
  threshold: 0.5,
  metrics: computeMetrics([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.6]),
  segments: [
    { column: 'tier', value: 'prime', rows: 2, metrics: computeMetrics([1, 0], [0.9, 0.2]) },
    { column: 'tier', value: 'subprime', rows: 2, metrics: computeMetrics([1, 1], [0.4, 0.6]) },
  ],
};

describe('renderPerformanceText', () => {
  it('prints one aligned line for all rows and one per segment', () => {
    expect(renderPerformanceText(report, { input: 'golden.csv', positive: 'yes' })).toBe(
      [
        'Performance of golden.csv: 4 rows evaluated, 1 skipped (label or score missing), threshold 0.5, positive label "yes"',
        '',
        '               rows  accuracy   precision   recall       f1   rocAuc     gini   logLoss    brier   positiveRate',
        'all rows          4    0.5000      0.5000   0.5000   0.5000   0.7500   0.5000    0.5403   0.1925         0.5000',
        'tier=prime        2    1.0000      1.0000   1.0000   1.0000   1.0000   1.0000    0.1643   0.0250         0.5000',
        'tier=subprime     2    0.5000      1.0000   0.5000   0.6667      n/a      n/a    0.7136   0.2600         1.0000',
        '',
      ].join('\n'),
    );
  });

  it('marks breached values and lists the verdict of every limit', () => {
    const check = checkLimits(report, [
      { metric: 'recall', min: 0.8, segment: 'subprime' },
      { metric: 'accuracy', min: 0.4 },
      { metric: 'gini', min: 0.1, segment: 'subprime' },
    ]);
    const text = renderPerformanceText(report, { check });
    const lines = text.split('\n');
    expect(lines[0]).toBe('Performance: 4 rows evaluated, 1 skipped (label or score missing), threshold 0.5');
    expect(lines[5]).toContain('0.5000!');
    expect(lines[3]).not.toContain('!');
    expect(lines.slice(7)).toEqual([
      'Limits: 1 breached, 1 met, 1 not checked',
      '  ! recall [tier=subprime]: 0.5 is below the min of 0.8',
      '  ? gini [segment subprime] min not checked: gini is undefined: the rows hold one class only',
      '',
    ]);
  });
});
