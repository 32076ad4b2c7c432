/**
 * Performance estimated before labels arrive (CBPE) for Data Capture windows, in the shared engine.
 *
 * - On arrival, each capture file's scores (and segment values) are kept beside its partial profile
 *   (`<partial>.scores.json.gz`): the profile's bins cannot give back the scores the estimate needs.
 * - When a window is checked (closed, early at `maxRows`, or again for a late file), its scores are
 *   gathered and estimated with the model's calibrator, per segment, for the window's variant; the limits
 *   of `performance.limits` are checked on the estimate. The report goes to {@link captureWindowReportKey}
 *   (`estimated.json`), a history item of kind `estimate` is written, each breach is a `Performance
 *   Estimated Degraded` event, and `EstimatedPerformanceMetric`/`EstimatedPerformanceBreaches` are emitted.
 * - The calibrator (isotonic regression of the label on the score) is fitted once per version of the
 *   reference object and stored as its steps under `capture-calibrators/<model>/`, reused by every window.
 * - An estimate is withheld, with its reason in the report, the history item and `EstimatesWithheld`, when
 *   the reference is missing or holds one class, or when the window's variant serves another SageMaker model
 *   than the one that scored the reference.
 *
 * An estimated breach opens no incident signal and pages no one: an estimate is an expectation that
 * assumes no concept drift, and labels confirm or refute it (the realized check stays the authority, for
 * paging and retraining, unless `retraining.triggers` names `estimatedPerformance`).
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { ConfigError, InputError } from '../core/errors.ts';
import {
  type EstimatedReport,
  estimateWithCalibrator,
  type FittedReference,
  fitReference,
} from '../core/performance/cbpe.ts';
import {
  PerformanceAccumulator,
  type ResolvedEvaluateOptions,
  resolveEvaluateOptions,
  type ScoredRows,
} from '../core/performance/evaluate.ts';
import { checkLimits, describeBreach } from '../core/performance/limits.ts';
import { METRIC_NAMES } from '../core/performance/metrics.ts';
import { readTable } from '../core/readers/read-table.ts';
import type { CellValue, TableSink } from '../core/readers/types.ts';
import { loadPerformanceReport } from '../performance/check-golden.ts';
import { reportedBreaches } from '../performance/degraded-event.ts';
import { finiteMetricValues } from '../performance/emit-metrics.ts';
import {
  CAPTURE,
  type CaptureEstimateRuntimeConfig,
  type CaptureWindowLabel,
  captureWindowReportKey,
  DETAIL_TYPE,
  DIMENSION,
  type EstimateWithheld,
  type HistoryItem,
  METRIC,
  type PerformanceBreachSummary,
  type PerformanceEstimatedDegradedDetail,
  segmentDimensionValue,
} from '../shared/contract.ts';
import { historyHead, putHistoryItem } from '../shared/history.ts';
import { type MetricPoint, metricPoint, publishMetricPoints } from '../shared/metrics.ts';
import { putEvents, putJsonObject } from '../shared/publish.ts';
import { findObject, isForbidden, isNotFound, s3TableInput } from '../shared/s3-input.ts';
import type { CheckDependencies } from './check-object.ts';
import { isPermanentFailure } from './failures.ts';

/**
 * The SageMaker model serving a variant of an endpoint now, and the champion's: the model of the variant
 * taking the most traffic (`DescribeEndpoint`, `DescribeEndpointConfig`). `since`: when the endpoint config
 * in force was created (the answer says nothing of predictions made before it; absent: unknown).
 */
export type ServingModelLookup = (endpoint: string, variant: string) => Promise<ServingModel>;

/** Which model served (or serves) an endpoint variant, and the champion's model then. */
export interface ServingModel {
  model: string;
  champion: string;
  since?: Date;
}

/**
 * The serving model a window recorded when its first file was profiled (`capture.ts`), or null: a window's
 * re-check, estimate and realized performance use it, not the model serving when they run.
 */
export type RecordedServingModel = { model: string; champion: string; recordedAt: string } | null;

