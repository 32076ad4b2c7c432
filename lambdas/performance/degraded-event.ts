import type { PerformanceBreach } from '../core/performance/limits.ts';
import type { PerformanceBreachSummary, PerformanceDegradedDetail } from '../shared/contract.ts';

/**
 * Where the breaches came from: the parts of the event the limit check does not hold (with `window` for the
 * realized performance of a Data Capture window), and whether the model retrains on degraded performance
 * (the events then carry `retrainingTrigger: 'performance'`).
 */
export type DegradedEventContext = Pick<
  PerformanceDegradedDetail,
  'model' | 'reportKey' | 'bucket' | 'key' | 'versionId' | 'checkedAt' | 'runId' | 'window'
> & { retrains?: boolean };

/**
 * A breach as history items list it: metric, segment, kind, value, limit, baseline.
 *
 * @example
 * ```ts
 * breachSummary(breach); // { metric: 'accuracy', segment: null, limitKind: 'min', value: 0.78, limit: 0.85, baseline: null }
 * ```
 */
export function breachSummary(breach: PerformanceBreach): PerformanceBreachSummary {
  return {
    metric: breach.metric,
    segment: breach.segment === null ? null : { column: breach.segment.column, value: breach.segment.value },
    limitKind: breach.kind,
    value: breach.value,
    limit: breach.limit,
    baseline: breach.baseline,
  };
}

/** A breach's relative drop as events and reports give it: null for none and for an infinite one (JSON has no infinity). */
export const finiteDrop = (drop: number | null): number | null =>
  drop !== null && Number.isFinite(drop) ? drop : null;

/**
 * The breaches as reports and events list them: {@link breachSummary} and the {@link finiteDrop}.
 * History items list them without the drop.
 */
export function reportedBreaches(
  breaches: readonly PerformanceBreach[],
): (PerformanceBreachSummary & { drop: number | null })[] {
  return breaches.map((breach) => ({ ...breachSummary(breach), drop: finiteDrop(breach.drop) }));
}

/**
 * The details of the `Performance Degraded` events of one check: one per breached limit, in the order of
 * the breaches (that of the config's limits). An infinite drop (a baseline of 0) is given as null, since
 * JSON has no infinity. Pure: no I/O.
 *
 * @example
 * ```ts
 * const details = performanceDegradedDetails(checkLimits(report, limits, baseline).breaches, context);
 * ```
 */
export function performanceDegradedDetails(
  breaches: readonly PerformanceBreach[],
  context: DegradedEventContext,
): PerformanceDegradedDetail[] {
  return breaches.map((breach) => ({
    model: context.model,
    ...breachSummary(breach),
    drop: finiteDrop(breach.drop),
    reportKey: context.reportKey,
    bucket: context.bucket,
    key: context.key,
    versionId: context.versionId,
    checkedAt: context.checkedAt,
    runId: context.runId,
    ...(context.window && { window: context.window }),
    ...(context.retrains && { retrainingTrigger: 'performance' as const }),
  }));
}
