import { describe, expect, it } from 'vitest';
import { Activity, Clock } from '../../../local/aws/clock.ts';
import { LocalQueue, md5OfMessageAttributes } from '../../../local/aws/queue.ts';

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
