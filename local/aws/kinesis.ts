/**
 * Kinesis in local mode: the streams a template declares, created in kinesalite (the real Kinesis protocol),
 * and the Lambda event source mappings that read them, as `AWS::Lambda::EventSourceMapping` declares them:
 * one poller per shard, batches of up to `BatchSize` records gathered for at most
 * `MaximumBatchingWindowInSeconds` (real time, like the records' arrival times), in sequence order;
 * `ReportBatchItemFailures` (the batch is retried from the record the function names), retries up to
 * `MaximumRetryAttempts` with `BisectBatchOnFunctionError` (a failing batch is halved, each half retried),
 * then the batch's shard range goes to the `OnFailure` destination (an SQS queue) and the shard moves on.
 * `ParallelizationFactor` N above 1: each shard's records are dealt to N lanes by the hash of their partition
 * key, and the lanes' batches are processed at once (as in AWS, order holds per partition key only, and a
 * later record of one key may be done before an earlier record of another).
 *
 *
 * IAM, as Lambda reads the stream as the function's role: creating the mapping needs the role to read the
 * stream and send to the on-failure destination ({@link mappingCreateRequests}: local mode refuses to start,
 * as CloudFormation fails the deployment); every poll is judged again ({@link pollRequests}, with
 * `kms:Decrypt` on the stream's key), and a refused poll delivers nothing: the records wait in the stream
 * (the iterator age grows) and {@link KinesisEventSource.lastProcessingResult} says `PROBLEM: …`, as the
 * mapping's `LastProcessingResult` does in AWS, until the role may read again.
 *
 * Not modelled: `MaximumRecordAgeInSeconds`, tumbling windows, enhanced fan-out.
 */

import { createHash } from 'node:crypto';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  type _Record as KinesisRecord,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Activity } from './clock.ts';
import type { InvocationResult } from './functions.ts';
import type { AccessRequest } from './iam/requests.ts';
import type { LocalQueue } from './queue.ts';

