import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, ValueError } from '../errors.ts';
import { maybeGunzip } from './decompress.ts';
import { fileInput, readFileRange, type TableInput } from './input.ts';
import { forEachLine } from './text-lines.ts';
import type { CellValue, ReadOptions, TableSink } from './types.ts';

/**
 * SageMaker Data Capture files as a table. An endpoint with Data Capture writes JSON Lines to
 * `<DestinationS3Uri>/<EndpointName>/<VariantName>/yyyy/mm/dd/hh/<file>.jsonl`, one record per captured
 * request:
 *
 * ```json
 * {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1,2", "encoding": "CSV"},
 *                  "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.8", "encoding": "CSV"}},
 *  "eventMetadata": {"eventId": "…", "inferenceId": "…", "inferenceTime": "2026-12-07T02:00:00Z"}, "eventVersion": "0"}
 * ```
 *
 * `encoding` is `CSV`, `JSON` or `BASE64` (then the content type says what the decoded bytes are). Each
 * request gives one row per instance it holds, with the columns:
 * - the features: a CSV payload's fields named by {@link CaptureOptions.features} (else `_c0`, `_c1`, …, as
 *   Model Monitor names them); a JSON payload's keys: an object, an array of objects, `{"instances": [...]}`
 *   whose instances are objects or arrays (named as CSV fields), or `{"features": [...]}`;
 * - the score ({@link CaptureOptions.scoreColumn}, default `score`): the output's numbers (CSV, one per
 *   row) or JSON (`0.8`, `[0.8, …]`, `{"predictions": [0.8 | {"score": 0.8}, …]}`, `{"score": 0.8}`);
 * - `variant` from the path, `eventId`, `inferenceId`, `inferenceTime` from the record.
 *
 * A record that cannot be used (not JSON, undecodable base64, a payload with the wrong number of fields, an
 * output that is not one score per row) is a bad record: its rows are left out, it is counted per file, and
 * the file's first bad record is remembered with its line. A file whose bad records are more than
 * {@link CaptureOptions.maxBadShare} of its records fails with an {@link InputError} naming it.
 */

/** The columns a capture record adds besides features and score: not features, so not drifted by default. */
export const CAPTURE_METADATA_COLUMNS = ['variant', 'eventId', 'inferenceId', 'inferenceTime'] as const;

/** @default share of bad records a capture file may hold before it fails */
export const DEFAULT_MAX_BAD_SHARE = 0.01;

export interface CaptureOptions {
  /** Names of a CSV payload's fields (and of a JSON instance given as an array), in order. @default `_c0`, `_c1`, … */
  features?: readonly string[] | null;
  /** The column of the model's output. @default 'score' */
  scoreColumn?: string;
  /** Largest share of bad records a file may have; above it the file fails. @default 0.01 */
  maxBadShare?: number;
}

/** What reading one capture file found. */
export interface CaptureFileSummary {
  file: string;
  /** Records (non-blank lines). */
  records: number;
  /** Rows given to the sink. */
  rows: number;
  badRecords: number;
  /** Where and why the first bad record is bad; null when none is. */
  firstError: { line: number; reason: string } | null;
}

/**
 * A table input made of capture files: a directory (or prefix) read as one table, file by file in time
 * order. Inputs made by {@link captureDirectoryInput} carry it; {@link readCapture} reads them.
 */
export interface CaptureSource {
  files: TableInput[];
  options: CaptureOptions;
  /** Filled while reading: one entry per file read. */
  summaries: CaptureFileSummary[];
}

/** A table input that knows it may hold capture data (see {@link withCapture}). */
export type CaptureAwareInput = TableInput & { capture?: CaptureSource };

/**
 * Attaches capture options (and a place for the summaries) to an input, for when it turns out to hold
 * capture records. `files` empty means "this input itself, if it is capture".
 */
export function withCapture(input: TableInput, options: CaptureOptions = {}): CaptureAwareInput {
  return Object.assign(input, { capture: { files: [], options, summaries: [] } });
}

/**
 * Capture files as one input, in time order: by the `yyyy/mm/dd/hh/<file>` end of their paths (SageMaker
 * starts a file's name with the minute, second and millisecond it was opened), across endpoints and
 * variants; files outside that layout by their whole path.
 */
export function captureDirectoryInput(
  name: string,
  files: TableInput[],
  options: CaptureOptions = {},
): CaptureAwareInput {
  const key = (name: string) => {
    const time = /(\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]+)$/.exec(name)?.[1];
    return time === undefined ? name : `${time}\u0000${name}`;
  };
  const sorted = files
    .map((file) => ({ file, key: key(file.name) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ file }) => file);
  return {
    name,
    open: () => {
      throw new Error(`${name} is a directory of capture files: read it with readTable`);
    },
    capture: { files: sorted, options, summaries: [] },
  };
}

