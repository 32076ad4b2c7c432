import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  type EvaluateOptions,
  type Evaluation,
  evaluateTable,
  PerformanceAccumulator,
  resolveEvaluateOptions,
} from '../core/performance/evaluate.ts';
import {
  checkLimits,
  describeBreach,
  describeUnchecked,
  type LimitCheck,
} from '../core/performance/limits.ts';
import { type PerformanceReport, performanceReportFromJson } from '../core/performance/report.ts';
import { readAllText } from '../core/readers/decompress.ts';
import { readTable } from '../core/readers/read-table.ts';
import {
  DETAIL_TYPE,
  type HistoryItem,
  PAGE_REASON,
  type PerformanceDegradedDetail,
  type PerformanceModelRuntimeConfig,
  performanceReportKey,
} from '../shared/contract.ts';
import { describeFailure } from '../shared/failure.ts';
import { historyHead, putHistoryItem } from '../shared/history.ts';
import { setSignal } from '../shared/incidents.ts';
import { pagePoints, publishMetricPoints } from '../shared/metrics.ts';
import { putEvents, putJsonObject } from '../shared/publish.ts';
import {
  findObject,
  isForbidden,
  isNotFound,
  type S3ObjectVersion,
  s3TableInput,
} from '../shared/s3-input.ts';
import type { PerformanceHandlerConfig } from './config.ts';
import { performanceDegradedDetails, reportedBreaches } from './degraded-event.ts';
import { checkErrorPoints, performanceCheckPoints } from './emit-metrics.ts';
import {
  ENDPOINT_SCORE_COLUMN,
  EndpointScoringSink,
  type RetryOptions,
  type ScoringSummary,
  type Timing,
  withBackpressure,
} from './score-with-endpoint.ts';

/** What a check needs; built once per execution environment. */
export interface CheckDependencies {
  config: PerformanceHandlerConfig;
  clients: {
    s3: S3Client;
    documents: DynamoDBDocumentClient;
    eventBridge: Pick<EventBridgeClient, 'send'>;
    sagemakerRuntime: Pick<SageMakerRuntimeClient, 'send'>;
  };
  metrics: Metrics;
  logger: Logger;
  /** @default () => new Date() */
  now?: () => Date;
  /** Retries of endpoint calls. @default DEFAULT_RETRY */
  retry?: RetryOptions;
  /** @default real time */
  timing?: Timing;
}

/** How a check ended: a summary for logs and the invocation's result, never data rows. */
export type CheckOutcome =
  | {
      status: 'succeeded';
      runId: string;
      key: string;
      versionId: string | null;
      reportKey: string;
      rows: number;
      breaches: number;
      baselineReportKey: string | null;
      baselineCreated: boolean;
    }
  | { status: 'failed'; runId: string; key: string; error: { name: string; message: string } };

export { EventPublishError } from '../shared/publish.ts';

/** Largest baseline report read, after decompression: a report is a few kilobytes per segment. */
export const MAX_BASELINE_REPORT_BYTES = 64 * 1024 ** 2;

/** How the config names the options, for errors in history items and logs. */
const FIELDS = {
  label: 'performance.labelColumn',
  score: 'performance.scoreColumn',
  positive: 'performance.positiveClass',
  threshold: 'performance.threshold',
  segment: 'performance.segmentColumn',
  classes: 'performance.classes',
  maxSegments: 'performance.maxSegments',
} as const;

interface Evaluated {
  found: S3ObjectVersion;
  report: PerformanceReport;
  baseline: PerformanceReport | null;
  check: LimitCheck;
  warnings: string[];
  scoring: ScoringSummary | null;
}

/**
 * One scheduled performance check of the model: reads the golden dataset (scoring it with the endpoint
 * unless it holds a score column), evaluates it, checks the limits against the baseline report, and records
 * the result: the report in the results bucket, the baseline on the first success, a history item, a
 * `Performance Degraded` event per breach and the metrics. Anything that stops the check before a report
 * exists (a missing file or column, a bad label or score, the endpoint failing or answering wrongly) is
 * recorded as a failure instead: a failed history item and `PerformanceCheckErrors`; nothing partial is
 * stored as a success. Errors while recording are thrown (the invocation fails, and Lambda retries it).
 *
 * @param runId the schedule's execution id or the Lambda request id, named in logs, history and events.
 */
export async function checkGolden(deps: CheckDependencies, runId: string): Promise<CheckOutcome> {
  const model = deps.config.model;
  let found: S3ObjectVersion | null = null;
  let evaluated: Evaluated;
  try {
    found = await findObject(deps.clients.s3, deps.config.dataBucket, [model.goldenDatasetKey], null);
    const baseline = await loadPerformanceReport(
      deps.clients.s3,
      deps.config.dataBucket,
      model.baselineReportKey,
    );
    const { evaluation, scoring } = await evaluateGolden(deps, found);
    const { report } = evaluation;
    evaluated = {
      found,
      report,
      baseline,
      check: checkLimits(report, model.limits, baseline),
      warnings: evaluation.warnings,
      scoring,
    };
  } catch (error) {
    return recordFailure(deps, runId, found, error);
  }
  return recordSuccess(deps, runId, evaluated);
}

