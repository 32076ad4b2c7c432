import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { expect } from 'vitest';
import { profileToJson } from '../../../lambdas/core/drift/profile.ts';
import { profileTable } from '../../../lambdas/core/drift/run.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import { handler } from '../../../lambdas/drift/handler.ts';
import {
  CAPTURE,
  captureWindowReportKey,
  DRIFT_ENV,
  type DriftDetectedDetail,
  type DriftModelRuntimeConfig,
  type HistoryItem,
} from '../../../lambdas/shared/contract.ts';
import { AwsEmulators } from '../../helpers/aws-emulators.ts';
import {
  DATA_BUCKET,
  EVENT_BUS,
  HandlerEnvironment,
  HISTORY_TABLE,
  modelHistory,
  putEventEntries,
  REPORTS_PREFIX,
  RESULTS_BUCKET,
  lambdaContext as sharedLambdaContext,
  type Uploaded,
} from '../../helpers/lambda-harness.ts';

export {
  DATA_BUCKET,
  EVENT_BUS,
  HISTORY_TABLE,
  REPORTS_PREFIX,
  RESULTS_BUCKET,
  type Uploaded,
} from '../../helpers/lambda-harness.ts';

export const SCENARIOS = new URL('../../fixtures/scenarios/', import.meta.url).pathname;
export const IDEMPOTENCY_TABLE = 'driftwatch-idempotency';
export const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/driftwatch-drift-dlq';
export const CAPTURE_TABLE = 'driftwatch-capture';
export const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/driftwatch-drift';

/** The churn model: baseline = one random half of mlc_churn, segments by area code, churn is the label. */
export const MODEL: DriftModelRuntimeConfig = {
  name: 'churn',
  incomingPrefix: 'incoming/',
  baselineProfileKey: 'baselines/churn.profile.json.gz',
  numeric: [],
  categorical: [],
  exclude: ['churn'],
  segment: 'area_code',
  method: null,
  featureMethods: {},
  driftShare: 0.5,
  criticalFeatures: ['total_day_minutes'],
  // Version 1 decisions: the handler tests compare with the version 1 golden report.
  fdr: null,
  minEffect: { ks: 0.1, chi2: 0.1 },
  persistence: { m: 1, n: 1 },
  maxObjectBytes: 1_000_000,
  maxDecompressedBytes: 2_000_000,
};

