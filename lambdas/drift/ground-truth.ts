/**
 * Delayed ground truth in the shared engine: realized performance per Data Capture window, by an S3-side
 * join. No per-prediction state is kept anywhere: a window's captured predictions are its capture files
 * (ids, scores, segment values), read again when its labels are joined.
 *
 * - A label file under `capture.groundTruth.prefix` is read on arrival (bad records counted; a file that
 *   cannot be used is recorded as failed and sent to the dead-letter queue) and registered with the windows
 *   it labels: the window of its `yyyy/mm/dd/hh` path (SageMaker's convention: the hour of the predictions),
 *   or, outside that layout, every window of the last `maxDelayHours`. In the capture table, under
 *   `<model>#ground-truth#<window start>`: one `F#<file id>` item per label file and a `JOIN` item whose
 *   `version` each file raises and whose `due` it pushes to now + `settleMinutes` (never before the capture
 *   window's end + grace), so one upload of many files is joined once.
 * - The capture sweep queues a `ground-truth-join` message for every `JOIN` item due; the join reads the
 *   window's label files (the last label of an id wins, by file then line order), lists and reads the
 *   window's capture files of every endpoint and variant, and per endpoint variant evaluates the joined rows:
 *   the report (with coverage, delay, uncaptured and duplicated labels, and the CBPE estimate of the window
 *   side by side when one was stored), a history item, the performance metrics and a `Performance Degraded`
 *   event per breached limit, labelled with the window, exactly as a golden check records them.
 * - A label file arriving after the join raises the version again: the window is joined again, whole.
 */
import { createHash } from 'node:crypto';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { compactTime, windowOf } from '../core/drift/capture-window.ts';
import { InputError } from '../core/errors.ts';
import { PerformanceAccumulator, resolveEvaluateOptions } from '../core/performance/evaluate.ts';
import {
  compareWithEstimate,
  GroundTruthJoinSink,
  type JoinedOutcome,
  type JoinedPerformanceReport,
  LabelIndex,
  readLabelFile,
  sortLabelFiles,
} from '../core/performance/ground-truth.ts';
import { checkLimits, describeBreach, type LimitCheck } from '../core/performance/limits.ts';
import type { PerformanceReport } from '../core/performance/report.ts';
import { withCapture } from '../core/readers/capture.ts';
import { readTable } from '../core/readers/read-table.ts';
import { loadPerformanceReport, putPerformanceDegraded } from '../performance/check-golden.ts';
import { performanceDegradedDetails, reportedBreaches } from '../performance/degraded-event.ts';
import { performanceCheckPoints } from '../performance/emit-metrics.ts';
import {
  type CaptureRuntimeConfig,
  type CaptureWindowLabel,
  captureWindowReportKey,
  type GroundTruthRuntimeConfig,
  type HistoryItem,
} from '../shared/contract.ts';
import { historyHead, putHistoryItem } from '../shared/history.ts';
import { setSignal } from '../shared/incidents.ts';
import { publishMetricPoints } from '../shared/metrics.ts';
import { putJsonObject } from '../shared/publish.ts';
import { type CreatedObject, unannouncedObject } from '../shared/s3-event.ts';
import { checkObjectSize, findObject, type S3ObjectVersion, s3TableInput } from '../shared/s3-input.ts';
import {
  type CaptureStorage,
  defaultServingModel,
  groundTruthPk,
  JOIN_SORT_KEY,
  OPEN_SHARD,
  recordedServingModel,
  VARIANTS_SORT_KEY,
  WINDOW_STATE_DAYS,
  windowFileItems,
  windowFiles,
} from './capture.ts';
import { type RecordedServingModel, ServingModelUnknownError } from './capture-estimate.ts';
import { type CheckDependencies, type CheckOutcome, recordFailure } from './check-object.ts';
import { isPermanentFailure } from './failures.ts';
import { type LabelFileRecords, recordLabels, registerLabelFile, tallyWindow } from './label-tally.ts';

export { groundTruthPk } from './capture.ts';

const HOUR_MS = 60 * 60_000;