function evaluateOptions(model: PerformanceModelRuntimeConfig, score: string): EvaluateOptions {
  return {
    label: model.labelColumn,
    score,
    positive: model.positiveClass,
    threshold: model.threshold,
    segment: model.segmentColumn,
    classes: model.classes,
    fields: FIELDS,
  };
}

async function evaluateGolden(
  deps: CheckDependencies,
  found: S3ObjectVersion,
): Promise<{ evaluation: Evaluation; scoring: ScoringSummary | null }> {
  const model = deps.config.model;
  const input = s3TableInput(deps.clients.s3, found);
  const readOptions = { maxDecompressedBytes: model.maxDecompressedBytes };
  const { scoring } = model;
  if (scoring.kind === 'column') {
    const evaluation = await evaluateTable(input, evaluateOptions(model, scoring.scoreColumn), readOptions);
    return { evaluation, scoring: null };
  }
  const options = resolveEvaluateOptions(evaluateOptions(model, ENDPOINT_SCORE_COLUMN));
  const accumulator = new PerformanceAccumulator(options, found.key);
  const sink = new EndpointScoringSink(
    {
      client: deps.clients.sagemakerRuntime,
      endpointName: scoring.endpointName,
      contentType: scoring.contentType,
      features: scoring.features,
      labelColumn: model.labelColumn,
      segmentColumn: model.segmentColumn,
      classes: options.classes,
      fields: { label: FIELDS.label, segment: FIELDS.segment, features: 'features', classes: FIELDS.classes },
      batchRows: scoring.batchRows,
      maxConcurrency: scoring.maxConcurrency,
      ...(deps.retry && { retry: deps.retry }),
      ...(deps.timing && { timing: deps.timing }),
      logger: deps.logger,
    },
    accumulator,
  );
  let summary: ScoringSummary;
  try {
    await readTable(
      withBackpressure(input, () => sink.ready()),
      sink,
      readOptions,
    );
    summary = await sink.finish();
  } finally {
    await sink.close();
  }
  return { evaluation: accumulator.finish(), scoring: summary };
}

/**
 * A performance report in S3 (JSON, optionally gzip): the model's baseline, or a window's estimate; null when
 * there is none yet. A 403 counts as none: without s3:ListBucket, that is how S3 answers for a missing key.
 *
 * @throws InputError when the object is not a performance report.
 */
export async function loadPerformanceReport(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<PerformanceReport | null> {
  let body: AsyncIterable<Uint8Array>;
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (response.Body === undefined) return null;
    body = response.Body as AsyncIterable<Uint8Array>;
  } catch (error) {
    if (isNotFound(error) || isForbidden(error) || (error as Error).name === 'AccessDenied') return null;
    throw error;
  }
  const name = `s3://${bucket}/${key}`;
  const text = await readAllText(body, { name, maxDecompressedBytes: MAX_BASELINE_REPORT_BYTES });
  return performanceReportFromJson(text, name);
}

