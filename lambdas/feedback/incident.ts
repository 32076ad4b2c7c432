/**
 * Concept drift in the model's incident: a detection opens the model's `conceptDrift` signal (so its one page
 * names it, once per incident), and the model's feedback closes it once the detectors' quiet time passed
 * without another detection (a succeeded retraining closes it too: see the notifier).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConceptDriftDetectedDetail } from '../shared/contract.ts';
import { readIncident, setSignal } from '../shared/incidents.ts';

const rate = (value: number | null) => (value === null ? '?' : value.toFixed(3));

/** One line of a detection, for the page: never data rows. */
export function detectionLine(detail: ConceptDriftDetectedDetail): string {
  const where = detail.cohort === null ? 'all outcomes' : `${detail.cohort.attribute}=${detail.cohort.value}`;
  return `${detail.detector} on ${where}: rate ${rate(detail.errorRateBefore)} -> ${rate(detail.errorRateAfter)} at outcome ${detail.position}`.slice(
    0,
    500,
  );
}

/** Opens the `conceptDrift` signal of each model with a detection (the latest one names it). */
export async function openConceptDrift(
  documents: DynamoDBDocumentClient,
  table: string,
  details: readonly ConceptDriftDetectedDetail[],
): Promise<void> {
  const latest = new Map<string, ConceptDriftDetectedDetail>();
  for (const detail of details) latest.set(detail.model, detail);
  for (const [model, detail] of latest) {
    await setSignal(documents, table, model, 'conceptDrift', {
      open: true,
      detail: detectionLine(detail),
      at: detail.detectedAt,
    });
  }
}

/** Closes a model's open `conceptDrift` signal when its last detection is older than `quietMs`. */
export async function closeQuietConceptDrift(
  documents: DynamoDBDocumentClient,
  table: string,
  model: string,
  quietMs: number,
  now: number,
): Promise<boolean> {
  const signal = (await readIncident(documents, table, model))?.signals.conceptDrift;
  if (signal?.open !== true || now - Date.parse(signal.at) < quietMs) return false;
  await setSignal(documents, table, model, 'conceptDrift', {
    open: false,
    detail: `no concept drift detected since ${signal.at}`,
    at: new Date(now).toISOString(),
  });
  return true;
}
