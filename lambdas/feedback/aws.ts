/** The AWS side of the feedback consumer's ports: DynamoDB states, EventBridge events, the SQS failure queue. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type ConceptDriftDetectedDetail, DETAIL_TYPE } from '../shared/contract.ts';
import { putEvents } from '../shared/publish.ts';
import type { CohortStore, RejectedRecord, StoredCohort } from './consumer.ts';

/** Environment variables of the feedback consumer. */
export const FEEDBACK_ENV = {
  stateTable: 'FEEDBACK_STATE_TABLE',
  failureQueueUrl: 'FEEDBACK_FAILURE_QUEUE_URL',
  eventBusName: 'EVENT_BUS_NAME',
  /** The history table, where the model's incident record is (see `lambdas/shared/incidents.ts`). */
  historyTable: 'HISTORY_TABLE',
  /** The event source mapping's `ParallelizationFactor` (above 1, partition keys must be model names). */
  parallelizationFactor: 'FEEDBACK_PARALLELIZATION_FACTOR',
} as const;

/**
 * States in the concept-drift table (partition key `model`, sort key `cohort`): the state and the pending
 * detections as JSON strings, and `version`, which every write checks and increments.
 */
export function dynamoCohortStore(documents: DynamoDBDocumentClient, table: string): CohortStore {
  return {
    async get(model, cohort) {
      const { Item } = await documents.send(
        new GetCommand({ TableName: table, Key: { model, cohort }, ConsistentRead: true }),
      );
      if (!Item) return undefined;
      return {
        state: JSON.parse(String(Item['state'])),
        version: Number(Item['version']),
        pending: Item['pending'] ? JSON.parse(String(Item['pending'])) : [],
      } satisfies StoredCohort;
    },
    async put(next, expected) {
      try {
        await documents.send(
          new PutCommand({
            TableName: table,
            Item: {
              model: next.state.model,
              cohort: next.state.cohort,
              version: next.version,
              outcomes: next.state.n,
              state: JSON.stringify(next.state),
              ...(next.pending.length > 0 ? { pending: JSON.stringify(next.pending) } : {}),
              updatedAt: new Date().toISOString(),
            },
            ConditionExpression:
              expected === undefined ? 'attribute_not_exists(#model)' : '#version = :expected',
            ExpressionAttributeNames:
              expected === undefined ? { '#model': 'model' } : { '#version': 'version' },
            ...(expected === undefined ? {} : { ExpressionAttributeValues: { ':expected': expected } }),
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
        throw error;
      }
    },
  };
}

/** Puts `Concept Drift Detected` events, ten per call; throws when any entry failed. */
export function eventPutter(
  eventBridge: EventBridgeClient,
  eventBusName: string,
): (details: readonly ConceptDriftDetectedDetail[]) => Promise<void> {
  return (details) => putEvents(eventBridge, eventBusName, DETAIL_TYPE.conceptDriftDetected, details);
}

/** Sends rejected records to the failure queue, ten per call; throws when any message was not sent. */
export function failureSender(
  sqs: SQSClient,
  queueUrl: string,
): (records: readonly RejectedRecord[]) => Promise<void> {
  return async (records) => {
    for (let i = 0; i < records.length; i += 10) {
      const response = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: records.slice(i, i + 10).map((record, j) => ({
            Id: String(j),
            MessageBody: JSON.stringify({ kind: 'unparseable-feedback', ...record }),
            MessageAttributes: {
              model: { DataType: 'String', StringValue: record.model ?? '_unknown' },
              reason: { DataType: 'String', StringValue: record.reason.slice(0, 256) },
            },
          })),
        }),
      );
      if ((response.Failed ?? []).length > 0) {
        const failure = response.Failed![0]!;
        throw new Error(`SendMessageBatch failed: ${failure.Code}: ${failure.Message ?? ''}`);
      }
    }
  };
}