/** A variant that is not (or no longer) on its endpoint, or an endpoint that is gone. */
export class ServingModelUnknownError extends Error {
  override readonly name = 'ServingModelUnknownError';
}

/** Scores of one capture file, stored beside its partial profile. */
export interface ScoresPartial {
  rowsRead: number;
  scores: number[];
  /** Per row, the index of its segment value in `segmentValues` (-1: missing); null without a segment. */
  segmentIds: number[] | null;
  segmentValues: string[];
  /** Why the file's scores could not be kept (a missing score or segment column); null when they were. */
  error: string | null;
}

/** The key of a file's scores beside its partial profile. */
export function scoresKey(partialKey: string): string {
  return partialKey.replace(/\.json\.gz$/, '') + '.scores.json.gz';
}

/** How a capture file's scores are read: the estimate's columns, labels optional (they have not arrived). */
function currentOptions(
  estimate: CaptureEstimateRuntimeConfig,
  scoreColumn: string,
): ResolvedEvaluateOptions {
  return resolveEvaluateOptions({
    label: estimate.labelColumn,
    score: scoreColumn,
    positive: estimate.positiveClass,
    threshold: estimate.threshold,
    segment: estimate.segmentColumn,
    fields: {
      label: 'performance.labelColumn',
      score: 'capture.scoreColumn',
      segment: 'performance.segmentColumn',
    },
  });
}

/** A sink for a capture file's scores, read in the same pass as its profile (see {@link TeeSink}). */
export function scoresSink(
  estimate: CaptureEstimateRuntimeConfig,
  scoreColumn: string,
  name: string,
): PerformanceAccumulator {
  return new PerformanceAccumulator(currentOptions(estimate, scoreColumn), name, true);
}

/**
 * Feeds one read to two sinks. It offers readers no fast paths (number batches, text labels), so each
 * value reaches both sinks as a plain call; capture records are read that way anyway.
 */
export class TeeSink implements TableSink {
  private readonly first: TableSink;
  private readonly second: TableSink;
  private readonly pairs: [number, number][] = [];

  constructor(first: TableSink, second: TableSink) {
    this.first = first;
    this.second = second;
  }

  column(name: string): number {
    this.pairs.push([this.first.column(name), this.second.column(name)]);
    return this.pairs.length - 1;
  }

  ignores(column: number): boolean {
    const [a, b] = this.pairs[column]!;
    return (this.first.ignores?.(a) ?? false) && (this.second.ignores?.(b) ?? false);
  }

  bytes(column: number, buf: Uint8Array, start: number, end: number): void {
    const [a, b] = this.pairs[column]!;
    this.first.bytes(a, buf, start, end);
    this.second.bytes(b, buf, start, end);
  }

  value(column: number, value: CellValue): void {
    const [a, b] = this.pairs[column]!;
    this.first.value(a, value);
    this.second.value(b, value);
  }

  endRow(): void {
    this.first.endRow();
    this.second.endRow();
  }
}

/** What the scores sink kept of one file, as stored. */
export function scoresPartialOf(sink: PerformanceAccumulator): ScoresPartial {
  let rows: ScoredRows;
  try {
    rows = sink.rows();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { rowsRead: 0, scores: [], segmentIds: null, segmentValues: [], error: error.message };
  }
  return {
    rowsRead: rows.rowsRead,
    scores: Array.from(rows.scores),
    segmentIds: rows.segmentIds === null ? null : Array.from(rows.segmentIds),
    segmentValues: [...rows.segmentValues],
    error: null,
  };
}

export async function storeScores(deps: CheckDependencies, partialKey: string, partial: ScoresPartial) {
  await deps.clients.s3.send(
    new PutObjectCommand({
      Bucket: deps.config.resultsBucket,
      Key: scoresKey(partialKey),
      Body: gzipSync(JSON.stringify(partial)),
      ContentType: 'application/json',
      ContentEncoding: 'gzip',
    }),
  );
}

