/**
 * Scoring a golden dataset with the model's SageMaker endpoint, while it streams.
 *
 * The protocol (the local SageMaker emulator speaks it too):
 * - `application/json` (default): request `{"instances": [{"<feature>": value, ...}, ...]}`, one object per
 *   row with the config's features (numbers as numbers, text as strings, missing as null); response
 *   `{"predictions": [{"score": 0.83}, ...]}` (a bare number per prediction is accepted too).
 * - `text/csv`: request one headerless line per row, the features in the config's order, missing as an
 *   empty field, RFC 4180 quoting; response one score per line.
 * Every score must be a number in [0, 1] and there must be exactly one per row sent.
 *
 * How the rows flow: {@link EndpointScoringSink} is the reader's sink. It serializes each labelled row's
 * features as it arrives, cuts a batch at `batchRows` rows or before the payload would reach the 6 MB
 * limit, and hands it to InvokeEndpoint with at most `maxConcurrency` requests in flight. Scored batches are
 * replayed, in file order, into the `target` sink (the core's PerformanceAccumulator) as rows of label,
 * score and segment. The reader is held back ({@link EndpointScoringSink.ready}, awaited by
 * {@link withBackpressure} before each chunk) while too many batches are outstanding, so memory stays
 * bounded by a few batches whatever the size of the file: one pass, no second read. Rows without a label
 * are not sent (they would be skipped anyway) and go straight to the target, where they count as skipped.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { FeatureType } from '../core/drift/types.ts';
import { isMissingBytes, isMissingText, parseNumberBytes } from '../core/drift/values.ts';
import { ConfigError, ValueError } from '../core/errors.ts';
import type { TableInput } from '../core/readers/input.ts';
import type { CellValue, TableSink } from '../core/readers/types.ts';
import type { EndpointContentType } from '../shared/contract.ts';

/** SageMaker's limit on an InvokeEndpoint request payload: 6 MB. Payloads are kept strictly below it. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** Our own retries around the SDK's (which already retries a throttled or failed request 2 more times). */
export interface RetryOptions {
  /** Calls of the SDK per batch, the first included. @default 4 */
  attempts: number;
  /** Backoff before retry n is random in [0, min(maxDelayMs, baseDelayMs · 2^(n−1))): "full jitter". */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 250, maxDelayMs: 10_000 };

/** Error names of SageMaker Runtime worth another try: throttling, a model still loading, server faults. */
const RETRYABLE_ERRORS = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ModelNotReadyException',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalDependencyException',
]);

/** Longest piece of an endpoint's error message kept (a model container may echo its input). */
const MAX_ENDPOINT_MESSAGE_CHARS = 300;

/** Which batch of which endpoint, for errors: batches count from 1, rows are data rows of the file. */
export interface BatchContext {
  endpointName: string;
  batch: number;
  firstRow: number;
  rows: number;
}

const describeBatch = (context: BatchContext) =>
  `endpoint ${context.endpointName}, batch ${context.batch} (rows ${context.firstRow}-${context.firstRow + context.rows - 1})`;

/** The endpoint failed a batch: an error answer, after every retry when the error was retryable. */
export class EndpointInvocationError extends Error {
  override readonly name = 'EndpointInvocationError';
  readonly context: BatchContext;
  readonly attempts: number;
  /** The SDK error's name, e.g. `ThrottlingException`, `ModelError`. */
  readonly errorName: string;
  readonly statusCode: number | undefined;

  constructor(context: BatchContext, attempts: number, cause: unknown) {
    const error = cause instanceof Error ? cause : new Error(String(cause));
    const statusCode = statusOf(error);
    const message = error.message.replace(/\s+/g, ' ').trim();
    const shown =
      message.length > MAX_ENDPOINT_MESSAGE_CHARS
        ? `${message.slice(0, MAX_ENDPOINT_MESSAGE_CHARS)}…`
        : message;
    super(
      `${describeBatch(context)}: ${error.name}${statusCode === undefined ? '' : ` (HTTP ${statusCode})`} ` +
        `after ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}: ${shown}`,
      { cause },
    );
    this.context = context;
    this.attempts = attempts;
    this.errorName = error.name;
    this.statusCode = statusCode;
  }
}

