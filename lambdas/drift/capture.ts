/**
 * SageMaker Data Capture in the shared engine: every capture file is profiled on arrival into a partial
 * profile (stored, with its exact bin counts, in the results bucket), and a window of one endpoint variant is
 * checked by merging its partials once it closes: at its end plus the grace period (the engine's one sweep
 * schedule for every model), or early when it reaches `maxRows`. The check writes the same report, history
 * item, metrics and `Drift Detected` event as a dropped file, labelled with the window.
 *
 * State lives in the capture table (one per deployment), under the window's partition key
 * `<model>#<endpoint>#<variant>#<window start>`:
 * - `ROWS`: the rows the window's period received, in arrival order (assigns files to parts), and the
 *   SageMaker model that served the variant (recorded with its first file, for a model with estimates or
 *   labels: a re-check after a promotion still judges the model that made the window's predictions);
 * - `F#<file id>`: one item per file (its part, rows, bad records, partial key, and the version of the
 *   baseline profile its partial was made against); a retried file finds it. A window checked against
 *   another version (the baseline was replaced while it was open) profiles those files again first;
 * - `P#<part>`: the part's status (`open` until closed, then `closed`), the check `version` asked for and the
 *   `checkedVersion` done, and while open the `dueShard`/`due` pair the sweep's index finds it by.
 *
 * Exactly one check per close: closing is a conditional write from `open`. A file registers itself before
 * it reads its part's status, and a check marks its part closed before it lists the part's files, so a file
 * is either in the check or sees the part closed and re-checks it (a late file): never lost.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { compactTime, locateCaptureFile, windowOf, windowPart } from '../core/drift/capture-window.ts';
import { computeDriftReport } from '../core/drift/compute.ts';
import { mergeTableProfiles } from '../core/drift/merge.ts';
import {
  type DriftOptions,
  type ResolvedColumnOptions,
  resolveColumnOptions,
} from '../core/drift/options.ts';
import { profileFromJson, profileToJson, type TableProfile } from '../core/drift/profile.ts';
import { mergeWithProfile } from '../core/drift/run.ts';
import { DEFAULT_MIN_EFFECT } from '../core/drift/significance.ts';
import { binEdgesOf, TableAccumulator } from '../core/drift/table-accumulator.ts';
import { ConfigError, InputError } from '../core/errors.ts';
import { CAPTURE_METADATA_COLUMNS, type CaptureAwareInput, withCapture } from '../core/readers/capture.ts';
import { readTable } from '../core/readers/read-table.ts';
import { CAPTURE, type CaptureRuntimeConfig, type CaptureWindowLabel } from '../shared/contract.ts';
import { type CreatedObject, unannouncedObject } from '../shared/s3-event.ts';
import { checkObjectSize, findObject, type S3ObjectVersion, s3TableInput } from '../shared/s3-input.ts';
import {
  estimateWindow,
  type RecordedServingModel,
  type ScoresPartial,
  type ServingModel,
  type ServingModelLookup,
  sageMakerServingModel,
  scoresPartialOf,
  scoresSink,
  storeScores,
  TeeSink,
} from './capture-estimate.ts';
import { type CheckDependencies, type CheckOutcome, recordFailure, recordSuccess } from './check-object.ts';
import { driftOptions } from './config.ts';
import { isPermanentFailure } from './failures.ts';

let productionLookup: ServingModelLookup | undefined;
/** SageMaker's Describe calls, made once per execution environment (their answers are cached a minute). */
export function defaultServingModel(): ServingModelLookup {
  productionLookup ??= sageMakerServingModel();
  return productionLookup;
}

/** Forgets this execution environment's SageMaker answers (tests: an endpoint changed within the minute). */
export function forgetServingModels(): void {
  productionLookup = undefined;
}

/** Where the engine keeps window state and how it queues window checks. */
export interface CaptureStorage {
  /** The capture table (see the module comment). */
  table: string;
  /** The drift queue: the sweep sends one message per window due. */
  queueUrl: string;
}

export const PARTIALS_PREFIX = CAPTURE.partialsPrefix;
export const OPEN_SHARD = CAPTURE.openShard;
export const DUE_INDEX = CAPTURE.dueIndex;
/** Window state is kept this long after its window (a late file older than that starts a fresh window). */
export const WINDOW_STATE_DAYS = 35;

/** The capture table's partition of a window's ground truth (ground-truth.ts; this module marks it due). */
export const groundTruthPk = (model: string, start: Date) => `${model}#ground-truth#${compactTime(start)}`;
/** The sort key of a window's join state; its label files are `F#<file id>` beside it. */
export const JOIN_SORT_KEY = 'JOIN';
/** The sort key of the set of a window's `<endpoint>#<variant>`s (written here as files arrive). */
export const VARIANTS_SORT_KEY = 'VARIANTS';
/** Partials merged at once while checking a window: memory stays that of this many, whatever the window. */
const MERGE_BATCH = 64;