async function readJson<T>(deps: CheckDependencies, key: string): Promise<T | null> {
  try {
    const object = await deps.clients.s3.send(
      new GetObjectCommand({ Bucket: deps.config.resultsBucket, Key: key }),
    );
    const bytes = await object.Body!.transformToByteArray();
    const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : Buffer.from(bytes)).toString(
      'utf8',
    );
    return JSON.parse(text) as T;
  } catch (error) {
    // Without s3:ListBucket, S3 answers 403 for a missing key.
    if (isNotFound(error) || isForbidden(error) || (error as Error).name === 'AccessDenied') return null;
    throw error;
  }
}

/** A window's scores, gathered from its files' scores in file order (segment values merged). */
async function windowScores(
  deps: CheckDependencies,
  partialKeys: readonly string[],
): Promise<{ rows: ScoredRows; problem: string | null }> {
  const scores: number[] = [];
  const segmentIds: number[] = [];
  const values: string[] = [];
  const ids = new Map<string, number>();
  let rowsRead = 0;
  let withSegments = false;
  let problem: string | null = null;
  for (let at = 0; at < partialKeys.length; at += 64) {
    const batch = await Promise.all(
      partialKeys.slice(at, at + 64).map((key) => readJson<ScoresPartial>(deps, scoresKey(key))),
    );
    for (const [i, partial] of batch.entries()) {
      if (partial === null) {
        problem ??= `the scores of ${partialKeys[at + i]} are missing (a file profiled before estimates were on)`;
        continue;
      }
      if (partial.error !== null) {
        problem ??= partial.error;
        continue;
      }
      rowsRead += partial.rowsRead;
      for (const score of partial.scores) scores.push(score);
      if (partial.segmentIds !== null) {
        withSegments = true;
        for (const id of partial.segmentIds) {
          if (id < 0) {
            segmentIds.push(-1);
            continue;
          }
          const value = partial.segmentValues[id]!;
          let merged = ids.get(value);
          if (merged === undefined) {
            merged = values.length;
            ids.set(value, merged);
            values.push(value);
          }
          segmentIds.push(merged);
        }
      }
    }
  }
  return {
    rows: {
      rowsRead,
      scores: Float64Array.from(scores),
      labels: new Uint8Array(scores.length),
      segmentIds: withSegments ? Int32Array.from(segmentIds) : null,
      segmentValues: values,
      labelValues: [],
      warnings: [],
    },
    problem,
  };
}

/** A fitted calibrator as stored: its isotonic steps and what it was fitted on (a few kilobytes). */
export interface StoredCalibrator {
  referenceKey: string;
  versionId: string | null;
  etag: string | null;
  /** The SageMaker model that scored the reference: configured, or serving when it was fitted. */
  scoredBy: string;
  fittedAt: string;
  x: number[];
  y: number[];
  reference: EstimatedReport['reference'];
  classes: { positive: number; negative: number };
  warnings: string[];
}

/** Calibrators already loaded by this execution environment, by key. */
const calibrators = new Map<string, StoredCalibrator>();

/** Forgets the calibrators this execution environment loaded (tests). */
export function forgetCalibrators(): void {
  calibrators.clear();
}

/** The key of the calibrator of one version of a reference, under these options. */
export function calibratorKey(
  model: string,
  estimate: CaptureEstimateRuntimeConfig,
  version: { key: string; versionId: string | null; etag: string | null },
): string {
  const id = createHash('sha256')
    .update(
      JSON.stringify([
        version.key,
        version.versionId,
        version.etag,
        estimate.labelColumn,
        estimate.referenceScoreColumn,
        estimate.positiveClass,
        estimate.classes,
        estimate.referenceModel,
      ]),
    )
    .digest('hex')
    .slice(0, 32);
  return `${CAPTURE.calibratorsPrefix}${model}/${id}.json`;
}

type CalibratorResult = { calibrator: StoredCalibrator; key: string } | { withheld: EstimateWithheld };

/**
 * The model's calibrator for the current version of its reference: from memory, else from the results
 * bucket, else fitted now on the reference and stored (conditionally: the first stored wins).
 */
