import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { runDrift } from '../core/drift/run.ts';
import type { DriftReport } from '../core/drift/types.ts';
import { renderHtmlReport } from '../core/report/html.ts';
import type { AwsClients } from '../shared/clients.ts';
import {
  type CaptureWindowLabel,
  DETAIL_TYPE,
  type DriftDetectedDetail,
  driftReportKey,
  type HistoryItem,
  PAGE_REASON,
  segmentDimensionValue,
  UNROUTED_MODEL,
} from '../shared/contract.ts';
import { historyHead, putHistoryItem } from '../shared/history.ts';
import { pagePoints } from '../shared/metrics.ts';
import { putEvents, putJsonObject } from '../shared/publish.ts';
import type { CreatedObject } from '../shared/s3-event.ts';
import { checkObjectSize, findObject, type S3ObjectVersion, s3TableInput } from '../shared/s3-input.ts';
import type { BaselineProfileCache } from './baseline.ts';
import type { ServingModelLookup } from './capture-estimate.ts';
import { type DriftHandlerConfig, driftOptions } from './config.ts';
import { driftDetectedDetail } from './drift-event.ts';
import { driftMetricPoints, fileErrorPoints, publishMetricPoints } from './emit-metrics.ts';
import { describeFailure, isPermanentFailure } from './failures.ts';
import { pageAfterCheck, pageDeadLetter } from './paging.ts';

/** What checking one object needs; built once per execution environment. */
export interface CheckDependencies {
  config: DriftHandlerConfig;
  clients: Pick<AwsClients, 's3' | 'documents' | 'eventBridge' | 'sqs'>;
  baselines: BaselineProfileCache;
  metrics: Metrics;
  logger: Logger;
  /** @default () => new Date() */
  now?: () => Date;
  /** How long a Data Capture window's check is left to the invocation that claimed it. @default 15 minutes */
  claimMs?: number;
  /** The SageMaker model serving an endpoint variant, for window estimates. @default SageMaker's Describe calls */
  servingModel?: ServingModelLookup;
}

/** How a check ended. Stored by the idempotency layer, so it holds no report data beyond the summary. */
export type CheckOutcome =
  | {
      status: 'succeeded';
      key: string;
      versionId: string | null;
      reportKey: string;
      htmlReportKey: string;
      datasetDrift: boolean;
      driftShare: number;
      driftDetected: boolean;
    }
  | { status: 'failed'; key: string; error: { name: string; message: string } }
  | { status: 'skipped'; reason: string }
  | {
      /** A Data Capture file profiled into its window (checked when the window closes). */
      status: 'captured';
      key: string;
      window: string;
      part: number;
      rows: number;
      badRecords: number;
      /** What this file set off: a re-check of its window (`late`), or its window's early close (`rows`). */
      checked: 'late' | 'rows' | null;
    }
  | {
      /** A label file registered with the windows it labels (joined once their labels settle). */
      status: 'labelled';
      key: string;
      labels: number;
      badRecords: number;
      windows: number;
    };

export { EventPublishError } from '../shared/publish.ts';

/**
 * Checks one created object against the model's baseline profile and records the result: the JSON and
 * HTML reports in the results bucket, a history item, the metrics and, when drift calls for it, a
 * `Drift Detected` event. A permanent failure (see {@link isPermanentFailure}) is recorded instead (history
 * item, `FileErrors`, the message sent to the dead-letter queue) and the check returns normally, so the
 * message is not retried; any other error is thrown, so the message is.
 *
 * @example
 * ```ts
 * const outcome = await checkObject(dependencies, parseCreatedObjects(record.body)[0]!, record.body);
 * ```
 */