/** Whether the first bytes of a (decompressed) file are a capture record. */
export function isCaptureHead(head: Uint8Array): boolean {
  const text = new TextDecoder().decode(head.subarray(0, 1024));
  return /^\uFEFF?\s*\{\s*"captureData"\s*:/.test(text);
}

/** `…/<EndpointName>/<VariantName>/yyyy/mm/dd/hh/<file>`: the endpoint and variant of a capture file. */
export function capturePathParts(path: string): { endpoint: string; variant: string } | null {
  const match = /(?:^|\/)([^/]+)\/([^/]+)\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]+$/.exec(path);
  return match ? { endpoint: match[1]!, variant: match[2]! } : null;
}

/** A record that cannot be used, with the field at fault. */
class BadRecord extends Error {}

type Row = Map<string, CellValue>;

/** Reads capture files into a sink, keeping the sink's column indexes. */
export class CaptureReader {
  private readonly sink: TableSink;
  private readonly features: readonly string[] | null;
  private readonly scoreColumn: string;
  private readonly maxBadShare: number;
  private readonly indexes = new Map<string, number>();
  /** Fields of a CSV payload when no feature names are given: fixed by the first record. */
  private csvWidth = -1;
  rows = 0;
  readonly summaries: CaptureFileSummary[] = [];

  constructor(sink: TableSink, options: CaptureOptions = {}) {
    this.sink = sink;
    this.features = options.features ?? null;
    this.scoreColumn = options.scoreColumn ?? 'score';
    this.maxBadShare = options.maxBadShare ?? DEFAULT_MAX_BAD_SHARE;
    if (!(this.maxBadShare >= 0 && this.maxBadShare <= 1)) {
      throw new RangeError(`maxBadShare must be in [0, 1], got ${this.maxBadShare}`);
    }
    // Declared up front, so every table read from capture has them (missing where a record has none).
    for (const name of this.features ?? []) this.index(name);
    this.index(this.scoreColumn);
    for (const name of CAPTURE_METADATA_COLUMNS) this.index(name);
  }

  /**
   * Reads one file's bytes (gzip or not) and returns its summary.
   *
   * @throws InputError when more than the allowed share of its records is bad, or a sink refuses a value.
   */
  async readFile(
    name: string,
    source: AsyncIterable<Uint8Array>,
    options: ReadOptions,
  ): Promise<CaptureFileSummary> {
    const { stream } = await maybeGunzip(source, {
      name,
      maxDecompressedBytes: options.maxDecompressedBytes,
    });
    const variant = capturePathParts(name)?.variant ?? null;
    const summary: CaptureFileSummary = { file: name, records: 0, rows: 0, badRecords: 0, firstError: null };
    let line = 0;
    const handle = (text: string) => {
      line++;
      if (text.trim() === '') return;
      summary.records++;
      let rows: Row[];
      try {
        rows = this.decodeRecord(text, variant);
      } catch (error) {
        if (!(error instanceof BadRecord)) throw error;
        summary.badRecords++;
        summary.firstError ??= { line, reason: error.message };
        return;
      }
      for (const row of rows) this.emit(row, name, line);
      summary.rows += rows.length;
    };
    await forEachLine(stream, handle);
    this.summaries.push(summary);
    if (summary.badRecords > this.maxBadShare * summary.records) {
      const { firstError } = summary;
      throw new InputError(
        { file: name },
        `${summary.badRecords} of ${summary.records} capture records are bad (more than the ${this.maxBadShare * 100}% ` +
          `allowed); the first, on line ${firstError!.line}: ${firstError!.reason}`,
      );
    }
    return summary;
  }

  private index(name: string): number {
    let index = this.indexes.get(name);
    if (index === undefined) {
      index = this.sink.column(name);
      this.indexes.set(name, index);
    }
    return index;
  }

  private emit(row: Row, file: string, line: number): void {
    for (const [name, value] of row) {
      try {
        this.sink.value(this.index(name), value);
      } catch (error) {
        throw error instanceof ValueError
          ? new InputError({ file, line, field: name }, error.message)
          : error;
      }
    }
    this.sink.endRow();
    this.rows++;
  }