async function loadCalibrator(
  deps: CheckDependencies,
  estimate: CaptureEstimateRuntimeConfig,
  servingModel: () => Promise<{ model: string; champion: string }>,
): Promise<CalibratorResult> {
  const { config } = deps;
  if (estimate.referenceKey === '') {
    return {
      withheld: {
        code: 'no-reference',
        reason:
          'no reference: the golden dataset has no score column (it is scored by the endpoint), so set capture.estimate.reference to a labelled table the model scored',
      },
    };
  }
  let version: Awaited<ReturnType<typeof findObject>>;
  try {
    version = await findObject(deps.clients.s3, config.dataBucket, [estimate.referenceKey], null);
  } catch (error) {
    if (!isPermanentFailure(error)) throw error;
    return {
      withheld: {
        code: 'no-reference',
        reason: `the reference s3://${config.dataBucket}/${estimate.referenceKey} cannot be read: ${(error as Error).message}`,
      },
    };
  }
  const key = calibratorKey(config.model.name, estimate, version);
  const cached = calibrators.get(key) ?? (await readJson<StoredCalibrator>(deps, key));
  if (cached !== null) {
    calibrators.set(key, cached);
    return { calibrator: cached, key };
  }
  let fitted: FittedReference;
  try {
    const options = resolveEvaluateOptions({
      label: estimate.labelColumn,
      score: estimate.referenceScoreColumn,
      positive: estimate.positiveClass,
      classes: estimate.classes,
      fields: { label: 'performance.labelColumn', score: 'the reference\u2019s score column' },
    });
    const sink = new PerformanceAccumulator(options, version.key);
    await readTable(s3TableInput(deps.clients.s3, version), sink, {
      maxDecompressedBytes: config.model.maxDecompressedBytes,
    });
    const rows = sink.rows();
    if (rows.scores.length === 0) {
      throw new InputError({ file: version.key }, 'no row has both a label and a score');
    }
    fitted = fitReference(rows);
  } catch (error) {
    if (!isPermanentFailure(error)) throw error;
    return {
      withheld: {
        code: 'no-reference',
        reason: `the reference s3://${config.dataBucket}/${version.key} cannot be used: ${(error as Error).message}`,
      },
    };
  }
  let scoredBy = estimate.referenceModel;
  if (scoredBy === null) {
    try {
      // Taken to be scored by the champion: a canary's challenger is not what the reference describes.
      scoredBy = (await servingModel()).champion;
    } catch (error) {
      if (!(error instanceof ServingModelUnknownError)) throw error;
      return { withheld: { code: 'serving-model-unknown', reason: error.message } };
    }
  }
  const stored: StoredCalibrator = {
    referenceKey: version.key,
    versionId: version.versionId,
    etag: version.etag,
    scoredBy,
    fittedAt: (deps.now?.() ?? new Date()).toISOString(),
    x: Array.from(fitted.calibrator.x),
    y: Array.from(fitted.calibrator.y),
    reference: fitted.reference,
    classes: fitted.classes,
    warnings: fitted.warnings,
  };
  try {
    await deps.clients.s3.send(
      new PutObjectCommand({
        Bucket: config.resultsBucket,
        Key: key,
        Body: JSON.stringify(stored),
        ContentType: 'application/json',
        IfNoneMatch: '*',
      }),
    );
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 412 && status !== 409) throw error;
    // Another window fitted it first: use that one, so every window has the same calibrator.
    const first = await readJson<StoredCalibrator>(deps, key);
    if (first !== null) {
      calibrators.set(key, first);
      return { calibrator: first, key };
    }
  }
  deps.logger.info('Calibrator fitted', {
    key,
    reference: version.key,
    rows: stored.reference.rows,
    scoredBy,
  });
  calibrators.set(key, stored);
  return { calibrator: stored, key };
}

