import {
  type SequentialTwoProportionTest,
  sequentialTwoProportionTest,
} from '../stats/sequential-two-proportion.ts';

/**
 * The decision after a canary step has baked: go on to the next step, roll back, or wait for more data.
 *
 * Inputs per variant (champion: the serving model, challenger: the new one, whether it takes a share of the
 * traffic or a shadow copy of it):
 * - operational metrics over the step's window, from CloudWatch `AWS/SageMaker` (dimensions EndpointName,
 *   VariantName): `Invocations` and `Invocation5XXErrors` (sums), `ModelLatency` (mean, microseconds);
 * - labelled feedback: predictions whose true label arrived since (the `feedback/` files), counted as
 *   correct when `score >= threshold` agrees with the label.
 *
 * Rules, in order:
 * 1. Until the challenger has served `minSamples` requests, nothing is judged (inconclusive).
 * 2. Its 5XX rate above `maxErrorRate` -> rollback. Its mean model latency above the champion's by more than
 *    `maxLatencyIncrease` (a share) -> rollback.
 * 3. Where labelled feedback exists: with at least `minSamples` labelled rows per variant, an always-valid
 *    test of the accuracy difference (the mixture SPRT of `sequentialTwoProportionTest`, two-sided): its
 *    likelihood ratio at or above 1/`alpha` means significantly better -> next step, or significantly worse
 *    -> rollback; otherwise inconclusive. Fewer labelled rows -> inconclusive. The step is judged again
 *    after every bake period on the feedback so far; a z-test repeated that way raises false promotions and
 *    rollbacks well above `alpha` (46% at alpha 0.05 with 200 looks), the mixture SPRT keeps them at or
 *    below `alpha` however many looks there are.
 *    Without any labelled feedback, healthy operational metrics (rule 2 passed) -> next step.
 * 4. Inconclusive: `wait` for another bake period, or `rollback` once the step has run `deadlineMinutes`.
 */
export interface VariantObservation {
  invocations: number;
  errors5xx: number;
  /** Mean ModelLatency, microseconds; null without data points. */
  meanLatencyMicros: number | null;
  /** Labelled feedback rows of this variant. */
  labelled: number;
  /** Of which the prediction was right. */
  correct: number;
}

export interface CanarySettings {
  alpha: number;
  minSamples: number;
  maxErrorRate: number;
  maxLatencyIncrease: number;
  deadlineMinutes: number;
}

export type CanaryDecisionKind = 'promote-step' | 'rollback' | 'wait';

export interface CanaryDecision {
  decision: CanaryDecisionKind;
  reason: string;
  challengerErrorRate: number | null;
  /**
   * The accuracy test (challenger = 1, champion = 2), when both variants had enough labelled feedback: its
   * likelihood ratio and always-valid p-value.
   */
  accuracyTest: SequentialTwoProportionTest | null;
}

export function decideCanaryStep(
  champion: VariantObservation,
  challenger: VariantObservation,
  settings: CanarySettings,
  /** How long the step has served (or mirrored) traffic. */
  elapsedMinutes: number,
): CanaryDecision {
  const errorRate = challenger.invocations > 0 ? challenger.errors5xx / challenger.invocations : null;
  const result = (
    decision: CanaryDecisionKind,
    reason: string,
    test: SequentialTwoProportionTest | null = null,
  ) => ({
    decision,
    reason,
    challengerErrorRate: errorRate,
    accuracyTest: test,
  });
  const inconclusive = (why: string, test: SequentialTwoProportionTest | null = null) =>
    elapsedMinutes >= settings.deadlineMinutes
      ? result(
          'rollback',
          `inconclusive after ${elapsedMinutes} min (deadline ${settings.deadlineMinutes}): ${why}`,
          test,
        )
      : result('wait', why, test);

  if (challenger.invocations < settings.minSamples) {
    return inconclusive(
      `the challenger served ${challenger.invocations} of ${settings.minSamples} requests needed`,
    );
  }
  if (errorRate !== null && errorRate > settings.maxErrorRate) {
    return result(
      'rollback',
      `challenger 5XX rate ${percent(errorRate)} is above the max ${percent(settings.maxErrorRate)}`,
    );
  }
  if (
    champion.meanLatencyMicros !== null &&
    challenger.meanLatencyMicros !== null &&
    champion.meanLatencyMicros > 0 &&
    challenger.meanLatencyMicros > champion.meanLatencyMicros * (1 + settings.maxLatencyIncrease)
  ) {
    return result(
      'rollback',
      `challenger model latency ${Math.round(challenger.meanLatencyMicros)} us is more than ` +
        `${percent(settings.maxLatencyIncrease)} above the champion's ${Math.round(champion.meanLatencyMicros)} us`,
    );
  }
  if (champion.labelled === 0 && challenger.labelled === 0) {
    return result('promote-step', 'operational metrics healthy; no labelled feedback to compare accuracy');
  }
  if (champion.labelled < settings.minSamples || challenger.labelled < settings.minSamples) {
    return inconclusive(
      `labelled feedback: ${challenger.labelled} challenger and ${champion.labelled} champion rows, ` +
        `${settings.minSamples} needed per variant`,
    );
  }
  const test = sequentialTwoProportionTest(
    challenger.correct,
    challenger.labelled,
    champion.correct,
    champion.labelled,
  );
  const summary =
    `accuracy ${percent(test.proportion1)} vs ${percent(test.proportion2)} ` +
    `(sequential test: likelihood ratio ${test.likelihoodRatio.toPrecision(3)}, always-valid ` +
    `p = ${test.pValue.toPrecision(3)}, alpha ${settings.alpha})`;
  if (test.likelihoodRatio >= 1 / settings.alpha) {
    return test.difference > 0
      ? result('promote-step', `challenger better: ${summary}`, test)
      : result('rollback', `challenger worse: ${summary}`, test);
  }
  return inconclusive(`no significant accuracy difference: ${summary}`, test);
}

function percent(share: number): string {
  return `${String(Number((share * 100).toPrecision(3)))}%`;
}
