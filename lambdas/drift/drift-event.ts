import type { DriftReport } from '../core/drift/types.ts';
import type { DriftDetectedDetail } from '../shared/contract.ts';

/** Where a report came from and where it went: the parts of the event the report does not hold. */
export interface DriftEventContext {
  model: string;
  bucket: string;
  key: string;
  versionId: string | null;
  reportKey: string;
  /** Features whose drift alone is worth an event (from the model's config). */
  criticalFeatures: readonly string[];
}

/**
 * The detail of a `Drift Detected` event, or null when the report does not call for one: an event is put
 * when the dataset drifted or when any critical feature drifted over the whole dataset. Segment entries
 * are listed in the detail but do not trigger an event on their own.
 *
 * @example
 * ```ts
 * const detail = driftDetectedDetail(report, { model: 'churn', bucket, key, versionId, reportKey, criticalFeatures: [] });
 * if (detail) await putDriftDetected(detail);
 * ```
 */
export function driftDetectedDetail(
  report: DriftReport,
  context: DriftEventContext,
): DriftDetectedDetail | null {
  const driftedFeatures = report.features
    .filter((entry) => entry.segment === null && entry.drifted)
    .map((entry) => entry.feature);
  const critical = new Set(context.criticalFeatures);
  const criticalFeatures = driftedFeatures.filter((feature) => critical.has(feature));
  if (!report.datasetDrift && criticalFeatures.length === 0) return null;

  const segments = new Map<string, { column: string; value: string; features: string[] }>();
  for (const entry of report.features) {
    if (entry.segment === null || !entry.drifted) continue;
    const id = JSON.stringify([entry.segment.column, entry.segment.value]);
    let segment = segments.get(id);
    if (segment === undefined) {
      segment = { column: entry.segment.column, value: entry.segment.value, features: [] };
      segments.set(id, segment);
    }
    segment.features.push(entry.feature);
  }
  return {
    model: context.model,
    bucket: context.bucket,
    key: context.key,
    versionId: context.versionId,
    reportKey: context.reportKey,
    datasetDrift: report.datasetDrift,
    driftShare: report.driftShare,
    driftedFeatures,
    criticalFeatures,
    driftedSegments: [...segments.values()],
  };
}
