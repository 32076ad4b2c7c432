/**
 * Delayed ground truth joined to captured predictions. Labels come as SageMaker's ground-truth records
 * (JSON Lines, as Model Monitor reads them) or as any table (CSV, JSON Lines, Parquet) with an id column and a
 * label column:
 *
 * ```json
 * {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "…"}, "eventVersion": "0"}
 * ```
 *
 * `encoding` is `CSV`, `JSON` or `BASE64` as in capture records. A label's id is matched with a captured
 * prediction's `inferenceId` when the capture record has one, else its `eventId` (Model Monitor's rule). A
 * record whose data holds several labels (CSV lines or fields, a JSON array) labels the rows of a captured
 * request holding several rows, in order.
 *
 * Duplicated labels (the same id again): the **last** one wins, by file order (files sorted by path, which
 * is time order in SageMaker's `yyyy/mm/dd/hh` layout) then line order; every replaced one is counted.
 * Labels whose id matches no captured prediction are counted as uncaptured. A record that cannot be used is
 * a bad record, counted per file with the first one's line; a file with more than `maxBadShare` bad records
 * fails with an {@link InputError} naming it.
 */
import { isMissingText } from '../drift/values.ts';
import { ConfigError, InputError, ValueError } from '../errors.ts';
import { DEFAULT_MAX_BAD_SHARE } from '../readers/capture.ts';
import { maybeGunzip } from '../readers/decompress.ts';
import type { TableInput } from '../readers/input.ts';
import { peek } from '../readers/peek.ts';
import { type ReadTableOptions, readTable } from '../readers/read-table.ts';
import { forEachLine } from '../readers/text-lines.ts';
import type { CellValue, ReadOptions, TableSink } from '../readers/types.ts';
import { quantileLinear } from '../stats/quantile.ts';
import { type EvaluateOptions, PerformanceAccumulator, resolveEvaluateOptions } from './evaluate.ts';
import { METRIC_NAMES, type MetricName } from './metrics.ts';
import type { PerformanceReport } from './report.ts';

/** @default id column of a label table */
export const DEFAULT_GROUND_TRUTH_ID = 'inferenceId';
/** @default label column of a label table */
export const DEFAULT_GROUND_TRUTH_LABEL = 'label';

export interface GroundTruthOptions {
  /** The id column of a label table (not used for SageMaker ground-truth records). @default 'inferenceId' */
  idColumn?: string;
  /** The label column of a label table. @default 'label' */
  labelColumn?: string;
  /** Optional column of a label table with the time the label was known (ISO 8601 or epoch seconds). */
  timeColumn?: string | null;
  /** Largest share of bad records a file may have; above it the file fails. @default 0.01 */
  maxBadShare?: number;
}

/** What reading one label file found. */
export interface LabelFileSummary {
  file: string;
  format: 'sagemaker' | 'csv' | 'jsonl' | 'parquet';
  records: number;
  labels: number;
  badRecords: number;
  /** Where and why the first bad record is bad (`line` is the data row for a table); null when none is. */
  firstError: { line: number; reason: string } | null;
}

interface LabelEntry {
  /** The labels of the id, in the order of the captured request's rows (one for a one-row request). */
  labels: string[];
  /** Epoch ms the label was known; NaN when unknown. */
  time: number;
  used: boolean;
  /** Whether an unmatched label counts as uncaptured (see {@link LabelIndex.expectCaptured}). */
  expected: boolean;
  /** The {@link LabelIndex.source} it was read with. */
  source: string;
}

/** A captured prediction that got its label, for whoever watches the join (the engine's feedback loop). */
export interface JoinedOutcome {
  id: string;
  label: string;
  score: CellValue;
  segment: CellValue;
  /** Epoch ms of the prediction's `inferenceTime`; NaN when unknown. */
  time: number;
  /** The label file's {@link LabelIndex.source}. */
  source: string;
}

