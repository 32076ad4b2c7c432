import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accuracy,
  brier,
  type ConfusionCounts,
  computeMetrics,
  confusionCounts,
  f1,
  gini,
  LOG_LOSS_EPSILON,
  logLoss,
  METRIC_NAMES,
  precision,
  recall,
  rocAuc,
} from '../../../lambdas/core/performance/metrics.ts';
import { expectClose } from '../../helpers/close.ts';
import { goldenPerformance } from '../../helpers/golden-performance.ts';

const golden = goldenPerformance();
const caseByName = (name: string) => {
  const found = golden.cases.find((c) => c.name === name);
  if (!found) throw new Error(`performance.json has no case ${name}`);
  return found;
};

/** Rows of (label, score) with scores on a grid of 1/grid, so ties are common. */
const rows = (grid: number, minLength = 1) =>
  fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: grid })), {
    minLength,
    maxLength: 200,
  });

const split = (data: [number, number][], grid: number) => ({
  labels: Uint8Array.from(data, ([label]) => label),
  scores: Float64Array.from(data, ([, k]) => k / grid),
});

/** The definition itself: over every (positive, negative) pair, 1 when the positive scores higher, ½ on a tie. */
function naiveAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  let twiceWins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] === 1) continue;
      pairs++;
      twiceWins += scores[i]! > scores[j]! ? 2 : scores[i] === scores[j] ? 1 : 0;
    }
  }
  return pairs === 0 ? null : twiceWins / (2 * pairs);
}

describe('computeMetrics against scikit-learn 1.2', () => {
  it.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const actual = computeMetrics(c.labels, c.scores, c.threshold);
    expect(Object.keys(actual)).toEqual([...METRIC_NAMES]);
    for (const name of METRIC_NAMES) {
      const expected = c.metrics[name];
      if (expected === null) expect(actual[name], name).toBeNull();
      else expectClose(actual[name]!, expected, `${c.name}.${name}`);
    }
  });

  it('matches roc_auc_score to 1e-12 relative, ties included', () => {
    for (const c of golden.cases) {
      const expected = c.metrics.rocAuc;
      if (expected === null) continue;
      expectClose(rocAuc(c.labels, c.scores)!, expected, `${c.name}.rocAuc`, {
        relative: 1e-12,
        absolute: 1e-15,
      });
    }
  });

  it('uses the clip bound of sklearn 1.2 (float64 eps), not the 1e-15 of earlier releases', () => {
    expect(LOG_LOSS_EPSILON).toBe(golden.generator.logLossEpsilon);
    const extremes = caseByName('extremes');
    expectClose(logLoss(extremes.labels, extremes.scores), extremes.metrics.logLoss, 'extremes.logLoss', {
      relative: 1e-14,
      absolute: 0,
    });
    // One confidently wrong row costs −ln(2^-52) ≈ 36.04 (with 1e-15 it would be 34.54).
    expectClose(logLoss([1], [0]), -Math.log(2 ** -52), 'wrong 0');
    expectClose(logLoss([0], [1]), -Math.log(2 ** -52), 'wrong 1');
    expect(logLoss([1, 0], [1, 0])).toBeLessThan(1e-15);
  });

  it('gives null rocAuc and gini for one class, and still the other metrics', () => {
    const negatives = computeMetrics([0, 0, 0], [0.2, 0.6, 0.9]);
    expect(negatives).toMatchObject({
      rocAuc: null,
      gini: null,
      precision: 0,
      recall: 0,
      f1: 0,
      positiveRate: 0,
    });
    expect(negatives.accuracy).toBeCloseTo(1 / 3, 15);
    const positives = computeMetrics([1, 1], [0.7, 0.9]);
    expect(positives).toMatchObject({
      rocAuc: null,
      gini: null,
      precision: 1,
      recall: 1,
      f1: 1,
      accuracy: 1,
    });
  });

  it('counts a score equal to the threshold as a positive prediction', () => {
    expect(confusionCounts([1, 0, 1, 0], [0.3, 0.3, 0.29, 0.31], 0.3)).toEqual({
      truePositives: 1,
      falsePositives: 2,
      trueNegatives: 0,
      falseNegatives: 1,
    });
  });

  it('treats -0 and 0 as the same score', () => {
    expect(rocAuc([1, 0], [-0, 0])).toBe(0.5);
  });
});