interface JoinItem {
  pk: string;
  sk: typeof JOIN_SORT_KEY;
  model: string;
  windowStart: string;
  windowEnd: string;
  version: number;
  joinedVersion: number;
  dueShard?: string;
  due?: string;
  expiresAt: number;
  /** Label files whose outcomes went to the feedback stream already (by a previous join). */
  fedFiles?: Set<string>;
}

interface LabelFileItem {
  pk: string;
  sk: string;
  key: string;
  versionId: string | null;
  /** Epoch ms the file was registered: the labels' time when the records do not say. */
  arrivedAt: number;
  /** In the `yyyy/mm/dd/hh` layout. */
  layout: boolean;
  /**
   * How many windows the file may label. With one, its labels unmatched by this window's predictions are
   * the window report's `uncaptured`; with several, only the file's tally can tell (`label-tally.ts`).
   * Absent on items registered before it was recorded: 1 for a layout file.
   */
  windows?: number;
  expiresAt: number;
}

/**
 * The windows a label file labels: its path's hour's window(s), or every window of the last
 * `maxDelayHours` when the key is outside the `yyyy/mm/dd/hh/` layout.
 */
export function labelledWindows(
  relativeKey: string,
  arrivedAt: Date,
  capture: Pick<CaptureRuntimeConfig, 'windowMinutes'>,
  groundTruth: Pick<GroundTruthRuntimeConfig, 'maxDelayHours'>,
): { layout: boolean; starts: Date[] } {
  const match = /^(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/[^/]+$/.exec(relativeKey);
  const minutes = capture.windowMinutes;
  let from: number;
  let to: number;
  let layout = false;
  if (match !== null) {
    const [, year, month, day, hour] = match;
    from = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour));
    const valid =
      new Date(from).getUTCDate() === Number(day) && new Date(from).getUTCHours() === Number(hour);
    layout = valid;
    to = from + HOUR_MS;
    if (!valid) {
      to = arrivedAt.getTime();
      from = to - groundTruth.maxDelayHours * HOUR_MS;
    }
  } else {
    to = arrivedAt.getTime();
    from = to - groundTruth.maxDelayHours * HOUR_MS;
  }
  const starts: Date[] = [];
  for (let at = windowOf(new Date(from), minutes).start.getTime(); at < to; at += minutes * 60_000) {
    starts.push(new Date(at));
  }
  return { layout, starts };
}

/**
 * Reads a label file that arrived (to count and check its records) and registers it with the windows it
 * labels, which are then joined once their labels settle. A file that cannot be used is recorded as failed
 * (history item, `FileErrors`, dead-letter queue), as a capture file is.
 */