/** Labels by prediction id, the last one of each id kept. */
export class LabelIndex {
  readonly entries = new Map<string, LabelEntry>();
  /** Label records replaced by a later one for the same id. */
  duplicates = 0;
  /** Label records read (bad ones excluded). */
  records = 0;
  readonly files: LabelFileSummary[] = [];
  /**
   * Whether the labels added next belong to the predictions joined with them, so an unmatched one is a
   * label of a prediction never captured. False for a file that may label other windows (the engine's
   * files outside the `yyyy/mm/dd/hh` layout, joined to every window they may belong to).
   */
  expectCaptured = true;
  /** A tag of the labels added next (the engine: the label file's id), passed on to joined outcomes. */
  source = '';
  /** Told of every label record added (its id and label count): the engine's per-file tally. */
  onAdd: ((id: string, labels: number) => void) | null = null;

  add(id: string, labels: string[], time: number): void {
    this.records++;
    if (this.entries.has(id)) this.duplicates++;
    // Re-inserted, so the map's order stays that of the winning records.
    this.entries.delete(id);
    this.entries.set(id, { labels, time, used: false, expected: this.expectCaptured, source: this.source });
    this.onAdd?.(id, labels.length);
  }

  /** Labels never joined to a captured prediction (after a join). */
  uncaptured(): number {
    let count = 0;
    for (const entry of this.entries.values())
      if (!entry.used && entry.expected) count += entry.labels.length;
    return count;
  }
}

class BadRecord extends Error {}

const GROUND_TRUTH_HEAD = /^\uFEFF?\s*\{\s*"groundTruthData"\s*:/;

/** Whether the first bytes of a (decompressed) file are a SageMaker ground-truth record. */
export function isGroundTruthHead(head: Uint8Array): boolean {
  return GROUND_TRUTH_HEAD.test(new TextDecoder().decode(head.subarray(0, 1024)));
}

/** Epoch ms of an ISO 8601 time or of epoch seconds; NaN when neither. */
export function parseTime(value: CellValue): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value * 1000 : Number.NaN;
  if (typeof value !== 'string' || value.trim() === '') return Number.NaN;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value) * 1000;
  return Date.parse(value);
}

function labelText(value: unknown): string | null {
  if (typeof value === 'string') return isMissingText(value) ? null : value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'boolean') return String(value);
  return null;
}

/** The labels of one SageMaker ground-truth record's data. @throws BadRecord */
function decodeLabels(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new BadRecord('groundTruthData: expected an object');
  const { data, encoding } = value as Record<string, unknown>;
  if (typeof data !== 'string') throw new BadRecord('groundTruthData.data: expected a string');
  let text: string;
  if (encoding === 'BASE64') {
    const compact = data.replace(/\s+/g, '');
    if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact))
      throw new BadRecord('groundTruthData.data: undecodable base64');
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(compact, 'base64'));
    } catch {
      throw new BadRecord('groundTruthData.data: the base64 bytes are not UTF-8 text');
    }
  } else if (encoding === 'CSV' || encoding === 'JSON') {
    text = data;
  } else {
    throw new BadRecord(
      `groundTruthData.encoding: expected CSV, JSON or BASE64, got ${JSON.stringify(encoding)}`,
    );
  }
  let labels: (string | null)[];
  const json = encoding === 'JSON' || (encoding === 'BASE64' && /^\s*[[{]/.test(text));
  if (json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new BadRecord('groundTruthData.data: not JSON');
    }
    const items = Array.isArray(parsed) ? parsed : [parsed];
    labels = items.map((item) =>
      item !== null && typeof item === 'object' && !Array.isArray(item)
        ? labelText((item as Record<string, unknown>)['label'])
        : labelText(item),
    );
  } else {
    const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
    const fields = lines.length === 1 ? lines[0]!.split(',') : lines;
    labels = fields.map((field) => labelText(field.trim().replace(/^"(.*)"$/, '$1')));
  }
  if (labels.length === 0 || labels.some((label) => label === null))
    throw new BadRecord('groundTruthData.data: a label is missing');
  return labels as string[];
}

