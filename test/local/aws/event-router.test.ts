import { describe, expect, it } from 'vitest';
import {
  type BusEvent,
  busNameOf,
  EventRouter,
  objectCreatedDetail,
  type RuleDefinition,
  ruleFromProperties,
  targetInput,
} from '../../../local/aws/event-router.ts';
import { DEFAULT_IDENTITY } from '../../../local/aws/template.ts';

const event: BusEvent = {
  version: '0',
  id: 'e1',
  'detail-type': 'Drift Detected',
  source: 'driftwatch',
  account: '123456789012',
  time: '2025-06-02T09:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { model: 'churn', key: 'churn/incoming/say "hi".csv', driftShare: 0.8, missing: null },
};
const rule = { name: 'on-drift', arn: 'arn:aws:events:us-east-1:123456789012:rule/on-drift' };

describe('targetInput', () => {
  it('fills an input transformer template as EventBridge does', () => {
    // The retraining rule of the template.
    const transformed = targetInput(
      {
        id: 'Target0',
        arn: 'arn:sm',
        inputTransformer: {
          InputPathsMap: { detail: '$.detail' },
          InputTemplate: '{"model":"churn","trigger":{"type":"drift","detail":<detail>}}',
        },
      },
      event,
      rule,
    );
    expect(JSON.parse(transformed)).toEqual({
      model: 'churn',
      trigger: { type: 'drift', detail: event.detail },
    });
    const quoted = targetInput(
      {
        id: 'T',
        arn: 'arn:q',
        inputTransformer: {
          InputPathsMap: { key: '$.detail.key', share: '$.detail.driftShare', none: '$.detail.absent' },
          InputTemplate:
            '{"text": "<key> at <share>", "share": <share>, "none": <none>, "rule": "<aws.events.rule-name>"}',
        },
      },
      event,
      rule,
    );
    expect(JSON.parse(quoted)).toEqual({
      text: 'churn/incoming/say "hi".csv at 0.8',
      share: 0.8,
      none: null,
      rule: 'on-drift',
    });
    const text = targetInput(
      {
        id: 'T',
        arn: 'arn:q',
        inputTransformer: { InputPathsMap: { m: '$.detail.model' }, InputTemplate: 'Model <m> drifted' },
      },
      event,
      rule,
    );
    expect(text).toBe('Model churn drifted');
  });

  it('sends the constant Input, the value at InputPath, or the whole event', () => {
    expect(targetInput({ id: 'T', arn: 'a', input: '{"fixed":true}' }, event, rule)).toBe('{"fixed":true}');
    expect(JSON.parse(targetInput({ id: 'T', arn: 'a', inputPath: '$.detail.model' }, event, rule))).toBe(
      'churn',
    );
    expect(JSON.parse(targetInput({ id: 'T', arn: 'a' }, event, rule))).toEqual(event);
  });
});

describe('EventRouter', () => {
  const rules: RuleDefinition[] = [
    ruleFromProperties('R1', 'on-drift', rule.arn, {
      EventPattern: { source: ['driftwatch'], 'detail-type': ['Drift Detected'] },
      Targets: [{ Id: 'T', Arn: 'arn:aws:sqs:us-east-1:1:q' }],
    }),
    ruleFromProperties('R2', 'other-bus', 'arn:r2', {
      EventBusName: 'arn:aws:events:us-east-1:123456789012:event-bus/custom',
      EventPattern: { source: ['driftwatch'] },
      Targets: [{ Id: 'T', Arn: 'arn:aws:sqs:us-east-1:1:q2' }],
    }),
    ruleFromProperties('R3', 'disabled', 'arn:r3', {
      State: 'DISABLED',
      EventPattern: { source: ['driftwatch'] },
      Targets: [],
    }),
  ];

  it('routes put events to the matching rules of their bus and checks entries as PutEvents does', () => {
    const delivered: [string, string][] = [];
    const router = new EventRouter({
      rules,
      identity: DEFAULT_IDENTITY,
      now: () => Date.parse('2025-06-02T09:00:00.123Z'),
      deliver: (target, input, _, matched) =>
        delivered.push([matched.name, target.arn + JSON.parse(input).time]),
    });
    const results = router.putEvents([
      { Source: 'driftwatch', DetailType: 'Drift Detected', Detail: '{"model":"churn"}' },
      {
        Source: 'driftwatch',
        DetailType: 'Drift Detected',
        Detail: '{"model":"churn"}',
        EventBusName: 'custom',
      },
      { Source: 'driftwatch', DetailType: 'Drift Detected', Detail: '[1]' },
      { Source: 'driftwatch', Detail: '{}' },
    ]);
    expect(results.map((result) => ('EventId' in result ? 'ok' : result.ErrorCode))).toEqual([
      'ok',
      'ok',
      'MalformedDetail',
      'InvalidArgument',
    ]);
    expect(delivered).toEqual([
      ['on-drift', 'arn:aws:sqs:us-east-1:1:q2025-06-02T09:00:00Z'],
      ['other-bus', 'arn:aws:sqs:us-east-1:1:q22025-06-02T09:00:00Z'],
    ]);
    expect(busNameOf('arn:aws:events:us-east-1:1:event-bus/custom')).toBe('custom');
    expect(busNameOf(undefined)).toBe('default');
  });
});

describe('objectCreatedDetail', () => {
  it('builds the EventBridge detail of an s3rver notification: raw key, no version id, the given sequencer', () => {
    const created = objectCreatedDetail(
      {
        eventName: 'ObjectCreated:Put',
        s3: {
          bucket: { name: 'landing' },
          object: { key: 'churn/incoming/day 1+2.csv', size: 12, eTag: 'abc' },
        },
      },
      '0000000000000000A1',
      '123456789012',
    );
    expect(created?.reason).toBe('PutObject');
    expect(created?.detail).toMatchObject({
      version: '0',
      bucket: { name: 'landing' },
      object: { key: 'churn/incoming/day 1+2.csv', size: 12, etag: 'abc', sequencer: '0000000000000000A1' },
      requester: '123456789012',
      reason: 'PutObject',
    });
    expect((created!.detail['object'] as Record<string, unknown>)['version-id']).toBeUndefined();
    expect(
      objectCreatedDetail(
        { eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'b' }, object: { key: 'k' } } },
        's',
        'a',
      ),
    ).toBeUndefined();
  });
});
