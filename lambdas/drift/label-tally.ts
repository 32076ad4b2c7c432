/**
 * Labels of predictions never captured, counted once per label file.
 *
 * A label file is registered with every window it may label: the window(s) of its `yyyy/mm/dd/hh` hour, or,
 * outside that layout, every window of the last `maxDelayHours`. A label matching no prediction of one of
 * those windows may match one of another, so no single join can tell that it is uncaptured. Each window's
 * join therefore records which of the file's labels it matched (a bitset over the file's label records, in
 * the results bucket), and the join that completes the file's windows ORs them: the labels no window matched
 * are counted as uncaptured, **once**: one report, one history item (`kind: labels`) and one
 * `UncapturedLabels` point, whichever window finished last and however often windows are joined again.
 * A window joined again after the count (a late capture file) may match labels counted as uncaptured: the
 * file is recounted, its report and tally corrected and a history item added (`recountedAt`), without a
 * second `UncapturedLabels` point (the metric counts each file once, when first counted).
 *
 * State: `<model>#label-file#<file id>` / `TALLY` in the capture table: the file, the set of its windows
 * (written before any of them is registered, so a join never sees fewer than all), the set of windows joined,
 * each window's number of matched labels (`matched#<window start>`) and, once counted, the counts and
 * `countedAt` (a conditional write: the first count happens once).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { compactTime } from '../core/drift/capture-window.ts';
import type { LabelIndex } from '../core/performance/ground-truth.ts';
import {
  CAPTURE,
  DIMENSION,
  type HistoryItem,
  type LabelFileTally,
  labelFileReportKey,
  METRIC,
} from '../shared/contract.ts';
import { historyHead, putHistoryItem } from '../shared/history.ts';
import { metricPoint, publishMetricPoints } from '../shared/metrics.ts';
import { putJsonObject } from '../shared/publish.ts';
import type { CaptureStorage } from './capture.ts';
import type { CheckDependencies } from './check-object.ts';

const TALLY_SORT_KEY = 'TALLY';

/** The capture table's partition of one label file's tally. */
export const labelFilePk = (model: string, fileId: string) => `${model}#label-file#${fileId}`;

/** The key of one window's matches of one label file, in the results bucket. */
export const matchesKey = (model: string, fileId: string, start: Date) =>
  `${CAPTURE.labelMatchesPrefix}${model}/${fileId}/${compactTime(start)}.bits.gz`;

/**
 * Registers a label file's windows with its tally (before the windows register the file: a join that runs
 * meanwhile must not find the file's windows incomplete).
 */
export async function registerLabelFile(
  deps: Pick<CheckDependencies, 'clients'>,
  storage: CaptureStorage,
  file: {
    model: string;
    fileId: string;
    key: string;
    versionId: string | null;
    arrivedAt: Date;
    starts: Date[];
    expiresAt: number;
  },
): Promise<void> {
  await deps.clients.documents.send(
    new UpdateCommand({
      TableName: storage.table,
      Key: { pk: labelFilePk(file.model, file.fileId), sk: TALLY_SORT_KEY },
      UpdateExpression:
        'SET #key = :key, versionId = :versionId, arrivedAt = if_not_exists(arrivedAt, :arrivedAt), expiresAt = :expiresAt ADD windows :windows',
      ExpressionAttributeNames: { '#key': 'key' },
      ExpressionAttributeValues: {
        ':key': file.key,
        ':versionId': file.versionId,
        ':arrivedAt': file.arrivedAt.toISOString(),
        ':expiresAt': file.expiresAt,
        ':windows': new Set(file.starts.map((start) => start.toISOString())),
      },
    }),
  );
}

/** What one join read of one label file: its label records' ids, in order, and each record's label count. */
export interface LabelFileRecords {
  fileId: string;
  key: string;
  ids: string[];
  labels: number[];
}

/** Starts recording the records `index` is given (one label file's), for {@link tallyWindow}. */
export function recordLabels(index: LabelIndex, file: { fileId: string; key: string }): LabelFileRecords {
  const records: LabelFileRecords = { ...file, ids: [], labels: [] };
  index.onAdd = (id, labels) => {
    records.ids.push(id);
    records.labels.push(labels);
  };
  return records;
}

