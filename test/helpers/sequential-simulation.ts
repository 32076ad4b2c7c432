import { createRateMonitor, updateRateMonitor } from '../../lambdas/core/concept-drift/rate-monitor.ts';
import { mulberry32 } from '../../lambdas/core/stats/random.ts';
import { sequentialTwoProportionTest } from '../../lambdas/core/stats/sequential-two-proportion.ts';
import { twoProportionZTest } from '../../lambdas/core/stats/two-proportion.ts';

export interface PeekingResult {
  runs: number;
  /** Share of runs in which the z-test, repeated at every look, rejected at some look. */
  zTestRejections: number;
  /** Share of runs in which the mixture SPRT rejected at some look. */
  sequentialRejections: number;
  /** Outcomes (both arms) at which the sequential test stopped, in the runs where it did, ascending. */
  sequentialStops: number[];
  /** Runs where the sequential test stopped with the sign of the difference wrong. */
  wrongDirection: number;
}

/**
 * A/B runs as the canary judge sees them: outcomes alternate between the champion (success rate `champion`)
 * and the challenger (`challenger`), and both tests look after every `look` outcomes, up to `total`, at
 * `alpha`. Seeded: the same arguments give the same result.
 */
export function simulatePeeking(options: {
  champion: number;
  challenger: number;
  runs: number;
  seed: number;
  look?: number;
  total?: number;
  alpha?: number;
}): PeekingResult {
  const { champion, challenger, runs, seed, look = 100, total = 20_000, alpha = 0.05 } = options;
  const random = mulberry32(seed);
  let zRejected = 0;
  let sequentialRejected = 0;
  let wrongDirection = 0;
  const stops: number[] = [];
  for (let run = 0; run < runs; run++) {
    let championWins = 0;
    let challengerWins = 0;
    let zDone = false;
    let sequentialDone = false;
    for (let t = 1; t <= total && !(zDone && sequentialDone); t++) {
      if (t % 2 === 1) championWins += random() < champion ? 1 : 0;
      else challengerWins += random() < challenger ? 1 : 0;
      if (t % look !== 0) continue;
      const perArm = t / 2;
      if (!zDone && twoProportionZTest(challengerWins, perArm, championWins, perArm).pValue < alpha) {
        zDone = true;
        zRejected++;
      }
      if (!sequentialDone) {
        const test = sequentialTwoProportionTest(challengerWins, perArm, championWins, perArm);
        if (test.likelihoodRatio >= 1 / alpha) {
          sequentialDone = true;
          sequentialRejected++;
          stops.push(t);
          if (Math.sign(test.difference) !== Math.sign(challenger - champion)) wrongDirection++;
        }
      }
    }
  }
  stops.sort((a, b) => a - b);
  return {
    runs,
    zTestRejections: zRejected / runs,
    sequentialRejections: sequentialRejected / runs,
    sequentialStops: stops,
    wrongDirection,
  };
}

/**
 * Runs of the per-cohort rate monitor, looked at after every outcome: a cohort whose baseline rate is
 * `baseline` and true rate `rate`, `length` outcomes. Returns the share of runs with a detection and the
 * positions of the first detection, ascending.
 */
export function simulateRateMonitor(options: {
  baseline: number;
  rate: number;
  runs: number;
  length: number;
  seed: number;
}): { detectedShare: number; firstDetections: number[] } {
  const random = mulberry32(options.seed);
  const first: number[] = [];
  for (let run = 0; run < options.runs; run++) {
    const outcomes = Array.from({ length: options.length }, () => (random() < options.rate ? 1 : 0));
    const { detections } = updateRateMonitor(createRateMonitor({ baselineRate: options.baseline }), outcomes);
    if (detections[0]) first.push(detections[0].position);
  }
  first.sort((a, b) => a - b);
  return { detectedShare: first.length / options.runs, firstDetections: first };
}