export async function checkObject(
  deps: CheckDependencies,
  object: CreatedObject,
  messageBody: string,
): Promise<CheckOutcome> {
  const { config, logger } = deps;
  const model = config.model;
  if (object.bucket !== config.dataBucket) {
    logger.warn('Event for another bucket ignored', { bucket: object.bucket, dataBucket: config.dataBucket });
    return { status: 'skipped', reason: `the bucket is not ${config.dataBucket}` };
  }
  const keys = object.keyCandidates.filter((key) => key.startsWith(model.incomingPrefix));
  if (keys.length === 0) {
    logger.warn('Object outside the incoming prefix ignored', { incomingPrefix: model.incomingPrefix });
    return { status: 'skipped', reason: `the key is not under ${model.incomingPrefix}` };
  }

  let found: S3ObjectVersion | null = null;
  let report: DriftReport;
  try {
    found = await findObject(deps.clients.s3, object.bucket, keys, object.versionId);
    checkObjectSize(found, model.maxObjectBytes);
    const profile = await deps.baselines.load(config.dataBucket, model.baselineProfileKey);
    report = await runDrift(
      { kind: 'profile', profile },
      s3TableInput(deps.clients.s3, found),
      driftOptions(model),
      {
        maxDecompressedBytes: model.maxDecompressedBytes,
      },
    );
  } catch (error) {
    if (!isPermanentFailure(error)) throw error;
    return recordFailure(deps, object, found?.key ?? keys[0]!, error, messageBody);
  }
  return recordSuccess(deps, object, found, report);
}

/**
 * Records a finished check: reports, history item, `Drift Detected` event (when called for) and metrics. A
 * Data Capture window's check passes its `window` label, which goes into each of them.
 */
export async function recordSuccess(
  deps: CheckDependencies,
  object: Pick<CreatedObject, 'etag'>,
  found: S3ObjectVersion,
  report: DriftReport,
  window?: CaptureWindowLabel,
): Promise<CheckOutcome> {
  const { config, clients, logger } = deps;
  const model = config.model;
  const checkedAt = (deps.now?.() ?? new Date()).toISOString();
  const reportKey = driftReportKey(config.reportsPrefix, model.name, checkedAt, found.key, 'json');
  const htmlReportKey = driftReportKey(config.reportsPrefix, model.name, checkedAt, found.key, 'html');
  const source = { bucket: found.bucket, key: found.key, versionId: found.versionId };
  await putJsonObject(clients.s3, config.resultsBucket, reportKey, {
    ...report,
    source,
    ...(window && { window }),
  });
  await clients.s3.send(
    new PutObjectCommand({
      Bucket: config.resultsBucket,
      Key: htmlReportKey,
      Body: renderHtmlReport(report, {
        title: window
          ? `Drift report: ${model.name}, ${window.endpoint}/${window.variant}, ${window.start} to ${window.end}`
          : `Drift report: ${model.name}, ${found.key}`,
      }),
      ContentType: 'text/html; charset=utf-8',
    }),
  );

  const wholeDrifted = report.features.filter((entry) => entry.segment === null && entry.drifted);
  const driftedSegments = [
    ...new Set(
      report.features
        .filter((entry) => entry.segment !== null && entry.drifted)
        .map((entry) => segmentDimensionValue(entry.segment)),
    ),
  ];
  const item: HistoryItem = {
    ...historyHead(
      { model: model.name, kind: 'drift', status: 'succeeded', checkedAt },
      { ...found, etag: found.etag ?? object.etag },
    ),
    reportKey,
    htmlReportKey,
    rows: report.rows,
    datasetDrift: report.datasetDrift,
    driftShare: report.driftShare,
    driftedFeatures: wholeDrifted.map((entry) => entry.feature),
    driftedSegments,
    ...(window && { window }),
  };
  await putHistoryItem(clients.documents, config.historyTable, item);

  const detail = driftDetectedDetail(report, {
    model: model.name,
    bucket: found.bucket,
    key: found.key,
    versionId: found.versionId,
    reportKey,
    criticalFeatures: model.criticalFeatures,
  });
  if (detail !== null) {
    if (window) detail.window = window;
    // The old per-model rule: dataset drift with the drift trigger, or critical features with theirs.
    const triggers = model.retrainingTriggers ?? [];
    const starts =
      (detail.datasetDrift && triggers.includes('drift')) ||
      ((detail.criticalFeatures?.length ?? 0) > 0 && triggers.includes('criticalFeatureDrift'));
    if (starts) detail.retrainingTrigger = triggers.includes('drift') ? 'drift' : 'criticalFeatureDrift';
    await putDriftDetected(deps, detail);
  }

  // Drift pages only when it persists: M of the model's last N checks, counted in the history table.
  const paging = await pageAfterCheck(clients.documents, config.historyTable, model, item);

  // Last, so a retry after a failed write above does not count the file twice.
  publishMetricPoints(deps.metrics, [
    ...driftMetricPoints(report, {
      model: model.name,
      criticalFeatures: model.criticalFeatures,
      // `<endpoint>/<variant>`: two endpoints of one model may both have an `AllTraffic`.
      ...(window && { variant: `${window.endpoint}/${window.variant}` }),
    }),
    ...pagePoints(model.name, paging.reasons),
  ]);
  logger.info('Drift checked', {
    versionId: found.versionId,
    rows: report.rows,
    datasetDrift: report.datasetDrift,
    driftShare: report.driftShare,
    driftedFeatures: item.driftedFeatures,
    driftedSegments: driftedSegments.length,
    driftDetectedEvent: detail !== null,
    persistence: {
      drift: `${paging.drift.drifted}/${paging.drift.considered}`,
      criticalFeature: `${paging.criticalFeature.drifted}/${paging.criticalFeature.considered}`,
      paging: paging.reasons,
    },
    reportKey,
    timings: report.metadata?.timings,
  });
  return {
    status: 'succeeded',
    key: found.key,
    versionId: found.versionId,
    reportKey,
    htmlReportKey,
    datasetDrift: report.datasetDrift,
    driftShare: report.driftShare,
    driftDetected: detail !== null,
  };
}

