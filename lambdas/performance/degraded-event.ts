import type { PerformanceBreach } from '../core/performance/limits.ts';
import type { PerformanceBreachSummary, PerformanceDegradedDetail } from '../shared/contract.ts';

/** Where the breaches came from: the parts of the event the limit check does not hold. */
export interface DegradedEventContext {
  model: string;
  reportKey: string;
  bucket: string;
  key: string;
  versionId: string | null;
  checkedAt: string;
  runId: string;
}

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
    drop: breach.drop !== null && Number.isFinite(breach.drop) ? breach.drop : null,
    reportKey: context.reportKey,
    bucket: context.bucket,
    key: context.key,
    versionId: context.versionId,
    checkedAt: context.checkedAt,
    runId: context.runId,
  }));
}