/** The endpoint answered, but not with one score in [0, 1] per row sent. */
export class EndpointResponseError extends Error {
  override readonly name = 'EndpointResponseError';
  readonly context: BatchContext;

  constructor(context: BatchContext, reason: string) {
    super(`${describeBatch(context)}: ${reason}`);
    this.context = context;
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** Whether another try may succeed: throttling, a model not ready, a 5xx. A model's own error (424) is final. */
export function isRetryableEndpointError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (RETRYABLE_ERRORS.has(error.name)) return true;
  const status = statusOf(error);
  return status === 429 || (status !== undefined && status >= 500);
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How the scorer waits and draws jitter; replaced in tests. */
export interface Timing {
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1). */
  random: () => number;
}

/** Callbacks of {@link withRetries}. */
export interface RetryHooks {
  /** The error thrown when giving up, made from the last error and the calls made. */
  giveUp: (error: unknown, attempts: number) => Error;
  /** Called before each wait. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Calls `send` until it succeeds, it fails with an error that is not retryable, or `retry.attempts` calls
 * have failed, waiting a jittered, exponentially growing delay between calls.
 *
 * @throws the error `hooks.giveUp` makes of the last error.
 */
export async function withRetries<T>(
  send: () => Promise<T>,
  retry: RetryOptions,
  timing: Timing,
  hooks: RetryHooks,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= retry.attempts || !isRetryableEndpointError(error)) throw hooks.giveUp(error, attempt);
      const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1)) * timing.random();
      hooks.onRetry?.(error, attempt, delay);
      await timing.sleep(delay);
    }
  }
}

/** Serializes rows of feature values for one content type, and measures the payload. */
export interface PayloadFormat {
  contentType: EndpointContentType;
  /** One row, as it appears in the payload. */
  row(values: readonly CellValue[]): string;
  /** The payload of rows made by {@link row}. */
  body(rows: readonly string[]): string;
  /** Bytes a payload of `rows` rows adds besides the rows themselves (envelope and separators). */
  overheadBytes(rows: number): number;
}

const JSON_HEAD = '{"instances":[';
const JSON_TAIL = ']}';

/** `application/json`: `{"instances": [{"<feature>": value, ...}, ...]}`. */
export function jsonPayloadFormat(features: readonly string[]): PayloadFormat {
  const keys = features.map((name, i) => `${i === 0 ? '{' : ','}${JSON.stringify(name)}:`);
  return {
    contentType: 'application/json',
    row(values) {
      let text = '';
      for (let i = 0; i < keys.length; i++) text += keys[i] + JSON.stringify(values[i] ?? null);
      return keys.length === 0 ? '{}' : `${text}}`;
    },
    body: (rows) => `${JSON_HEAD}${rows.join(',')}${JSON_TAIL}`,
    overheadBytes: (rows) => JSON_HEAD.length + JSON_TAIL.length + Math.max(0, rows - 1),
  };
}