async function putDriftDetected(deps: CheckDependencies, detail: DriftDetectedDetail): Promise<void> {
  await putEvents(deps.clients.eventBridge, deps.config.eventBusName, DETAIL_TYPE.driftDetected, [detail]);
}

/**
 * Records a permanent failure: a failed history item, a `FileErrors` metric and the original message in the
 * dead-letter queue, with the error as message attributes. Thrown errors here (S3, DynamoDB or SQS being
 * unavailable) leave the message to be retried.
 */
export async function recordFailure(
  deps: CheckDependencies,
  object: CreatedObject | null,
  key: string,
  error: Error,
  messageBody: string,
): Promise<CheckOutcome> {
  const { config, clients, logger } = deps;
  const model = config.model;
  const failure = describeFailure(error);
  const checkedAt = (deps.now?.() ?? new Date()).toISOString();
  if (object !== null) {
    await putHistoryItem(clients.documents, config.historyTable, {
      ...historyHead({ model: model.name, kind: 'drift', status: 'failed', checkedAt }, { ...object, key }),
      error: failure,
    });
  }
  await sendToDeadLetterQueue(deps, messageBody, failure, key);
  // Files of no model are the engine's alarm (UnroutedFiles), not a model's incident.
  if (model.name !== UNROUTED_MODEL) {
    await pageDeadLetter(clients.documents, config.historyTable, model.name, {
      key,
      error: failure,
      at: checkedAt,
      retried: false,
    });
  }
  publishMetricPoints(deps.metrics, [
    ...fileErrorPoints(model.name),
    ...pagePoints(model.name, [PAGE_REASON.fileError]),
  ]);
  logger.warn('File not checked', { error: failure, deadLetterQueue: true });
  return { status: 'failed', key, error: failure };
}

/**
 * A check that threw on its message's last delivery: SQS moves the message to the dead-letter queue next, so
 * the model's incident opens its dead-letter signal now (the queue itself does not know the model). Never
 * throws: the original error is what the message's delivery reports.
 */
export async function recordLastDeliveryFailure(
  deps: CheckDependencies,
  key: string,
  error: unknown,
): Promise<void> {
  const model = deps.config.model.name;
  try {
    await pageDeadLetter(deps.clients.documents, deps.config.historyTable, model, {
      key,
      error: describeFailure(error),
      at: (deps.now?.() ?? new Date()).toISOString(),
      retried: true,
    });
    publishMetricPoints(deps.metrics, pagePoints(model, [PAGE_REASON.deadLetter]));
  } catch (failure) {
    deps.logger.error('Dead-lettered file not recorded in the incident', {
      error: failure instanceof Error ? failure : String(failure),
    });
  }
}

async function sendToDeadLetterQueue(
  deps: CheckDependencies,
  messageBody: string,
  failure: { name: string; message: string },
  key: string,
): Promise<void> {
  const attribute = (value: string) => ({ DataType: 'String', StringValue: value === '' ? '-' : value });
  await deps.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: deps.config.deadLetterQueueUrl,
      MessageBody: messageBody,
      MessageAttributes: {
        errorName: attribute(failure.name),
        errorMessage: attribute(failure.message),
        model: attribute(deps.config.model.name),
        key: attribute(key),
      },
    }),
  );
}
