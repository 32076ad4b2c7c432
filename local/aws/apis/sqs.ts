/**
 * SQS over AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.<Operation>`; the client is query-compatible, so errors
 * also carry the query code in `x-amzn-query-error`): the operations handlers and tests use, on the
 * in-memory queues.
 */
import { LocalServiceError } from '../errors.ts';
import {
  type LocalQueue,
  type MessageAttributeValue,
  QueueSendError,
  type ReceivedMessage,
} from '../queue.ts';
import type { ServiceRoutes } from '../service-endpoint.ts';

/** The queues the API answers for. */
export interface QueueDirectory {
  /** By URL (any host: the name is the last path segment) or by name. */
  find(urlOrName: string): LocalQueue | undefined;
  all(): LocalQueue[];
}

const string = (input: Record<string, unknown>, field: string): string => {
  const value = input[field];
  if (typeof value !== 'string' || value === '') {
    throw new LocalServiceError('MissingParameter', `The request must contain the parameter ${field}.`, {
      queryCode: 'MissingParameter',
    });
  }
  return value;
};

function queueOf(queues: QueueDirectory, input: Record<string, unknown>): LocalQueue {
  const url = string(input, 'QueueUrl');
  const queue = queues.find(url);
  if (!queue) {
    throw new LocalServiceError('QueueDoesNotExist', `The specified queue does not exist: ${url}`, {
      queryCode: 'AWS.SimpleQueueService.NonExistentQueue',
    });
  }
  return queue;
}

function attributesOf(value: unknown): Record<string, MessageAttributeValue> {
  if (typeof value !== 'object' || value === null) return {};
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, raw] of Object.entries(value as Record<string, Record<string, unknown>>)) {
    const dataType = raw['DataType'];
    if (typeof dataType !== 'string') {
      throw new LocalServiceError('InvalidParameterValue', `The message attribute ${name} has no DataType.`, {
        queryCode: 'InvalidParameterValue',
      });
    }
    attributes[name] = {
      DataType: dataType,
      ...(typeof raw['StringValue'] === 'string' ? { StringValue: raw['StringValue'] } : {}),
      ...(typeof raw['BinaryValue'] === 'string' ? { BinaryValue: raw['BinaryValue'] } : {}),
    };
  }
  return attributes;
}

function send(queue: LocalQueue, entry: Record<string, unknown>) {
  const body = string(entry, 'MessageBody');
  const text = (field: string) => (typeof entry[field] === 'string' ? { [field]: entry[field] } : {});
  const { MessageGroupId: messageGroupId, MessageDeduplicationId: messageDeduplicationId } = {
    ...text('MessageGroupId'),
    ...text('MessageDeduplicationId'),
  } as { MessageGroupId?: string; MessageDeduplicationId?: string };
  let message: ReturnType<LocalQueue['send']>;
  try {
    message = queue.send(body, {
      ...(typeof entry['DelaySeconds'] === 'number' ? { delaySeconds: entry['DelaySeconds'] } : {}),
      messageAttributes: attributesOf(entry['MessageAttributes']),
      ...(messageGroupId === undefined ? {} : { messageGroupId }),
      ...(messageDeduplicationId === undefined ? {} : { messageDeduplicationId }),
    });
  } catch (error) {
    if (!(error instanceof QueueSendError)) throw error;
    throw new LocalServiceError(error.code, error.message, { queryCode: error.code });
  }
  return {
    MessageId: message.messageId,
    MD5OfMessageBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes === undefined
      ? {}
      : { MD5OfMessageAttributes: message.md5OfMessageAttributes }),
    ...(message.sequenceNumber === undefined ? {} : { SequenceNumber: message.sequenceNumber }),
  };
}

function wanted(names: unknown, name: string): boolean {
  return Array.isArray(names) && names.some((item) => item === 'All' || item === '.*' || item === name);
}

function asSqsMessage(message: ReceivedMessage, input: Record<string, unknown>) {
  const attributeNames = [
    ...((input['AttributeNames'] as unknown[] | undefined) ?? []),
    ...((input['MessageSystemAttributeNames'] as unknown[] | undefined) ?? []),
  ];
  const attributes = Object.fromEntries(
    Object.entries(message.attributes).filter(([name]) => wanted(attributeNames, name)),
  );
  const messageAttributes = Object.fromEntries(
    Object.entries(message.messageAttributes).filter(([name]) =>
      wanted(input['MessageAttributeNames'], name),
    ),
  );
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
    ...(Object.keys(messageAttributes).length > 0
      ? { MessageAttributes: messageAttributes, MD5OfMessageAttributes: message.md5OfMessageAttributes }
      : {}),
  };
}