/** The message the engine's sweep schedule puts on the drift queue. */
export const SWEEP_MESSAGE = CAPTURE.sweepMessage;

/** A message asking for one part of a window to be closed and checked (sent by the sweep). */
export interface WindowMessage {
  driftwatch: 'capture-window';
  model: string;
  pk: string;
  part: number;
}

/** The engine's own messages on the drift queue, or null for anything else (S3 events). */
export function parseEngineMessage(
  body: string,
): typeof SWEEP_MESSAGE | WindowMessage | GroundTruthJoinMessage | null {
  if (!body.includes('"driftwatch"')) return null;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  const message = value as Partial<Omit<WindowMessage, 'driftwatch'>> & { driftwatch?: string };
  if (message?.driftwatch === 'capture-sweep') return SWEEP_MESSAGE;
  if (
    message?.driftwatch === 'capture-window' &&
    typeof message.model === 'string' &&
    typeof message.pk === 'string' &&
    Number.isInteger(message.part)
  ) {
    return message as WindowMessage;
  }
  if (
    message?.driftwatch === 'ground-truth-join' &&
    typeof message.model === 'string' &&
    typeof message.pk === 'string'
  ) {
    return message as GroundTruthJoinMessage;
  }
  return null;
}

/** A message asking for one window's labels to be joined (sent by the sweep; see `ground-truth.ts`). */
export interface GroundTruthJoinMessage {
  driftwatch: 'ground-truth-join';
  model: string;
  pk: string;
}

/** The state of one part of a window, as the capture table holds it. */
interface PartItem {
  pk: string;
  sk: string;
  model: string;
  endpoint: string;
  variant: string;
  windowStart: string;
  windowEnd: string;
  part: number;
  status: 'open' | 'closed';
  version: number;
  checkedVersion: number;
  closedBy?: CaptureWindowLabel['closedBy'];
  /** Epoch ms until which the check of `version` belongs to the invocation that asked for it. */
  claimedUntil?: number;
  dueShard?: string;
  due?: string;
  expiresAt: number;
}

interface FileItem {
  pk: string;
  sk: string;
  part: number;
  key: string;
  versionId: string | null;
  partialKey: string;
  /** Capture time (ISO), for the merge order. */
  time: string;
  records: number;
  rows: number;
  badRecords: number;
  firstError: { line: number; reason: string } | null;
  /** The version of the baseline profile the partial was profiled against (absent before it was recorded). */
  baselineVersion?: string;
  expiresAt: number;
}

const partKey = (part: number) => `P#${String(part).padStart(6, '0')}`;

function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

/** The column options a model's capture is read with: the model's, the baseline's, metadata left out. */
function captureColumns(
  deps: CheckDependencies,
  baseline: TableProfile,
): { options: DriftOptions; resolved: ResolvedColumnOptions } {
  const model = deps.config.model;
  const capture = model.capture!;
  const own = driftOptions(model);
  // Prediction drift needs the score in the baseline profile; without it the score is only not checked.
  const exclude = baseline.columns.includes(capture.scoreColumn)
    ? own.exclude
    : [...(own.exclude ?? []), capture.scoreColumn];
  const columns = mergeWithProfile(baseline, { ...own, exclude, metadata: CAPTURE_METADATA_COLUMNS });
  return { options: { ...own, ...columns }, resolved: resolveColumnOptions(columns) };
}

function readerOptions(capture: CaptureRuntimeConfig) {
  return {
    features: capture.features.length > 0 ? capture.features : null,
    scoreColumn: capture.scoreColumn,
    maxBadShare: capture.maxBadShare,
  };
}

/**
 * Profiles one capture file into its window's partial, registers it and, when it is late (its part was
 * already checked) or brings its part to `maxRows`, checks the part. Permanent failures (too many bad
 * records, a key outside SageMaker's layout, an endpoint not watched, no baseline) are recorded as for a
 * dropped file: failed history item, `FileErrors`, dead-letter queue.
 */
