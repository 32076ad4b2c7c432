import { randomUUID } from 'node:crypto';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import type { AwsClientStub } from 'aws-sdk-client-mock';

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
