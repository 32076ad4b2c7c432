import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimatePerformance, expectedRocAuc } from '../../../lambdas/core/performance/cbpe.ts';
import { calibrate, calibrateAll, fitIsotonic } from '../../../lambdas/core/performance/isotonic.ts';
import { METRIC_NAMES, type PerformanceMetrics } from '../../../lambdas/core/performance/metrics.ts';
import { expectClose } from '../../helpers/close.ts';

/**
 * CBPE against scikit-learn 1.2: test/fixtures/golden/cbpe.json, written by scripts/golden/cbpe.py. Every
 * number within 1e-9 (the bound), the calibrator's knots and probabilities within 1e-12.
 */
interface Case {
  name: string;
  reference: { scores: number[]; labels: number[] };
  current: number[];
  threshold: number;
  knots: { x: number[]; y: number[] };
  probabilities: number[];
  metrics: PerformanceMetrics;
  confusion: Record<string, number>;
}

const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/cbpe.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

const WITHIN_1E9 = { relative: 1e-9, absolute: 1e-9 };
const WITHIN_1E12 = { relative: 1e-12, absolute: 1e-15 };

describe.each(golden.cases.map((c) => [c.name, c] as const))('CBPE case %s', (_, c) => {
  const calibrator = fitIsotonic(c.reference.scores, c.reference.labels);

  it('fits the knots of IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)', () => {
    expect(Array.from(calibrator.x)).toEqual(c.knots.x);
    expect(calibrator.y.length).toBe(c.knots.y.length);
    calibrator.y.forEach((value, i) => {
      expectClose(value, c.knots.y[i]!, `y[${i}]`, WITHIN_1E12);
    });
  });

  it('calibrates as predict() does', () => {
    const probabilities = calibrateAll(calibrator, c.current);
    probabilities.forEach((value, i) => {
      expectClose(value, c.probabilities[i]!, `p[${i}] (score ${c.current[i]})`, WITHIN_1E12);
    });
  });

  it('estimates every metric and the expected confusion counts within 1e-9', () => {
    const { metrics, confusion } = estimatePerformance(
      c.current,
      calibrateAll(calibrator, c.current),
      c.threshold,
    );
    expect(Object.keys(metrics)).toEqual([...METRIC_NAMES]);
    for (const name of METRIC_NAMES) {
      const expected = c.metrics[name];
      if (expected === null) expect(metrics[name], name).toBeNull();
      else expectClose(metrics[name]!, expected, name, WITHIN_1E9);
    }
    for (const [key, value] of Object.entries(c.confusion)) {
      expectClose(confusion[key as keyof typeof confusion], value, key, WITHIN_1E9);
    }
  });
});

describe('isotonic calibrator', () => {
  it('is non-decreasing in the score, within [0, 1], and clips outside the fitted range', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 1 })), {
          minLength: 1,
          maxLength: 60,
        }),
        (rows) => {
          const calibrator = fitIsotonic(
            rows.map(([k]) => k / 20),
            rows.map(([, label]) => label),
          );
          let previous = -1;
          for (let k = -5; k <= 25; k++) {
            const p = calibrate(calibrator, k / 20);
            expect(p).toBeGreaterThanOrEqual(previous);
            expect(p).toBeGreaterThanOrEqual(0);
            expect(p).toBeLessThanOrEqual(1);
            previous = p;
          }
          expect(calibrate(calibrator, -1)).toBe(calibrator.y[0]);
          expect(calibrate(calibrator, 2)).toBe(calibrator.y[calibrator.y.length - 1]);
        },
      ),
    );
  });

  it('gives the mean label of the reference on average (isotonic regression preserves the mean)', () => {
    const scores = Array.from({ length: 200 }, (_, i) => ((i * 37) % 101) / 100);
    const labels = scores.map((s, i) => (((i * 53) % 100) / 100 < s ? 1 : 0));
    const p = calibrateAll(fitIsotonic(scores, labels), scores);
    const mean = labels.reduce((a: number, b) => a + b, 0) / labels.length;
    expectClose(p.reduce((a, b) => a + b, 0) / p.length, mean, 'mean', WITHIN_1E12);
  });

  it('refuses empty or mismatched input', () => {
    expect(() => fitIsotonic([], [])).toThrow(RangeError);
    expect(() => fitIsotonic([0.5], [1, 0])).toThrow(RangeError);
  });
});

describe('expected ROC AUC', () => {
  it('equals the ROC AUC of the labels when every probability is 0 or 1', () => {
    // With certain probabilities the expected curve is the real one: 3 of 4 pairs ordered, as rocAuc gives.
    expect(expectedRocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
  });

  it('is null when every row is certainly one class', () => {
    expect(expectedRocAuc([0.2, 0.9], [0, 0])).toBeNull();
    expect(expectedRocAuc([0.2, 0.9], [1, 1])).toBeNull();
  });

  it('is one half when every score is tied', () => {
    expect(expectedRocAuc([0.3, 0.3, 0.3], [0.2, 0.5, 0.9])).toBe(0.5);
  });
});
