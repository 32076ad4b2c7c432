import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import type { AwsEmulators } from './aws-emulators.ts';
import { OutputCapture } from './emf.ts';

/** The context Lambda hands a handler: a fresh request id, the function's name, memory and time left. */
export function lambdaContext(fn: {
  name: string;
  memoryLimitInMB: string;
  remainingMillis: number;
}): Context {
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${fn.name}`,
    memoryLimitInMB: fn.memoryLimitInMB,
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `2025/01/01/[$LATEST]${requestId}`,
    getRemainingTimeInMillis: () => fn.remainingMillis,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** The events put through a stubbed EventBridge client so far: details parsed, with the entry fields around them. */
export function putEventEntries<Detail>(
  eventBridge: AwsClientStub<EventBridgeClient>,
): { source: string; detailType: string; bus: string; detail: Detail }[] {
  return eventBridge.commandCalls(PutEventsCommand).flatMap((call) =>
    (call.args[0].input.Entries ?? []).map((entry) => ({
      source: entry.Source ?? '',
      detailType: entry.DetailType ?? '',
      bus: entry.EventBusName ?? '',
      detail: JSON.parse(entry.Detail ?? 'null') as Detail,
    })),
  );
}

/** Every key of `bucket` (one page). */
export async function bucketKeys(s3: S3Client, bucket: string): Promise<string[]> {
  const response = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (response.Contents ?? []).map((object) => object.Key ?? '');
}

/** The object at `key` of `bucket` as UTF-8 text. */
export async function objectText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await response.Body?.transformToString('utf8')) ?? '';
}

/** The history items of `model` in `table` (one page). */
export async function modelHistory<Item>(
  documents: DynamoDBDocumentClient,
  table: string,
  model: string,
): Promise<Item[]> {
  const response = await documents.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `MODEL#${model}` },
    }),
  );
  return (response.Items ?? []) as Item[];
}

/** The buckets, tables and bus a handler's tests deploy it with. */
export const DATA_BUCKET = 'driftwatch-data';
export const RESULTS_BUCKET = 'driftwatch-results';
export const HISTORY_TABLE = 'driftwatch-history';
export const EVENT_BUS = 'driftwatch-bus';
export const REPORTS_PREFIX = 'reports/';

/** An object put in the data bucket: what an event about it names. */
export interface Uploaded {
  key: string;
  etag: string;
  size: number;
  versionId: string | null;
}

/**
 * What a handler's world on loopback has in common, whatever the handler: the emulators (S3 with the data
 * and results buckets, DynamoDB), EventBridge stubbed, stdout captured, and the process environment it set,
 * given back by {@link stop}.
 */
export class HandlerEnvironment {
  readonly aws: AwsEmulators;
  readonly eventBridge = mockClient(EventBridgeClient);
  readonly output = new OutputCapture();
  private readonly savedEnv: Record<string, string | undefined> = {};

  protected constructor(aws: AwsEmulators) {
    this.aws = aws;
  }

  /** Sets (undefined: unsets) process environment variables; {@link stop} gives back what they were. */
  protected setEnv(values: Record<string, string | undefined>): void {
    for (const [name, value] of Object.entries(values)) {
      if (!(name in this.savedEnv)) this.savedEnv[name] = process.env[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }

  async upload(key: string, body: string | Uint8Array): Promise<Uploaded> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const response = await this.aws.s3.send(
      new PutObjectCommand({ Bucket: DATA_BUCKET, Key: key, Body: bytes }),
    );
    return {
      key,
      etag: (response.ETag ?? '').replaceAll('"', ''),
      size: bytes.length,
      versionId: response.VersionId ?? null,
    };
  }

  async deleteObject(key: string): Promise<void> {
    await this.aws.s3.send(new DeleteObjectCommand({ Bucket: DATA_BUCKET, Key: key }));
  }

  async resultKeys(): Promise<string[]> {
    return bucketKeys(this.aws.s3, RESULTS_BUCKET);
  }

  async resultText(key: string): Promise<string> {
    return objectText(this.aws.s3, RESULTS_BUCKET, key);
  }

  /** Stops capturing and stubbing, stops the emulators and gives the process environment back. */
  async stop(): Promise<void> {
    this.output.restore();
    this.eventBridge.restore();
    await this.aws.stop();
    for (const [name, value] of Object.entries(this.savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
