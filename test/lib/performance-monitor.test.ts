import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Duration, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { PERFORMANCE_ENV, type PerformanceModelRuntimeConfig } from '../../lambdas/shared/contract.ts';
import { Alerting, type PerformanceAlarms } from '../../lib/alerting.ts';
import type { ModelConfig, PerformanceConfig } from '../../lib/config/model-config.ts';
import { performanceRuntimeConfig } from '../../lib/config/runtime.ts';
import { PerformanceMonitor } from '../../lib/performance-monitor.ts';
import {
  KMS_KEY_STATEMENT,
  onlyResource,
  PUT_DRIFTWATCH_EVENTS_STATEMENT,
  policyStatements,
  rawConfig,
  testConfig,
  testStack,
  WRITE_HISTORY_STATEMENT,
  XRAY_TRACING_STATEMENT,
} from '../helpers/cdk.ts';

/** The test config's churn model, scored by an endpoint whose name has capitals (its ARN has none). */
function churnModel(performance: Record<string, unknown>): PerformanceModelRuntimeConfig {
  const raw = rawConfig();
  Object.assign(raw.models[0]!, {
    endpointName: 'Churn-Prod',
    performance: {
      schedule: 'cron(0 6 * * ? *)',
      timezone: 'Europe/Paris',
      goldenDataset: 'latest.csv',
      labelColumn: 'label',
      positiveClass: 'yes',
      limits: [
        { metric: 'accuracy', min: 0.85 },
        { metric: 'gini', segment: 'north', maxDrop: 0.05 },
        { metric: 'logLoss', max: 0.6 },
      ],
      ...performance,
    },
  });
  const model = testConfig(raw).models[0]!;
  return performanceRuntimeConfig(model as ModelConfig & { performance: PerformanceConfig });
}

const model = churnModel({});
let stack: Stack;
let monitor: PerformanceMonitor;
let alarms: PerformanceAlarms;
let template: Template;
let assemblyDir: string;
const id = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

function build(target: Stack, runtime: PerformanceModelRuntimeConfig, encrypted: boolean) {
  const key = encrypted ? new kms.Key(target, 'Key') : undefined;
  const landing = new s3.Bucket(target, 'Landing', key ? { encryptionKey: key } : {});
  const results = new s3.Bucket(target, 'Results', key ? { encryptionKey: key } : {});
  const history = new dynamodb.Table(target, 'History', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  });
  return new PerformanceMonitor(target, 'Performance', {
    model: runtime,
    schedule: 'cron(0 6 * * ? *)',
    timezone: 'Europe/Paris',
    landingBucket: landing,
    resultsBucket: results,
    historyTable: history,
    timeout: Duration.minutes(12),
  });
}

beforeAll(() => {
  stack = testStack({ bundle: true });
  monitor = build(stack, model, true);
  alarms = new Alerting(stack, 'Alerting').alarmOnPerformanceMonitor(monitor);
  template = Template.fromStack(stack);
  assemblyDir = (stack.node.root as App).synth().directory;
});

describe('PerformanceMonitor schedule', () => {
  it('runs the config expression in its time zone and sends the model with the run id', () => {
    const schedule = onlyResource(template, 'AWS::Scheduler::Schedule').properties;
    expect(schedule).toMatchObject({
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [id(monitor.function), 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [id(monitor.scheduleRole), 'Arn'] },
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 3 },
      },
    });
    const target = schedule['Target'] as { Input: string };
    expect(JSON.parse(target.Input)).toEqual({
      model: 'churn',
      executionId: '<aws.scheduler.execution-id>',
      scheduledTime: '<aws.scheduler.scheduled-time>',
    });
  });

  it('takes rate expressions and UTC by default', () => {
    const other = testStack();
    const key = new kms.Key(other, 'Key');
    new PerformanceMonitor(other, 'P', {
      model,
      schedule: 'rate(7 days)',
      landingBucket: new s3.Bucket(other, 'L', { encryptionKey: key }),
      resultsBucket: new s3.Bucket(other, 'R'),
      historyTable: new dynamodb.Table(other, 'H', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      }),
    });
    expect(onlyResource(Template.fromStack(other), 'AWS::Scheduler::Schedule').properties).toMatchObject({
      ScheduleExpression: 'rate(7 days)',
      ScheduleExpressionTimezone: 'UTC',
    });
  });

  it('lets the Scheduler, for this account only, invoke this function and nothing else', () => {
    const role = template.findResources('AWS::IAM::Role')[id(monitor.scheduleRole)]!['Properties'];
    expect(role['AssumeRolePolicyDocument']['Statement']).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    expect(role['ManagedPolicyArns']).toBeUndefined();
    expect(
      policyStatements(template, id(monitor.scheduleRole).replace(/ScheduleRole.*/, 'ScheduleRole')),
    ).toEqual([
      {
        Sid: 'InvokePerformanceCheck',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [id(monitor.function), 'Arn'] },
      },
    ]);
  });
});