/**
 * Routes of SendMessage, SendMessageBatch, ReceiveMessage (no long polling: the local clock moves only when
 * advanced), DeleteMessage, DeleteMessageBatch, ChangeMessageVisibility, GetQueueUrl, GetQueueAttributes,
 * PurgeQueue and ListQueues.
 */
export function sqsRoutes(queues: QueueDirectory): ServiceRoutes['json'] {
  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    SendMessage: (input) => send(queueOf(queues, input), input),
    SendMessageBatch: (input) => {
      const queue = queueOf(queues, input);
      const entries = (input['Entries'] as Record<string, unknown>[] | undefined) ?? [];
      const successful: unknown[] = [];
      const failed: unknown[] = [];
      for (const entry of entries) {
        try {
          successful.push({ Id: entry['Id'], ...send(queue, entry) });
        } catch (error) {
          if (!(error instanceof LocalServiceError)) throw error;
          failed.push({ Id: entry['Id'], SenderFault: true, Code: error.code, Message: error.message });
        }
      }
      return { Successful: successful, Failed: failed };
    },
    ReceiveMessage: (input) => {
      const queue = queueOf(queues, input);
      const max = typeof input['MaxNumberOfMessages'] === 'number' ? input['MaxNumberOfMessages'] : 1;
      const visibility =
        typeof input['VisibilityTimeout'] === 'number'
          ? input['VisibilityTimeout']
          : queue.visibilityTimeoutSeconds;
      return { Messages: queue.receive(max, visibility).map((message) => asSqsMessage(message, input)) };
    },
    DeleteMessage: (input) => {
      const queue = queueOf(queues, input);
      if (!queue.delete(string(input, 'ReceiptHandle'))) {
        throw new LocalServiceError('ReceiptHandleIsInvalid', 'The input receipt handle is invalid.', {
          queryCode: 'ReceiptHandleIsInvalid',
        });
      }
      return {};
    },
    DeleteMessageBatch: (input) => {
      const queue = queueOf(queues, input);
      const entries = (input['Entries'] as Record<string, unknown>[] | undefined) ?? [];
      const successful = entries.filter((entry) => queue.delete(String(entry['ReceiptHandle'])));
      return {
        Successful: successful.map((entry) => ({ Id: entry['Id'] })),
        Failed: entries
          .filter((entry) => !successful.includes(entry))
          .map((entry) => ({ Id: entry['Id'], SenderFault: true, Code: 'ReceiptHandleIsInvalid' })),
      };
    },
    ChangeMessageVisibility: (input) => {
      const queue = queueOf(queues, input);
      queue.changeVisibility(string(input, 'ReceiptHandle'), Number(input['VisibilityTimeout'] ?? 0));
      return {};
    },
    GetQueueUrl: (input) => {
      const name = string(input, 'QueueName');
      const queue = queues.find(name);
      if (!queue) {
        throw new LocalServiceError('QueueDoesNotExist', 'The specified queue does not exist.', {
          queryCode: 'AWS.SimpleQueueService.NonExistentQueue',
        });
      }
      return { QueueUrl: queue.url };
    },
    GetQueueAttributes: (input) => {
      const queue = queueOf(queues, input);
      const all: Record<string, string> = {
        QueueArn: queue.arn,
        ApproximateNumberOfMessages: String(queue.visibleCount),
        ApproximateNumberOfMessagesNotVisible: String(queue.inFlightCount),
        ApproximateNumberOfMessagesDelayed: String(queue.delayedCount),
        VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
        DelaySeconds: String(queue.delaySeconds),
        ...(queue.fifo
          ? {
              FifoQueue: 'true',
              ContentBasedDeduplication: String(queue.contentBasedDeduplication),
            }
          : {}),
        ...(queue.redrive
          ? {
              RedrivePolicy: JSON.stringify({
                deadLetterTargetArn: queue.redrive.deadLetterQueue.arn,
                maxReceiveCount: queue.redrive.maxReceiveCount,
              }),
            }
          : {}),
      };
      const names = (input['AttributeNames'] as string[] | undefined) ?? [];
      return {
        Attributes: Object.fromEntries(
          Object.entries(all).filter(([name]) => names.includes('All') || names.includes(name)),
        ),
      };
    },
    PurgeQueue: (input) => {
      queueOf(queues, input).purge();
      return {};
    },
    ListQueues: (input) => {
      const prefix = typeof input['QueueNamePrefix'] === 'string' ? input['QueueNamePrefix'] : '';
      return {
        QueueUrls: queues
          .all()
          .filter((queue) => queue.name.startsWith(prefix))
          .map((queue) => queue.url),
      };
    },
  };
  return Object.fromEntries(
    Object.entries(operations).map(([name, operation]) => [
      `AmazonSQS.${name}`,
      { operation, namespace: 'sqs', queryCompatible: true },
    ]),
  );
}