function finishFile(summary: LabelFileSummary, maxBadShare: number, index: LabelIndex): LabelFileSummary {
  index.files.push(summary);
  if (summary.records > 0 && summary.badRecords > maxBadShare * summary.records) {
    const first = summary.firstError!;
    throw new InputError(
      { file: summary.file },
      `${summary.badRecords} of ${summary.records} label records are bad (more than the ${maxBadShare * 100}% ` +
        `allowed); the first, on ${summary.format === 'sagemaker' ? 'line' : 'row'} ${first.line}: ${first.reason}`,
    );
  }
  return summary;
}

/** Reads a file of SageMaker ground-truth records (already decompressed) into the index. */
async function readSageMakerLabels(
  name: string,
  stream: AsyncIterable<Uint8Array>,
  index: LabelIndex,
  arrivedAt: number,
): Promise<LabelFileSummary> {
  const summary: LabelFileSummary = {
    file: name,
    format: 'sagemaker',
    records: 0,
    labels: 0,
    badRecords: 0,
    firstError: null,
  };
  let line = 0;
  const handle = (text: string) => {
    line++;
    if (text.trim() === '') return;
    summary.records++;
    try {
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch {
        throw new BadRecord('not JSON');
      }
      if (record === null || typeof record !== 'object') throw new BadRecord('expected a JSON object');
      const { groundTruthData, eventMetadata } = record as Record<string, unknown>;
      const id =
        eventMetadata !== null && typeof eventMetadata === 'object'
          ? (eventMetadata as Record<string, unknown>)['eventId']
          : undefined;
      if (typeof id !== 'string' || id === '')
        throw new BadRecord('eventMetadata.eventId: expected a string');
      const labels = decodeLabels(groundTruthData);
      index.add(id, labels, arrivedAt);
      summary.labels += labels.length;
    } catch (error) {
      if (!(error instanceof BadRecord)) throw error;
      summary.badRecords++;
      summary.firstError ??= { line, reason: error.message };
    }
  };
  await forEachLine(stream, handle);
  return summary;
}

/** Collects id, label and time of a label table. */
class LabelTableSink implements TableSink {
  private readonly names: string[] = [];
  private idIndex = -1;
  private labelIndex = -1;
  private timeIndex = -1;
  private id: string | null = null;
  private label: string | null = null;
  private time = Number.NaN;
  /** The time cell of the row held text that is no time (the row is then a bad record). */
  private badTime: string | null = null;
  row = 0;
  readonly summary: LabelFileSummary;

  private readonly index: LabelIndex;
  private readonly options: { idColumn: string; labelColumn: string; timeColumn: string | null };
  private readonly arrivedAt: number;

  constructor(
    index: LabelIndex,
    options: { idColumn: string; labelColumn: string; timeColumn: string | null },
    arrivedAt: number,
    name: string,
  ) {
    this.index = index;
    this.options = options;
    this.arrivedAt = arrivedAt;
    this.summary = { file: name, format: 'csv', records: 0, labels: 0, badRecords: 0, firstError: null };
  }

  column(name: string): number {
    const at = this.names.length;
    this.names.push(name);
    if (name === this.options.idColumn) this.idIndex = at;
    if (name === this.options.labelColumn) this.labelIndex = at;
    if (name === this.options.timeColumn) this.timeIndex = at;
    return at;
  }