/** Labels records marked in a window's matches. */
function matchedCount(bits: Uint8Array): number {
  let count = 0;
  for (const byte of bits) {
    for (let b = byte; b !== 0; b &= b - 1) count++;
  }
  return count;
}

function bitsOf(records: LabelFileRecords, index: LabelIndex): Uint8Array {
  const bits = new Uint8Array(Math.ceil(records.ids.length / 8));
  records.ids.forEach((id, i) => {
    // Matching is by id: the id's entry is marked used when any captured row of the window took its label.
    if (index.entries.get(id)?.used === true) bits[i >> 3]! |= 1 << (i & 7);
  });
  return bits;
}

interface TallyItem {
  key: string;
  versionId: string | null;
  arrivedAt: string;
  windows?: Set<string>;
  joined?: Set<string>;
  countedAt?: string;
  /** The count as last recorded (set with `countedAt`). */
  uncaptured?: number;
}

/**
 * After a window's join: stores which labels of each of its label files the window matched, marks the
 * window joined for each file, and counts the files whose every window is joined now (or recounts a file
 * counted before whose count this join changed). Returns the tallies counted or recounted by this call.
 */
export async function tallyWindow(
  deps: CheckDependencies,
  storage: CaptureStorage,
  start: Date,
  files: readonly LabelFileRecords[],
  index: LabelIndex,
): Promise<LabelFileTally[]> {
  const { config, clients } = deps;
  const model = config.model.name;
  const counted: LabelFileTally[] = [];
  for (const records of files) {
    const bits = bitsOf(records, index);
    // Kept even for a file of one window: a retried delivery may have given it more (see registerLabelFile).
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: config.resultsBucket,
        Key: matchesKey(model, records.fileId, start),
        Body: gzipSync(bits),
        ContentType: 'application/octet-stream',
      }),
    );
    // How many of the file's labels this window matched, kept per window: a window joined again after the
    // count (a late capture file) recounts the file only when it matched more.
    const matchedHere = matchedCount(bits);
    const matchedAttribute = `matched#${start.toISOString()}`;
    const previous = await clients.documents
      .send(
        new UpdateCommand({
          TableName: storage.table,
          Key: { pk: labelFilePk(model, records.fileId), sk: TALLY_SORT_KEY },
          UpdateExpression: 'ADD joined :start SET #matchedHere = :matchedHere',
          // A file registered before tallies existed has none: it is not counted (its windows' reports are).
          ConditionExpression: 'attribute_exists(windows)',
          ExpressionAttributeNames: { '#matchedHere': matchedAttribute },
          ExpressionAttributeValues: {
            ':start': new Set([start.toISOString()]),
            ':matchedHere': matchedHere,
          },
          ReturnValues: 'ALL_OLD',
        }),
      )
      .catch((error: unknown) => {
        if ((error as Error).name === 'ConditionalCheckFailedException') return null;
        throw error;
      });
    const old = previous?.Attributes as (TallyItem & Record<string, unknown>) | undefined;
    if (old === undefined) continue;
    if (old.countedAt !== undefined && old[matchedAttribute] === matchedHere) continue;
    const item: TallyItem = { ...old, joined: new Set([...(old.joined ?? []), start.toISOString()]) };
    const windows = [...(item.windows ?? [])].sort();
    if (!windows.every((window) => item.joined?.has(window))) continue;
    const tally = await countFile(deps, storage, records, bits, start, windows, item);
    if (tally !== null) counted.push(tally);
  }
  return counted;
}

/**
 * ORs the matches of every window of a file and counts its uncaptured labels: records the first count, or
 * corrects an earlier one this join changed. Null when another join counted first or nothing changed.
 */
