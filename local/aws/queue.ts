/**
 * An in-memory SQS queue on the local clock: delays, visibility timeouts, receive counts and the redrive
 * policy (a message received more than `maxReceiveCount` times moves to the dead-letter queue), and the MD5
 * digests SQS returns and the SDK checks. A FIFO queue (`fifo: true`) also keeps SQS's FIFO rules: every
 * message has a message group; a group's messages are received in order, and none while one of them is in
 * flight (received, neither deleted nor visible again), so consumers work on each group one message (or
 * batch) at a time; a message whose deduplication id was sent in the last 5 minutes is accepted and
 * dropped.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from './clock.ts';

/** A message attribute as SQS holds it. */
export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  /** Base64. */
  BinaryValue?: string;
}

export interface QueueMessage {
  messageId: string;
  body: string;
  messageAttributes: Record<string, MessageAttributeValue>;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  sentTimestamp: number;
  firstReceiveTimestamp?: number;
  receiveCount: number;
  /** Local clock time from which the message can be received. */
  visibleAt: number;
  /** Set while received and not deleted. */
  receiptHandle?: string;
  /** FIFO queues: the message group; standard queues: the optional group of fair queues. */
  messageGroupId?: string;
  /** FIFO queues only. */
  messageDeduplicationId?: string;
  /** FIFO queues only: the order of the message in the queue. */
  sequenceNumber?: string;
}

/** A received message: what ReceiveMessage and the Lambda event source give. */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  messageAttributes: Record<string, MessageAttributeValue>;
  attributes: {
    ApproximateReceiveCount: string;
    SentTimestamp: string;
    SenderId: string;
    ApproximateFirstReceiveTimestamp: string;
    MessageGroupId?: string;
    MessageDeduplicationId?: string;
    SequenceNumber?: string;
  };
}

/** How long a FIFO queue remembers a deduplication id (SQS: 5 minutes). */
export const FIFO_DEDUPLICATION_MS = 5 * 60_000;

/** A send SQS refuses (e.g. a FIFO message without a group): `code` is SQS's error code. */
export class QueueSendError extends Error {
  override readonly name = 'QueueSendError';
  readonly code: 'MissingParameter' | 'InvalidParameterValue';
  constructor(code: 'MissingParameter' | 'InvalidParameterValue', message: string) {
    super(message);
    this.code = code;
  }
}

/** Where a queue's undeliverable messages go. */
export interface RedrivePolicy {
  deadLetterQueue: LocalQueue;
  maxReceiveCount: number;
}

export const md5Hex = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

/**
 * MD5 of message attributes as SQS computes it: for each attribute, by name, the length-prefixed name,
 * data type, a transport byte (1 string, 2 binary) and the length-prefixed value (lengths big-endian 32 bit).
 */
export function md5OfMessageAttributes(
  attributes: Record<string, MessageAttributeValue>,
): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const chunks: Buffer[] = [];
  const lengthPrefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    chunks.push(length, bytes);
  };
  for (const name of names) {
    const attribute = attributes[name]!;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(attribute.DataType, 'utf8'));
    if (attribute.BinaryValue !== undefined) {
      chunks.push(Buffer.from([2]));
      lengthPrefixed(Buffer.from(attribute.BinaryValue, 'base64'));
    } else {
      chunks.push(Buffer.from([1]));
      lengthPrefixed(Buffer.from(attribute.StringValue ?? '', 'utf8'));
    }
  }
  return md5Hex(Buffer.concat(chunks));
}

/** What happened to messages, for the timeline and the metrics. */
export interface QueueObserver {
  sent?(queue: LocalQueue, message: QueueMessage): void;
  deadLettered?(queue: LocalQueue, message: QueueMessage): void;
}

/**
 * One queue.
 *
 * @example
 * ```ts
 * const queue = new LocalQueue({ name: 'q', arn, url, clock });
 * queue.send('hello');
 * const [message] = queue.receive(1);
 * queue.delete(message!.receiptHandle);
 * ```
 */