  bytes(column: number, buf: Uint8Array, start: number, end: number): void {
    if (column === this.idIndex || column === this.labelIndex || column === this.timeIndex)
      this.value(column, Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8'));
  }

  value(column: number, value: CellValue): void {
    if (column === this.idIndex) this.id = labelText(value);
    if (column === this.labelIndex) this.label = labelText(value);
    if (column === this.timeIndex) {
      this.time = parseTime(value);
      // An empty cell falls back to the file's arrival; text that is no time is a bad record.
      this.badTime =
        Number.isNaN(this.time) && value !== null && !(typeof value === 'string' && isMissingText(value))
          ? String(value).slice(0, 40)
          : null;
    }
  }

  endRow(): void {
    this.row++;
    this.summary.records++;
    const { id, label } = this;
    this.id = null;
    this.label = null;
    const time = Number.isNaN(this.time) ? this.arrivedAt : this.time;
    const badTime = this.badTime;
    this.time = Number.NaN;
    this.badTime = null;
    if (id === null || label === null || badTime !== null) {
      this.summary.badRecords++;
      this.summary.firstError ??= {
        line: this.row,
        reason:
          id === null || label === null
            ? `${id === null ? this.options.idColumn : this.options.labelColumn} is missing`
            : `${this.options.timeColumn}: ${JSON.stringify(badTime)} is not a time (ISO 8601 or epoch seconds)`,
      };
      return;
    }
    this.index.add(id, [label], time);
    this.summary.labels++;
  }

  /** @throws ConfigError when the id or label column is not in the table */
  check(): void {
    for (const [column, field, at] of [
      [this.options.idColumn, '--ground-truth-id', this.idIndex],
      [this.options.labelColumn, '--ground-truth-label', this.labelIndex],
    ] as const) {
      if (at < 0) {
        throw new ConfigError(
          field,
          `column ${JSON.stringify(column)} is not in ${this.summary.file} (columns: ${this.names.join(', ')})`,
        );
      }
    }
  }
}

/**
 * Reads one label file (SageMaker ground-truth records or a table, optionally gzip) into `index`.
 *
 * @param arrivedAt epoch ms the labels were known when a record does not say (the S3 object's time); NaN: unknown.
 * @throws InputError when too many records are bad; ConfigError when a table lacks the id or label column.
 */
export async function readLabelFile(
  input: TableInput,
  index: LabelIndex,
  options: GroundTruthOptions = {},
  readOptions: Omit<ReadOptions, 'name'> = {},
  arrivedAt = Number.NaN,
): Promise<LabelFileSummary> {
  const maxBadShare = options.maxBadShare ?? DEFAULT_MAX_BAD_SHARE;
  const { stream } = await maybeGunzip(input.open(), {
    name: input.name,
    maxDecompressedBytes: readOptions.maxDecompressedBytes,
  });
  const { head, stream: data } = await peek(stream, 1024);
  if (isGroundTruthHead(head)) {
    return finishFile(await readSageMakerLabels(input.name, data, index, arrivedAt), maxBadShare, index);
  }
  const sink = new LabelTableSink(
    index,
    {
      idColumn: options.idColumn ?? DEFAULT_GROUND_TRUTH_ID,
      labelColumn: options.labelColumn ?? DEFAULT_GROUND_TRUTH_LABEL,
      timeColumn: options.timeColumn ?? null,
    },
    arrivedAt,
    input.name,
  );
  // The bytes were read once to look at them: the table reader gets the same bytes again.
  const replayed: TableInput = { name: input.name, open: () => data };
  const { format } = await readTable(replayed, sink, readOptions);
  sink.check();
  sink.summary.format = format;
  return finishFile(sink.summary, maxBadShare, index);
}

/** The label delay distribution of a join, in seconds (label time minus inference time). */
export interface DelayDistribution {
  /** Joined labels whose delay is known. */
  count: number;
  p50: number;
  p90: number;
  max: number;
}

/** What joining labels to captured predictions found: docs/performance-spec.md, version 2, `groundTruth`. */
export interface GroundTruthJoin {
  /** Captured prediction rows. */
  captured: number;
  /** Captured rows with a label. */
  joined: number;
  /** joined / captured; null without captured rows. */
  coverage: number | null;
  /** Labels (after de-duplication) whose id matches no captured prediction. */
  uncaptured: number;
  /** Label records replaced by a later one for the same id (the last by file order, then line, wins). */
  duplicates: number;
  /** Label records left out as bad, and the first of them. */
  badRecords: number;
  firstBadRecord: { file: string; line: number; reason: string } | null;
  /** null when no joined label has both its time and the prediction's `inferenceTime`. */
  delaySeconds: DelayDistribution | null;
}

/** What {@link GroundTruthJoinSink} passes on for each joined row. */
export interface JoinWatch {
  score: string;
  segment: string | null;
  onJoined(outcome: JoinedOutcome): void;
}

/** A performance report of joined rows: the spec's report with the join's summary. */
export interface JoinedPerformanceReport extends PerformanceReport {
  groundTruth: GroundTruthJoin;
}

/**
 * A {@link TableSink} between a capture reader and the sink evaluating it: passes every captured column on
 * and adds the label column, the joined label of the row's id.
 */
export class GroundTruthJoinSink implements TableSink {
  private readonly forward: number[] = [];
  private readonly byName = new Map<string, number>();
  private inferenceIdAt = -1;
  private eventIdAt = -1;
  private timeAt = -1;
  private readonly labelAt: number;
  private inferenceId: string | null = null;
  private eventId: string | null = null;
  private inferenceTime: CellValue = null;
  private previousRecord: string | null = null;
  private rowInRecord = 0;
  captured = 0;
  joined = 0;
  private delays: number[] = [];