export interface StreamResource {
  logicalId: string;
  name: string;
  arn: string;
  /** Shards of a provisioned stream; on-demand streams start with 4, as in AWS. */
  shardCount: number;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An `AWS::Kinesis::Stream`'s local form. */
export function streamFromProperties(
  logicalId: string,
  name: string,
  arn: string,
  properties: Record<string, unknown>,
): StreamResource {
  const mode = isObject(properties['StreamModeDetails'])
    ? properties['StreamModeDetails']['StreamMode']
    : undefined;
  return {
    logicalId,
    name,
    arn,
    shardCount: mode === 'ON_DEMAND' ? 4 : Number(properties['ShardCount'] ?? 1),
  };
}

/** What a Kinesis event source mapping declares. */
export interface KinesisMappingSettings {
  batchSize: number;
  batchWindowMs: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  bisectOnError: boolean;
  /** -1: until the record expires (AWS's default). */
  maximumRetryAttempts: number;
  onFailure: string | undefined;
  reportBatchItemFailures: boolean;
  /** Batches of one shard processed at once (1-10). */
  parallelizationFactor: number;
}

/** Reads the Kinesis settings of an `AWS::Lambda::EventSourceMapping`'s resolved properties. */
export function kinesisMappingSettings(properties: Record<string, unknown>): KinesisMappingSettings {
  const destination = isObject(properties['DestinationConfig']) ? properties['DestinationConfig'] : {};
  const onFailure = isObject(destination['OnFailure']) ? destination['OnFailure']['Destination'] : undefined;
  return {
    batchSize: Number(properties['BatchSize'] ?? 100),
    batchWindowMs: Number(properties['MaximumBatchingWindowInSeconds'] ?? 0) * 1000,
    startingPosition: properties['StartingPosition'] === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
    bisectOnError: properties['BisectBatchOnFunctionError'] === true,
    maximumRetryAttempts: Number(properties['MaximumRetryAttempts'] ?? -1),
    onFailure: typeof onFailure === 'string' ? onFailure : undefined,
    reportBatchItemFailures:
      Array.isArray(properties['FunctionResponseTypes']) &&
      properties['FunctionResponseTypes'].includes('ReportBatchItemFailures'),
    parallelizationFactor: Number(properties['ParallelizationFactor'] ?? 1),
  };
}

/** The lane of a record's partition key among `lanes` (records of one key always share a lane). */
export function laneOf(partitionKey: string, lanes: number): number {
  return lanes <= 1 ? 0 : createHash('md5').update(partitionKey).digest().readUInt32BE(0) % lanes;
}

/**
 * What Lambda asks of the function's role when the mapping is created: to read the stream, and to send to
 * an SQS on-failure destination. CloudFormation fails the mapping (InvalidParameterValueException) without.
 */
export function mappingCreateRequests(
  stream: StreamResource,
  settings: KinesisMappingSettings,
): { stream: AccessRequest[]; onFailure: AccessRequest[] } {
  return {
    stream: ['DescribeStream', 'DescribeStreamSummary', 'GetShardIterator', 'GetRecords', 'ListShards'].map(
      (operation) => ({ action: `kinesis:${operation}`, resource: stream.arn }),
    ),
    onFailure: onFailureRequests(settings),
  };
}

/** What each poll of a shard asks of the role: an iterator and the records, decrypted with the stream's key. */
export function pollRequests(stream: StreamResource): AccessRequest[] {
  return [
    { action: 'kinesis:GetShardIterator', resource: stream.arn },
    { action: 'kinesis:GetRecords', resource: stream.arn, kmsActions: ['kms:Decrypt'] },
  ];
}

/** Sending a failed batch's range to an SQS on-failure destination (encrypted queues need the key too). */
function onFailureRequests(settings: KinesisMappingSettings): AccessRequest[] {
  const destination = settings.onFailure;
  if (destination === undefined || destination.split(':')[2] !== 'sqs') return [];
  return [
    {
      action: 'sqs:SendMessage',
      resource: destination,
      kmsActions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    },
  ];
}

/** A client of kinesalite: HTTP/1.1 (the SDK's default HTTP/2 handler is for SubscribeToShard only). */
export function kinesisClient(endpoint: string, region: string): KinesisClient {
  return new KinesisClient({
    region,
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler(),
  });
}

/** Creates the streams in kinesalite. */
export async function createStreams(
  client: KinesisClient,
  streams: readonly StreamResource[],
): Promise<void> {
  for (const stream of streams)
    await client.send(new CreateStreamCommand({ StreamName: stream.name, ShardCount: stream.shardCount }));
}

/** A record as Lambda hands it to the function. */
export function kinesisEventRecord(
  record: KinesisRecord,
  shardId: string,
  stream: StreamResource,
  region: string,
) {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber: record.SequenceNumber ?? '',
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${record.SequenceNumber}`,
    eventName: 'aws:kinesis:record',
    awsRegion: region,
    eventSourceARN: stream.arn,
  };
}

/** What happened to one batch, for the tests and the timeline. */
export interface KinesisBatchOutcome {
  shardId: string;
  records: number;
  status: 'succeeded' | 'partial' | 'failed' | 'sent-to-failure-destination';
}

/**
 * Polls every shard of one stream for one function while the local AWS runs (real time, not the local
 * clock: the records' arrival times are real).
 */
export class KinesisEventSource {
  readonly stream: StreamResource;
  readonly settings: KinesisMappingSettings;
  readonly functionName: string;
  /** Last sequence number each shard has moved past (processed, or sent to the failure destination). */
  readonly checkpoints = new Map<string, string>();
  readonly outcomes: KinesisBatchOutcome[] = [];
  /** `OK`, `PROBLEM: <why>` (a refused read or send: nothing is delivered), or `No records processed`. */
  lastProcessingResult = 'No records processed';
  private readonly client: KinesisClient;
  private readonly authorize: ((requests: AccessRequest[]) => Promise<void>) | undefined;
  private readonly invoke: (event: unknown) => Promise<InvocationResult>;
  private readonly activity: Activity;
  private readonly region: string;
  private readonly failureQueue: LocalQueue | undefined;
  private readonly loops: Promise<void>[] = [];
  private stopped = false;
  private wake: (() => void)[] = [];

  constructor(options: {
    stream: StreamResource;
    settings: KinesisMappingSettings;
    functionName: string;
    client: KinesisClient;
    invoke: (event: unknown) => Promise<InvocationResult>;
    activity: Activity;
    region: string;
    failureQueue: LocalQueue | undefined;
    /** Judges a call of the function's role; throws (the AWS error) when refused. Absent: IAM is off. */
    authorize?: (requests: AccessRequest[]) => Promise<void>;
  }) {
    this.stream = options.stream;
    this.settings = options.settings;
    this.functionName = options.functionName;
    this.client = options.client;
    this.invoke = options.invoke;
    this.activity = options.activity;
    this.region = options.region;
    this.failureQueue = options.failureQueue;
    this.authorize = options.authorize;
  }

  /** Whether the role may make the calls; a refusal is the mapping's `PROBLEM`. */
  private async permitted(requests: AccessRequest[]): Promise<boolean> {
    if (!this.authorize || requests.length === 0) return true;
    try {
      await this.authorize(requests);
      return true;
    } catch (error) {
      this.lastProcessingResult = `PROBLEM: ${(error as Error).message}`;
      return false;
    }
  }

  async start(): Promise<void> {
    const { Shards = [] } = await this.client.send(new ListShardsCommand({ StreamName: this.stream.name }));
    for (const shard of Shards) this.loops.push(this.pollShard(shard.ShardId!));
  }

  /** Stops polling; batches in flight finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.wake.splice(0)) wake();
    await Promise.allSettled(this.loops);
  }

  /** Polls now rather than after the idle pause (after records were put). */
  nudge(): void {
    for (const wake of this.wake.splice(0)) wake();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async iterator(shardId: string): Promise<string | undefined> {
    const after = this.checkpoints.get(shardId);
    const { ShardIterator } = await this.client.send(
      new GetShardIteratorCommand({
        StreamName: this.stream.name,
        ShardId: shardId,
        ...(after === undefined
          ? { ShardIteratorType: this.settings.startingPosition }
          : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }),
      }),
    );
    return ShardIterator;
  }

  /**
   * Reads up to `limit` records after the checkpoint, waiting up to the batch window for `limit` records
   * (a batch for each lane).
   */
  private async gather(shardId: string, limit: number): Promise<KinesisRecord[]> {
    const records: KinesisRecord[] = [];
    let iterator = await this.iterator(shardId);
    const deadline = Date.now() + this.settings.batchWindowMs;
    while (iterator && !this.stopped) {
      const page = await this.client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(10_000, limit - records.length) }),
      );
      records.push(...(page.Records ?? []));
      iterator = page.NextShardIterator;
      if (records.length >= limit) break;
      if ((page.Records ?? []).length > 0) continue;
      if (records.length > 0 && Date.now() >= deadline) break;
      if (records.length === 0) break;
      await this.pause(Math.min(50, Math.max(0, deadline - Date.now())));
    }
    return records;
  }

  private async pollShard(shardId: string): Promise<void> {
    while (!this.stopped) {
      // AWS retries a refused poll: nothing is delivered until the role may read (and decrypt) again.
      if (!(await this.permitted(pollRequests(this.stream)))) {
        await this.pause(1000);
        continue;
      }
      let records: KinesisRecord[];
      try {
        records = await this.gather(
          shardId,
          this.settings.batchSize * Math.max(1, this.settings.parallelizationFactor),
        );
      } catch {
        if (this.stopped) return;
        await this.pause(100);
        continue;
      }
      if (records.length === 0) {
        await this.pause(100);
        continue;
      }
      await this.activity.track(this.dispatch(shardId, records));
    }
  }

  /**
   * Hands `records` (read in sequence order) over: with a parallelization factor of 1 as one batch; above,
   * dealt to the lanes by partition key, each lane's batches in order, the lanes at once. The shard's
   * checkpoint moves past them when every lane is done.
   */
  private async dispatch(shardId: string, records: KinesisRecord[]): Promise<void> {
    const factor = this.settings.parallelizationFactor;
    if (factor <= 1) return this.deliver(shardId, records, true);
    const lanes: KinesisRecord[][] = Array.from({ length: factor }, () => []);
    for (const record of records) lanes[laneOf(record.PartitionKey ?? '', factor)]!.push(record);
    const { batchSize } = this.settings;
    await Promise.all(
      lanes.map(async (lane) => {
        for (let i = 0; i < lane.length && !this.stopped; i += batchSize)
          await this.deliver(shardId, lane.slice(i, i + batchSize), false);
      }),
    );
    if (!this.stopped) this.checkpoint(shardId, records.at(-1)!);
  }

  /**
   * Invokes the function with `records` until they are done: processed, or sent to the failure destination;
   * `checkpoints`: the shard's checkpoint follows them (one lane only).
   */
  private async deliver(shardId: string, records: KinesisRecord[], checkpoints: boolean): Promise<void> {
    const checkpoint = (record: KinesisRecord) => {
      if (checkpoints) this.checkpoint(shardId, record);
    };
    // Pending batches (bisected halves), each with the retries it has had.
    const pending: { records: KinesisRecord[]; attempts: number }[] = [{ records, attempts: 0 }];
    while (pending.length > 0 && !this.stopped) {
      const batch = pending.shift()!;
      const event = {
        Records: batch.records.map((r) => kinesisEventRecord(r, shardId, this.stream, this.region)),
      };
      const result = await this.invoke(event);
      if (this.stopped) return;
      const failedFrom = result.status === 'failed' ? 0 : this.firstFailure(result.payload, batch.records);
      if (failedFrom === null) {
        checkpoint(batch.records.at(-1)!);
        this.outcomes.push({ shardId, records: batch.records.length, status: 'succeeded' });
        this.lastProcessingResult = 'OK';
        continue;
      }
      // Records before the failure are done.
      if (failedFrom > 0) checkpoint(batch.records[failedFrom - 1]!);
      const rest = batch.records.slice(failedFrom);
      this.outcomes.push({
        shardId,
        records: batch.records.length,
        status: result.status === 'failed' ? 'failed' : 'partial',
      });
      const attempts = batch.attempts + 1;
      const limit = this.settings.maximumRetryAttempts;
      if (limit >= 0 && attempts > limit) {
        // A refused send keeps the range: the shard waits (retrying) rather than lose it.
        while (!this.stopped && !(await this.permitted(onFailureRequests(this.settings))))
          await this.pause(1000);
        if (this.stopped) return;
        this.sendToFailureDestination(shardId, rest, result, attempts);
        checkpoint(rest.at(-1)!);
        this.outcomes.push({ shardId, records: rest.length, status: 'sent-to-failure-destination' });
        // The rest of a bisected batch goes on from here.
        continue;
      }
      if (this.settings.bisectOnError && rest.length > 1) {
        const half = Math.ceil(rest.length / 2);
        pending.unshift({ records: rest.slice(0, half), attempts }, { records: rest.slice(half), attempts });
      } else pending.unshift({ records: rest, attempts });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * Index of the first record a partial batch response names, null when none; 0 (the whole batch) when the
   * response names a record not in the batch or is malformed, as Lambda treats it.
   */
  private firstFailure(payload: unknown, records: KinesisRecord[]): number | null {
    if (!this.settings.reportBatchItemFailures || !isObject(payload)) return null;
    const failures = payload['batchItemFailures'];
    if (failures === undefined || failures === null) return null;
    if (!Array.isArray(failures)) return 0;
    let first: number | null = null;
    for (const failure of failures) {
      const id = isObject(failure) ? failure['itemIdentifier'] : undefined;
      const index = records.findIndex((record) => record.SequenceNumber === id);
      if (index < 0) return 0;
      first = first === null ? index : Math.min(first, index);
    }
    return first;
  }

  private checkpoint(shardId: string, record: KinesisRecord): void {
    this.checkpoints.set(shardId, record.SequenceNumber!);
  }

  /** What Lambda sends to an on-failure destination of a stream mapping: the batch's range, not its data. */
  private sendToFailureDestination(
    shardId: string,
    records: KinesisRecord[],
    result: InvocationResult,
    attempts: number,
  ): void {
    if (!this.failureQueue) return;
    const first = records[0]!;
    const last = records.at(-1)!;
    this.failureQueue.send(
      JSON.stringify({
        requestContext: {
          requestId: result.requestId,
          functionArn: this.functionName,
          condition: 'RetryAttemptsExhausted',
          approximateInvokeCount: attempts,
        },
        responseContext: {
          statusCode: 200,
          executedVersion: '$LATEST',
          functionError: result.status === 'failed' ? 'Unhandled' : '',
        },
        version: '1.0',
        timestamp: new Date().toISOString(),
        KinesisBatchInfo: {
          shardId,
          startSequenceNumber: first.SequenceNumber,
          endSequenceNumber: last.SequenceNumber,
          approximateArrivalOfFirstRecord: first.ApproximateArrivalTimestamp?.toISOString(),
          approximateArrivalOfLastRecord: last.ApproximateArrivalTimestamp?.toISOString(),
          batchSize: records.length,
          streamArn: this.stream.arn,
        },
      }),
    );
  }
}