/** `text/csv`: one headerless line per row, RFC 4180 quoting, missing values as empty fields. */
export function csvPayloadFormat(): PayloadFormat {
  const field = (value: CellValue | undefined): string => {
    if (value === null || value === undefined) return '';
    if (typeof value !== 'string') return String(value);
    return /[",\r\n]/.test(value) || value === '' ? `"${value.replaceAll('"', '""')}"` : value;
  };
  return {
    contentType: 'text/csv',
    row: (values) => values.map(field).join(','),
    body: (rows) => `${rows.join('\n')}\n`,
    overheadBytes: (rows) => rows,
  };
}

export function payloadFormat(contentType: EndpointContentType, features: readonly string[]): PayloadFormat {
  return contentType === 'text/csv' ? csvPayloadFormat() : jsonPayloadFormat(features);
}

/**
 * The scores of an endpoint's answer to `rows` rows.
 *
 * @throws EndpointResponseError when the body is not of the content type's shape, a score is not a number
 * in [0, 1], or the count differs from the rows sent.
 */
export function parseScores(
  body: string,
  contentType: EndpointContentType,
  context: BatchContext,
): Float64Array {
  const fail = (reason: string): never => {
    throw new EndpointResponseError(context, reason);
  };
  let values: unknown[];
  if (contentType === 'text/csv') {
    const lines = body.split(/\r?\n/);
    while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
    values = lines.map((line) => {
      const text = line.trim();
      return text === '' ? Number.NaN : Number(text);
    });
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return fail('the response is not JSON; expected {"predictions": [{"score": 0.83}, ...]}');
    }
    const predictions = (parsed as { predictions?: unknown } | null)?.predictions;
    if (!Array.isArray(predictions)) {
      return fail(
        'the response has no "predictions" array; expected {"predictions": [{"score": 0.83}, ...]}',
      );
    }
    values = predictions.map((prediction) =>
      typeof prediction === 'object' && prediction !== null
        ? (prediction as { score?: unknown }).score
        : prediction,
    );
  }
  if (values.length !== context.rows) {
    fail(`${context.rows} rows sent, ${values.length} ${values.length === 1 ? 'score' : 'scores'} returned`);
  }
  const scores = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const score = values[i];
    if (typeof score !== 'number' || !(score >= 0 && score <= 1)) {
      fail(`the score of row ${context.firstRow + i} is not a number in [0, 1]`);
    }
    scores[i] = (score as number) + 0;
  }
  return scores;
}

/** What {@link EndpointScoringSink} needs. */
export interface EndpointScoringOptions {
  client: Pick<SageMakerRuntimeClient, 'send'>;
  endpointName: string;
  contentType: EndpointContentType;
  /** The model's features, sent in this order; categorical ones always as strings. */
  features: readonly { name: string; type: FeatureType }[];
  labelColumn: string;
  /** The segment column, passed through to the target; null for none. */
  segmentColumn: string | null;
  /** Labels allowed; a row with another fails the read where it is (file, line). @default any */
  classes?: ReadonlySet<string> | null;
  /** How the options are called in the config, for errors. */
  fields: { label: string; segment: string; features: string; classes: string };
  batchRows: number;
  maxConcurrency: number;
  /** Largest payload, bytes (below SageMaker's 6 MB). @default {@link MAX_PAYLOAD_BYTES} − 1 */
  maxPayloadBytes?: number;
  /** @default {@link DEFAULT_RETRY} */
  retry?: RetryOptions;
  /** @default real time and Math.random */
  timing?: Timing;
  logger?: Pick<Logger, 'warn' | 'debug'>;
}

/** Indexes of the columns the sink declares on its target: the label, the score, the segment. */
export const SCORED_COLUMNS = { label: 0, score: 1, segment: 2 } as const;

/** Name of the score column the sink declares on its target (no file column is called so). */
export const ENDPOINT_SCORE_COLUMN = '(endpoint score)';

/** Name of the segment column declared on the target when there is no segment column. */
const NO_SEGMENT_COLUMN = '(no segment)';

interface Batch {
  number: number;
  firstRow: number;
  payload: string[];
  labels: string[];
  segments: (string | null)[];
  scores: Float64Array | null;
}

/** Counts of a finished scoring pass, for logs. */
export interface ScoringSummary {
  rowsRead: number;
  rowsScored: number;
  batches: number;
  largestPayloadBytes: number;
  retries: number;
}

const utf8 = new TextDecoder('utf-8');