/** The production lookup: the variants' models in the endpoint's current endpoint config, cached a minute. */
export function sageMakerServingModel(
  client: Pick<SageMakerClient, 'send'> = new SageMakerClient({}),
): ServingModelLookup {
  const cache = new Map<
    string,
    { variants: Map<string, string>; champion: string; since: Date | undefined; until: number }
  >();
  const describe = async (endpoint: string) => {
    const hit = cache.get(endpoint);
    if (hit !== undefined && hit.until > Date.now()) return hit;
    try {
      const described = await client.send(new DescribeEndpointCommand({ EndpointName: endpoint }));
      const config = await client.send(
        new DescribeEndpointConfigCommand({ EndpointConfigName: described.EndpointConfigName }),
      );
      const variants = new Map(
        (config.ProductionVariants ?? []).map((entry) => [entry.VariantName!, entry.ModelName!]),
      );
      // The champion takes the most traffic now (UpdateEndpointWeightsAndCapacities leaves the config as is).
      const weights = (described.ProductionVariants ?? []).map((entry) => ({
        name: entry.VariantName!,
        weight: entry.CurrentWeight ?? 0,
      }));
      const top = weights.sort((a, b) => b.weight - a.weight)[0]?.name;
      const champion = (top && variants.get(top)) ?? config.ProductionVariants?.[0]?.ModelName;
      if (champion === undefined) {
        throw new ServingModelUnknownError(`endpoint ${endpoint} has no production variant`);
      }
      const entry = {
        variants,
        champion,
        since: config.CreationTime === undefined ? undefined : new Date(config.CreationTime),
        until: Date.now() + 60_000,
      };
      cache.set(endpoint, entry);
      return entry;
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'ValidationException' || name === 'ResourceNotFound' || isNotFound(error)) {
        throw new ServingModelUnknownError(
          `the models serving endpoint ${endpoint} are unknown: ${(error as Error).message}`,
        );
      }
      throw error;
    }
  };
  return async (endpoint, variant) => {
    const { variants, champion, since } = await describe(endpoint);
    const model = variants.get(variant);
    if (model === undefined) {
      throw new ServingModelUnknownError(
        `variant ${variant} is not in endpoint ${endpoint}'s current config: the model it served is unknown`,
      );
    }
    return { model, champion, ...(since !== undefined && { since }) };
  };
}

/** What {@link estimateWindow} did, for the caller's log. */
export type EstimateOutcome =
  | { status: 'estimated'; reportKey: string; breaches: number; accuracy: number | null }
  | { status: 'withheld'; reportKey: string; withheld: EstimateWithheld };

/**
 * Estimates one window's performance from its files' scores and records it (see the module comment).
 * Transient errors (S3, DynamoDB, EventBridge, SageMaker unavailable) are thrown, so the window's check is
 * retried; anything about the data or the reference becomes a withheld estimate with its reason.
 */
export async function estimateWindow(
  deps: CheckDependencies & { servingModel: ServingModelLookup },
  window: CaptureWindowLabel,
  partialKeys: readonly string[],
  windowKey: string,
  recorded: RecordedServingModel = null,
): Promise<EstimateOutcome> {
  try {
    return await estimateOrWithhold(deps, window, partialKeys, windowKey, recorded);
  } catch (error) {
    // The window's drift is recorded already: a bad baseline report must not turn it into a failed check.
    if (!isPermanentFailure(error)) throw error;
    return withholdEstimate(deps, window, windowKey, {
      code: 'failed',
      reason: `${(error as Error).name}: ${(error as Error).message}`.slice(0, 1000),
    });
  }
}