  private readonly inner: TableSink;
  private readonly index: LabelIndex;
  private readonly labelColumn: string;
  private readonly watch: JoinWatch | null;
  private scoreAt = -1;
  private segmentAt = -1;
  private score: CellValue = null;
  private segment: CellValue = null;

  /** @param watch columns to pass with every joined row to `onJoined` (the engine's feedback loop) */
  constructor(inner: TableSink, index: LabelIndex, labelColumn: string, watch: JoinWatch | null = null) {
    this.inner = inner;
    this.index = index;
    this.labelColumn = labelColumn;
    this.watch = watch;
    this.labelAt = inner.column(labelColumn);
  }

  column(name: string): number {
    if (name === this.labelColumn) {
      throw new ConfigError(
        '--label',
        `the capture already has a column ${JSON.stringify(name)}: name the joined label otherwise`,
      );
    }
    // Files read one after another into the same join declare their columns again: one column each.
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    const at = this.forward.length;
    this.byName.set(name, at);
    this.forward.push(this.inner.column(name));
    if (name === 'inferenceId') this.inferenceIdAt = at;
    if (name === 'eventId') this.eventIdAt = at;
    if (name === 'inferenceTime') this.timeAt = at;
    if (name === this.watch?.score) this.scoreAt = at;
    if (name === this.watch?.segment) this.segmentAt = at;
    return at;
  }

