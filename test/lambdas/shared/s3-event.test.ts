import { describe, expect, it } from 'vitest';
import {
  EventFormatError,
  formDecodeKey,
  objectIdentity,
  parseCreatedObjects,
} from '../../../lambdas/shared/s3-event.ts';

const eventBridge = (object: Record<string, unknown>, detailType = 'Object Created') =>
  JSON.stringify({
    version: '0',
    'detail-type': detailType,
    source: 'aws.s3',
    detail: { version: '0', bucket: { name: 'data' }, object },
  });

describe('formDecodeKey', () => {
  it.each([
    ['incoming/red+flower.csv', 'incoming/red flower.csv'],
    ['incoming/a%2Bb.csv', 'incoming/a+b.csv'],
    ['incoming/100%25.csv', 'incoming/100%.csv'],
    ['incoming/d%C3%ADa.csv', 'incoming/día.csv'],
    ['incoming/dt%3D2025-01-01/x.csv', 'incoming/dt=2025-01-01/x.csv'],
  ])('%s -> %s', (encoded, decoded) => {
    expect(formDecodeKey(encoded)).toBe(decoded);
  });

  it('is undefined for a key that is not validly encoded', () => {
    expect(formDecodeKey('incoming/100%.csv')).toBeUndefined();
  });
});

describe('parseCreatedObjects', () => {
  it('reads an EventBridge event, trying the key as it is first', () => {
    const [object] = parseCreatedObjects(
      eventBridge({
        key: 'incoming/a+b 100%.csv',
        size: 5,
        etag: 'abc',
        'version-id': 'v1',
        sequencer: '01',
      }),
    );
    expect(object).toEqual({
      bucket: 'data',
      eventKey: 'incoming/a+b 100%.csv',
      keyCandidates: ['incoming/a+b 100%.csv'],
      versionId: 'v1',
      etag: 'abc',
      size: 5,
      sequencer: '01',
      format: 'eventbridge',
    });
    const [encoded] = parseCreatedObjects(
      eventBridge({ key: 'incoming/a+b%2B.csv', etag: 'e', sequencer: '01' }),
    );
    expect(encoded!.keyCandidates).toEqual(['incoming/a+b%2B.csv', 'incoming/a b+.csv']);
    expect(encoded!.versionId).toBeNull();
  });

  it('reads S3 event notifications, trying the decoded key first', () => {
    const body = JSON.stringify({
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: 'data' }, object: { key: 'incoming/a+b.csv', eTag: '"q"', sequencer: '02' } },
        },
        { eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'data' }, object: { key: 'x' } } },
      ],
    });
    const objects = parseCreatedObjects(body);
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatchObject({
      keyCandidates: ['incoming/a b.csv', 'incoming/a+b.csv'],
      etag: 'q',
      format: 's3-notification',
    });
    expect(parseCreatedObjects(JSON.stringify({ Event: 's3:TestEvent' }))).toEqual([]);
  });

  it.each([
    ['not JSON', 'nope'],
    ['not an object', '[1]'],
    ['another event type', eventBridge({ key: 'k', etag: 'e' }, 'Object Deleted')],
    ['no key', eventBridge({ etag: 'e' })],
    ['nothing to tell uploads apart', eventBridge({ key: 'k' })],
    ['an unknown shape', '{"hello":"world"}'],
  ])('refuses %s', (_, body) => {
    expect(() => parseCreatedObjects(body)).toThrow(EventFormatError);
  });
});

describe('objectIdentity', () => {
  const [versioned] = parseCreatedObjects(
    eventBridge({ key: 'k', etag: 'e', 'version-id': 'v1', sequencer: '01' }),
  );
  const [unversioned] = parseCreatedObjects(eventBridge({ key: 'k', etag: 'e', sequencer: '01' }));

  it('is the version when there is one, the ETag and sequencer otherwise', () => {
    expect(objectIdentity(versioned!)).toBe('data/k?versionId=v1');
    expect(objectIdentity(unversioned!)).toBe('data/k?etag=e&sequencer=01');
  });
});
