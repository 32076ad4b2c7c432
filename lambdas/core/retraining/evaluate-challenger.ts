import { checkLimits, describeBreach, type PerformanceLimit } from '../performance/limits.ts';
import { METRIC_DIRECTION, type MetricName } from '../performance/metrics.ts';
import type { PerformanceReport } from '../performance/report.ts';

/**
 * Whether a retrained model (the challenger) may replace the serving one (the champion). Both were scored on
 * the same holdout and evaluated with the performance core, so their reports are comparable row for row.
 *
 * The challenger is accepted when all three hold:
 * 1. it clears the absolute floors (the `min`/`max` bounds of the model's performance limits, whole dataset
 *    and segments), checked with {@link checkLimits};
 * 2. it beats the champion on the primary metric by at least `minImprovement`, in the metric's units (a rise
 *    for higher-is-better metrics, a fall for `logLoss` and `brier`);
 * 3. no segment of the champion's report regresses on the primary metric by more than `segmentTolerance`.
 *
 * Edge cases: a primary metric that is null in either report (one class in the holdout) rejects, since no
 * improvement can be shown; a segment present in one report only is not compared; a null segment value is
 * skipped with a note.
 */
export interface ChallengerRules {
  primaryMetric: MetricName;
  minImprovement: number;
  segmentTolerance: number;
  /** Absolute bounds only (`min`, `max`); relative ones need a baseline and do not apply here. */
  floors: readonly PerformanceLimit[];
}

export interface SegmentRegression {
  segment: string;
  champion: number;
  challenger: number;
  /** How much worse the challenger is, in the metric's units (positive: worse). */
  regression: number;
}

export interface ChallengerEvaluation {
  accepted: boolean;
  /** One line: why it was accepted, or every reason it was rejected. */
  reason: string;
  primaryMetric: MetricName;
  champion: number | null;
  challenger: number | null;
  /** challenger − champion in the better direction; null when either is null. */
  improvement: number | null;
  floorBreaches: string[];
  segmentRegressions: SegmentRegression[];
  notes: string[];
}

/** Slack for comparisons of values that went through floating-point arithmetic. */
const TOLERANCE = 1e-12;

/**
 * @example
 * ```ts
 * evaluateChallenger(championReport, challengerReport, {
 *   primaryMetric: 'rocAuc', minImprovement: 0.005, segmentTolerance: 0.02, floors: [{ metric: 'accuracy', min: 0.85 }],
 * });
 * ```
 */
export function evaluateChallenger(
  champion: PerformanceReport,
  challenger: PerformanceReport,
  rules: ChallengerRules,
): ChallengerEvaluation {
  const metric = rules.primaryMetric;
  const direction = METRIC_DIRECTION[metric];
  if (direction === 'neither') throw new RangeError(`${metric} has no better direction to improve in`);
  const better = (base: number, value: number) => (direction === 'higher' ? value - base : base - value);
  const reasons: string[] = [];
  const notes: string[] = [];

  const floors = rules.floors
    .filter((floor) => floor.min !== undefined || floor.max !== undefined)
    .map(({ metric: name, segment, min, max }) => ({
      metric: name,
      ...(segment !== undefined && { segment }),
      ...(min !== undefined && { min }),
      ...(max !== undefined && { max }),
    }));
  const floorCheck = checkLimits(challenger, floors);
  const floorBreaches = floorCheck.breaches.map(describeBreach);
  if (floorBreaches.length > 0) reasons.push(`below the floors: ${floorBreaches.join('; ')}`);

  const championValue = champion.metrics[metric];
  const challengerValue = challenger.metrics[metric];
  let improvement: number | null = null;
  if (championValue === null || challengerValue === null) {
    reasons.push(`${metric} is undefined on the holdout (one class only), so no improvement can be shown`);
  } else {
    improvement = better(championValue, challengerValue);
    if (improvement < rules.minImprovement - TOLERANCE) {
      reasons.push(
        `${metric} ${format(challengerValue)} does not beat the champion's ${format(championValue)} by ` +
          `${rules.minImprovement} (${improvement >= 0 ? '+' : ''}${format(improvement)})`,
      );
    }
  }

  const segmentRegressions: SegmentRegression[] = [];
  for (const segment of champion.segments) {
    const other = challenger.segments.find(
      (candidate) => candidate.column === segment.column && candidate.value === segment.value,
    );
    const label = `${segment.column}=${segment.value}`;
    if (!other) continue;
    const before = segment.metrics[metric];
    const after = other.metrics[metric];
    if (before === null || after === null) {
      notes.push(`${metric} of segment ${label} is undefined (one class only); not compared`);
      continue;
    }
    const regression = -better(before, after);
    if (regression > rules.segmentTolerance + TOLERANCE) {
      segmentRegressions.push({ segment: label, champion: before, challenger: after, regression });
    }
  }
  if (segmentRegressions.length > 0) {
    reasons.push(
      `segments regress beyond ${rules.segmentTolerance}: ${segmentRegressions
        .map((r) => `${r.segment} ${format(r.champion)} -> ${format(r.challenger)}`)
        .join(', ')}`,
    );
  }
  const accepted = reasons.length === 0;
  return {
    accepted,
    reason: accepted
      ? `${metric} ${format(challengerValue!)} beats the champion's ${format(championValue!)} by ${format(improvement!)}`
      : reasons.join('; '),
    primaryMetric: metric,
    champion: championValue,
    challenger: challengerValue,
    improvement,
    floorBreaches,
    segmentRegressions,
    notes,
  };
}

function format(value: number): string {
  return String(Number(value.toPrecision(4)));
}
