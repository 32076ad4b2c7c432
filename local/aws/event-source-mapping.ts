/**
 * Lambda event source mappings from SQS queues, as `AWS::Lambda::EventSourceMapping` declares them:
 * batches of up to `BatchSize` messages, at most `ScalingConfig.MaximumConcurrency` batches at once,
 * `FilterCriteria`, and with `ReportBatchItemFailures` only the messages the function reports failed are
 * kept for a retry (after the visibility timeout, until the redrive policy moves them to the dead-letter
 * queue); without it, or when the function fails, the whole batch is.
 */
import type { Activity } from './clock.ts';
import { matchesEventPattern } from './event-pattern.ts';
import type { InvocationResult } from './functions.ts';
import type { LocalQueue, ReceivedMessage } from './queue.ts';

export interface EventSourceMappingDefinition {
  logicalId: string;
  functionName: string;
  eventSourceArn: string;
  batchSize: number;
  maxConcurrency: number;
  reportBatchItemFailures: boolean;
  enabled: boolean;
  filters: Record<string, unknown>[];
  /** The resolved properties, for sources with settings of their own (Kinesis). */
  properties: Record<string, unknown>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads an `AWS::Lambda::EventSourceMapping`'s resolved properties. */
export function eventSourceMappingFromProperties(
  logicalId: string,
  properties: Record<string, unknown>,
): EventSourceMappingDefinition {
  const scaling = isObject(properties['ScalingConfig']) ? properties['ScalingConfig'] : {};
  const criteria = isObject(properties['FilterCriteria']) ? properties['FilterCriteria'] : {};
  const filters = (Array.isArray(criteria['Filters']) ? criteria['Filters'] : [])
    .filter(isObject)
    .map((filter) => JSON.parse(String(filter['Pattern'])) as Record<string, unknown>);
  return {
    logicalId,
    functionName: String(properties['FunctionName']),
    eventSourceArn: String(properties['EventSourceArn']),
    batchSize: Number(properties['BatchSize'] ?? 10),
    maxConcurrency: Number(scaling['MaximumConcurrency'] ?? 5),
    reportBatchItemFailures:
      Array.isArray(properties['FunctionResponseTypes']) &&
      properties['FunctionResponseTypes'].includes('ReportBatchItemFailures'),
    enabled: properties['Enabled'] !== false,
    filters,
    properties,
  };
}

/** The SQS record a Lambda function receives. */
export function sqsRecord(message: ReceivedMessage, queue: LocalQueue, region: string) {
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: message.attributes,
    messageAttributes: Object.fromEntries(
      Object.entries(message.messageAttributes).map(([name, value]) => [
        name,
        {
          ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
          ...(value.BinaryValue === undefined ? {} : { binaryValue: value.BinaryValue }),
          stringListValues: [],
          binaryListValues: [],
          dataType: value.DataType,
        },
      ]),
    ),
    md5OfBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes === undefined
      ? {}
      : { md5OfMessageAttributes: message.md5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: region,
  };
}

/** Whether a message passes the mapping's filters (a filter on `body` sees the parsed JSON body). */
function passesFilters(
  filters: readonly Record<string, unknown>[],
  record: ReturnType<typeof sqsRecord>,
): boolean {
  if (filters.length === 0) return true;
  let body: unknown = record.body;
  try {
    body = JSON.parse(record.body);
  } catch {
    // A text body is matched as a string.
  }
  return filters.some((filter) => matchesEventPattern(filter, { ...record, body }));
}

/**
 * Polls one queue for one function while the local AWS runs: whenever the queue has visible messages and
 * fewer than `maxConcurrency` batches are in flight, it receives a batch and invokes the function.
 */
export class SqsEventSource {
  readonly definition: EventSourceMappingDefinition;
  private readonly queue: LocalQueue;
  private readonly invoke: (event: unknown) => Promise<InvocationResult>;
  private readonly activity: Activity;
  private readonly region: string;
  private inFlight = 0;
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(options: {
    definition: EventSourceMappingDefinition;
    queue: LocalQueue;
    invoke: (event: unknown) => Promise<InvocationResult>;
    activity: Activity;
    region: string;
  }) {
    this.definition = options.definition;
    this.queue = options.queue;
    this.invoke = options.invoke;
    this.activity = options.activity;
    this.region = options.region;
    this.unsubscribe = this.queue.onAvailable(() => this.poll());
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
  }

  /** Starts batches while messages are visible and concurrency allows (synchronously, so work is tracked). */
  poll(): void {
    if (this.stopped || !this.definition.enabled) return;
    while (this.inFlight < this.definition.maxConcurrency) {
      const messages = this.queue.receive(this.definition.batchSize);
      if (messages.length === 0) return;
      this.inFlight += 1;
      void this.activity.track(
        this.process(messages).finally(() => {
          this.inFlight -= 1;
          this.poll();
        }),
      );
    }
  }

  private async process(messages: ReceivedMessage[]): Promise<void> {
    const records = messages.map((message) => sqsRecord(message, this.queue, this.region));
    const kept = records.filter((record) => passesFilters(this.definition.filters, record));
    for (const record of records) if (!kept.includes(record)) this.queue.delete(record.receiptHandle);
    if (kept.length === 0) return;
    const result = await this.invoke({ Records: kept });
    if (this.stopped) return;
    if (result.status === 'failed') return; // every message becomes visible again after the timeout
    const failed = this.definition.reportBatchItemFailures
      ? failedIds(result.payload, kept)
      : new Set<string>();
    if (failed === 'all') return;
    for (const record of kept) if (!failed.has(record.messageId)) this.queue.delete(record.receiptHandle);
  }
}

/**
 * The message ids a `ReportBatchItemFailures` response names; `all` when the response is malformed or
 * names a message not in the batch (Lambda then retries the whole batch).
 */
function failedIds(payload: unknown, records: { messageId: string }[]): Set<string> | 'all' {
  if (payload === null || payload === undefined || !isObject(payload)) return new Set();
  const failures = payload['batchItemFailures'];
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return 'all';
  const ids = new Set<string>();
  for (const failure of failures) {
    const id = isObject(failure) ? failure['itemIdentifier'] : undefined;
    if (typeof id !== 'string' || id === '' || !records.some((record) => record.messageId === id))
      return 'all';
    ids.add(id);
  }
  return ids;
}