async function estimateOrWithhold(
  deps: CheckDependencies & { servingModel: ServingModelLookup },
  window: CaptureWindowLabel,
  partialKeys: readonly string[],
  windowKey: string,
  recorded: RecordedServingModel,
): Promise<EstimateOutcome> {
  const { config, clients } = deps;
  const model = config.model;
  const capture = model.capture!;
  const estimate = capture.estimate!;
  const { checkedAt, reportKey, where } = estimateOfWindow(deps, window);
  const variantDimension = `${window.endpoint}/${window.variant}`;
  // The model that served the window's predictions, as recorded when its first file came; looked up now
  // only for a window that recorded none (the lookup failed then, or the window predates recording).
  const serving = async (): Promise<ServingModel> =>
    recorded ?? (await deps.servingModel(window.endpoint, window.variant));

  const withhold = (withheld: EstimateWithheld) => withholdEstimate(deps, window, windowKey, withheld);

  const { rows, problem } = await windowScores(deps, partialKeys);
  if (problem !== null) return withhold({ code: 'no-scores', reason: problem });
  if (rows.scores.length === 0) {
    return withhold({
      code: 'no-scores',
      reason: `no row of the window has a score (${rows.rowsRead} rows read)`,
    });
  }
  const loaded = await loadCalibrator(deps, estimate, serving);
  if ('withheld' in loaded) return withhold(loaded.withheld);
  const { calibrator } = loaded;
  if (calibrator.classes.positive === 0 || calibrator.classes.negative === 0) {
    return withhold({
      code: 'one-class-reference',
      reason: `the reference ${calibrator.referenceKey} holds one class only (${calibrator.classes.positive} positive, ${calibrator.classes.negative} negative rows): a calibrator of one class says nothing`,
    });
  }
  let servingModel: string;
  try {
    servingModel = (await serving()).model;
  } catch (error) {
    if (!(error instanceof ServingModelUnknownError)) throw error;
    return withhold({ code: 'serving-model-unknown', reason: error.message });
  }
  if (servingModel !== calibrator.scoredBy) {
    return withhold({
      code: 'model-changed',
      reason: `${variantDimension} serves model ${servingModel}, but the reference ${calibrator.referenceKey} was scored by ${calibrator.scoredBy}: its scores are not the ones the calibrator knows; upload a reference scored by ${servingModel}`,
    });
  }

  const fitted: FittedReference = {
    calibrator: { x: Float64Array.from(calibrator.x), y: Float64Array.from(calibrator.y) },
    reference: calibrator.reference,
    classes: calibrator.classes,
    warnings: calibrator.warnings,
  };
  const { report, warnings } = estimateWithCalibrator(
    fitted,
    rows,
    estimate.threshold,
    estimate.segmentColumn,
  );
  const baseline = await loadPerformanceReport(clients.s3, config.dataBucket, estimate.baselineReportKey);
  const check = checkLimits(report, estimate.limits, baseline);
  const breaches = reportedBreaches(check.breaches);
  // The estimate's report (the shape of `driftwatch estimate --format json`), with the window added.
  await putJsonObject(clients.s3, config.resultsBucket, reportKey, {
    ...report,
    ...where,
    withheld: null,
    reference: {
      ...report.reference,
      key: calibrator.referenceKey,
      versionId: calibrator.versionId,
      scoredBy: calibrator.scoredBy,
      calibratorKey: loaded.key,
    },
    servingModel,
    servingModelSource: recorded === null ? 'looked-up' : 'recorded',
    limits: estimate.limits,
    breaches,
    unchecked: check.unchecked,
    warnings,
  });
  const item: HistoryItem = {
    ...estimateHistoryHead(deps, checkedAt, windowKey),
    reportKey,
    estimated: true,
    withheld: null,
    metrics: Object.fromEntries(METRIC_NAMES.map((name) => [name, report.metrics[name]])),
    evaluatedRows: report.rows,
    skippedRows: report.skipped,
    breaches: breaches.map(({ drop: _drop, ...summary }) => summary),
    baselineReportKey: baseline === null ? null : estimate.baselineReportKey,
    window,
  };
  await putHistoryItem(clients.documents, config.historyTable, item);

  const details = estimatedDegradedDetails(breaches, {
    model: model.name,
    window,
    reportKey,
    checkedAt,
    retrains: model.retrainingTriggers?.includes('estimatedPerformance') ?? false,
  });
  await putEvents(
    clients.eventBridge,
    config.eventBusName,
    DETAIL_TYPE.performanceEstimatedDegraded,
    details,
  );

  publishMetricPoints(
    deps.metrics,
    estimatePoints(model.name, variantDimension, report, check.breaches.length),
  );
  deps.logger.info('Performance estimated', {
    window: variantDimension,
    start: window.start,
    version: window.version,
    rows: report.rows,
    metrics: report.metrics,
    breaches: check.breaches.map(describeBreach),
    reportKey,
  });
  return { status: 'estimated', reportKey, breaches: breaches.length, accuracy: report.metrics.accuracy };
}