  /** The rows of one record. @throws BadRecord */
  private decodeRecord(text: string, variant: string | null): Row[] {
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      throw new BadRecord('not JSON');
    }
    const capture = objectAt(record, 'captureData');
    const metadata = (record as Record<string, unknown>)['eventMetadata'];
    const input = capture['endpointInput'];
    const output = capture['endpointOutput'];
    if (input === undefined && output === undefined) {
      throw new BadRecord('captureData has neither endpointInput nor endpointOutput');
    }
    const instances = input === undefined ? null : this.instances(decodePayload(input, 'endpointInput'));
    const scores = output === undefined ? null : outputScores(decodePayload(output, 'endpointOutput'));
    const count = instances?.length ?? scores!.length;
    if (instances !== null && scores !== null && scores.length !== instances.length) {
      throw new BadRecord(
        `captureData.endpointOutput holds ${scores.length} ${scores.length === 1 ? 'score' : 'scores'} for ` +
          `${instances.length} input ${instances.length === 1 ? 'row' : 'rows'}`,
      );
    }
    const meta =
      metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, unknown>) : {};
    const text_ = (value: unknown) => (typeof value === 'string' ? value : null);
    const rows: Row[] = [];
    for (let i = 0; i < count; i++) {
      const row: Row = instances?.[i] ?? new Map();
      if (row.has(this.scoreColumn)) {
        throw new BadRecord(
          `the input has a field named like the score column ${JSON.stringify(this.scoreColumn)}`,
        );
      }
      row.set(this.scoreColumn, scores === null ? null : scores[i]!);
      row.set('variant', variant);
      row.set('eventId', text_(meta['eventId']));
      row.set('inferenceId', text_(meta['inferenceId']));
      row.set('inferenceTime', text_(meta['inferenceTime']));
      rows.push(row);
    }
    return rows;
  }

  /** The input payload's rows, each a map of feature name to value. @throws BadRecord */
  private instances(payload: Payload): Row[] {
    if (payload.kind === 'csv') {
      const lines = payload.text.split(/\r?\n/).filter((line) => line.trim() !== '');
      return lines.map((line, i) => this.positional(splitCsvLine(line), `CSV row ${i + 1}`));
    }
    const document = payload.value;
    let items: unknown[];
    if (Array.isArray(document)) items = document;
    else if (isObject(document) && Array.isArray(document['instances'])) items = document['instances'];
    else if (isObject(document)) items = [document];
    else throw new BadRecord('captureData.endpointInput: expected a JSON object or array');
    return items.map((item, i) => {
      const where = `instance ${i + 1}`;
      if (Array.isArray(item)) return this.positional(item, where);
      if (!isObject(item))
        throw new BadRecord(`captureData.endpointInput: ${where} is not an object or array`);
      const keys = Object.keys(item);
      if (keys.length === 1 && keys[0] === 'features' && Array.isArray(item['features'])) {
        return this.positional(item['features'], where);
      }
      const row: Row = new Map();
      for (const key of keys) row.set(key, scalar(item[key], `${where}, field ${JSON.stringify(key)}`));
      return row;
    });
  }

  /** Values by position, named by the feature order. @throws BadRecord on the wrong number of fields */
  private positional(values: readonly unknown[], where: string): Row {
    const expected = this.features?.length ?? (this.csvWidth < 0 ? values.length : this.csvWidth);
    if (values.length !== expected) {
      throw new BadRecord(
        `captureData.endpointInput: ${where} has ${values.length} fields, expected ${expected}` +
          (this.features ? ' (the feature names given)' : ' (as the first record)'),
      );
    }
    if (this.features === null) this.csvWidth = expected;
    const row: Row = new Map();
    values.forEach((value, i) => {
      row.set(this.features?.[i] ?? `_c${i}`, scalar(value, `${where}, field ${i + 1}`));
    });
    return row;
  }
}

type Payload = { kind: 'csv'; text: string } | { kind: 'json'; value: unknown };

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function objectAt(value: unknown, key: string): Record<string, unknown> {
  const inner = isObject(value) ? value[key] : undefined;
  if (!isObject(inner)) throw new BadRecord(`${key}: expected an object`);
  return inner;
}

function scalar(value: unknown, where: string): CellValue {
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  throw new BadRecord(`captureData.endpointInput: ${where} is not a number, string, boolean or null`);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A payload's text per its encoding, read as CSV or JSON per its content type. @throws BadRecord */
function decodePayload(value: unknown, field: string): Payload {
  if (!isObject(value)) throw new BadRecord(`captureData.${field}: expected an object`);
  const { data, encoding } = value;
  const contentType = typeof value['observedContentType'] === 'string' ? value['observedContentType'] : '';
  if (typeof data !== 'string') throw new BadRecord(`captureData.${field}.data: expected a string`);
  let text: string;
  if (encoding === 'BASE64') {
    const compact = data.replace(/\s+/g, '');
    if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
      throw new BadRecord(`captureData.${field}.data: undecodable base64`);
    }
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(compact, 'base64'));
    } catch {
      throw new BadRecord(`captureData.${field}.data: the base64 bytes are not UTF-8 text`);
    }
  } else if (encoding === 'CSV' || encoding === 'JSON') {
    text = data;
  } else {
    throw new BadRecord(
      `captureData.${field}.encoding: expected CSV, JSON or BASE64, got ${JSON.stringify(encoding)}`,
    );
  }
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const json =
    encoding === 'JSON' ||
    type.includes('json') ||
    (encoding === 'BASE64' && /^\s*[[{]/.test(text) && !type.includes('csv'));
  if (!json) return { kind: 'csv', text };
  if (type === 'application/jsonlines' || type === 'application/x-jsonlines') {
    try {
      return {
        kind: 'json',
        value: text
          .split(/\r?\n/)
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l)),
      };
    } catch {
      throw new BadRecord(`captureData.${field}.data: not JSON Lines`);
    }
  }
  try {
    return { kind: 'json', value: JSON.parse(text) };
  } catch {
    throw new BadRecord(`captureData.${field}.data: not JSON`);
  }
}