describe('PerformanceMonitor function', () => {
  const fn = () =>
    template.findResources('AWS::Lambda::Function')[id(monitor.function)]!['Properties'] as Record<
      string,
      unknown
    >;

  it('runs on nodejs24.x, arm64, with tracing, its own log group and two retries of a failed run', () => {
    expect(fn()).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 1769,
      Timeout: 720,
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: { Ref: id(monitor.logGroup) } },
    });
    expect(onlyResource(template, 'AWS::Lambda::EventInvokeConfig').properties).toMatchObject({
      MaximumRetryAttempts: 2,
      Qualifier: '$LATEST',
    });
  });

  it('gets exactly the contract environment, with the model config as JSON', () => {
    const variables = (fn()['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(variables).sort()).toEqual(
      [
        ...Object.values(PERFORMANCE_ENV),
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_METRICS_NAMESPACE',
        'NODE_OPTIONS',
      ].sort(),
    );
    expect(JSON.parse(variables[PERFORMANCE_ENV.modelConfig] as string)).toEqual(model);
    expect(model.scoring).toMatchObject({
      kind: 'endpoint',
      endpointName: 'Churn-Prod',
      features: [
        { name: 'amount', type: 'numeric' },
        { name: 'plan', type: 'categorical' },
        { name: 'calls', type: 'numeric' },
      ],
    });
    expect(variables).toMatchObject({
      [PERFORMANCE_ENV.reportsPrefix]: 'reports/',
      [PERFORMANCE_ENV.eventBusName]: 'default',
    });
  });

  it('is bundled locally as one minified ESM file with a source map', () => {
    const code = fn()['Code'] as { S3Key: string };
    const dir = join(assemblyDir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(bundle.startsWith("import { createRequire as driftwatchCreateRequire } from 'node:module';")).toBe(
      true,
    );
    expect(bundle).toMatch(/export\s*\{[^}]*\bhandler\b/);
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
  });
});