/**
 * A {@link TableSink} that scores labelled rows with the endpoint, batch by batch, and feeds the target sink
 * (columns label, {@link ENDPOINT_SCORE_COLUMN}, segment: see {@link SCORED_COLUMNS}) in file order. Call {@link finish} after the
 * reader ends, and {@link close} in any case (it waits for requests still in flight).
 *
 * @example
 * ```ts
 * const sink = new EndpointScoringSink(options, accumulator);
 * try {
 *   await readTable(withBackpressure(input, () => sink.ready()), sink);
 *   await sink.finish();
 * } finally {
 *   await sink.close();
 * }
 * ```
 */
export class EndpointScoringSink implements TableSink {
  private readonly options: EndpointScoringOptions;
  private readonly target: TableSink;
  private readonly format: PayloadFormat;
  private readonly maxPayloadBytes: number;
  private readonly retry: RetryOptions;
  private readonly timing: Timing;
  /** Batches dispatched and not yet replayed before the reader is held back. */
  private readonly window: number;

  private readonly names: string[] = [];
  /** Per column index: feature position, or -1. */
  private featureOf: number[] = [];
  private labelIndex = -1;
  private segmentIndex = -1;
  private readonly categorical: boolean[];

  private rowValues: CellValue[];
  private rowLabel: string | null = null;
  private rowSegment: string | null = null;
  private rowsRead = 0;
  private rowsScored = 0;

  private current: Batch;
  private currentBytes = 0;
  private batchCount = 0;
  private largestPayloadBytes = 0;
  private retries = 0;
  /** Dispatched batches not yet replayed, in file order. */
  private readonly outstanding: Batch[] = [];
  private readonly queued: Batch[] = [];
  private inFlight = 0;
  private readonly running = new Set<Promise<void>>();
  private failure: Error | null = null;
  private closed = false;
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(options: EndpointScoringOptions, target: TableSink) {
    this.options = options;
    this.target = target;
    this.format = payloadFormat(
      options.contentType,
      options.features.map((feature) => feature.name),
    );
    this.maxPayloadBytes = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES - 1;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.timing = options.timing ?? { sleep, random: Math.random };
    this.window = Math.max(2, options.maxConcurrency * 2);
    this.categorical = options.features.map((feature) => feature.type === 'categorical');
    this.rowValues = new Array<CellValue>(options.features.length).fill(null);
    this.current = this.newBatch();
    target.column(options.labelColumn);
    target.column(ENDPOINT_SCORE_COLUMN);
    target.column(options.segmentColumn ?? NO_SEGMENT_COLUMN);
  }

  column(name: string): number {
    const index = this.names.length;
    if (this.names.includes(name)) throw new ValueError(`duplicate column name ${JSON.stringify(name)}`);
    this.names.push(name);
    this.featureOf[index] = this.options.features.findIndex((feature) => feature.name === name);
    if (name === this.options.labelColumn) this.labelIndex = index;
    if (name === this.options.segmentColumn) this.segmentIndex = index;
    return index;
  }

  bytes(index: number, buf: Uint8Array, start: number, end: number): void {
    if (isMissingBytes(buf, start, end)) return;
    const feature = this.featureOf[index]!;
    if (feature >= 0) {
      const text = utf8.decode(buf.subarray(start, end));
      if (this.categorical[feature]) this.rowValues[feature] = text;
      else {
        const number = parseNumberBytes(buf, start, end);
        this.rowValues[feature] = Number.isNaN(number) ? text : number;
      }
    }
    if (index === this.labelIndex) this.setLabel(utf8.decode(buf.subarray(start, end)));
    if (index === this.segmentIndex) this.rowSegment = utf8.decode(buf.subarray(start, end));
  }

  value(index: number, value: CellValue): void {
    if (value === null || (typeof value === 'number' && !Number.isFinite(value))) return;
    if (typeof value === 'string' && isMissingText(value)) return;
    const feature = this.featureOf[index]!;
    if (feature >= 0) this.rowValues[feature] = this.categorical[feature] ? String(value) : value;
    if (index === this.labelIndex) this.setLabel(String(value));
    if (index === this.segmentIndex) this.rowSegment = String(value);
  }