const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function score(value: unknown, where: string): number {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && NUMBER.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isFinite(number)) throw new BadRecord(`captureData.endpointOutput: ${where} is not a score`);
  return number;
}

/** The output's scores, one per input row. @throws BadRecord */
function outputScores(payload: Payload): number[] {
  if (payload.kind === 'csv') {
    const lines = payload.text.split(/\r?\n/).filter((line) => line.trim() !== '');
    // One score per line; a single line may also hold one score per row, comma-separated.
    const fields = lines.length === 1 ? splitCsvLine(lines[0]!) : lines;
    return fields.map((field, i) => score(field, `value ${i + 1}`));
  }
  let document = payload.value;
  if (isObject(document) && Array.isArray(document['predictions'])) document = document['predictions'];
  const items = Array.isArray(document) ? document : [document];
  return items.map((item, i) => {
    const where = `prediction ${i + 1}`;
    if (isObject(item)) {
      for (const key of ['score', 'probability', 'prediction', 'predicted_label']) {
        if (key in item) return score(item[key], where);
      }
      throw new BadRecord(
        `captureData.endpointOutput: ${where} has no score, probability or prediction field`,
      );
    }
    return score(item, where);
  });
}

/** One CSV line's fields (RFC 4180 quotes allowed). */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field.endsWith('\r') ? field.slice(0, -1) : field);
  return fields;
}

/**
 * Reads capture data into `sink`: every file of a {@link captureDirectoryInput}, or the one input given
 * (whose bytes may already be open, as `stream`). Returns the rows and fills `source.summaries`.
 */
export async function readCapture(
  input: CaptureAwareInput,
  sink: TableSink,
  options: Omit<ReadOptions, 'name'> = {},
  stream?: AsyncIterable<Uint8Array>,
): Promise<number> {
  const source = input.capture ?? { files: [], options: {}, summaries: [] };
  const reader = new CaptureReader(sink, source.options);
  const files = source.files.length > 0 ? source.files : [input];
  try {
    for (const file of files) {
      const bytes = file === input && stream !== undefined ? stream : file.open();
      await reader.readFile(file.name, bytes, { ...options, name: file.name });
    }
  } finally {
    source.summaries.push(...reader.summaries);
  }
  return reader.rows;
}

/** The first bytes of a local file, gunzipped when compressed (enough to recognise a capture record). */
async function localHead(path: string): Promise<Uint8Array> {
  const { gunzipSync, constants } = await import('node:zlib');
  let head = await readFileRange(path, 0, 4096);
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    try {
      head = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      return new Uint8Array(0);
    }
  }
  return head;
}

/**
 * A local path as a table input: a directory is read as capture files (every `*.jsonl` or `*.jsonl.gz`
 * below it, in path order, which is time order in SageMaker's layout); a file as itself, read as capture
 * when its first record is one. `capture` says which, so a caller can leave the metadata columns out of
 * drift.
 *
 * @throws InputError for a directory without capture files.
 */
export async function localTableInput(
  path: string,
  options: CaptureOptions = {},
): Promise<{ input: CaptureAwareInput; capture: boolean }> {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats?.isDirectory()) {
    const names = (readdirSync(path, { recursive: true }) as string[])
      .filter((name) => /\.jsonl(\.gz)?$/i.test(name))
      .map((name) => join(path, name))
      .filter((name) => statSync(name).isFile());
    if (names.length === 0)
      throw new InputError({ file: path }, 'a directory without capture files (*.jsonl, *.jsonl.gz)');
    return { input: captureDirectoryInput(path, names.map(fileInput), options), capture: true };
  }
  const input = withCapture(fileInput(path), options);
  const capture = stats?.isFile() === true && stats.size > 0 && isCaptureHead(await localHead(path));
  return { input, capture };
}
