import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { Alerting, type DriftAlarms } from '../../lib/alerting.ts';
import { driftRuntimeConfig } from '../../lib/config/runtime.ts';
import { DriftDetector } from '../../lib/drift-detector.ts';
import { onlyResource, testConfig, testStack } from '../helpers/cdk.ts';

let stack: Stack;
let alerting: Alerting;
let alarms: DriftAlarms;
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
  const detector = new DriftDetector(stack, 'Detector', {
    model: driftRuntimeConfig(testConfig().models[0]!),
    landingBucket: new s3.Bucket(stack, 'Landing'),
    resultsBucket: new s3.Bucket(stack, 'Results'),
    historyTable: table('History'),
    idempotencyTable: table('Idempotency'),
  });
  alarms = alerting.alarmOnDriftDetector(detector, { fileErrorsThreshold: 3 });
  const retraining = new sfn.StateMachine(stack, 'Retraining', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Train')),
  });
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

describe('Alerting drift alarms', () => {
  it('pages on each of the five drift signals through the topic', () => {
    const topic = { Ref: id(alerting.topic) };
    const expected: [keyof DriftAlarms, string, string, number, string][] = [
      ['datasetDrift', 'dw-churn-DatasetDrift', 'DatasetDrift', 1, 'Maximum'],
      ['criticalFeatureDrift', 'dw-churn-CriticalFeatureDrift', 'CriticalFeatureDrift', 1, 'Maximum'],
      ['fileErrors', 'dw-churn-FileErrors', 'FileErrors', 3, 'Sum'],
      ['functionErrors', 'dw-churn-FunctionErrors', 'Errors', 1, 'Sum'],
      [
        'deadLetterMessages',
        'dw-churn-DeadLetterMessages',
        'ApproximateNumberOfMessagesVisible',
        1,
        'Maximum',
      ],
    ];
    for (const [key, name, metricName, threshold, statistic] of expected) {
      expect(alarmProperties(alarms[key])).toMatchObject({
        AlarmName: name,
        MetricName: metricName,
        Statistic: statistic,
        Threshold: threshold,
        EvaluationPeriods: 1,
        Period: 300,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
      });
    }
  });

  it('alarms on the contract metrics of the model', () => {
    expect(alarmProperties(alarms.datasetDrift)).toMatchObject({
      Namespace: 'Driftwatch',
      Dimensions: [{ Name: 'Model', Value: 'churn' }],
    });
    expect(alarmProperties(alarms.deadLetterMessages)).toMatchObject({ Namespace: 'AWS/SQS' });
    expect(alarmProperties(alarms.functionErrors)).toMatchObject({ Namespace: 'AWS/Lambda' });
  });

  it('says in every alarm what happened and what to do', () => {
    for (const alarm of alerting.alarms) {
      const description = alarmProperties(alarm)['AlarmDescription'] as string;
      expect(description).toMatch(/^(Model churn: )?\S.* Runbook: \S.{40,}\.$/);
    }
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

  it('counts every alarm it made', () => {
    expect(alerting.alarms).toHaveLength(6);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
  });
});