export async function groundTruthObject(
  deps: CheckDependencies,
  storage: CaptureStorage,
  object: CreatedObject,
  messageBody: string,
): Promise<CheckOutcome> {
  const model = deps.config.model;
  const capture = model.capture!;
  const groundTruth = capture.groundTruth!;
  const keys = object.keyCandidates.filter((key) => key.startsWith(groundTruth.prefix));
  const now = deps.now?.() ?? new Date();
  let found: S3ObjectVersion | null = null;
  let labels: number;
  let badRecords: number;
  try {
    found = await findObject(deps.clients.s3, object.bucket, keys, object.versionId);
    checkObjectSize(found, model.maxObjectBytes);
    const summary = await readLabelFile(
      s3TableInput(deps.clients.s3, found),
      new LabelIndex(),
      {
        idColumn: groundTruth.idColumn,
        labelColumn: groundTruth.labelColumn,
        timeColumn: groundTruth.timeColumn,
        maxBadShare: capture.maxBadShare,
      },
      { maxDecompressedBytes: model.maxDecompressedBytes },
    );
    if (summary.labels === 0) throw new InputError({ file: found.key }, 'the file holds no label');
    labels = summary.labels;
    badRecords = summary.badRecords;
  } catch (error) {
    if (!isPermanentFailure(error)) throw error;
    return recordFailure(deps, object, found?.key ?? keys[0]!, error, messageBody);
  }
  const { layout, starts } = labelledWindows(
    found.key.slice(groundTruth.prefix.length),
    now,
    capture,
    groundTruth,
  );
  const fileId = createHash('sha256')
    .update(`${found.key}\u0000${found.versionId ?? ''}`)
    .digest('hex')
    .slice(0, 24);
  const lastEnd = starts.length === 0 ? now : windowOf(starts.at(-1)!, capture.windowMinutes).end;
  await registerLabelFile(deps, storage, {
    model: model.name,
    fileId,
    key: found.key,
    versionId: found.versionId,
    arrivedAt: now,
    starts,
    expiresAt:
      Math.floor(Math.max(lastEnd.getTime(), now.getTime()) / 1000) + WINDOW_STATE_DAYS * 24 * 60 * 60,
  });
  for (const start of starts) {
    const window = windowOf(start, capture.windowMinutes);
    const pk = groundTruthPk(model.name, window.start);
    const expiresAt =
      Math.floor(Math.max(window.end.getTime(), now.getTime()) / 1000) + WINDOW_STATE_DAYS * 24 * 60 * 60;
    const item: LabelFileItem = {
      pk,
      sk: `F#${fileId}`,
      key: found.key,
      versionId: found.versionId,
      arrivedAt: now.getTime(),
      layout,
      windows: starts.length,
      expiresAt,
    };
    await deps.clients.documents.send(new PutCommand({ TableName: storage.table, Item: item }));
    const due = Math.max(
      now.getTime() + groundTruth.settleMinutes * 60_000,
      window.end.getTime() + capture.graceMinutes * 60_000,
    );
    await deps.clients.documents.send(
      new UpdateCommand({
        TableName: storage.table,
        Key: { pk, sk: JOIN_SORT_KEY },
        UpdateExpression:
          'SET #model = :model, windowStart = :start, windowEnd = :end, joinedVersion = if_not_exists(joinedVersion, :zero), ' +
          'dueShard = :shard, #due = :due, expiresAt = :expiresAt ADD #version :one',
        ExpressionAttributeNames: { '#model': 'model', '#due': 'due', '#version': 'version' },
        ExpressionAttributeValues: {
          ':model': model.name,
          ':start': window.start.toISOString(),
          ':end': window.end.toISOString(),
          ':zero': 0,
          ':shard': OPEN_SHARD,
          ':due': new Date(due).toISOString(),
          ':expiresAt': expiresAt,
          ':one': 1,
        },
      }),
    );
  }
  deps.logger.info('Label file registered', { labels, badRecords, windows: starts.length, layout });
  return { status: 'labelled', key: found.key, labels, badRecords, windows: starts.length };
}

function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

function labelFilesOf(deps: CheckDependencies, storage: CaptureStorage, pk: string) {
  return windowFileItems<LabelFileItem>(deps, storage, pk);
}

/**
 * The capture files of one window, per endpoint variant, in capture-time order: the files the window's
 * drift check registered (the variants are kept beside the join state as files arrive), so the join keeps
 * no index of predictions and lists nothing.
 */
export async function windowCaptureFiles(
  deps: CheckDependencies,
  storage: CaptureStorage,
  model: string,
  start: Date,
): Promise<{ endpoint: string; variant: string; files: S3ObjectVersion[]; served: RecordedServingModel }[]> {
  const stored = await deps.clients.documents.send(
    new GetCommand({
      TableName: storage.table,
      Key: { pk: groundTruthPk(model, start), sk: VARIANTS_SORT_KEY },
      ConsistentRead: true,
    }),
  );
  const names = [...((stored.Item?.['variants'] as Set<string> | undefined) ?? [])].sort();
  const variants: Awaited<ReturnType<typeof windowCaptureFiles>> = [];
  for (const name of names) {
    const [endpoint, variant] = name.split('#') as [string, string];
    const pk = `${model}#${endpoint}#${variant}#${compactTime(start)}`;
    const files = await windowFiles(deps, storage, pk);
    variants.push({
      endpoint,
      variant,
      served: await recordedServingModel(deps, storage, pk),
      files: files.map((file) => ({
        bucket: deps.config.dataBucket,
        key: file.key,
        versionId: file.versionId,
        etag: null,
        size: 0,
      })),
    });
  }
  return variants;
}