  endRow(): void {
    this.rowsRead++;
    const label = this.rowLabel;
    const segment = this.rowSegment;
    const values = this.rowValues;
    this.rowLabel = null;
    this.rowSegment = null;
    this.rowValues = new Array<CellValue>(values.length).fill(null);
    if (label === null) {
      // Skipped by the evaluation: nothing to score. Order does not matter for a skipped row.
      this.replay(null, Number.NaN, segment);
      return;
    }
    const row = this.format.row(values);
    const rowBytes = Buffer.byteLength(row, 'utf8');
    if (rowBytes + this.format.overheadBytes(1) > this.maxPayloadBytes) {
      throw new ValueError(
        `the row's features take ${rowBytes} bytes, more than an InvokeEndpoint payload may hold (${this.maxPayloadBytes})`,
      );
    }
    const batch = this.current;
    const rows = batch.payload.length;
    if (
      rows > 0 &&
      this.currentBytes + rowBytes + this.format.overheadBytes(rows + 1) > this.maxPayloadBytes
    ) {
      this.dispatch();
    }
    const target = this.current;
    if (target.payload.length === 0) target.firstRow = this.rowsRead;
    target.payload.push(row);
    target.labels.push(label);
    target.segments.push(segment);
    this.currentBytes += rowBytes;
    this.rowsScored++;
    if (target.payload.length >= this.options.batchRows) this.dispatch();
  }

  /**
   * Resolves when the reader may go on: fewer than twice `maxConcurrency` batches are waiting to be
   * replayed. Rejects with the first batch's failure.
   */
  ready(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.outstanding.length < this.window) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * Sends the last batch, waits for every batch and replays them into the target.
   *
   * @throws ConfigError when the label, segment or a feature column is not in the file.
   * @throws EndpointInvocationError or EndpointResponseError of the first batch that failed.
   */
  async finish(): Promise<ScoringSummary> {
    const { options } = this;
    const columns = `(columns: ${this.names.join(', ')})`;
    if (this.labelIndex < 0) {
      throw new ConfigError(
        options.fields.label,
        `column ${JSON.stringify(options.labelColumn)} is not in the file ${columns}`,
      );
    }
    if (options.segmentColumn !== null && this.segmentIndex < 0) {
      throw new ConfigError(
        options.fields.segment,
        `column ${JSON.stringify(options.segmentColumn)} is not in the file ${columns}`,
      );
    }
    const absent = options.features.filter((feature) => !this.names.includes(feature.name));
    if (absent.length > 0) {
      throw new ConfigError(
        options.fields.features,
        `the endpoint's ${absent.length === 1 ? 'feature' : 'features'} ${absent.map((feature) => JSON.stringify(feature.name)).join(', ')} ` +
          `${absent.length === 1 ? 'is' : 'are'} not in the file ${columns}`,
      );
    }
    if (this.current.payload.length > 0) this.dispatch();
    // Each finished request starts the next queued one before its promise settles, so the set only
    // empties once the queue has.
    while (this.failure === null && this.running.size > 0) await Promise.race(this.running);
    if (this.failure !== null) throw this.failure;
    return {
      rowsRead: this.rowsRead,
      rowsScored: this.rowsScored,
      batches: this.batchCount,
      largestPayloadBytes: this.largestPayloadBytes,
      retries: this.retries,
    };
  }

  /** Starts no more requests and waits for those in flight, so nothing runs after the check. */
  async close(): Promise<void> {
    this.closed = true;
    this.queued.length = 0;
    await Promise.allSettled([...this.running]);
  }

  private setLabel(text: string): void {
    const { classes, fields } = this.options;
    if (classes && !classes.has(text)) {
      throw new ValueError(`the label is not one of ${fields.classes} (${[...classes].join(', ')})`);
    }
    this.rowLabel = text;
  }