/** The report and history item of a window whose estimate is withheld, with the reason. */
async function withholdEstimate(
  deps: CheckDependencies,
  window: CaptureWindowLabel,
  windowKey: string,
  withheld: EstimateWithheld,
): Promise<EstimateOutcome> {
  const { config, clients } = deps;
  const model = config.model;
  const { checkedAt, reportKey, where } = estimateOfWindow(deps, window);
  await putJsonObject(clients.s3, config.resultsBucket, reportKey, { estimated: true, withheld, ...where });
  await putHistoryItem(clients.documents, config.historyTable, {
    ...estimateHistoryHead(deps, checkedAt, windowKey),
    reportKey,
    estimated: true,
    withheld,
    window,
  });
  publishMetricPoints(deps.metrics, [
    metricPoint(METRIC.estimatesWithheld, 1, { [DIMENSION.model]: model.name }),
  ]);
  deps.logger.warn('Estimate withheld', {
    window: `${window.endpoint}/${window.variant}`,
    start: window.start,
    ...withheld,
  });
  return { status: 'withheld', reportKey, withheld };
}

/** When a window's estimate is made, where its report goes, and what the report says of the window. */
function estimateOfWindow(deps: CheckDependencies, window: CaptureWindowLabel) {
  const model = deps.config.model;
  const checkedAt = (deps.now?.() ?? new Date()).toISOString();
  const reportKey = captureWindowReportKey(
    deps.config.reportsPrefix,
    model.name,
    { endpoint: window.endpoint, variant: window.variant, start: new Date(window.start) },
    'estimated',
  );
  const where = {
    model: model.name,
    endpoint: window.endpoint,
    variant: window.variant,
    windowStart: window.start,
    windowEnd: window.end,
    window,
    checkedAt,
  };
  return { checkedAt, reportKey, where };
}

/** The head of a window's estimate history item: a window has no version or ETag. */
function estimateHistoryHead(deps: CheckDependencies, checkedAt: string, windowKey: string): HistoryItem {
  return historyHead(
    { model: deps.config.model.name, kind: 'estimate', status: 'succeeded', checkedAt },
    { bucket: deps.config.dataBucket, key: windowKey, versionId: null, etag: null },
  );
}

/**
 * The `Performance Estimated Degraded` details of one window's breaches. `retrainingTrigger` only when the
 * model's `retraining.triggers` name `estimatedPerformance`: by default an estimate starts no retraining.
 */
export function estimatedDegradedDetails(
  breaches: readonly (PerformanceBreachSummary & { drop: number | null })[],
  context: {
    model: string;
    window: CaptureWindowLabel;
    reportKey: string;
    checkedAt: string;
    retrains: boolean;
  },
): PerformanceEstimatedDegradedDetail[] {
  return breaches.map((breach) => ({
    model: context.model,
    estimated: true,
    ...breach,
    ...(context.retrains && { retrainingTrigger: 'estimatedPerformance' as const }),
    endpoint: context.window.endpoint,
    variant: context.window.variant,
    window: context.window,
    reportKey: context.reportKey,
    checkedAt: context.checkedAt,
  }));
}

/**
 * The metrics of one estimated window: `EstimatedPerformanceBreaches` (Model), and every metric of the
 * estimate for the whole window and each segment (Model, Metric, Segment, Variant).
 */
export function estimatePoints(
  model: string,
  variant: string,
  report: EstimatedReport,
  breaches: number,
): MetricPoint[] {
  const points: MetricPoint[] = [
    metricPoint(METRIC.estimatedPerformanceBreaches, breaches, { [DIMENSION.model]: model }),
  ];
  for (const { name, segment, value } of finiteMetricValues(report)) {
    points.push(
      metricPoint(METRIC.estimatedPerformanceMetric, value, {
        [DIMENSION.model]: model,
        [DIMENSION.metric]: name,
        [DIMENSION.segment]: segmentDimensionValue(segment),
        [DIMENSION.variant]: variant,
      }),
    );
  }
  return points;
}