  bytes(column: number, buf: Uint8Array, start: number, end: number): void {
    this.value(column, Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8'));
  }

  value(column: number, value: CellValue): void {
    if (column === this.inferenceIdAt) this.inferenceId = typeof value === 'string' ? value : null;
    else if (column === this.eventIdAt) this.eventId = typeof value === 'string' ? value : null;
    else if (column === this.timeAt) this.inferenceTime = value;
    if (column === this.scoreAt) this.score = value;
    if (column === this.segmentAt) this.segment = value;
    this.inner.value(this.forward[column]!, value);
  }

  endRow(): void {
    this.captured++;
    const id = this.inferenceId ?? this.eventId;
    // Rows of one request share its event id: the n-th row takes the record's n-th label.
    const record = this.eventId ?? id;
    this.rowInRecord = record !== null && record === this.previousRecord ? this.rowInRecord + 1 : 0;
    this.previousRecord = record;
    const entry = id === null ? undefined : this.index.entries.get(id);
    const label = entry?.labels[this.rowInRecord];
    if (entry !== undefined && label !== undefined) {
      entry.used = true;
      this.joined++;
      try {
        this.inner.value(this.labelAt, label);
      } catch (error) {
        throw error instanceof ValueError
          ? new InputError({ file: `the label of prediction ${id}` }, error.message)
          : error;
      }
      const time = parseTime(this.inferenceTime);
      const delay = (entry.time - time) / 1000;
      if (Number.isFinite(delay)) this.delays.push(delay);
      this.watch?.onJoined({
        id: id!,
        label,
        score: this.score,
        segment: this.segment,
        time,
        source: entry.source,
      });
    }
    this.score = null;
    this.segment = null;
    this.inferenceId = null;
    this.eventId = null;
    this.inferenceTime = null;
    this.inner.endRow();
  }

  /** The join's summary (call after the capture is read). */
  summary(): GroundTruthJoin {
    const firstBad = this.index.files.find((file) => file.firstError !== null);
    return {
      captured: this.captured,
      joined: this.joined,
      coverage: this.captured === 0 ? null : this.joined / this.captured,
      uncaptured: this.index.uncaptured(),
      duplicates: this.index.duplicates,
      badRecords: this.index.files.reduce((sum, file) => sum + file.badRecords, 0),
      firstBadRecord: firstBad ? { file: firstBad.file, ...firstBad.firstError! } : null,
      delaySeconds: delayDistribution(this.delays),
    };
  }
}

/** p50, p90 (linear interpolation, as numpy's default) and max of delays in seconds; null when none. */
export function delayDistribution(delays: readonly number[]): DelayDistribution | null {
  if (delays.length === 0) return null;
  const sorted = Float64Array.from(delays).sort();
  return {
    count: sorted.length,
    p50: quantileLinear(sorted, 0.5),
    p90: quantileLinear(sorted, 0.9),
    max: sorted[sorted.length - 1]!,
  };
}

/**
 * Label files in the order their labels count (the last duplicate wins): by the `yyyy/mm/dd/hh/<file>` end
 * of their paths when they have one, else by path.
 */
export function sortLabelFiles<T extends { name: string }>(files: T[]): T[] {
  const key = (name: string) => {
    const time = /(\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]+)$/.exec(name)?.[1];
    return time === undefined ? name : `${time}\u0000${name}`;
  };
  return files
    .map((file) => ({ file, key: key(file.name) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ file }) => file);
}

/**
 * Evaluates captured predictions against delayed labels: reads every label file (in the given order, the
 * last duplicate winning), then the capture, joining each captured row to its label, and computes the
 * performance report of the joined rows with the join's summary.
 *
 * @example
 * ```ts
 * const { report } = await evaluateWithGroundTruth(captureInput, [fileInput('gt/labels.jsonl')], { label: 'label', score: 'score' });
 * report.groundTruth.coverage; // 0.42
 * ```
 */
export async function evaluateWithGroundTruth(
  capture: TableInput,
  labelFiles: readonly TableInput[],
  options: EvaluateOptions,
  groundTruth: GroundTruthOptions = {},
  readOptions: ReadTableOptions = {},
): Promise<{ report: JoinedPerformanceReport; warnings: string[]; labels: LabelIndex }> {
  const index = new LabelIndex();
  for (const file of labelFiles) await readLabelFile(file, index, groundTruth, readOptions);
  const resolved = resolveEvaluateOptions(options);
  const accumulator = new PerformanceAccumulator(resolved, capture.name);
  const join = new GroundTruthJoinSink(accumulator, index, resolved.label);
  await readTable(capture, join, readOptions);
  const summary = join.summary();
  if (summary.joined === 0) {
    throw new InputError(
      { file: capture.name },
      `no captured prediction has a label (${summary.captured} captured, ${index.entries.size} labelled ids, ` +
        `none matching by inferenceId or eventId)`,
    );
  }
  const evaluation = accumulator.finish();
  return {
    report: { ...evaluation.report, groundTruth: summary },
    warnings: evaluation.warnings,
    labels: index,
  };
}

/** Per metric: the CBPE estimate, the realized value and realized − estimated (null where either is null). */
export type EstimateComparison = Record<
  MetricName,
  { estimated: number | null; realized: number | null; difference: number | null }
>;

/**
 * The realized report's metrics beside the estimate made before the labels came (`driftwatch estimate`, or
 * the engine's per-window estimate): how far the estimate was.
 */
export function compareWithEstimate(
  realized: PerformanceReport,
  estimated: PerformanceReport,
): EstimateComparison {
  const entries = METRIC_NAMES.map((metric) => {
    const e = estimated.metrics[metric];
    const r = realized.metrics[metric];
    return [metric, { estimated: e, realized: r, difference: e === null || r === null ? null : r - e }];
  });
  return Object.fromEntries(entries) as EstimateComparison;
}
