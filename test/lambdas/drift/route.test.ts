import { describe, expect, it } from 'vitest';
import { checkGroupOf, ROUTED_ATTRIBUTE, routedMessage } from '../../../lambdas/drift/route.ts';
import { parseCreatedObjects } from '../../../lambdas/shared/s3-event.ts';

const event = (key: string, etag = 'abc') =>
  JSON.stringify({
    source: 'aws.s3',
    'detail-type': 'Object Created',
    detail: { bucket: { name: 'landing' }, object: { key, etag, size: 10, sequencer: '01' } },
  });

describe('checkGroupOf', () => {
  it("spreads a model's files over exactly maxConcurrency groups, the same key always in the same one", () => {
    const groups = new Set(
      Array.from({ length: 400 }, (_, i) => checkGroupOf('churn', `churn/incoming/${i}.csv`, 4)),
    );
    expect([...groups].sort()).toEqual(['churn#0', 'churn#1', 'churn#2', 'churn#3']);
    expect(checkGroupOf('churn', 'churn/incoming/a.csv', 4)).toBe(
      checkGroupOf('churn', 'churn/incoming/a.csv', 4),
    );
    expect(checkGroupOf('fraud', 'x', 1)).toBe('fraud#0');
  });
});

describe('routedMessage', () => {
  it('carries the event as it came, the model and key, and a deduplication id of the upload', () => {
    const body = event('churn/incoming/a b.csv');
    const [object] = parseCreatedObjects(body);
    const message = routedMessage(body, object!, { name: 'churn', maxConcurrency: 5 });
    expect(message.MessageBody).toBe(body);
    expect(message.MessageGroupId).toMatch(/^churn#[0-4]$/);
    expect(message.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    expect(message.MessageAttributes[ROUTED_ATTRIBUTE.model]?.StringValue).toBe('churn');
    expect(message.MessageAttributes[ROUTED_ATTRIBUTE.key]?.StringValue).toBe('churn/incoming/a b.csv');
    // Another upload of the key (another ETag) is another message; a redriven one too.
    const [again] = parseCreatedObjects(event('churn/incoming/a b.csv', 'def'));
    expect(routedMessage(body, again!, { name: 'churn', maxConcurrency: 5 }).MessageDeduplicationId).not.toBe(
      message.MessageDeduplicationId,
    );
    expect(
      routedMessage(body, object!, { name: 'churn', maxConcurrency: 5 }, '#redrive=1').MessageDeduplicationId,
    ).not.toBe(message.MessageDeduplicationId);
  });
});