export class LocalQueue {
  readonly name: string;
  readonly arn: string;
  readonly url: string;
  readonly visibilityTimeoutSeconds: number;
  readonly delaySeconds: number;
  /** A FIFO queue (its name ends with `.fifo`). */
  readonly fifo: boolean;
  /** FIFO: the SHA-256 of the body is the deduplication id when a send gives none. */
  readonly contentBasedDeduplication: boolean;
  redrive?: RedrivePolicy;
  /** FIFO: deduplication ids sent, with the time each expires. */
  private readonly deduplication = new Map<string, number>();
  private sequence = 0n;
  private readonly clock: Clock;
  private readonly observer: QueueObserver;
  private messages: QueueMessage[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(options: {
    name: string;
    arn: string;
    url: string;
    clock: Clock;
    visibilityTimeoutSeconds?: number;
    delaySeconds?: number;
    fifo?: boolean;
    contentBasedDeduplication?: boolean;
    observer?: QueueObserver;
  }) {
    this.name = options.name;
    this.arn = options.arn;
    this.url = options.url;
    this.clock = options.clock;
    this.visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 30;
    this.delaySeconds = options.delaySeconds ?? 0;
    this.fifo = options.fifo ?? false;
    this.contentBasedDeduplication = options.contentBasedDeduplication ?? false;
    this.observer = options.observer ?? {};
  }

  /** Calls `listener` whenever messages may have become receivable; returns the function that stops it. */
  onAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sends a message (SendMessage). On a FIFO queue a duplicate (same deduplication id within 5 minutes) is
   * accepted and dropped: the message first sent is returned.
   *
   * @throws QueueSendError as SQS refuses: a FIFO message without a group, without a deduplication id on a
   * queue without content-based deduplication, or with a delay of its own.
   */
  send(
    body: string,
    options: {
      delaySeconds?: number;
      messageAttributes?: Record<string, MessageAttributeValue>;
      messageGroupId?: string;
      messageDeduplicationId?: string;
    } = {},
  ): QueueMessage {
    const attributes = options.messageAttributes ?? {};
    const now = this.clock.now();
    let deduplicationId: string | undefined;
    if (this.fifo) {
      if (options.messageGroupId === undefined || options.messageGroupId === '') {
        throw new QueueSendError(
          'MissingParameter',
          'The request must contain the parameter MessageGroupId.',
        );
      }
      if (options.delaySeconds !== undefined) {
        throw new QueueSendError(
          'InvalidParameterValue',
          'Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.',
        );
      }
      deduplicationId =
        options.messageDeduplicationId ??
        (this.contentBasedDeduplication ? createHash('sha256').update(body).digest('hex') : undefined);
      if (deduplicationId === undefined) {
        throw new QueueSendError(
          'InvalidParameterValue',
          'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
      }
      for (const [id, expires] of this.deduplication) if (expires <= now) this.deduplication.delete(id);
      const duplicate = this.deduplication.has(deduplicationId)
        ? this.messages.find((message) => message.messageDeduplicationId === deduplicationId)
        : undefined;
      if (this.deduplication.has(deduplicationId)) {
        return (
          duplicate ?? {
            messageId: randomUUID(),
            body,
            messageAttributes: attributes,
            md5OfBody: md5Hex(body),
            sentTimestamp: now,
            receiveCount: 0,
            visibleAt: now,
          }
        );
      }
      this.deduplication.set(deduplicationId, now + FIFO_DEDUPLICATION_MS);
    }
    if (deduplicationId !== undefined) this.sequence += 1n;
    const delay = (options.delaySeconds ?? this.delaySeconds) * 1000;
    const digest = md5OfMessageAttributes(attributes);
    const message: QueueMessage = {
      messageId: randomUUID(),
      body,
      messageAttributes: attributes,
      md5OfBody: md5Hex(body),
      ...(digest === undefined ? {} : { md5OfMessageAttributes: digest }),
      sentTimestamp: now,
      receiveCount: 0,
      visibleAt: now + delay,
      ...(options.messageGroupId === undefined ? {} : { messageGroupId: options.messageGroupId }),
      ...(deduplicationId === undefined
        ? {}
        : {
            messageDeduplicationId: deduplicationId,
            sequenceNumber: String(this.sequence).padStart(20, '1'),
          }),
    };
    this.messages.push(message);
    this.observer.sent?.(this, message);
    this.availableAt(message.visibleAt);
    return message;
  }

  /**
   * Receives up to `max` visible messages, hiding each for the visibility timeout. A message already
   * received `maxReceiveCount` times moves to the dead-letter queue instead. On a FIFO queue, a group with a
   * message in flight gives nothing, and a group's messages come in order.
   */
  receive(max: number, visibilityTimeoutSeconds = this.visibilityTimeoutSeconds): ReceivedMessage[] {
    const now = this.clock.now();
    const received: ReceivedMessage[] = [];
    /** FIFO: groups that give nothing more in this call (in flight, or a message of theirs not yet visible). */
    const blocked = new Set<string>();
    if (this.fifo) {
      for (const message of this.messages) {
        if (message.visibleAt > now && message.receiptHandle !== undefined)
          blocked.add(message.messageGroupId!);
      }
    }
    for (const message of [...this.messages]) {
      if (received.length >= max) break;
      const group = message.messageGroupId;
      if (this.fifo && blocked.has(group!)) continue;
      if (message.visibleAt > now) {
        if (this.fifo) blocked.add(group!);
        continue;
      }
      if (this.redrive && message.receiveCount >= this.redrive.maxReceiveCount) {
        this.moveToDeadLetterQueue(message, this.redrive.deadLetterQueue);
        continue;
      }
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.receiptHandle = randomUUID();
      message.visibleAt = now + visibilityTimeoutSeconds * 1000;
      this.availableAt(message.visibleAt);
      received.push({
        messageId: message.messageId,
        receiptHandle: message.receiptHandle,
        body: message.body,
        md5OfBody: message.md5OfBody,
        ...(message.md5OfMessageAttributes === undefined
          ? {}
          : { md5OfMessageAttributes: message.md5OfMessageAttributes }),
        messageAttributes: message.messageAttributes,
        attributes: {
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(message.sentTimestamp),
          SenderId: 'AIDAIENQZJOLO23YVJ4VO',
          ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
          ...(group === undefined ? {} : { MessageGroupId: group }),
          ...(message.messageDeduplicationId === undefined
            ? {}
            : { MessageDeduplicationId: message.messageDeduplicationId }),
          ...(message.sequenceNumber === undefined ? {} : { SequenceNumber: message.sequenceNumber }),
        },
      });
    }
    return received;
  }

  /** Deletes a received message (DeleteMessage); false when the handle is not current. */
  delete(receiptHandle: string): boolean {
    const before = this.messages.length;
    this.messages = this.messages.filter((message) => message.receiptHandle !== receiptHandle);
    const deleted = this.messages.length !== before;
    // A FIFO group whose message was in flight gives its next message now.
    if (deleted && this.fifo) this.notify();
    return deleted;
  }

  /** Makes a received message visible again after `seconds` (ChangeMessageVisibility). */
  changeVisibility(receiptHandle: string, seconds: number): boolean {
    const message = this.messages.find((candidate) => candidate.receiptHandle === receiptHandle);
    if (!message) return false;
    message.visibleAt = this.clock.now() + seconds * 1000;
    this.availableAt(message.visibleAt);
    return true;
  }

  /** Deletes every message (PurgeQueue). */
  purge(): void {
    this.messages = [];
  }

  /** Messages that can be received now. */
  get visibleCount(): number {
    const now = this.clock.now();
    return this.messages.filter((message) => message.visibleAt <= now).length;
  }

  /** Messages received and not yet deleted nor visible again. */
  get inFlightCount(): number {
    const now = this.clock.now();
    return this.messages.filter((message) => message.visibleAt > now && message.receiptHandle !== undefined)
      .length;
  }

  /** Messages waiting for their delay. */
  get delayedCount(): number {
    const now = this.clock.now();
    return this.messages.filter((message) => message.visibleAt > now && message.receiptHandle === undefined)
      .length;
  }

  /** Every message in the queue (a copy), in send order. */
  peek(): QueueMessage[] {
    return this.messages.map((message) => ({ ...message }));
  }

  /** Age in seconds of the oldest message, 0 when empty. */
  oldestAgeSeconds(): number {
    const oldest = this.messages[0];
    return oldest === undefined ? 0 : Math.floor((this.clock.now() - oldest.sentTimestamp) / 1000);
  }

  private moveToDeadLetterQueue(message: QueueMessage, deadLetterQueue: LocalQueue): void {
    this.messages = this.messages.filter((candidate) => candidate !== message);
    deadLetterQueue.accept({ ...message, visibleAt: this.clock.now(), receiveCount: message.receiveCount });
    this.observer.deadLettered?.(this, message);
  }

  /** Takes a message moved here by a redrive policy, keeping its id, body and attributes. */
  private accept(message: QueueMessage): void {
    const { receiptHandle: _, ...rest } = message;
    this.messages.push({ ...rest, receiveCount: 0, visibleAt: this.clock.now() });
    this.notify();
  }

  private availableAt(time: number): void {
    if (time <= this.clock.now()) this.notify();
    else this.clock.at(time, () => this.notify(), `visible ${this.name}`);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
