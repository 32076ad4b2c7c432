/**
 * Fairness between models in the shared drift function. Landing events arrive on one standard queue in the
 * order files land, so a model that drops 500 files would hold every other model's file behind them. The
 * function therefore works in two stages:
 *
 * 1. **Route** (records of the landing queue): find each file's model and forward the event to the checks
 *    queue, a FIFO queue, in the message group `<model>#<n>`, `n` the hash of the key modulo the model's
 *    `drift.maxConcurrency`. Routing reads nothing but the models' parameters (cached), so the landing queue
 *    drains in milliseconds per file however many files wait.
 * 2. **Check** (records of the checks queue): check the file, as before.
 *
 * Lambda runs at most one batch of a FIFO message group at a time, and a group's next message only once
 * the one before is done (deleted, or moved to the dead-letter queue after `maxReceiveCount` receives). So a
 * model never has more than `drift.maxConcurrency` checks running, a poison message blocks only its own
 * group, and a quiet model's file starts as soon as the event source has a free slot: with the flooding
 * models' `maxConcurrency` summing to less than the engine's, at once.
 */
import { createHash } from 'node:crypto';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { type CreatedObject, objectIdentity } from '../shared/s3-event.ts';

/** Message attributes of a routed message. */
export const ROUTED_ATTRIBUTE = {
  /** The model the router found for the file. */
  model: 'model',
  /** The key of the file, as the event carried it: a message of several files is checked for this one only. */
  key: 'key',
} as const;

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * The FIFO message group of a model's file: `<model>#<n>`, `n` = SHA-256 of the key modulo `maxConcurrency`.
 * The same key always lands in the same group, so uploads of one key are checked in the order they came.
 *
 * @example
 * ```ts
 * checkGroupOf('churn', 'churn/incoming/day1.csv', 5); // 'churn#3'
 * ```
 */
export function checkGroupOf(model: string, key: string, maxConcurrency: number): string {
  const slots = Math.max(1, Math.floor(maxConcurrency));
  return `${model}#${sha256(key).readUInt32BE(0) % slots}`;
}

/** What the router sends to the checks queue for one file of one model. */
export interface RoutedMessage {
  MessageBody: string;
  MessageGroupId: string;
  /** SHA-256 of the object's identity: a duplicate event within 5 minutes is dropped by SQS. */
  MessageDeduplicationId: string;
  MessageAttributes: Record<string, MessageAttributeValue>;
}

/** The checks-queue message of `object` (announced by `body`) for `model`. */
export function routedMessage(
  body: string,
  object: CreatedObject,
  model: { name: string; maxConcurrency: number },
  redrive = '',
): RoutedMessage {
  const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  return {
    MessageBody: body,
    MessageGroupId: checkGroupOf(model.name, object.eventKey, model.maxConcurrency),
    MessageDeduplicationId: sha256(objectIdentity(object) + redrive).toString('hex'),
    MessageAttributes: {
      [ROUTED_ATTRIBUTE.model]: text(model.name),
      [ROUTED_ATTRIBUTE.key]: text(object.eventKey),
    },
  };
}