export async function captureObject(
  deps: CheckDependencies,
  storage: CaptureStorage,
  object: CreatedObject,
  messageBody: string,
): Promise<CheckOutcome> {
  const { config } = deps;
  const model = config.model;
  const capture = model.capture!;
  const keys = object.keyCandidates.filter((key) => key.startsWith(capture.prefix));
  let found: S3ObjectVersion | null = null;
  let registered: Registered;
  try {
    found = await findObject(deps.clients.s3, object.bucket, keys, object.versionId);
    const location = locateCaptureFile(found.key.slice(capture.prefix.length));
    if (location === null) {
      throw new InputError(
        { file: found.key },
        `not a Data Capture file: expected ${capture.prefix}<EndpointName>/<VariantName>/yyyy/mm/dd/hh/<file>.jsonl`,
      );
    }
    if (!capture.endpoints.includes(location.endpoint)) {
      throw new InputError(
        { file: found.key },
        `endpoint ${JSON.stringify(location.endpoint)} is not among the model's capture.endpoints (${capture.endpoints.join(', ')})`,
      );
    }
    checkObjectSize(found, model.maxObjectBytes);
    const baseline = await deps.baselines.loadVersioned(config.dataBucket, model.baselineProfileKey);
    // One read: the partial profile, and the scores a window's estimate needs when the model has one.
    const scores = capture.estimate ? scoresSink(capture.estimate, capture.scoreColumn, found.key) : null;
    const { partial, summary } = await profileCaptureFile(deps, found, baseline.profile, scores);
    const time = location.time ?? deps.now?.() ?? new Date();
    registered = await registerFile(deps, storage, {
      found,
      endpoint: location.endpoint,
      variant: location.variant,
      time,
      partial,
      scores: scores === null ? null : scoresPartialOf(scores),
      summary,
      baselineVersion: baseline.version,
    });
  } catch (error) {
    if (!isPermanentFailure(error)) throw error;
    return recordFailure(deps, object, found?.key ?? keys[0]!, error, messageBody);
  }
  const { pk, part, closesPart, status } = registered;
  let checked: 'late' | 'rows' | null = null;
  if (status === 'closed') {
    checked = 'late';
    await recheckClosed(deps, storage, pk, part, messageBody);
    if (capture.groundTruth !== undefined) await rejoinLabels(deps, storage, registered.window);
  } else if (closesPart) {
    checked = 'rows';
    await markFull(deps, storage, pk, part);
  }
  deps.logger.info('Capture file profiled', {
    window: pk,
    part,
    rows: registered.rows,
    badRecords: registered.badRecords,
    checked,
  });
  return {
    status: 'captured',
    key: found.key,
    window: pk,
    part,
    rows: registered.rows,
    badRecords: registered.badRecords,
    checked,
  };
}

/** Profiles one capture file against `baseline` (its bin edges, features and column options). */
async function profileCaptureFile(
  deps: CheckDependencies,
  found: S3ObjectVersion,
  baseline: TableProfile,
  scores: ReturnType<typeof scoresSink> | null = null,
) {
  const model = deps.config.model;
  const { resolved } = captureColumns(deps, baseline);
  const input: CaptureAwareInput = withCapture(
    s3TableInput(deps.clients.s3, found),
    readerOptions(model.capture!),
  );
  const profiler = new TableAccumulator(resolved, {
    name: found.key,
    expected: { columns: new Set(baseline.features), source: baseline.name },
    edges: binEdgesOf(baseline),
  });
  const read = await readTable(input, scores === null ? profiler : new TeeSink(profiler, scores), {
    maxDecompressedBytes: model.maxDecompressedBytes,
  });
  const partial = profiler.finish({ format: read.format });
  const summary = input.capture?.summaries[0];
  if (summary === undefined) {
    throw new InputError({ file: found.key }, 'not a Data Capture file: its first line is no capture record');
  }
  return { partial, summary };
}

/**
 * A file's partial as of `baseline`: the stored one when it was profiled against that version of the
 * baseline profile; otherwise (the baseline was replaced while the window was open, or the file was
 * registered before versions were recorded) the capture file is profiled again from the landing bucket,
 * and its partial and version are replaced, so a window never merges bins over two baselines' edges.
 */
async function partialAsOf(
  deps: CheckDependencies,
  storage: CaptureStorage,
  file: FileItem,
  baseline: { profile: TableProfile; version: string },
): Promise<TableProfile> {
  if (file.baselineVersion === baseline.version) return loadPartial(deps, file.partialKey);
  const { config, clients } = deps;
  const found = await findObject(clients.s3, config.dataBucket, [file.key], file.versionId);
  const { partial } = await profileCaptureFile(deps, found, baseline.profile);
  await clients.s3.send(
    new PutObjectCommand({
      Bucket: config.resultsBucket,
      Key: file.partialKey,
      Body: gzipSync(profileToJson(partial)),
      ContentType: 'application/json',
      ContentEncoding: 'gzip',
    }),
  );
  await clients.documents.send(
    new UpdateCommand({
      TableName: storage.table,
      Key: { pk: file.pk, sk: file.sk },
      UpdateExpression: 'SET baselineVersion = :version',
      ExpressionAttributeValues: { ':version': baseline.version },
    }),
  );
  deps.logger.info('Capture file profiled again: the baseline profile changed', {
    key: file.key,
    from: file.baselineVersion ?? null,
    to: baseline.version,
  });
  return partial;
}