/** The window's CBPE estimate stored beside (`estimated.json`), or null when there is none. */
async function loadEstimate(deps: CheckDependencies, key: string): Promise<PerformanceReport | null> {
  try {
    return await loadPerformanceReport(deps.clients.s3, deps.config.resultsBucket, key);
  } catch (error) {
    // A malformed estimate must not stop the realized report: it is left out, and said so.
    if (!(error instanceof InputError)) throw error;
    deps.logger.warn('Estimate not readable: left out of the realized report', { key, error: error.message });
    return null;
  }
}

/** What one variant's join gave, before it is recorded. */
interface VariantJoin {
  endpoint: string;
  variant: string;
  /** The model that served the variant in the window, as recorded with its first capture file. */
  served: RecordedServingModel;
  files: number;
  accumulator: PerformanceAccumulator;
  join: GroundTruthJoinSink;
}

/**
 * Joins one window's labels to its captured predictions and records the realized performance of each
 * endpoint variant that has labels. Returns `done` when there was nothing new to join.
 */
export async function joinWindow(
  deps: CheckDependencies,
  storage: CaptureStorage,
  pk: string,
  messageBody: string,
  redriven = false,
): Promise<'joined' | 'done'> {
  const { config } = deps;
  const model = config.model;
  const capture = model.capture!;
  const groundTruth = capture.groundTruth!;
  // A failed join moved back from the dead-letter queue (its cause fixed) is joined again, as a new version.
  const current = redriven
    ? await deps.clients.documents
        .send(
          new UpdateCommand({
            TableName: storage.table,
            Key: { pk, sk: JOIN_SORT_KEY },
            UpdateExpression: 'ADD #version :one',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':one': 1 },
            ReturnValues: 'ALL_NEW',
          }),
        )
        .then((response) => ({ Item: response.Attributes }))
        .catch((error: unknown) => {
          if (isConditionFailure(error)) return { Item: undefined };
          throw error;
        })
    : await deps.clients.documents.send(
        new GetCommand({ TableName: storage.table, Key: { pk, sk: JOIN_SORT_KEY }, ConsistentRead: true }),
      );
  const item = current.Item as JoinItem | undefined;
  if (item === undefined || item.joinedVersion >= item.version) return 'done';
  // Taken off the due index (unless a newer label file came meanwhile), so the sweep stops asking.
  try {
    await deps.clients.documents.send(
      new UpdateCommand({
        TableName: storage.table,
        Key: { pk, sk: JOIN_SORT_KEY },
        UpdateExpression: 'REMOVE dueShard, #due',
        ConditionExpression: '#version = :version',
        ExpressionAttributeNames: { '#due': 'due', '#version': 'version' },
        ExpressionAttributeValues: { ':version': item.version },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  const window = { start: new Date(item.windowStart), end: new Date(item.windowEnd) };
  const windowKey = `${groundTruth.prefix}window-${compactTime(window.start)}`;
  let feeding: string[] = [];
  try {
    const labels = new LabelIndex();
    const files = sortLabelFiles(
      (await labelFilesOf(deps, storage, pk)).map((file) => ({ ...file, name: file.key })),
    );
    const tallied: LabelFileRecords[] = [];
    for (const file of files) {
      // Items registered before `windows` was recorded: a layout file labels one hour-long window.
      const windows = file.windows ?? (file.layout ? 1 : groundTruth.maxDelayHours);
      labels.expectCaptured = windows === 1;
      labels.source = file.sk.slice(2);
      tallied.push(recordLabels(labels, { fileId: file.sk.slice(2), key: file.key }));
      const input = s3TableInput(deps.clients.s3, {
        bucket: config.dataBucket,
        key: file.key,
        versionId: file.versionId,
        etag: null,
        size: 0,
      });
      await readLabelFile(
        input,
        labels,
        {
          idColumn: groundTruth.idColumn,
          labelColumn: groundTruth.labelColumn,
          timeColumn: groundTruth.timeColumn,
          maxBadShare: capture.maxBadShare,
        },
        { maxDecompressedBytes: model.maxDecompressedBytes },
        file.arrivedAt,
      );
      labels.onAdd = null;
    }
    const options = resolveEvaluateOptions({
      label: '(label)',
      score: capture.scoreColumn,
      positive: groundTruth.positiveClass,
      threshold: groundTruth.threshold,
      segment: groundTruth.segmentColumn,
      classes: groundTruth.classes,
      fields: {
        positive: 'performance.positiveClass',
        threshold: 'performance.threshold',
        segment: 'performance.segmentColumn',
        classes: 'performance.classes',
        score: 'capture.scoreColumn',
      },
    });
    const variants = await windowCaptureFiles(deps, storage, model.name, window.start);
    const joins: VariantJoin[] = [];
    let captureFiles = 0;
    // Outcomes of label files not fed before go to the model's concept-drift detectors.
    const fed = item.fedFiles ?? new Set<string>();
    const feed = groundTruth.feedback && config.feedbackStreamName !== undefined;
    const outcomes: JoinedOutcome[] = [];
    const watch = feed
      ? {
          score: capture.scoreColumn,
          segment: groundTruth.segmentColumn,
          onJoined: (outcome: JoinedOutcome) => {
            if (!fed.has(outcome.source)) outcomes.push(outcome);
          },
        }
      : null;
    for (const { endpoint, variant, files: captured, served } of variants) {
      const accumulator = new PerformanceAccumulator(options, `${endpoint}/${variant}`);
      const join = new GroundTruthJoinSink(accumulator, labels, options.label, watch);
      for (const file of captured) {
        const input = withCapture(s3TableInput(deps.clients.s3, file), {
          features: capture.features.length > 0 ? capture.features : null,
          scoreColumn: capture.scoreColumn,
          maxBadShare: capture.maxBadShare,
        });
        // Only files registered on arrival are listed (a failed one never is), so an error here (a label
        // outside performance.classes, say) fails the join, with its record and dead-letter message.
        await readTable(input, join, { maxDecompressedBytes: model.maxDecompressedBytes });
        captureFiles++;
      }
      joins.push({ endpoint, variant, served, files: captured.length, accumulator, join });
    }
    deps.logger.info('Window joined', {
      window: pk,
      labelFiles: files.length,
      labels: labels.entries.size,
      captureFiles,
    });
    const baseline =
      groundTruth.baselineReportKey === null
        ? null
        : await loadPerformanceReport(deps.clients.s3, config.dataBucket, groundTruth.baselineReportKey);
    let breached = 0;
    for (const variantJoin of joins) {
      if (variantJoin.join.joined === 0) continue;
      breached += await recordRealized(deps, item, window, variantJoin, baseline);
    }
    // Labels no window of their file matched are counted once, by the join completing the file's windows.
    await tallyWindow(deps, storage, window.start, tallied, labels);
    if (feed) {
      await putOutcomes(deps, config.feedbackStreamName!, outcomes);
      feeding = files.map((file) => file.sk.slice(2)).filter((id) => !fed.has(id));
    }
    const checkedAt = (deps.now?.() ?? new Date()).toISOString();
    if (joins.some((join) => join.join.joined > 0)) {
      await setSignal(deps.clients.documents, config.historyTable, model.name, 'performanceLimit', {
        open: breached > 0,
        detail:
          breached > 0
            ? `${breached} limit(s) breached by the realized performance of ${item.windowStart}`
            : `no limit breached by the realized performance of ${item.windowStart}`,
        at: checkedAt,
      });
    } else {
      deps.logger.warn('No captured prediction of the window has a label', {
        window: pk,
        labels: labels.entries.size,
        variants: variants.length,
      });
    }
  } catch (error) {
    if (!isPermanentFailure(error)) throw error;
    await recordFailure(deps, unannouncedObject(config.dataBucket, windowKey), windowKey, error, messageBody);
  }
  try {
    await deps.clients.documents.send(
      new UpdateCommand({
        TableName: storage.table,
        Key: { pk, sk: JOIN_SORT_KEY },
        UpdateExpression: `SET joinedVersion = :version${feeding.length > 0 ? ' ADD fedFiles :fed' : ''}`,
        ConditionExpression: 'joinedVersion < :version',
        ExpressionAttributeValues: {
          ':version': item.version,
          ...(feeding.length > 0 && { ':fed': new Set(feeding) }),
        },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  return 'joined';
}

/** Records one variant's realized performance as a golden check is recorded; returns its breaches. */
async function recordRealized(
  deps: CheckDependencies,
  item: JoinItem,
  window: { start: Date; end: Date },
  variantJoin: VariantJoin,
  baseline: PerformanceReport | null,
): Promise<number> {
  const { config, clients } = deps;
  const model = config.model;
  const groundTruth = model.capture!.groundTruth!;
  const { endpoint, variant, served } = variantJoin;
  const servingModel = served?.model ?? null;
  const evaluation = variantJoin.accumulator.finish();
  const report: JoinedPerformanceReport = { ...evaluation.report, groundTruth: variantJoin.join.summary() };
  const check: LimitCheck = checkLimits(report, groundTruth.limits, baseline);
  const checkedAt = (deps.now?.() ?? new Date()).toISOString();
  const reportKey = captureWindowReportKey(
    config.reportsPrefix,
    model.name,
    { endpoint, variant, start: window.start },
    'realized',
  );
  const estimated = await loadEstimate(
    deps,
    captureWindowReportKey(
      config.reportsPrefix,
      model.name,
      { endpoint, variant, start: window.start },
      'estimated',
    ),
  );
  const label: CaptureWindowLabel = {
    endpoint,
    variant,
    start: item.windowStart,
    end: item.windowEnd,
    part: 0,
    version: item.version,
    closedBy: item.version > 1 ? 'late' : 'time',
    files: variantJoin.files,
    rows: report.groundTruth.captured,
    badRecords: report.groundTruth.badRecords,
    firstBadRecord:
      report.groundTruth.firstBadRecord === null
        ? null
        : {
            key: report.groundTruth.firstBadRecord.file,
            line: report.groundTruth.firstBadRecord.line,
            reason: report.groundTruth.firstBadRecord.reason,
          },
  };
  const breaches = reportedBreaches(check.breaches);
  await putJsonObject(clients.s3, config.resultsBucket, reportKey, {
    ...report,
    estimated: false,
    model: model.name,
    servingModel,
    checkedAt,
    window: label,
    limits: groundTruth.limits,
    breaches,
    unchecked: check.unchecked,
    ...(estimated !== null && {
      estimate: {
        reportKey: captureWindowReportKey(
          config.reportsPrefix,
          model.name,
          { endpoint, variant, start: window.start },
          'estimated',
        ),
        metrics: compareWithEstimate(report, estimated),
      },
    }),
  });
  const sourceKey = `${model.capture!.prefix}${endpoint}/${variant}/window-${compactTime(window.start)}`;
  const runId = `${item.pk}#v${item.version}`;
  const history: HistoryItem = {
    ...historyHead(
      { model: model.name, kind: 'performance', status: 'succeeded', checkedAt },
      { bucket: config.dataBucket, key: sourceKey, versionId: null, etag: null },
    ),
    runId,
    reportKey,
    evaluatedRows: report.rows,
    skippedRows: report.skipped,
    breaches: breaches.map(({ drop: _drop, ...summary }) => summary),
    baselineReportKey: baseline === null ? null : groundTruth.baselineReportKey,
    baselineCreated: false,
    window: label,
    servingModel,
  };
  await putHistoryItem(clients.documents, config.historyTable, history);
  // A breach of a model no longer serving the variant is published, but retrains no one (see superseded).
  const retrains =
    model.retrainingTriggers?.includes('performance') === true &&
    check.breaches.length > 0 &&
    !(await superseded(deps, endpoint, variant, servingModel));
  const details = performanceDegradedDetails(check.breaches, {
    model: model.name,
    reportKey,
    bucket: config.dataBucket,
    key: sourceKey,
    versionId: null,
    checkedAt,
    runId,
    retrains,
    window: label,
  });
  for (const detail of details) detail.servingModel = servingModel;
  await putPerformanceDegraded(deps, details);
  publishMetricPoints(
    deps.metrics,
    performanceCheckPoints(report, check, baseline, groundTruth.limits, model.name),
  );
  deps.logger.info('Realized performance checked', {
    endpoint,
    variant,
    window: item.windowStart,
    version: item.version,
    rows: report.rows,
    coverage: report.groundTruth.coverage,
    uncaptured: report.groundTruth.uncaptured,
    duplicates: report.groundTruth.duplicates,
    breaches: check.breaches.map(describeBreach),
    estimate: estimated !== null,
  });
  return check.breaches.length;
}

/**
 * Whether the model that served a window no longer serves its variant (a challenger was promoted since):
 * its realized breach is recorded and published, but retraining the model serving now on it would blame
 * the new model for the old one's predictions. Unknown (nothing recorded, SageMaker not answering): false.
 */
async function superseded(
  deps: CheckDependencies,
  endpoint: string,
  variant: string,
  servingModel: string | null,
): Promise<boolean> {
  if (servingModel === null) return false;
  let now: string;
  try {
    now = (await (deps.servingModel ?? defaultServingModel())(endpoint, variant)).model;
  } catch (error) {
    if (!(error instanceof ServingModelUnknownError)) throw error;
    return false;
  }
  if (now === servingModel) return false;
  deps.logger.warn('Realized breach of a model no longer serving: no retraining started', {
    endpoint,
    variant,
    servedBy: servingModel,
    servingNow: now,
  });
  return true;
}

/** Records per PutRecords call (the API's limit). */
const RECORDS_PER_CALL = 500;
const PUT_ATTEMPTS = 4;
let kinesis: KinesisClient | undefined;

/**
 * Puts joined outcomes on the engine's feedback stream, as any producer of labelled feedback would (one
 * record per outcome, the model as partition key, the prediction as a score), so the model's concept-drift
 * detectors see delayed labels too. Records the stream refuses (throttling) are retried; after the last
 * attempt the join fails and is retried whole, so an outcome may reach the detectors twice, never zero times.
 */
export async function putOutcomes(
  deps: CheckDependencies,
  streamName: string,
  outcomes: readonly JoinedOutcome[],
): Promise<void> {
  const model = deps.config.model;
  const segment = model.capture!.groundTruth!.segmentColumn;
  kinesis ??= new KinesisClient({});
  const encoder = new TextEncoder();
  const records = outcomes.map((outcome) => ({
    PartitionKey: model.name,
    Data: encoder.encode(
      JSON.stringify({
        model: model.name,
        label: outcome.label,
        prediction: typeof outcome.score === 'number' ? outcome.score : Number(outcome.score),
        score: true,
        predictionId: outcome.id,
        ...(segment !== null &&
          outcome.segment !== null && { cohort: { [segment]: String(outcome.segment) } }),
        ...(Number.isFinite(outcome.time) && { eventTime: new Date(outcome.time).toISOString() }),
      }),
    ),
  }));
  for (let at = 0; at < records.length; at += RECORDS_PER_CALL) {
    let batch = records.slice(at, at + RECORDS_PER_CALL);
    for (let attempt = 1; batch.length > 0; attempt++) {
      const response = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: batch }));
      if ((response.FailedRecordCount ?? 0) === 0) break;
      if (attempt === PUT_ATTEMPTS) {
        throw new Error(
          `the feedback stream refused ${response.FailedRecordCount} of ${batch.length} outcomes after ${attempt} attempts`,
        );
      }
      batch = batch.filter((_, i) => response.Records?.[i]?.ErrorCode !== undefined);
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
  if (outcomes.length > 0)
    deps.logger.info('Joined outcomes sent to the feedback stream', { outcomes: outcomes.length });
}