/** An EventBridge "Object Created" event from S3, as the rule delivers it to the queue. */
export function objectCreatedEvent(
  object: Uploaded,
  options: { versionId?: string; bucket?: string; key?: string; sequencer?: string } = {},
): string {
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${options.bucket ?? DATA_BUCKET}`],
    detail: {
      version: '0',
      bucket: { name: options.bucket ?? DATA_BUCKET },
      object: {
        key: options.key ?? object.key,
        size: object.size,
        etag: object.etag,
        ...(options.versionId === undefined ? {} : { 'version-id': options.versionId }),
        sequencer: options.sequencer ?? '0065A1B2C3D4E5F607',
      },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '123456789012',
      'source-ip-address': '1.2.3.4',
      reason: 'PutObject',
    },
  });
}

/** An S3 event notification (the `Records` format S3 sends to SQS directly), key URL-encoded as S3 does. */
export function s3NotificationEvent(object: Uploaded, encodedKey: string, versionId: string): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: DATA_BUCKET, arn: `arn:aws:s3:::${DATA_BUCKET}` },
          object: {
            key: encodedKey,
            size: object.size,
            eTag: object.etag,
            versionId,
            sequencer: '0065A1B2C3D4E5F608',
          },
        },
      },
    ],
  });
}

export function sqsRecord(body: string, messageId: string = randomUUID()): SQSRecord {
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:driftwatch-drift',
    awsRegion: 'us-east-1',
  };
}

export function lambdaContext(): Context {
  return sharedLambdaContext({
    name: 'driftwatch-drift-churn',
    memoryLimitInMB: '1024',
    remainingMillis: 120_000,
  });
}

/**
 * The drift handler's world on loopback: S3 (s3rver, behind a fault proxy) with the data and results
 * buckets and the churn baseline profile, DynamoDB (dynalite) with the history and idempotency tables,
 * EventBridge and SQS stubbed, stdout captured for the EMF and log lines.
 */
export class DriftEnvironment extends HandlerEnvironment {
  readonly sqs = mockClient(SQSClient);

  /**
   * @param options.model the model the function checks (default {@link MODEL})
   * @param options.capture with a capture table (and the drift queue's URL), for Data Capture models
   */
  static async start(
    options: { model?: DriftModelRuntimeConfig; capture?: boolean } = {},
  ): Promise<DriftEnvironment> {
    const aws = await AwsEmulators.start({
      buckets: [DATA_BUCKET, RESULTS_BUCKET],
      tables: [
        { name: HISTORY_TABLE, partitionKey: 'pk', sortKey: 'sk' },
        { name: IDEMPOTENCY_TABLE, partitionKey: 'id' },
        ...(options.capture
          ? [
              {
                name: CAPTURE_TABLE,
                partitionKey: 'pk',
                sortKey: 'sk',
                index: { name: CAPTURE.dueIndex, partitionKey: 'dueShard', sortKey: 'due' },
              },
            ]
          : []),
      ],
    });
    const environment = new DriftEnvironment(aws);
    environment.setEnv({
      ...aws.environment,
      [DRIFT_ENV.modelConfig]: JSON.stringify(options.model ?? MODEL),
      [DRIFT_ENV.captureTable]: options.capture ? CAPTURE_TABLE : undefined,
      [DRIFT_ENV.queueUrl]: options.capture ? QUEUE_URL : undefined,
      [DRIFT_ENV.dataBucket]: DATA_BUCKET,
      [DRIFT_ENV.resultsBucket]: RESULTS_BUCKET,
      [DRIFT_ENV.reportsPrefix]: REPORTS_PREFIX,
      [DRIFT_ENV.historyTable]: HISTORY_TABLE,
      [DRIFT_ENV.idempotencyTable]: IDEMPOTENCY_TABLE,
      [DRIFT_ENV.eventBusName]: EVENT_BUS,
      [DRIFT_ENV.deadLetterQueueUrl]: DLQ_URL,
      AWS_ENDPOINT_URL: undefined,
      AWS_PROFILE: undefined,
      POWERTOOLS_DEV: undefined,
      POWERTOOLS_METRICS_DISABLED: undefined,
      POWERTOOLS_IDEMPOTENCY_DISABLED: undefined,
    });
    environment.resetStubs();
    await environment.uploadBaselineProfile();
    return environment;
  }

  /** The profile `driftwatch profile --exclude churn --segment area_code` makes of the baseline half, gzip. */
  async uploadBaselineProfile(): Promise<void> {
    const profile = await profileTable(fileInput(`${SCENARIOS}churn-halves/baseline.csv`), {
      exclude: MODEL.exclude,
      segment: MODEL.segment,
    });
    await this.upload(MODEL.baselineProfileKey, gzipSync(profileToJson(profile)));
  }

  /** EventBridge accepts every event; SQS accepts every message. Call history cleared. */
  resetStubs(): void {
    this.eventBridge.reset();
    this.eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: randomUUID() }] });
    this.sqs.reset();
    this.sqs.on(SendMessageCommand).resolves({ MessageId: randomUUID() });
    this.sqs.on(SendMessageBatchCommand).callsFake((input: { Entries?: { Id?: string }[] }) => ({
      Successful: (input.Entries ?? []).map((entry) => ({
        Id: entry.Id,
        MessageId: randomUUID(),
        MD5OfMessageBody: '',
      })),
      Failed: [],
    }));
  }

  /** Runs the real handler on one SQS batch. */
  async invoke(records: SQSRecord[]): Promise<SQSBatchResponse> {
    return (await handler({ Records: records }, lambdaContext())) as SQSBatchResponse;
  }

  /** Uploads a data file and runs the handler on its event, as the landing queue would: no message may fail. */
  async arrive(key: string, body: string | Uint8Array): Promise<Uploaded> {
    const object = await this.upload(key, body);
    expect((await this.invoke([sqsRecord(objectCreatedEvent(object))])).batchItemFailures).toEqual([]);
    return object;
  }

  /** Runs the handler on one queue message (a JSON body, as the engine queues them): no message may fail. */
  async deliver(body: Record<string, unknown>): Promise<void> {
    expect((await this.invoke([sqsRecord(JSON.stringify(body))])).batchItemFailures).toEqual([]);
  }

  /** Runs the capture sweep, then the window messages it queued (no message may fail); returns those messages. */
  async sweep(): Promise<string[]> {
    const before = this.batchMessages().length;
    expect(
      (await this.invoke([sqsRecord(JSON.stringify({ driftwatch: 'capture-sweep' }))])).batchItemFailures,
    ).toEqual([]);
    const messages = this.batchMessages().slice(before);
    for (const message of messages) {
      expect((await this.invoke([sqsRecord(message)])).batchItemFailures).toEqual([]);
    }
    return messages;
  }

  async history(): Promise<HistoryItem[]> {
    return modelHistory<HistoryItem>(this.aws.documents, HISTORY_TABLE, MODEL.name);
  }

  async historyFor(key: string): Promise<HistoryItem[]> {
    return (await this.history()).filter((item) => item.key === key);
  }

  /** A stored report (`estimated`, `realized`) of a window of `churn-endpoint`'s capture, parsed. */
  async windowReport<T>(variant: string, start: number, name: 'estimated' | 'realized'): Promise<T> {
    const key = captureWindowReportKey(
      REPORTS_PREFIX,
      MODEL.name,
      { endpoint: 'churn-endpoint', variant, start: new Date(start) },
      name,
    );
    return JSON.parse(await this.resultText(key)) as T;
  }

  /** Details of the `Drift Detected` events put so far, with the entry fields around them. */
  putEvents(): { source: string; detailType: string; bus: string; detail: DriftDetectedDetail }[] {
    return putEventEntries<DriftDetectedDetail>(this.eventBridge);
  }

  /** Bodies of the messages sent in batches (the capture sweep's window messages), oldest first. */
  batchMessages(): string[] {
    return this.sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((call) => (call.args[0].input.Entries ?? []).map((entry) => entry.MessageBody ?? ''));
  }

  /** Messages sent to the dead-letter queue: body and string attributes. */
  deadLetters(): { queueUrl: string; body: string; attributes: Record<string, string> }[] {
    return this.sqs.commandCalls(SendMessageCommand).map((call) => {
      const input = call.args[0].input;
      return {
        queueUrl: input.QueueUrl ?? '',
        body: input.MessageBody ?? '',
        attributes: Object.fromEntries(
          Object.entries(input.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            value.StringValue ?? '',
          ]),
        ),
      };
    });
  }

  override async stop(): Promise<void> {
    this.sqs.restore();
    await super.stop();
  }
}