interface Registered {
  pk: string;
  window: { start: Date; end: Date };
  part: number;
  closesPart: boolean;
  status: PartItem['status'];
  rows: number;
  badRecords: number;
}

/** Stores the partial, assigns the file its part and records it; returns its part's status after that. */
async function registerFile(
  deps: CheckDependencies,
  storage: CaptureStorage,
  file: {
    found: S3ObjectVersion;
    endpoint: string;
    variant: string;
    time: Date;
    partial: TableProfile;
    scores: ScoresPartial | null;
    summary: { records: number; rows: number; badRecords: number; firstError: FileItem['firstError'] };
    baselineVersion: string;
  },
): Promise<Registered> {
  const { config, clients } = deps;
  const model = config.model;
  const capture = model.capture!;
  const documents = clients.documents;
  const window = windowOf(file.time, capture.windowMinutes);
  const start = compactTime(window.start);
  const pk = `${model.name}#${file.endpoint}#${file.variant}#${start}`;
  if (capture.groundTruth !== undefined) {
    // The window's variants, for its ground-truth join (ground-truth.ts), which reads their files again.
    await documents.send(
      new UpdateCommand({
        TableName: storage.table,
        Key: { pk: groundTruthPk(model.name, window.start), sk: VARIANTS_SORT_KEY },
        UpdateExpression: 'ADD variants :variant SET expiresAt = :expiresAt',
        ExpressionAttributeValues: {
          ':variant': new Set([`${file.endpoint}#${file.variant}`]),
          ':expiresAt': Math.floor(window.end.getTime() / 1000) + WINDOW_STATE_DAYS * 24 * 60 * 60,
        },
      }),
    );
  }
  const fileId = createHash('sha256')
    .update(`${file.found.key}\u0000${file.found.versionId ?? ''}`)
    .digest('hex')
    .slice(0, 24);
  const partialKey = `${PARTIALS_PREFIX}${model.name}/${file.endpoint}/${file.variant}/${start}/${fileId}.json.gz`;
  const expiresAt = Math.floor(window.end.getTime() / 1000) + WINDOW_STATE_DAYS * 24 * 60 * 60;

  // The partial first: a registered file always has one.
  await clients.s3.send(
    new PutObjectCommand({
      Bucket: config.resultsBucket,
      Key: partialKey,
      Body: gzipSync(profileToJson(file.partial)),
      ContentType: 'application/json',
      ContentEncoding: 'gzip',
    }),
  );
  if (file.scores !== null) await storeScores(deps, partialKey, file.scores);

  // Arrival order within the window's period assigns the part. A retried delivery adds its rows again,
  // which moves later part boundaries a little; the file keeps the part it was given first (below).
  const counted = await documents.send(
    new UpdateCommand({
      TableName: storage.table,
      Key: { pk, sk: 'ROWS' },
      UpdateExpression: 'ADD #rows :rows SET expiresAt = :expiresAt',
      ExpressionAttributeNames: { '#rows': 'rows' },
      ExpressionAttributeValues: { ':rows': file.partial.rows, ':expiresAt': expiresAt },
      ReturnValues: 'ALL_NEW',
    }),
  );
  const after = Number(counted.Attributes?.['rows'] ?? file.partial.rows);
  if (
    (capture.estimate !== undefined || capture.groundTruth !== undefined) &&
    counted.Attributes?.['servingModel'] === undefined
  ) {
    await recordServingModel(deps, storage, pk, file);
  }
  let { part, closesPart } = windowPart(after - file.partial.rows, file.partial.rows, capture.maxRows);
  const item: FileItem = {
    pk,
    sk: `F#${fileId}`,
    part,
    key: file.found.key,
    versionId: file.found.versionId,
    partialKey,
    time: file.time.toISOString(),
    records: file.summary.records,
    rows: file.partial.rows,
    badRecords: file.summary.badRecords,
    firstError: file.summary.firstError,
    baselineVersion: file.baselineVersion,
    expiresAt,
  };
  try {
    await documents.send(
      new PutCommand({
        TableName: storage.table,
        Item: item,
        ConditionExpression: 'attribute_not_exists(sk)',
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // Registered before (a retry, or a concurrent delivery of the same file): its part stands.
    const again = await documents.send(
      new GetCommand({ TableName: storage.table, Key: { pk, sk: `F#${fileId}` }, ConsistentRead: true }),
    );
    part = (again.Item as FileItem).part;
    closesPart = false;
  }

  // The part: created open on its first file; read after registering the file, since a part closed
  // before this write may not have listed the file (then it is late).
  let status: PartItem['status'] = 'open';
  try {
    await documents.send(
      new UpdateCommand({
        TableName: storage.table,
        Key: { pk, sk: partKey(part) },
        UpdateExpression:
          'SET #status = if_not_exists(#status, :open), #model = :model, #endpoint = :endpoint, #variant = :variant, ' +
          'windowStart = :start, windowEnd = :end, #part = :part, #version = if_not_exists(#version, :zero), ' +
          'checkedVersion = if_not_exists(checkedVersion, :zero), dueShard = if_not_exists(dueShard, :shard), ' +
          '#due = if_not_exists(#due, :due), expiresAt = :expiresAt',
        ConditionExpression: 'attribute_not_exists(pk) OR #status = :open',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#version': 'version',
          '#due': 'due',
          '#model': 'model',
          '#endpoint': 'endpoint',
          '#variant': 'variant',
          '#part': 'part',
        },
        ExpressionAttributeValues: {
          ':open': 'open',
          ':model': model.name,
          ':endpoint': file.endpoint,
          ':variant': file.variant,
          ':start': window.start.toISOString(),
          ':end': window.end.toISOString(),
          ':part': part,
          ':zero': 0,
          ':shard': OPEN_SHARD,
          ':due': new Date(window.end.getTime() + capture.graceMinutes * 60_000).toISOString(),
          ':expiresAt': expiresAt,
        },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    status = 'closed';
  }
  return {
    pk,
    window,
    part,
    closesPart,
    status,
    rows: file.partial.rows,
    badRecords: file.summary.badRecords,
  };
}

/**
 * A late capture file of a window whose labels were joined already: the window is joined again (a new
 * version, at the next sweep), so its realized performance has every captured prediction, never fewer.
 * Nothing happens when the window has no join yet (it will read the file) or none at all.
 */
async function rejoinLabels(
  deps: CheckDependencies,
  storage: CaptureStorage,
  window: { start: Date; end: Date },
): Promise<void> {
  const model = deps.config.model;
  const now = deps.now?.() ?? new Date();
  try {
    await deps.clients.documents.send(
      new UpdateCommand({
        TableName: storage.table,
        Key: { pk: groundTruthPk(model.name, window.start), sk: JOIN_SORT_KEY },
        UpdateExpression: 'SET dueShard = :shard, #due = :due ADD #version :one',
        ConditionExpression: 'joinedVersion > :zero',
        ExpressionAttributeNames: { '#due': 'due', '#version': 'version' },
        ExpressionAttributeValues: {
          ':shard': OPEN_SHARD,
          ':due': new Date(
            Math.max(now.getTime(), window.end.getTime() + model.capture!.graceMinutes * 60_000),
          ).toISOString(),
          ':one': 1,
          ':zero': 0,
        },
      }),
    );
    deps.logger.info('Late capture file: its window is joined with its labels again', {
      window: window.start.toISOString(),
    });
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * Records which SageMaker model serves the file's variant (and the champion's), once per window: the
 * endpoint config in force now, if it was already in force when the file's predictions were made (created
 * before the file's capture time). Otherwise, or when SageMaker cannot be asked, nothing is recorded (the
 * next file of the window tries again, and a check of a window without one looks the model up then).
 */
async function recordServingModel(
  deps: CheckDependencies,
  storage: CaptureStorage,
  pk: string,
  file: { endpoint: string; variant: string; time: Date },
): Promise<void> {
  let served: ServingModel;
  try {
    served = await (deps.servingModel ?? defaultServingModel())(file.endpoint, file.variant);
  } catch (error) {
    // Drift does not depend on SageMaker answering: the window's check looks the model up instead.
    deps.logger.warn('Serving model not recorded: SageMaker did not say', {
      window: pk,
      error: `${(error as Error).name}: ${(error as Error).message}`.slice(0, 500),
    });
    return;
  }
  if (served.since !== undefined && served.since.getTime() > file.time.getTime()) {
    deps.logger.warn('Serving model not recorded: the endpoint config changed after the capture', {
      window: pk,
      capturedAt: file.time.toISOString(),
      configSince: served.since.toISOString(),
    });
    return;
  }
  await deps.clients.documents.send(
    new UpdateCommand({
      TableName: storage.table,
      Key: { pk, sk: 'ROWS' },
      UpdateExpression:
        'SET servingModel = if_not_exists(servingModel, :model), champion = if_not_exists(champion, :champion), ' +
        'servingRecordedAt = if_not_exists(servingRecordedAt, :at)',
      ExpressionAttributeValues: {
        ':model': served.model,
        ':champion': served.champion,
        ':at': (deps.now?.() ?? new Date()).toISOString(),
      },
    }),
  );
}

/** The serving model a window recorded (see {@link recordServingModel}), or null. */
export async function recordedServingModel(
  deps: Pick<CheckDependencies, 'clients'>,
  storage: CaptureStorage,
  pk: string,
): Promise<RecordedServingModel> {
  const stored = await deps.clients.documents.send(
    new GetCommand({ TableName: storage.table, Key: { pk, sk: 'ROWS' }, ConsistentRead: true }),
  );
  const item = stored.Item;
  if (item === undefined || typeof item['servingModel'] !== 'string') return null;
  return {
    model: item['servingModel'],
    champion: String(item['champion']),
    recordedAt: String(item['servingRecordedAt']),
  };
}

/**
 * A part that reached `maxRows` is due now: the next sweep closes it. Not closed here, because files given
 * this part just before may still be registering; by the sweep they have, so the part is checked once.
 */
async function markFull(deps: CheckDependencies, storage: CaptureStorage, pk: string, part: number) {
  try {
    await deps.clients.documents.send(
      new UpdateCommand({
        TableName: storage.table,
        Key: { pk, sk: partKey(part) },
        UpdateExpression: 'SET #due = :now, closedBy = :rows',
        ConditionExpression: '#status = :open',
        ExpressionAttributeNames: { '#due': 'due', '#status': 'status' },
        ExpressionAttributeValues: {
          ':now': (deps.now?.() ?? new Date()).toISOString(),
          ':rows': 'rows',
          ':open': 'open',
        },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** How long a claimed check belongs to its invocation before another may take it over. */
function claimMs(deps: CheckDependencies): number {
  return deps.claimMs ?? 15 * 60_000;
}

/**
 * Closes a part that is open and checks it (`closedBy` is `rows` when it reached `maxRows` first). When another invocation closed it, checks it only if that
 * check is neither done nor still claimed (its invocation failed): a window is checked once per close.
 */
export async function closeAndCheck(
  deps: CheckDependencies,
  storage: CaptureStorage,
  pk: string,
  part: number,
  closedBy: 'time',
  messageBody: string,
): Promise<'checked' | 'done'> {
  const now = (deps.now?.() ?? new Date()).getTime();
  let item: PartItem;
  try {
    const closed = await deps.clients.documents.send(
      new UpdateCommand({
        TableName: storage.table,
        Key: { pk, sk: partKey(part) },
        UpdateExpression:
          'SET #status = :closed, closedBy = if_not_exists(closedBy, :by), claimedUntil = :until, #version = #version + :one REMOVE dueShard, #due',
        ConditionExpression: '#status = :open',
        ExpressionAttributeNames: { '#status': 'status', '#version': 'version', '#due': 'due' },
        ExpressionAttributeValues: {
          ':closed': 'closed',
          ':open': 'open',
          ':by': closedBy,
          ':until': now + claimMs(deps),
          ':one': 1,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    item = closed.Attributes as PartItem;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const claimed = await claimUnfinished(deps, storage, pk, part, now);
    if (claimed === null) return 'done';
    item = claimed;
  }
  await checkPart(deps, storage, item, messageBody);
  return 'checked';
}

/** Takes over a closed part's check that is not done and whose claim has run out; null when none is due. */
async function claimUnfinished(
  deps: CheckDependencies,
  storage: CaptureStorage,
  pk: string,
  part: number,
  now: number,
): Promise<PartItem | null> {
  const current = await deps.clients.documents.send(
    new GetCommand({ TableName: storage.table, Key: { pk, sk: partKey(part) }, ConsistentRead: true }),
  );
  const item = current.Item as PartItem | undefined;
  if (item === undefined || item.status !== 'closed' || item.checkedVersion >= item.version) return null;
  if ((item.claimedUntil ?? 0) > now) return null;
  try {
    const claimed = await deps.clients.documents.send(
      new UpdateCommand({
        TableName: storage.table,
        Key: { pk, sk: partKey(part) },
        UpdateExpression: 'SET claimedUntil = :until',
        ConditionExpression:
          '#version = :version AND (attribute_not_exists(claimedUntil) OR claimedUntil <= :now)',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':until': now + claimMs(deps), ':version': item.version, ':now': now },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return claimed.Attributes as PartItem;
  } catch (error) {
    if (isConditionFailure(error)) return null;
    throw error;
  }
}

/**
 * A file arrived after its part was checked (`late`), or an operator moved a failed window check back from
 * the dead-letter queue (`redrive`): the part is checked again, with every file it has now.
 */
export async function recheckClosed(
  deps: CheckDependencies,
  storage: CaptureStorage,
  pk: string,
  part: number,
  messageBody: string,
  reason: 'late' | 'redrive' = 'late',
): Promise<void> {
  const now = (deps.now?.() ?? new Date()).getTime();
  const updated = await deps.clients.documents.send(
    new UpdateCommand({
      TableName: storage.table,
      Key: { pk, sk: partKey(part) },
      UpdateExpression: `SET closedBy = :late, claimedUntil = :until ADD #version :one${reason === 'late' ? ', lateFiles :one' : ''}`,
      ConditionExpression: '#status = :closed',
      ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
      ExpressionAttributeValues: {
        ':late': reason,
        ':until': now + claimMs(deps),
        ':one': 1,
        ':closed': 'closed',
      },
      ReturnValues: 'ALL_NEW',
    }),
  );
  await checkPart(deps, storage, updated.Attributes as PartItem, messageBody);
}

/**
 * Every `F#` item of a window (its files: capture files, or label files for a ground-truth window), one
 * consistent paginated Query.
 */
export async function windowFileItems<Item>(
  deps: Pick<CheckDependencies, 'clients'>,
  storage: CaptureStorage,
  pk: string,
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.clients.documents.send(
      new QueryCommand({
        TableName: storage.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :files)',
        ExpressionAttributeValues: { ':pk': pk, ':files': 'F#' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

function byCaptureTime(a: FileItem, b: FileItem): number {
  return a.time < b.time ? -1 : a.time > b.time ? 1 : a.key < b.key ? -1 : 1;
}

/** Every capture file registered with a window (all its parts), in capture-time order. */
export async function windowFiles(
  deps: Pick<CheckDependencies, 'clients'>,
  storage: CaptureStorage,
  pk: string,
): Promise<{ key: string; versionId: string | null; time: string }[]> {
  return (await windowFileItems<FileItem>(deps, storage, pk)).sort(byCaptureTime);
}

/** The files of one part of a window, in capture-time order. */
async function partFiles(deps: CheckDependencies, storage: CaptureStorage, pk: string, part: number) {
  const files = await windowFileItems<FileItem>(deps, storage, pk);
  return files.filter((item) => item.part === part).sort(byCaptureTime);
}

async function loadPartial(deps: CheckDependencies, key: string): Promise<TableProfile> {
  const object = await deps.clients.s3.send(
    new GetObjectCommand({ Bucket: deps.config.resultsBucket, Key: key }),
  );
  const bytes = await object.Body!.transformToByteArray();
  const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : Buffer.from(bytes)).toString(
    'utf8',
  );
  return profileFromJson(text, key);
}

/** Merges a part's partials (a batch at a time, so memory does not grow with the window) and records the check. */
async function checkPart(
  deps: CheckDependencies,
  storage: CaptureStorage,
  item: PartItem,
  messageBody: string,
): Promise<void> {
  const { config } = deps;
  const model = config.model;
  const capture = model.capture!;
  const windowKey = `${capture.prefix}${item.endpoint}/${item.variant}/window-${compactTime(new Date(item.windowStart))}${item.part > 0 ? `-part${item.part}` : ''}`;
  const pseudoObject = unannouncedObject(config.dataBucket, windowKey);
  try {
    const started = performance.now();
    const files = await partFiles(deps, storage, item.pk, item.part);
    if (files.length === 0) throw new InputError({ file: windowKey }, 'the window has no capture files');
    const versioned = await deps.baselines.loadVersioned(config.dataBucket, model.baselineProfileKey);
    const baseline = versioned.profile;
    const { options, resolved } = captureColumns(deps, baseline);
    const name = `${item.endpoint}/${item.variant} ${item.windowStart} to ${item.windowEnd}${item.part > 0 ? ` part ${item.part}` : ''}`;
    let merged: TableProfile | null = null;
    for (let at = 0; at < files.length; at += MERGE_BATCH) {
      const batch = await Promise.all(
        files.slice(at, at + MERGE_BATCH).map((file) => partialAsOf(deps, storage, file, versioned)),
      );
      try {
        merged = mergeTableProfiles(merged === null ? batch : [merged, ...batch], { name });
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        // The baseline's column options changed while the window's files were profiled.
        throw new ConfigError(
          model.baselineProfileKey,
          `the window's files cannot be merged: ${error.message}`,
        );
      }
    }
    const currentDone = performance.now();
    const report = computeDriftReport(baseline, merged!, options, resolved);
    report.metadata = {
      specVersion: options.fdr === undefined ? 1 : 2,
      ...(options.fdr === undefined
        ? {}
        : { fdr: options.fdr, minEffect: { ...DEFAULT_MIN_EFFECT, ...options.minEffect } }),
      generatedAt: new Date().toISOString(),
      baseline: { name: baseline.name, kind: 'profile' },
      current: { name },
      driftShareThreshold: model.driftShare,
      segmentColumn: resolved.segment,
      sampleCap: merged!.options.sampleCap,
      sampleSeed: resolved.seed,
      timings: {
        baselineMs: 0,
        currentMs: Math.round(currentDone - started),
        computeMs: Math.round(performance.now() - currentDone),
      },
    };
    const firstBad = files.find((file) => file.firstError !== null);
    const label: CaptureWindowLabel = {
      endpoint: item.endpoint,
      variant: item.variant,
      start: item.windowStart,
      end: item.windowEnd,
      part: item.part,
      version: item.version,
      closedBy: item.closedBy ?? 'time',
      files: files.length,
      rows: merged!.rows,
      badRecords: files.reduce((sum, file) => sum + file.badRecords, 0),
      firstBadRecord: firstBad ? { key: firstBad.key, ...firstBad.firstError! } : null,
    };
    await recordSuccess(
      deps,
      { etag: null },
      { bucket: config.dataBucket, key: windowKey, versionId: null, etag: null, size: 0 },
      report,
      label,
    );
    if (capture.estimate) {
      await estimateWindow(
        { ...deps, servingModel: deps.servingModel ?? defaultServingModel() },
        label,
        files.map((file) => file.partialKey),
        windowKey,
        await recordedServingModel(deps, storage, item.pk),
      );
    }
  } catch (error) {
    if (!isPermanentFailure(error)) throw error;
    await recordFailure(deps, pseudoObject, windowKey, error, messageBody);
  }
  // Done: a later duplicate of the request finds nothing to do.
  try {
    await deps.clients.documents.send(
      new UpdateCommand({
        TableName: storage.table,
        Key: { pk: item.pk, sk: item.sk },
        UpdateExpression: 'SET checkedVersion = :version',
        ConditionExpression: 'checkedVersion < :version',
        ExpressionAttributeValues: { ':version': item.version },
      }),
    );
  } catch (error) {
    // A newer check (a later late file) finished first.
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * The engine's sweep: every part whose window (plus grace) is over and that is still open gets a message
 * on the drift queue, so each is closed and checked in its own invocation, with its own retries and
 * dead-letter path. Returns how many were queued.
 */
export async function sweepDueWindows(
  deps: Pick<CheckDependencies, 'clients' | 'logger' | 'now'>,
  storage: CaptureStorage,
): Promise<number> {
  const now = (deps.now?.() ?? new Date()).toISOString();
  let queued = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.clients.documents.send(
      new QueryCommand({
        TableName: storage.table,
        IndexName: DUE_INDEX,
        KeyConditionExpression: 'dueShard = :open AND #due <= :now',
        ExpressionAttributeNames: { '#due': 'due' },
        ExpressionAttributeValues: { ':open': OPEN_SHARD, ':now': now },
        ExclusiveStartKey: start,
      }),
    );
    // The index holds keys only: the model and part are in them. A `JOIN` item is a window's labels.
    const items = (page.Items ?? []).map((key) => ({
      pk: String(key['pk']),
      model: String(key['pk']).split('#')[0]!,
      join: key['sk'] === JOIN_SORT_KEY,
      part: Number(String(key['sk']).slice(2)),
    }));
    for (let at = 0; at < items.length; at += 10) {
      const batch = items.slice(at, at + 10);
      const response = await deps.clients.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: storage.queueUrl,
          Entries: batch.map((item, i) => ({
            Id: String(i),
            MessageBody: JSON.stringify(
              item.join
                ? ({
                    driftwatch: 'ground-truth-join',
                    model: item.model,
                    pk: item.pk,
                  } satisfies GroundTruthJoinMessage)
                : ({
                    driftwatch: 'capture-window',
                    model: item.model,
                    pk: item.pk,
                    part: item.part,
                  } satisfies WindowMessage),
            ),
          })),
        }),
      );
      if ((response.Failed?.length ?? 0) > 0) {
        // Thrown, so the sweep message is retried; duplicates of the windows already queued are harmless.
        throw new Error(
          `SQS refused ${response.Failed!.length} window messages: ${response.Failed![0]!.Code}`,
        );
      }
      queued += batch.length;
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  deps.logger.info('Capture windows due', { queued });
  return queued;
}
