/**
 * The examples of "Content filtering in Amazon EventBridge event patterns" and "Creating event patterns"
 * (EventBridge user guide), with the events they are shown against.
 */
import { describe, expect, it } from 'vitest';
import { EventPatternError } from '../../../local/aws/errors.ts';
import { matchesEventPattern, validateEventPattern } from '../../../local/aws/event-pattern.ts';

const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

const matches = (pattern: Record<string, unknown>, event: unknown) => {
  validateEventPattern(pattern);
  return matchesEventPattern(pattern, event);
};

describe('matchesEventPattern', () => {
  it('matches exact values, with the listed values as alternatives and every field required', () => {
    expect(
      matches({ source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] }, ec2Event),
    ).toBe(true);
    expect(matches({ source: ['aws.ec2'], detail: { state: ['running', 'terminated'] } }, ec2Event)).toBe(
      true,
    );
    expect(matches({ source: ['aws.ec2'], detail: { state: ['running'] } }, ec2Event)).toBe(false);
    expect(matches({ source: ['aws.s3'], detail: { state: ['terminated'] } }, ec2Event)).toBe(false);
  });

  it('matches an event array when any element matches', () => {
    const pattern = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0',
      ],
    };
    expect(matches(pattern, ec2Event)).toBe(true);
    expect(matches({ resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] }, ec2Event)).toBe(
      false,
    );
  });

  it('matches null and empty strings as values', () => {
    const event = { detail: { eventVersion: '', responseElements: null } };
    expect(matches({ detail: { responseElements: [null] } }, event)).toBe(true);
    expect(matches({ detail: { eventVersion: [''] } }, event)).toBe(true);
    expect(matches({ detail: { eventVersion: [null] } }, event)).toBe(false);
  });

  it('matches prefixes and suffixes, optionally ignoring case', () => {
    expect(matches({ time: [{ prefix: '2017-12-22' }] }, ec2Event)).toBe(true);
    expect(matches({ time: [{ prefix: '2017-10-02' }] }, ec2Event)).toBe(false);
    expect(matches({ detail: { state: [{ prefix: { 'equals-ignore-case': 'TERM' } }] } }, ec2Event)).toBe(
      true,
    );
    expect(matches({ FileName: [{ suffix: '.png' }] }, { FileName: 'image.png' })).toBe(true);
    expect(
      matches({ FileName: [{ suffix: { 'equals-ignore-case': '.PNG' } }] }, { FileName: 'image.png' }),
    ).toBe(true);
    expect(matches({ FileName: [{ suffix: '.png' }] }, { FileName: 'image.jpg' })).toBe(false);
  });

  it('matches equals-ignore-case and wildcards', () => {
    expect(
      matches(
        { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] },
        ec2Event,
      ),
    ).toBe(true);
    const bus = { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/orders' };
    expect(matches({ EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] }, bus)).toBe(
      true,
    );
    expect(matches({ EventBusArn: [{ wildcard: 'arn:aws:events:us-west-2:*:event-bus/*' }] }, bus)).toBe(
      false,
    );
  });

  it('matches anything-but values, lists, prefixes, suffixes, wildcards and ignore-case lists', () => {
    const state = (value: unknown) => ({
      detail: { state: value, 'x-limit': 123, FileName: 'notes.txt', FilePath: '/usr/lib/a' },
    });
    expect(matches({ detail: { state: [{ 'anything-but': 'initializing' }] } }, state('running'))).toBe(true);
    expect(matches({ detail: { state: [{ 'anything-but': 'initializing' }] } }, state('initializing'))).toBe(
      false,
    );
    expect(matches({ detail: { 'x-limit': [{ 'anything-but': 123 }] } }, state('x'))).toBe(false);
    expect(
      matches({ detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, state('stopped')),
    ).toBe(false);
    expect(
      matches({ detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, state('running')),
    ).toBe(true);
    expect(
      matches({ detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, state('initializing')),
    ).toBe(false);
    expect(matches({ detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } }, state('x'))).toBe(
      false,
    );
    expect(matches({ detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, state('x'))).toBe(
      false,
    );
    expect(
      matches(
        { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] } },
        state('stopped'),
      ),
    ).toBe(false);
    // A field that is absent matches no anything-but.
    expect(matches({ detail: { missing: [{ 'anything-but': 'x' }] } }, state('running'))).toBe(false);
  });

  it('matches numeric ranges', () => {
    const pattern = {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    };
    expect(matches(pattern, { detail: { 'c-count': 5, 'd-count': 7, 'x-limit': 301.8 } })).toBe(true);
    expect(matches(pattern, { detail: { 'c-count': 6, 'd-count': 7, 'x-limit': 301.8 } })).toBe(false);
    expect(matches(pattern, { detail: { 'c-count': '5', 'd-count': 7, 'x-limit': 301.8 } })).toBe(false);
  });

  it('matches IP addresses against a CIDR block', () => {
    const pattern = { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } };
    expect(matches(pattern, { detail: { sourceIPAddress: '10.0.0.255' } })).toBe(true);
    expect(matches(pattern, { detail: { sourceIPAddress: '10.0.1.0' } })).toBe(false);
  });

  it('matches exists: true on present leaves and exists: false on absent ones', () => {
    expect(matches({ detail: { state: [{ exists: true }] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { 'c-count': [{ exists: false }] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { state: [{ exists: false }] } }, ec2Event)).toBe(false);
    // exists applies to leaves: an object is not one.
    expect(matches({ detail: [{ exists: true }] }, ec2Event)).toBe(false);
    expect(matches({ nothing: { here: [{ exists: false }] } }, ec2Event)).toBe(true);
  });

  it('matches $or alternatives, alone or beside other fields', () => {
    const pattern = {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['>', 0, '<', 100] }] },
        ],
      },
    };
    expect(matches(pattern, { detail: { 'c-count': 9, 'd-count': 3 } })).toBe(true);
    expect(matches(pattern, { detail: { 'c-count': 9, 'd-count': 30, 'x-limit': 300 } })).toBe(false);
    const driftDetected = {
      source: ['driftwatch'],
      'detail-type': ['Drift Detected'],
      detail: { model: ['churn'], $or: [{ datasetDrift: [true] }, { criticalFeatures: [{ exists: true }] }] },
    };
    const event = (detail: object) => ({
      source: 'driftwatch',
      'detail-type': 'Drift Detected',
      detail: { model: 'churn', ...detail },
    });
    expect(matches(driftDetected, event({ datasetDrift: true, criticalFeatures: [] }))).toBe(true);
    expect(matches(driftDetected, event({ datasetDrift: false, criticalFeatures: ['age'] }))).toBe(true);
    // An empty array has no leaf: the critical features do not exist.
    expect(matches(driftDetected, event({ datasetDrift: false, criticalFeatures: [] }))).toBe(false);
  });

  it('matches nested fields in arrays of objects', () => {
    const event = {
      detail: {
        items: [
          { kind: 'a', size: 1 },
          { kind: 'b', size: 20 },
        ],
      },
    };
    expect(matches({ detail: { items: { kind: ['b'], size: [{ numeric: ['>', 10] }] } } }, event)).toBe(true);
    expect(matches({ detail: { items: { kind: ['a'], size: [{ numeric: ['>', 10] }] } } }, event)).toBe(
      false,
    );
  });
});

describe('validateEventPattern', () => {
  it('names the bad part of a pattern', () => {
    expect(() => validateEventPattern({ detail: { state: 'running' } })).toThrow(
      new EventPatternError('detail.state', 'must be a list of values or an object, got "running"'),
    );
    expect(() => validateEventPattern({ detail: { n: [{ numeric: ['>', 'x'] }] } })).toThrow(
      /detail\.n\[0\]: numeric/,
    );
    expect(() => validateEventPattern({ source: [{ regex: '.*' }] })).toThrow(
      /source\[0\]: unknown condition/,
    );
    expect(() => validateEventPattern({ $or: [{ a: ['x'] }] })).toThrow(/\$or needs a list of at least two/);
    expect(() => validateEventPattern({ ip: [{ cidr: '10.0.0.0/40' }] })).toThrow(/not an IPv4 CIDR block/);
  });
});
