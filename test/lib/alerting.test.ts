import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { Alerting, type EngineAlarms } from '../../lib/alerting.ts';
import { DriftDetector } from '../../lib/drift-detector.ts';
import { PerformanceMonitor } from '../../lib/performance-monitor.ts';
import { onlyResource, testStack } from '../helpers/cdk.ts';

let stack: Stack;
let alerting: Alerting;
let alarms: EngineAlarms;
let page: cloudwatch.Alarm;
let retrainingAlarm: cloudwatch.Alarm;
let template: Template;
const id = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

beforeAll(() => {
  stack = testStack();
  alerting = new Alerting(stack, 'Alerting', {
    emails: ['oncall@example.com'],
    httpsEndpoints: ['https://hooks.example.com/a'],
    alarmNamePrefix: 'dw',
  });
  const table = (name: string) =>
    new dynamodb.Table(stack, name, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
  const shared = {
    modelsParameterPath: '/driftwatch/dw/models/',
    stackName: 'dw',
    landingBucket: new s3.Bucket(stack, 'Landing'),
    resultsBucket: new s3.Bucket(stack, 'Results'),
    historyTable: table('History'),
  };
  const detector = new DriftDetector(stack, 'Detector', {
    ...shared,
    idempotencyTable: table('Idempotency'),
  });
  const performance = new PerformanceMonitor(stack, 'Performance', shared);
  const retraining = new sfn.StateMachine(stack, 'Retraining', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Train')),
  });
  alarms = alerting.alarmOnEngine(detector, performance, retraining);
  page = alerting.pageAlarm(stack, 'ChurnPage', 'churn');
  retrainingAlarm = alerting.alarmOnFailedExecutions(retraining, { model: 'churn' });
  template = Template.fromStack(stack);
});

function alarmProperties(alarm: cloudwatch.Alarm): Record<string, unknown> {
  return template.findResources('AWS::CloudWatch::Alarm')[id(alarm)]!['Properties'];
}

describe('Alerting topic', () => {
  it('is one KMS-encrypted topic with the email and HTTPS subscriptions', () => {
    expect(onlyResource(template, 'AWS::SNS::Topic').properties['KmsMasterKeyId']).toEqual({
      'Fn::GetAtt': [id(alerting.masterKey as never), 'Arn'],
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://hooks.example.com/a',
    });
    template.resourceCountIs('AWS::SNS::Subscription', 2);
  });

  it("refuses publishers without TLS and lets only this account's alarms publish", () => {
    const statements = onlyResource(template, 'AWS::SNS::TopicPolicy').properties['PolicyDocument'] as {
      Statement: unknown[];
    };
    expect(statements.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sns:Publish',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: {
          ArnLike: { 'aws:SourceArn': expect.anything() },
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        },
      }),
    ]);
  });

  it('has a rotating key that CloudWatch may use to publish', () => {
    const key = onlyResource(template, 'AWS::KMS::Key').properties;
    expect(key['EnableKeyRotation']).toBe(true);
    expect((key['KeyPolicy'] as { Statement: unknown[] }).Statement).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    );
  });
});

describe('Alerting: one paging alarm per model', () => {
  it("watches the model's Page metric (one standard alarm, one metric); the notifier pages, not the alarm", () => {
    expect(alarmProperties(page)).toMatchObject({
      AlarmName: 'dw-churn-Page',
      Namespace: 'Driftwatch',
      MetricName: 'Page',
      Dimensions: [{ Name: 'Model', Value: 'churn' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    // AWS's alarm message names no model, signal or report: the notifier's page does (EventBridge -> Lambda).
    expect(alarmProperties(page)['AlarmActions']).toBeUndefined();
    expect(alarmProperties(page)['Metrics']).toBeUndefined();
  });

  it('names the model, every reason that pages it, and where to read which one fired', () => {
    const description = String(alarmProperties(page)['AlarmDescription']);
    expect(description).toMatch(/^Model churn: something broke/);
    for (const reason of [
      'drift',
      'critical-feature drift',
      'persisting (M of the last N checks)',
      'dead-letter queue',
      'performance limit',
      'performance check',
      'retraining',
    ]) {
      expect(description).toContain(reason);
    }
    expect(description).toContain('What paged (by reason)');
  });
});

describe("Alerting: the engine's alarms", () => {
  it("pages on dead letters, both functions' errors and unrouted files; failed retraining is drawn, paged per model", () => {
    expect(
      Object.values(alarms)
        .map((alarm) => alarmProperties(alarm)['AlarmName'])
        .sort(),
    ).toEqual([
      'dw-DeadLetterMessages',
      'dw-DriftFunctionErrors',
      'dw-PerformanceFunctionErrors',
      'dw-Retraining-FailedExecutions',
      'dw-UnroutedFiles',
    ]);
    expect(alarmProperties(alarms.unroutedFiles)).toMatchObject({
      MetricName: 'FileErrors',
      Dimensions: [{ Name: 'Model', Value: '_unrouted' }],
    });
    for (const alarm of Object.values(alarms)) {
      expect(alarmProperties(alarm)['AlarmDescription']).toMatch(/Runbook: /);
    }
    expect(alarmProperties(alarms.retrainingFailed)['AlarmActions']).toBeUndefined();
    expect(alarmProperties(alarms.deadLetterMessages)['AlarmActions']).toEqual([{ Ref: id(alerting.topic) }]);
  });
});

describe('Alerting.alarmOnFailedExecutions', () => {
  it('pages when an execution fails, times out or is aborted', () => {
    const properties = alarmProperties(retrainingAlarm);
    expect(properties).toMatchObject({
      AlarmName: 'dw-churn-Retraining-FailedExecutions',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: id(alerting.topic) }],
    });
    const metrics = properties['Metrics'] as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string } };
    }[];
    expect(metrics.find((metric) => metric.Expression)?.Expression).toBe(
      'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
    );
    expect(metrics.flatMap((metric) => metric.MetricStat?.Metric.MetricName ?? []).sort()).toEqual([
      'ExecutionsAborted',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
    ]);
  });
});

describe('Alerting.estimateAlarm', () => {
  it('watches the estimated breaches of one model, under its own name, and pages no one', () => {
    const scoped = testStack();
    const own = new Alerting(scoped, 'Alerting', { alarmNamePrefix: 'dw' });
    own.estimateAlarm(scoped, 'ChurnEstimate', 'churn');
    const properties = onlyResource(Template.fromStack(scoped), 'AWS::CloudWatch::Alarm').properties;
    expect(properties).toMatchObject({
      AlarmName: 'dw-churn-PerformanceEstimated',
      MetricName: 'EstimatedPerformanceBreaches',
      Dimensions: [{ Name: 'Model', Value: 'churn' }],
      Statistic: 'Maximum',
      Period: 3600,
      Threshold: 1,
    });
    // Not a Page alarm: the notifier's rule matches `<prefix>*-Page` only.
    expect(String(properties['AlarmName'])).not.toMatch(/-Page$/);
    expect(properties['AlarmActions']).toBeUndefined();
    expect(String(properties['AlarmDescription'])).toContain('not a measurement');
  });
});