async function recordSuccess(
  deps: CheckDependencies,
  runId: string,
  evaluated: Evaluated,
): Promise<CheckOutcome> {
  const { config, clients, logger } = deps;
  const model = config.model;
  const { found, report, baseline, check, scoring } = evaluated;
  const checkedAt = (deps.now?.() ?? new Date()).toISOString();
  const reportKey = performanceReportKey(config.reportsPrefix, model.name, checkedAt);
  const source = { bucket: found.bucket, key: found.key, versionId: found.versionId, etag: found.etag };
  const provenance = { model: model.name, checkedAt, runId, source };
  const breaches = reportedBreaches(check.breaches);
  // The spec's report, with what was checked added (the spec allows added fields).
  await putJsonObject(clients.s3, config.resultsBucket, reportKey, {
    ...report,
    ...provenance,
    scoring: model.scoring.kind === 'column' ? 'scoreColumn' : 'endpoint',
    baselineReportKey: baseline === null ? null : model.baselineReportKey,
    limits: model.limits,
    breaches,
    unchecked: check.unchecked,
  });
  const baselineCreated = baseline === null && (await storeBaseline(deps, { ...report, ...provenance }));

  const item: HistoryItem = {
    ...historyHead({ model: model.name, kind: 'performance', status: 'succeeded', checkedAt }, found),
    runId,
    reportKey,
    evaluatedRows: report.rows,
    skippedRows: report.skipped,
    breaches: breaches.map(({ drop: _drop, ...summary }) => summary),
    baselineReportKey: baseline === null ? null : model.baselineReportKey,
    baselineCreated,
  };
  await putHistoryItem(clients.documents, config.historyTable, item);

  const details = performanceDegradedDetails(check.breaches, {
    model: model.name,
    reportKey,
    bucket: found.bucket,
    key: found.key,
    versionId: found.versionId,
    checkedAt,
    runId,
    retrains: model.retrainingTriggers?.includes('performance') ?? false,
  });
  await putPerformanceDegraded(deps, details);
  await setSignal(clients.documents, config.historyTable, model.name, 'performanceLimit', {
    open: check.breaches.length > 0,
    detail:
      check.breaches.length > 0
        ? `${check.breaches.length} limit(s) breached: ${check.breaches.map(describeBreach).join('; ')}`.slice(
            0,
            1000,
          )
        : `no limit breached (${found.key})`,
    at: checkedAt,
    report: reportKey,
  });
  await setSignal(clients.documents, config.historyTable, model.name, 'performanceCheck', {
    open: false,
    detail: `checks complete again (${found.key})`,
    at: checkedAt,
  });

  // Last, so a retried invocation after a failed write above does not count the check twice.
  publishMetricPoints(
    deps.metrics,
    performanceCheckPoints(report, check, baseline, model.limits, model.name),
  );
  for (const warning of evaluated.warnings) logger.warn('Golden dataset warning', { warning });
  for (const unchecked of check.unchecked) {
    // The first run has no baseline by design: not worth a warning.
    const log = baseline === null && unchecked.kind === 'maxDrop' ? logger.info : logger.warn;
    log.call(logger, 'Limit not checked', { limit: describeUnchecked(unchecked) });
  }
  logger.info('Performance checked', {
    versionId: found.versionId,
    rows: report.rows,
    skipped: report.skipped,
    segments: report.segments.length,
    metrics: report.metrics,
    breaches: check.breaches.map(describeBreach),
    checked: check.checked,
    baselineCreated,
    reportKey,
    ...(scoring && { scoring }),
  });
  return {
    status: 'succeeded',
    runId,
    key: found.key,
    versionId: found.versionId,
    reportKey,
    rows: report.rows,
    breaches: check.breaches.length,
    baselineReportKey: baseline === null ? null : model.baselineReportKey,
    baselineCreated,
  };
}

/**
 * Stores the first successful report as the model's baseline, unless one appeared meanwhile: the write is
 * conditional (`If-None-Match: *`), so a baseline someone uploaded is never replaced.
 *
 * @returns whether this run's report became the baseline.
 */
async function storeBaseline(deps: CheckDependencies, report: object): Promise<boolean> {
  const { config, logger } = deps;
  try {
    await deps.clients.s3.send(
      new PutObjectCommand({
        Bucket: config.dataBucket,
        Key: config.model.baselineReportKey,
        Body: JSON.stringify(report, null, 2),
        ContentType: 'application/json',
        IfNoneMatch: '*',
      }),
    );
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 412 || status === 409) {
      logger.info('Baseline report already exists: not replaced', { key: config.model.baselineReportKey });
      return false;
    }
    throw error;
  }
  logger.info('Baseline report stored', { key: config.model.baselineReportKey });
  return true;
}

/** Puts one `Performance Degraded` event per detail (10 per call); also used by the ground-truth joins. */
export async function putPerformanceDegraded(
  deps: {
    clients: { eventBridge: Pick<EventBridgeClient, 'send'> };
    config: { eventBusName: string };
  },
  details: readonly PerformanceDegradedDetail[],
): Promise<void> {
  await putEvents(
    deps.clients.eventBridge,
    deps.config.eventBusName,
    DETAIL_TYPE.performanceDegraded,
    details,
  );
}

/**
 * Records a check that did not produce a report: a failed history item naming the golden dataset (and its
 * version when it was found) and `PerformanceCheckErrors`. Errors here are thrown.
 */
async function recordFailure(
  deps: CheckDependencies,
  runId: string,
  found: S3ObjectVersion | null,
  error: unknown,
): Promise<CheckOutcome> {
  const { config, clients, logger } = deps;
  const model = config.model;
  const failure = describeFailure(error);
  const checkedAt = (deps.now?.() ?? new Date()).toISOString();
  const key = found?.key ?? model.goldenDatasetKey;
  await putHistoryItem(clients.documents, config.historyTable, {
    ...historyHead(
      { model: model.name, kind: 'performance', status: 'failed', checkedAt },
      {
        bucket: found?.bucket ?? config.dataBucket,
        key,
        versionId: found?.versionId ?? null,
        etag: found?.etag ?? null,
      },
    ),
    runId,
    error: failure,
  });
  await setSignal(clients.documents, config.historyTable, model.name, 'performanceCheck', {
    open: true,
    detail: `the check of ${key} did not complete: ${failure.name}: ${failure.message}`.slice(0, 500),
    at: checkedAt,
  });
  publishMetricPoints(deps.metrics, [
    ...checkErrorPoints(model.name),
    ...pagePoints(model.name, [PAGE_REASON.performanceCheck]),
  ]);
  logger.error('Performance check failed', {
    error: failure,
    // The stack helps with errors we did not foresee; messages never hold data rows.
    ...(error instanceof Error && { stack: error.stack }),
  });
  return { status: 'failed', runId, key, error: failure };
}