async function countFile(
  deps: CheckDependencies,
  storage: CaptureStorage,
  records: LabelFileRecords,
  own: Uint8Array,
  start: Date,
  windows: string[],
  item: TallyItem,
): Promise<LabelFileTally | null> {
  const { config, clients } = deps;
  const model = config.model.name;
  const matched = Uint8Array.from(own);
  for (const window of windows) {
    if (window === start.toISOString()) continue;
    const object = await clients.s3.send(
      new GetObjectCommand({
        Bucket: config.resultsBucket,
        Key: matchesKey(model, records.fileId, new Date(window)),
      }),
    );
    const bits = gunzipSync(await object.Body!.transformToByteArray());
    for (let at = 0; at < Math.min(bits.length, matched.length); at++) matched[at]! |= bits[at]!;
  }
  // The last record of an id is its label (as in a join); every record of an id matches alike.
  const seen = new Set<string>();
  let labels = 0;
  let uncaptured = 0;
  let uncapturedIds = 0;
  for (let i = records.ids.length - 1; i >= 0; i--) {
    const id = records.ids[i]!;
    if (seen.has(id)) continue;
    seen.add(id);
    labels += records.labels[i]!;
    if ((matched[i >> 3]! & (1 << (i & 7))) === 0) {
      uncaptured += records.labels[i]!;
      uncapturedIds++;
    }
  }
  const now = (deps.now?.() ?? new Date()).toISOString();
  const recount = item.countedAt !== undefined;
  if (recount && uncaptured === item.uncaptured) return null;
  const countedAt = item.countedAt ?? now;
  const reportKey = labelFileReportKey(config.reportsPrefix, model, records.fileId);
  const tally: LabelFileTally = {
    model,
    labelFile: { key: item.key, versionId: item.versionId ?? null, arrivedAt: item.arrivedAt },
    windows: windows.length,
    firstWindow: windows[0]!,
    lastWindow: windows[windows.length - 1]!,
    records: records.ids.length,
    ids: seen.size,
    labels,
    matched: labels - uncaptured,
    uncaptured,
    uncapturedIds,
    duplicates: records.ids.length - seen.size,
    countedAt,
    ...(recount && { recountedAt: now }),
    reportKey,
  };
  // The report first (its key is the file's): a count claimed below always has its report.
  await putJsonObject(clients.s3, config.resultsBucket, reportKey, tally);
  try {
    await clients.documents.send(
      new UpdateCommand({
        TableName: storage.table,
        Key: { pk: labelFilePk(model, records.fileId), sk: TALLY_SORT_KEY },
        UpdateExpression:
          'SET countedAt = :at, uncaptured = :uncaptured, matched = :matched, labels = :labels',
        // The first count happens once; a recount corrects the count it read (a concurrent one loses).
        ConditionExpression: recount ? 'uncaptured = :previous' : 'attribute_not_exists(countedAt)',
        ExpressionAttributeValues: {
          ':at': countedAt,
          ':uncaptured': uncaptured,
          ':matched': tally.matched,
          ':labels': labels,
          ...(recount && { ':previous': item.uncaptured }),
        },
      }),
    );
  } catch (error) {
    // Another window's join counted it first (or recounted it meanwhile: it wrote the same report).
    if ((error as Error).name === 'ConditionalCheckFailedException') return null;
    throw error;
  }
  const history: HistoryItem = {
    ...historyHead(
      { model, kind: 'labels', status: 'succeeded', checkedAt: now },
      { bucket: config.dataBucket, key: item.key, versionId: item.versionId ?? null, etag: null },
    ),
    reportKey,
    labelFile: tally,
  };
  await putHistoryItem(clients.documents, config.historyTable, history);
  if (recount) {
    deps.logger.info('Label file recounted: a window joined again matched labels counted as uncaptured', {
      key: item.key,
      labels,
      matched: tally.matched,
      uncaptured,
      previouslyUncaptured: item.uncaptured,
    });
    return tally;
  }
  publishMetricPoints(deps.metrics, [
    metricPoint(METRIC.uncapturedLabels, uncaptured, { [DIMENSION.model]: model }),
  ]);
  deps.logger.info('Label file counted', {
    key: item.key,
    windows: windows.length,
    labels,
    matched: tally.matched,
    uncaptured,
  });
  return tally;
}
