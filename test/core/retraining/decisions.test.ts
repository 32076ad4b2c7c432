import { describe, expect, it } from 'vitest';
import type { PerformanceReport } from '../../../lambdas/core/performance/report.ts';
import { decideCanaryStep } from '../../../lambdas/core/retraining/canary-decision.ts';
import { costGate, estimateTrainingCostUsd } from '../../../lambdas/core/retraining/cost.ts';
import { filterSegmentRows, parseCsv, splitHoldout } from '../../../lambdas/core/retraining/csv-rows.ts';
import { evaluateChallenger } from '../../../lambdas/core/retraining/evaluate-challenger.ts';
import { sageMakerName, triggerSegment } from '../../../lambdas/core/retraining/plan.ts';
import { twoProportionZTest } from '../../../lambdas/core/stats/two-proportion.ts';

describe('twoProportionZTest', () => {
  it('matches the pooled z-test of 60/100 against 45/100', () => {
    // Reference: Python's math.erfc on the same formula (statsmodels' proportions_ztest computes it so):
    // z = 2.1239769762143657, p = erfc(z / sqrt(2)) = 0.033672068856345876.
    const test = twoProportionZTest(60, 100, 45, 100);
    expect(test.z).toBeCloseTo(2.1239769762143657, 12);
    expect(test.pValue).toBeCloseTo(0.033672068856345876, 12);
  });

  it('reports no difference when both samples are all successes', () => {
    expect(twoProportionZTest(10, 10, 5, 5)).toMatchObject({ z: 0, pValue: 1 });
  });

  it('refuses impossible counts', () => {
    expect(() => twoProportionZTest(11, 10, 1, 10)).toThrow(/exceeds/);
    expect(() => twoProportionZTest(0, 0, 1, 10)).toThrow(/at least one/);
  });
});

describe('costGate', () => {
  const cost = { instancePricePerHourUsd: 0.46, instanceCount: 2, maxRuntimeMinutes: 90 };
  it('estimates price x count x runtime', () => {
    expect(estimateTrainingCostUsd(cost)).toBeCloseTo(1.38, 12);
  });
  it('refuses a run past the budget and starts over each month', () => {
    const now = new Date('2025-03-10T00:00:00Z');
    expect(costGate(cost, 10, { month: '2025-03', usd: 9 }, now)).toMatchObject({
      allowed: false,
      monthToDateUsd: 9,
    });
    expect(costGate(cost, 10, { month: '2025-02', usd: 9 }, now)).toMatchObject({
      allowed: true,
      monthToDateUsd: 0,
    });
    expect(costGate(cost, 10, { month: '2025-03', usd: 9 }, now).reason).toMatch(
      /would exceed the 2025-03 budget/,
    );
  });
});

const report = (rocAuc: number, segments: Record<string, number> = {}, accuracy = 0.9): PerformanceReport => {
  const metrics = {
    accuracy,
    precision: 0.8,
    recall: 0.8,
    f1: 0.8,
    rocAuc,
    gini: 2 * rocAuc - 1,
    logLoss: 0.3,
    brier: 0.1,
    positiveRate: 0.5,
  };
  return {
    rows: 100,
    skipped: 0,
    threshold: 0.5,
    metrics,
    segments: Object.entries(segments).map(([value, auc]) => ({
      column: 'tier',
      value,
      rows: 50,
      metrics: { ...metrics, rocAuc: auc, gini: 2 * auc - 1 },
    })),
  };
};

describe('evaluateChallenger', () => {
  const rules = {
    primaryMetric: 'rocAuc' as const,
    minImprovement: 0.01,
    segmentTolerance: 0.02,
    floors: [{ metric: 'accuracy' as const, min: 0.85 }],
  };
  it('accepts a challenger that beats the champion by the margin', () => {
    const result = evaluateChallenger(report(0.8, { a: 0.8 }), report(0.82, { a: 0.79 }), rules);
    expect(result).toMatchObject({ accepted: true, segmentRegressions: [] });
    expect(result.improvement).toBeCloseTo(0.02, 12);
  });
  it('rejects below the margin, below a floor, or with a segment regressing past its tolerance', () => {
    expect(evaluateChallenger(report(0.8), report(0.805), rules).reason).toMatch(
      /does not beat the champion's 0.8 by 0.01/,
    );
    expect(evaluateChallenger(report(0.8), report(0.9, {}, 0.8), rules).reason).toMatch(
      /below the floors: accuracy/,
    );
    const regressed = evaluateChallenger(
      report(0.8, { a: 0.8, b: 0.8 }),
      report(0.9, { a: 0.75, b: 0.79 }),
      rules,
    );
    expect(regressed.accepted).toBe(false);
    expect(regressed.segmentRegressions.map((r) => r.segment)).toEqual(['tier=a']);
  });
  it('rejects when the primary metric is undefined on the holdout', () => {
    const one = { ...report(0.8), metrics: { ...report(0.8).metrics, rocAuc: null, gini: null } };
    expect(evaluateChallenger(one, one, rules)).toMatchObject({ accepted: false, improvement: null });
  });
});