  private newBatch(): Batch {
    return { number: 0, firstRow: 0, payload: [], labels: [], segments: [], scores: null };
  }

  private dispatch(): void {
    const batch = this.current;
    batch.number = ++this.batchCount;
    this.current = this.newBatch();
    this.currentBytes = 0;
    this.outstanding.push(batch);
    this.queued.push(batch);
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.failure === null && this.inFlight < this.options.maxConcurrency) {
      const batch = this.queued.shift();
      if (batch === undefined) return;
      this.inFlight++;
      // Never rejects: a failed request and a row the target refuses (too many segments, say) both end the
      // pass through fail(), which the reader or finish() sees.
      const run: Promise<void> = this.score(batch)
        .then((scores) => {
          batch.scores = scores;
          this.replayCompleted();
        })
        .catch((error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))))
        .finally(() => {
          this.inFlight--;
          this.running.delete(run);
          this.pump();
        });
      this.running.add(run);
    }
  }

  private async score(batch: Batch): Promise<Float64Array> {
    const { options } = this;
    const context: BatchContext = {
      endpointName: options.endpointName,
      batch: batch.number,
      firstRow: batch.firstRow,
      rows: batch.payload.length,
    };
    const body = this.format.body(batch.payload);
    const bytes = Buffer.from(body, 'utf8');
    this.largestPayloadBytes = Math.max(this.largestPayloadBytes, bytes.length);
    // The rows are in the payload now; the strings are no longer needed.
    batch.payload = [];
    const response = await withRetries(
      () =>
        options.client.send(
          new InvokeEndpointCommand({
            EndpointName: options.endpointName,
            ContentType: this.format.contentType,
            Accept: this.format.contentType,
            Body: bytes,
          }),
        ),
      this.retry,
      this.timing,
      {
        giveUp: (error, attempts) => new EndpointInvocationError(context, attempts, error),
        onRetry: (error, attempt, delayMs) => {
          this.retries++;
          options.logger?.warn('Endpoint call retried', {
            endpointName: options.endpointName,
            batch: batch.number,
            attempt,
            delayMs: Math.round(delayMs),
            error: error instanceof Error ? error.name : String(error),
          });
        },
      },
    );
    const text = response.Body === undefined ? '' : utf8.decode(response.Body);
    return parseScores(text, this.format.contentType, context);
  }

  private replayCompleted(): void {
    while (this.outstanding.length > 0 && this.outstanding[0]!.scores !== null) {
      const batch = this.outstanding.shift()!;
      const scores = batch.scores!;
      for (let i = 0; i < scores.length; i++) this.replay(batch.labels[i]!, scores[i]!, batch.segments[i]!);
    }
    if (this.outstanding.length < this.window) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const waiter of waiters) waiter.resolve();
    }
  }

  private replay(label: string | null, score: number, segment: string | null): void {
    const { target } = this;
    if (label !== null) target.value(SCORED_COLUMNS.label, label);
    if (!Number.isNaN(score)) target.value(SCORED_COLUMNS.score, score);
    if (segment !== null) target.value(SCORED_COLUMNS.segment, segment);
    target.endRow();
  }

  private fail(error: Error): void {
    if (this.failure === null) this.failure = error;
    this.queued.length = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(this.failure);
  }
}

/**
 * The input with `ready` awaited before each chunk (and each ranged read of Parquet), so the reader pushes
 * rows no faster than the sink can get rid of them.
 */
export function withBackpressure(input: TableInput, ready: () => Promise<void>): TableInput {
  const { readRange } = input;
  return {
    name: input.name,
    ...(input.size !== undefined && { size: input.size }),
    open: async function* () {
      for await (const chunk of input.open()) {
        await ready();
        yield chunk;
      }
    },
    ...(readRange !== undefined && {
      readRange: async (start: number, end: number) => {
        await ready();
        return readRange.call(input, start, end);
      },
    }),
  };
}
