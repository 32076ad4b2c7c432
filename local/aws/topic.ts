/**
 * An in-memory SNS topic: its subscriptions as the template declares them, every message published, and
 * the SNS notification envelope that queue, Lambda and HTTP subscribers receive.
 */
import { randomUUID } from 'node:crypto';
import { matchesEventPattern } from './event-pattern.ts';
import type { MessageAttributeValue } from './queue.ts';

export interface TopicSubscription {
  protocol: string;
  endpoint: string;
  rawMessageDelivery: boolean;
  filterPolicy?: Record<string, unknown>;
  /** `MessageAttributes` (the default) or `MessageBody`. */
  filterPolicyScope: 'MessageAttributes' | 'MessageBody';
}

export interface PublishedMessage {
  messageId: string;
  topicArn: string;
  subject?: string;
  message: string;
  messageAttributes: Record<string, MessageAttributeValue>;
  /** Local clock time, ISO 8601. */
  timestamp: string;
  /** What each subscription did with it: `sqs <arn>`, `email ml-oncall@example.com (not sent)`. */
  deliveries: string[];
}

/** The JSON an SQS (without raw delivery), Lambda or HTTP subscriber receives. */
export function notificationEnvelope(message: PublishedMessage): Record<string, unknown> {
  return {
    Type: 'Notification',
    MessageId: message.messageId,
    TopicArn: message.topicArn,
    ...(message.subject === undefined ? {} : { Subject: message.subject }),
    Message: message.message,
    Timestamp: message.timestamp,
    SignatureVersion: '1',
    Signature: 'LOCAL',
    SigningCertURL: 'https://sns.amazonaws.com/local.pem',
    UnsubscribeURL: `https://sns.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${message.topicArn}:local`,
    MessageAttributes: Object.fromEntries(
      Object.entries(message.messageAttributes).map(([name, value]) => [
        name,
        { Type: value.DataType, Value: value.StringValue ?? value.BinaryValue ?? '' },
      ]),
    ),
  };
}

/** Whether a subscription's filter policy lets the message through. */
export function passesFilterPolicy(subscription: TopicSubscription, message: PublishedMessage): boolean {
  if (!subscription.filterPolicy) return true;
  if (subscription.filterPolicyScope === 'MessageBody') {
    let body: unknown;
    try {
      body = JSON.parse(message.message);
    } catch {
      return false;
    }
    return matchesEventPattern(subscription.filterPolicy, body);
  }
  const attributes = Object.fromEntries(
    Object.entries(message.messageAttributes).map(([name, value]) => {
      const text = value.StringValue ?? '';
      if (value.DataType.startsWith('Number')) return [name, Number(text)];
      if (value.DataType.startsWith('String.Array')) {
        try {
          return [name, JSON.parse(text) as unknown];
        } catch {
          return [name, text];
        }
      }
      return [name, text];
    }),
  );
  return matchesEventPattern(subscription.filterPolicy, attributes);
}

/**
 * One topic. Delivery is done by the local AWS (it knows the queues and functions): `deliver` is called
 * once per subscription whose filter policy passes and returns what happened.
 */
export class LocalTopic {
  readonly name: string;
  readonly arn: string;
  readonly displayName?: string;
  readonly subscriptions: TopicSubscription[] = [];
  readonly messages: PublishedMessage[] = [];

  constructor(options: { name: string; arn: string; displayName?: string }) {
    this.name = options.name;
    this.arn = options.arn;
    if (options.displayName !== undefined) this.displayName = options.displayName;
  }

  publish(
    input: { message: string; subject?: string; messageAttributes?: Record<string, MessageAttributeValue> },
    timestamp: string,
    deliver: (subscription: TopicSubscription, message: PublishedMessage) => string,
  ): PublishedMessage {
    const message: PublishedMessage = {
      messageId: randomUUID(),
      topicArn: this.arn,
      ...(input.subject === undefined ? {} : { subject: input.subject }),
      message: input.message,
      messageAttributes: input.messageAttributes ?? {},
      timestamp,
      deliveries: [],
    };
    for (const subscription of this.subscriptions) {
      message.deliveries.push(
        passesFilterPolicy(subscription, message)
          ? deliver(subscription, message)
          : `${subscription.protocol} ${subscription.endpoint} (filtered out)`,
      );
    }
    this.messages.push(message);
    return message;
  }
}