describe('PerformanceMonitor permissions', () => {
  const landingArn = { 'Fn::GetAtt': [expect.stringMatching(/^Landing/), 'Arn'] };
  const resultsArn = { 'Fn::GetAtt': [expect.stringMatching(/^Results/), 'Arn'] };
  const arnJoin = (arn: unknown, suffix: string) => ({ 'Fn::Join': ['', [arn, suffix]] });
  const statements = (target: Template, prefix: string) =>
    policyStatements(target, prefix).map(({ Sid, Action, Resource, Condition }) => ({
      Sid,
      Action,
      Resource,
      Condition,
    }));

  it('reads only the golden dataset and the baseline, writes only the baseline and its reports, invokes only its endpoint', () => {
    expect(statements(template, id(monitor.role).replace(/Role.*/, 'Role'))).toEqual([
      {
        Sid: undefined,
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [id(monitor.logGroup), 'Arn'] },
        Condition: undefined,
      },
      {
        Sid: 'ReadGoldenDatasetAndBaseline',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: [
          arnJoin(landingArn, '/churn/golden/latest.csv'),
          arnJoin(landingArn, '/churn/baselines/performance.json'),
        ],
        Condition: undefined,
      },
      {
        Sid: 'WriteFirstBaselineAndReports',
        Action: 's3:PutObject',
        Resource: [
          arnJoin(landingArn, '/churn/baselines/performance.json'),
          arnJoin(resultsArn, '/reports/churn/performance/*'),
        ],
        Condition: undefined,
      },
      WRITE_HISTORY_STATEMENT,
      PUT_DRIFTWATCH_EVENTS_STATEMENT,
      {
        Sid: 'ScoreWithModelEndpoint',
        Action: 'sagemaker:InvokeEndpoint',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':sagemaker:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':endpoint/churn-prod',
            ],
          ],
        },
        Condition: undefined,
      },
      KMS_KEY_STATEMENT,
      XRAY_TRACING_STATEMENT,
    ]);
  });

  it('has no SageMaker permission when the golden dataset holds the scores, and no KMS one without keys', () => {
    const other = testStack();
    const columnScored = build(other, churnModel({ scoreColumn: 'score' }), false);
    const actions = policyStatements(
      Template.fromStack(other),
      other.getLogicalId(columnScored.role.node.defaultChild as never).replace(/Role.*/, 'Role'),
    ).flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
    expect(actions.filter((action) => action.startsWith('sagemaker:') || action.startsWith('kms:'))).toEqual(
      [],
    );
    expect(columnScored.endpointArn).toBeNull();
  });
});

describe('performance alarms', () => {
  const alarm = (construct: { node: { defaultChild?: unknown } }) =>
    template.findResources('AWS::CloudWatch::Alarm')[id(construct)]!['Properties'] as Record<string, unknown>;

  it('has a floor on the whole-dataset accuracy: Accuracy < 0.85', () => {
    expect(alarms.limits).toHaveLength(3);
    expect(alarm(alarms.limits[0]!)).toMatchObject({
      AlarmName: 'Test-churn-accuracy-all-Min',
      Namespace: 'Driftwatch',
      MetricName: 'PerformanceMetric',
      Dimensions: [
        { Name: 'Metric', Value: 'accuracy' },
        { Name: 'Model', Value: 'churn' },
        { Name: 'Segment', Value: 'all' },
      ],
      Statistic: 'Minimum',
      Period: 3600,
      Threshold: 0.85,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'ignore',
    });
  });

  it("has a ceiling on a segment's relative drop against the baseline", () => {
    expect(alarm(alarms.limits[1]!)).toMatchObject({
      AlarmName: 'Test-churn-gini-north-MaxDrop',
      MetricName: 'PerformanceDrop',
      Dimensions: [
        { Name: 'Metric', Value: 'gini' },
        { Name: 'Model', Value: 'churn' },
        { Name: 'Segment', Value: 'region=north' },
      ],
      Statistic: 'Maximum',
      Threshold: 0.05,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'ignore',
    });
    expect(alarm(alarms.limits[1]!)['AlarmDescription']).toMatch(
      /gini of segment north is more than 5% worse/,
    );
  });

  it('has a ceiling on a loss', () => {
    expect(alarm(alarms.limits[2]!)).toMatchObject({
      AlarmName: 'Test-churn-logLoss-all-Max',
      Statistic: 'Maximum',
      Threshold: 0.6,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('pages on failed checks and a failing function, and every alarm carries a runbook', () => {
    expect(alarm(alarms.checkErrors)).toMatchObject({
      AlarmName: 'Test-churn-PerformanceCheckErrors',
      MetricName: 'PerformanceCheckErrors',
      Dimensions: [{ Name: 'Model', Value: 'churn' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarm(alarms.functionErrors)).toMatchObject({
      AlarmName: 'Test-churn-PerformanceFunctionErrors',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
    });
    for (const each of [...alarms.limits, alarms.checkErrors, alarms.functionErrors]) {
      const properties = alarm(each);
      expect(properties['AlarmDescription']).toMatch(/Runbook: /);
      expect(properties['AlarmActions']).toEqual([{ Ref: expect.stringMatching(/^AlertingTopic/) }]);
    }
  });
});
