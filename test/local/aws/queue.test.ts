import { describe, expect, it } from 'vitest';
import { Activity, Clock } from '../../../local/aws/clock.ts';
import { LocalQueue, md5OfMessageAttributes, QueueSendError } from '../../../local/aws/queue.ts';

function queues() {
  const clock = new Clock(Date.parse('2025-01-01T00:00:00Z'), new Activity());
  const deadLetters = new LocalQueue({ name: 'dlq', arn: 'arn:dlq', url: 'http://local/1/dlq', clock });
  const dead: string[] = [];
  const queue = new LocalQueue({
    name: 'work',
    arn: 'arn:work',
    url: 'http://local/1/work',
    clock,
    visibilityTimeoutSeconds: 30,
    observer: { deadLettered: (_, message) => dead.push(message.messageId) },
  });
  queue.redrive = { deadLetterQueue: deadLetters, maxReceiveCount: 2 };
  return { clock, queue, deadLetters, dead };
}

describe('md5OfMessageAttributes', () => {
  it('matches the digests SQS returns (vectors of other SQS implementations)', () => {
    expect(
      md5OfMessageAttributes({
        ordinal: { DataType: 'Number', StringValue: '1' },
        category: { DataType: 'String', StringValue: 'test' },
      }),
    ).toBe('d21ae90c49061e927f57df5f5d72be1f');
    expect(md5OfMessageAttributes({ timestamp: { DataType: 'Number', StringValue: '1493147359900' } })).toBe(
      '235c5c510d26fb653d073faed50ae77c',
    );
    expect(md5OfMessageAttributes({ SellerName: { DataType: 'String', StringValue: 'Example Store' } })).toBe(
      'cd28f3b68aeee4b2eac9c66f2f694b58',
    );
    expect(md5OfMessageAttributes({})).toBeUndefined();
  });
});

describe('LocalQueue', () => {
  it('hides a received message for the visibility timeout, on the local clock', async () => {
    const { clock, queue } = queues();
    const sent = queue.send('hello');
    expect(sent.md5OfBody).toBe('5d41402abc4b2a76b9719d911017c592');
    const [first] = queue.receive(10);
    expect(first?.attributes.ApproximateReceiveCount).toBe('1');
    expect(queue.receive(10)).toEqual([]);
    expect([queue.visibleCount, queue.inFlightCount]).toEqual([0, 1]);
    await clock.advance(30_000);
    const [again] = queue.receive(10);
    expect(again?.attributes.ApproximateReceiveCount).toBe('2');
    expect(queue.delete(first!.receiptHandle)).toBe(false);
    expect(queue.delete(again!.receiptHandle)).toBe(true);
    expect(queue.peek()).toEqual([]);
  });

  it('moves a message received maxReceiveCount times to the dead-letter queue, keeping it as it was', async () => {
    const { clock, queue, deadLetters, dead } = queues();
    const sent = queue.send('poison', {
      messageAttributes: { kind: { DataType: 'String', StringValue: 'x' } },
    });
    queue.receive(1);
    await clock.advance(30_000);
    queue.receive(1);
    await clock.advance(30_000);
    expect(queue.receive(1)).toEqual([]);
    expect(dead).toEqual([sent.messageId]);
    const [moved] = deadLetters.receive(1);
    expect(moved).toMatchObject({
      messageId: sent.messageId,
      body: 'poison',
      messageAttributes: { kind: { StringValue: 'x' } },
    });
  });

  it('delays messages and tells listeners when they become visible', async () => {
    const { clock, queue } = queues();
    let notified = 0;
    queue.onAvailable(() => {
      notified += 1;
    });
    queue.send('later', { delaySeconds: 60 });
    expect([queue.delayedCount, notified]).toEqual([1, 0]);
    await clock.advance(60_000);
    expect([queue.visibleCount, notified]).toEqual([1, 1]);
  });
});

describe('LocalQueue (FIFO)', () => {
  function fifo() {
    const clock = new Clock(Date.parse('2025-01-01T00:00:00Z'), new Activity());
    const deadLetters = new LocalQueue({
      name: 'dlq.fifo',
      arn: 'arn:dlq.fifo',
      url: 'http://local/1/dlq.fifo',
      clock,
      fifo: true,
    });
    const queue = new LocalQueue({
      name: 'work.fifo',
      arn: 'arn:work.fifo',
      url: 'http://local/1/work.fifo',
      clock,
      visibilityTimeoutSeconds: 30,
      fifo: true,
    });
    queue.redrive = { deadLetterQueue: deadLetters, maxReceiveCount: 2 };
    return { clock, queue, deadLetters };
  }
  const send = (queue: LocalQueue, body: string, group: string) =>
    queue.send(body, { messageGroupId: group, messageDeduplicationId: body });

  it('gives nothing of a group while one of its messages is in flight, the next in order once it is deleted', () => {
    const { queue } = fifo();
    for (const body of ['a1', 'a2', 'a3']) send(queue, body, 'A');
    send(queue, 'b1', 'B');
    const [a1] = queue.receive(1);
    expect(a1).toMatchObject({
      body: 'a1',
      attributes: { MessageGroupId: 'A', MessageDeduplicationId: 'a1' },
    });
    // A is locked: the next receive skips a2 and a3 and gives B's message.
    expect(queue.receive(1).map((m) => m.body)).toEqual(['b1']);
    expect(queue.receive(10)).toEqual([]);
    queue.delete(a1!.receiptHandle);
    expect(queue.receive(10).map((m) => m.body)).toEqual(['a2', 'a3']);
  });

  it('keeps a failing message at the head of its group until the redrive policy moves it, other groups going on', async () => {
    const { clock, queue, deadLetters } = fifo();
    send(queue, 'poison', 'A');
    send(queue, 'a2', 'A');
    send(queue, 'b1', 'B');
    expect(queue.receive(1).map((m) => m.body)).toEqual(['poison']);
    const [b1] = queue.receive(1);
    queue.delete(b1!.receiptHandle);
    expect(queue.receive(10)).toEqual([]);
    await clock.advance(30_000);
    expect(queue.receive(1).map((m) => m.body)).toEqual(['poison']);
    await clock.advance(30_000);
    // Received twice (maxReceiveCount): it moves to the FIFO dead-letter queue with its group, and a2 follows.
    expect(queue.receive(1).map((m) => m.body)).toEqual(['a2']);
    expect(deadLetters.receive(1)).toMatchObject([{ body: 'poison', attributes: { MessageGroupId: 'A' } }]);
  });

  it('drops a message whose deduplication id was sent in the last 5 minutes', async () => {
    const { clock, queue } = fifo();
    const first = send(queue, 'x', 'A');
    expect(send(queue, 'x', 'A').messageId).toBe(first.messageId);
    expect(queue.peek()).toHaveLength(1);
    await clock.advance(5 * 60_000);
    send(queue, 'x', 'A');
    expect(queue.peek()).toHaveLength(2);
  });

  it('refuses what SQS refuses: no group, no deduplication id, a delay of its own', () => {
    const { queue } = fifo();
    expect(() => queue.send('x', { messageDeduplicationId: 'x' })).toThrow(QueueSendError);
    expect(() => queue.send('x', { messageGroupId: 'A' })).toThrow(/ContentBasedDeduplication/);
    expect(() =>
      queue.send('x', { messageGroupId: 'A', messageDeduplicationId: 'x', delaySeconds: 5 }),
    ).toThrow(/DelaySeconds/);
  });
});