describe('decideCanaryStep', () => {
  const settings = {
    alpha: 0.05,
    minSamples: 100,
    maxErrorRate: 0.01,
    maxLatencyIncrease: 0.2,
    deadlineMinutes: 60,
  };
  const healthy = { invocations: 1000, errors5xx: 0, meanLatencyMicros: 100, labelled: 0, correct: 0 };
  it('waits for samples, then rolls back at the deadline', () => {
    const few = { ...healthy, invocations: 10 };
    expect(decideCanaryStep(healthy, few, settings, 30).decision).toBe('wait');
    expect(decideCanaryStep(healthy, few, settings, 60).decision).toBe('rollback');
  });
  it('rolls back on 5XX errors or latency', () => {
    expect(decideCanaryStep(healthy, { ...healthy, errors5xx: 20 }, settings, 30).decision).toBe('rollback');
    expect(decideCanaryStep(healthy, { ...healthy, meanLatencyMicros: 130 }, settings, 30).decision).toBe(
      'rollback',
    );
  });
  it('promotes on healthy metrics without feedback, and judges accuracy where feedback exists', () => {
    expect(decideCanaryStep(healthy, healthy, settings, 30).decision).toBe('promote-step');
    const champion = { ...healthy, labelled: 1000, correct: 450 };
    // Λ = √(V/(V + τ²)) exp(τ²θ̂²/(2V(V + τ²))), θ̂ = 0.15, V = 0.525·0.475·(2/1000), τ = 0.05:
    // ln Λ = −0.8969 + 18.8050 = 17.908, Λ = 5.99e7 ≥ 1/alpha = 20.
    expect(
      decideCanaryStep(champion, { ...healthy, labelled: 1000, correct: 600 }, settings, 30),
    ).toMatchObject({
      decision: 'promote-step',
      accuracyTest: {
        proportion1: 0.6,
        proportion2: 0.45,
        likelihoodRatio: expect.closeTo(5.988e7, -4),
        pValue: expect.closeTo(1.67e-8, 9),
      },
    });
    expect(
      decideCanaryStep({ ...healthy, labelled: 1000, correct: 600 }, champion, settings, 30).decision,
    ).toBe('rollback');
    expect(
      decideCanaryStep(champion, { ...healthy, labelled: 1000, correct: 470 }, settings, 30).decision,
    ).toBe('wait');
  });
  it('does not promote on evidence a single z-test would take but a test looked at every bake may not', () => {
    // 60/100 against 45/100: the z-test's p = 0.034 < 0.05 promoted under the repeated z-test. The mixture
    // SPRT's likelihood ratio is 1.73 (always-valid p = 0.577), far from 1/alpha: wait for more feedback.
    const decision = decideCanaryStep(
      { ...healthy, labelled: 100, correct: 45 },
      { ...healthy, labelled: 100, correct: 60 },
      settings,
      30,
    );
    expect(decision).toMatchObject({
      decision: 'wait',
      accuracyTest: { likelihoodRatio: expect.closeTo(1.7332, 4), pValue: expect.closeTo(0.57696, 5) },
    });
    expect(decision.reason).toMatch(
      /sequential test: likelihood ratio 1\.73, always-valid p = 0\.577, alpha 0\.05/,
    );
  });
});

describe('retraining inputs', () => {
  it('parses quoted CSV and keeps one segment', () => {
    expect(parseCsv('a,b\n"x,1","say ""hi"""\r\n', 't')).toEqual([
      ['a', 'b'],
      ['x,1', 'say "hi"'],
    ]);
    expect(filterSegmentRows('v,tier\n1,a\n2,b\n3,a\n', 't', { column: 'tier', value: 'a' })).toEqual({
      csv: 'v,tier\n1,a\n3,a\n',
      rows: 3,
      kept: 2,
    });
  });
  it('splits a holdout into features and labels', () => {
    const split = splitHoldout('x,y,label,tier,id\n1,2,yes,a,9\n', 't', {
      label: 'label',
      segment: 'tier',
      features: null,
      exclude: ['id'],
    });
    expect(split).toEqual({
      features: '1,2\n',
      labels: 'label,segment\nyes,a\n',
      rows: 1,
      featureColumns: ['x', 'y'],
    });
  });
  it('names SageMaker resources within 63 characters and finds the trigger segment', () => {
    expect(sageMakerName('a'.repeat(70), '20250101-000000')).toHaveLength(63);
    expect(
      triggerSegment({
        type: 'drift',
        detail: { datasetDrift: false, driftedSegments: [{ column: 'tier', value: 'b', features: [] }] },
      }),
    ).toEqual({ column: 'tier', value: 'b' });
    expect(triggerSegment({ type: 'drift', detail: { datasetDrift: true, driftedSegments: [] } })).toBeNull();
  });
});