describe('metric properties', () => {
  it('rocAuc is the share of correctly ordered pairs, ties counting one half', () => {
    fc.assert(
      fc.property(rows(20), (data) => {
        const { labels, scores } = split(data, 20);
        expect(rocAuc(labels, scores)).toBe(naiveAuc(labels, scores));
      }),
    );
  });

  it('rocAuc and gini do not change under strictly increasing transforms of the scores', () => {
    fc.assert(
      fc.property(rows(1000, 2), fc.integer({ min: 1, max: 5 }), (data, power) => {
        const { labels, scores } = split(data, 1000);
        const transformed = Float64Array.from(data, ([, k]) => (k ** power + 3 * k) / (1000 ** power + 3000));
        expect(rocAuc(labels, transformed)).toBe(rocAuc(labels, scores));
        const shifted = Float64Array.from(scores, (s) => s / 2 + 0.25);
        expect(gini(rocAuc(labels, shifted))).toBe(gini(rocAuc(labels, scores)));
      }),
    );
  });

  it('reversing the scores or swapping the classes mirrors the AUC', () => {
    fc.assert(
      fc.property(rows(50), (data) => {
        const { labels, scores } = split(data, 50);
        const auc = rocAuc(labels, scores);
        if (auc === null) return;
        const flipped = Uint8Array.from(labels, (label) => 1 - label);
        const reversed = Float64Array.from(scores, (s) => 1 - s);
        expectClose(rocAuc(flipped, scores)!, 1 - auc, 'swapped classes', { relative: 0, absolute: 1e-15 });
        expectClose(rocAuc(labels, reversed)!, 1 - auc, 'reversed scores', { relative: 0, absolute: 1e-15 });
      }),
    );
  });

  it('keeps every metric in its range', () => {
    fc.assert(
      fc.property(rows(100), fc.integer({ min: 0, max: 100 }), (data, t) => {
        const { labels, scores } = split(data, 100);
        const m = computeMetrics(labels, scores, t / 100);
        for (const name of ['accuracy', 'precision', 'recall', 'f1', 'brier', 'positiveRate'] as const) {
          expect(m[name]).toBeGreaterThanOrEqual(0);
          expect(m[name]).toBeLessThanOrEqual(1);
        }
        expect(m.logLoss).toBeGreaterThanOrEqual(0);
        if (m.gini !== null) {
          expect(m.gini).toBeGreaterThanOrEqual(-1);
          expect(m.gini).toBeLessThanOrEqual(1);
          expect(m.gini).toBe(2 * m.rocAuc! - 1);
        }
        expect(m.f1).toBeGreaterThanOrEqual(Math.min(m.precision, m.recall) - 1e-15);
        expect(m.f1).toBeLessThanOrEqual(Math.max(m.precision, m.recall) + 1e-15);
      }),
    );
  });

  it('does not depend on the order of the rows (sums to the last bits only)', () => {
    fc.assert(
      fc.property(rows(100, 2), fc.integer({ min: 1, max: 1e6 }), (data, seed) => {
        const shuffled = [...data].sort(
          (a, b) => ((a[0] * 131 + a[1] * seed) % 97) - ((b[0] * 131 + b[1] * seed) % 97),
        );
        const x = split(data, 100);
        const y = split(shuffled, 100);
        const a = computeMetrics(x.labels, x.scores);
        const b = computeMetrics(y.labels, y.scores);
        for (const name of [
          'accuracy',
          'precision',
          'recall',
          'f1',
          'rocAuc',
          'gini',
          'positiveRate',
        ] as const) {
          expect(b[name]).toBe(a[name]);
        }
        expectClose(b.logLoss, a.logLoss, 'logLoss', { relative: 1e-12, absolute: 1e-15 });
        expectClose(b.brier, a.brier, 'brier', { relative: 1e-12, absolute: 1e-15 });
      }),
    );
  });

  it('accuracy is symmetric in the classes; precision and recall swap with the confusion matrix', () => {
    const counts = fc.record({
      truePositives: fc.nat(50),
      falsePositives: fc.nat(50),
      trueNegatives: fc.nat(50),
      falseNegatives: fc.nat(50),
    });
    fc.assert(
      fc.property(counts, (c: ConfusionCounts) => {
        fc.pre(c.truePositives + c.falsePositives + c.trueNegatives + c.falseNegatives > 0);
        const swapped: ConfusionCounts = {
          truePositives: c.trueNegatives,
          falsePositives: c.falseNegatives,
          trueNegatives: c.truePositives,
          falseNegatives: c.falsePositives,
        };
        expect(accuracy(swapped)).toBe(accuracy(c));
        // Transposing the matrix (predictions <-> labels) swaps precision and recall and keeps f1.
        const transposed: ConfusionCounts = {
          ...c,
          falsePositives: c.falseNegatives,
          falseNegatives: c.falsePositives,
        };
        expect(precision(transposed)).toBe(recall(c));
        expect(recall(transposed)).toBe(precision(c));
        expectClose(f1(transposed), f1(c), 'f1', { relative: 1e-15, absolute: 0 });
      }),
    );
  });

  it('brier is 0 for perfect certain scores and 1 for certain wrong ones', () => {
    expect(brier([1, 0], [1, 0])).toBe(0);
    expect(brier([1, 0], [0, 1])).toBe(1);
  });
});
