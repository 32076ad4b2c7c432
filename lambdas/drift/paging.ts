/**
 * What a drift check means for the model's incident: drift and critical-feature drift page only when M of
 * the model's last N checks drifted (counted in the history table, check by check: files land irregularly),
 * a checked file closes the dead-letter signal, and a file sent to the dead-letter queue opens it.
 */

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { type PersistenceVerdict, persistence } from '../core/alerting/persistence.ts';
import {
  DRIFT_ENV,
  type DriftModelRuntimeConfig,
  type HistoryItem,
  PAGE_REASON,
} from '../shared/contract.ts';
import { latestChecks, setSignal } from '../shared/incidents.ts';

/** The persistence verdicts of a check, and the page reasons of the signals it leaves open. */
export interface DriftPaging {
  drift: PersistenceVerdict;
  criticalFeature: PersistenceVerdict;
  /** `DatasetDrift` and/or `CriticalFeatureDrift` while their signal is open. */
  reasons: string[];
}

const describe = (verdict: PersistenceVerdict, what: string) =>
  `${what} in ${verdict.drifted} of the last ${verdict.considered} checks (rule: ${verdict.rule.m} of ${verdict.rule.n})`;

/**
 * After a successful check (its history item written): reads the model's last N checks, decides both
 * signals, records them in the incident and closes the dead-letter signal.
 */
export async function pageAfterCheck(
  documents: DynamoDBDocumentClient,
  historyTable: string,
  model: DriftModelRuntimeConfig,
  item: HistoryItem,
): Promise<DriftPaging> {
  const rule = model.persistence;
  const checks = await latestChecks(documents, historyTable, model.name, 'drift', rule.n);
  // Strongly consistent reads return the item just written; kept explicit in case it is missing.
  if (!checks.some((check) => check.sk === item.sk)) checks.unshift(item);
  const critical = new Set(model.criticalFeatures);
  const asChecks = (drifted: (check: HistoryItem) => boolean) =>
    checks.map((check) => ({
      at: check.checkedAt,
      drifted: drifted(check),
      ...(check.htmlReportKey ? { report: check.htmlReportKey } : {}),
    }));
  const drift = persistence(
    asChecks((check) => check.datasetDrift === true),
    rule,
  );
  const criticalFeature = persistence(
    asChecks((check) => (check.driftedFeatures ?? []).some((feature) => critical.has(feature))),
    rule,
  );
  const latest = `latest: ${item.key}`;
  const criticalNow = (item.driftedFeatures ?? []).filter((feature) => critical.has(feature));
  const at = item.checkedAt;
  const report = item.htmlReportKey;
  await setSignal(documents, historyTable, model.name, 'drift', {
    open: drift.alarm,
    detail: `${describe(drift, 'dataset drift')}; ${latest}, drift share ${(item.driftShare ?? 0).toFixed(2)}${
      (item.driftedFeatures ?? []).length > 0 ? `, drifted: ${item.driftedFeatures!.join(', ')}` : ''
    }`,
    at,
    ...(report ? { report } : {}),
  });
  if (critical.size > 0) {
    await setSignal(documents, historyTable, model.name, 'criticalFeature', {
      open: criticalFeature.alarm,
      detail: `${describe(criticalFeature, 'critical-feature drift')}; ${latest}${
        criticalNow.length > 0 ? `, drifted: ${criticalNow.join(', ')}` : ''
      }`,
      at,
      ...(report ? { report } : {}),
    });
  }
  await setSignal(documents, historyTable, model.name, 'deadLetter', {
    open: false,
    detail: `files are checked again (${item.key})`,
    at,
  });
  return {
    drift,
    criticalFeature,
    reasons: [
      ...(drift.alarm ? [PAGE_REASON.drift] : []),
      ...(critical.size > 0 && criticalFeature.alarm ? [PAGE_REASON.criticalFeature] : []),
    ],
  };
}

/** A file of the model went to the dead-letter queue: opens the signal. */
export async function pageDeadLetter(
  documents: DynamoDBDocumentClient,
  historyTable: string,
  model: string,
  change: { key: string; error: { name: string; message: string }; at: string; retried: boolean },
): Promise<void> {
  await setSignal(documents, historyTable, model, 'deadLetter', {
    open: true,
    detail:
      `${change.key} sent to the dead-letter queue ${change.retried ? 'after its last retry' : 'without retry'}: ` +
      `${change.error.name}: ${change.error.message}`.slice(0, 500),
    at: change.at,
  });
}

/**
 * Whether this delivery of an SQS message is its last: SQS moves it to the dead-letter queue when it fails
 * (its `ApproximateReceiveCount` has reached the queue's `maxReceiveCount`). False when the count is unknown.
 */
export function isLastDelivery(record: SQSRecord, maxReceiveCount: number | undefined): boolean {
  const received = Number(record.attributes?.ApproximateReceiveCount);
  return maxReceiveCount !== undefined && Number.isFinite(received) && received >= maxReceiveCount;
}

/** The landing queue's `maxReceiveCount` from the environment, if set. */
export function maxReceiveCountFromEnvironment(env = process.env): number | undefined {
  const value = Number(env[DRIFT_ENV.maxReceiveCount]);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}
