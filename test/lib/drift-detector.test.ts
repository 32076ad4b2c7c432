import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Duration, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_ENV } from '../../lambdas/shared/contract.ts';
import { driftRuntimeConfig } from '../../lib/config/runtime.ts';
import { DriftDetector } from '../../lib/drift-detector.ts';
import {
  actionsOf,
  KMS_KEY_STATEMENT,
  onlyResource,
  PUT_DRIFTWATCH_EVENTS_STATEMENT,
  policyStatements,
  testConfig,
  testStack,
  WRITE_HISTORY_STATEMENT,
  XRAY_TRACING_STATEMENT,
} from '../helpers/cdk.ts';

const model = driftRuntimeConfig(testConfig().models[0]!);
let stack: Stack;
let detector: DriftDetector;
let template: Template;
let assemblyDir: string;
const id = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

beforeAll(() => {
  stack = testStack({ bundle: true });
  const key = new kms.Key(stack, 'Key');
  const landing = new s3.Bucket(stack, 'Landing', { encryptionKey: key });
  const results = new s3.Bucket(stack, 'Results', { encryptionKey: key });
  const table = (name: string) =>
    new dynamodb.Table(stack, name, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
  detector = new DriftDetector(stack, 'Detector', {
    model,
    landingBucket: landing,
    resultsBucket: results,
    historyTable: table('History'),
    idempotencyTable: table('Idempotency'),
    timeout: Duration.minutes(2),
    maxConcurrency: 7,
  });
  template = Template.fromStack(stack);
  // The app already synthesized for the template: this returns that same assembly.
  assemblyDir = (stack.node.root as App).synth().directory;
});

describe('DriftDetector event path', () => {
  it('matches Object Created events of the landing bucket under the model prefix', () => {
    const rule = onlyResource(template, 'AWS::Events::Rule').properties;
    expect(rule['EventPattern']).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: {
        bucket: { name: [{ Ref: expect.stringMatching(/^Landing/) }] },
        object: { key: [{ prefix: 'churn/incoming/' }] },
      },
    });
    expect(rule['Targets']).toEqual([
      {
        Id: 'Target0',
        Arn: { 'Fn::GetAtt': [id(detector.queue), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(detector.deadLetterQueue), 'Arn'] } },
      },
    ]);
  });

  it('queues with a visibility timeout of six function timeouts and a dead-letter queue after 3 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 720,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [id(detector.deadLetterQueue), 'Arn'] },
        maxReceiveCount: 3,
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 1209600,
      SqsManagedSseEnabled: true,
    });
  });

  it('refuses queue requests without TLS on both queues', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(policy['Properties']['PolicyDocument']['Statement']).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  it('feeds the function one message at a time, reporting failures per message, with a concurrency cap', () => {
    expect(onlyResource(template, 'AWS::Lambda::EventSourceMapping').properties).toMatchObject({
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 7 },
      EventSourceArn: { 'Fn::GetAtt': [id(detector.queue), 'Arn'] },
    });
  });
});

describe('DriftDetector function', () => {
  it('runs on nodejs24.x, arm64, a full vCPU, with tracing and its own log group', () => {
    const fn = onlyResource(template, 'AWS::Lambda::Function').properties;
    expect(fn).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 1769,
      Timeout: 120,
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: { Ref: id(detector.logGroup) } },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('gets exactly the contract environment, with the model config as JSON', () => {
    const variables = onlyResource(template, 'AWS::Lambda::Function').properties['Environment'] as {
      Variables: Record<string, unknown>;
    };
    expect(Object.keys(variables.Variables).sort()).toEqual(
      [
        ...Object.values(DRIFT_ENV),
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_METRICS_NAMESPACE',
        'NODE_OPTIONS',
      ].sort(),
    );
    expect(JSON.parse(variables.Variables[DRIFT_ENV.modelConfig] as string)).toEqual(model);
    expect(variables.Variables).toMatchObject({
      [DRIFT_ENV.reportsPrefix]: 'reports/',
      [DRIFT_ENV.eventBusName]: 'default',
      [DRIFT_ENV.deadLetterQueueUrl]: { Ref: id(detector.deadLetterQueue) },
      POWERTOOLS_METRICS_NAMESPACE: 'Driftwatch',
    });
  });

  it('is bundled locally as one minified ESM file with a source map', () => {
    const code = onlyResource(template, 'AWS::Lambda::Function').properties['Code'] as { S3Key: string };
    const hash = code.S3Key.replace(/\.zip$/, '');
    const dir = join(assemblyDir, `asset.${hash}`);
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(bundle.startsWith("import { createRequire as driftwatchCreateRequire } from 'node:module';")).toBe(
      true,
    );
    expect(bundle).toMatch(/export\s*\{[^}]*\bhandler\b/);
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
  });
});

describe('DriftDetector permissions', () => {
  const statements = () => policyStatements(template, id(detector.role).replace(/Role.*/, 'Role'));

  it('has no managed policy: every permission is one of its own statements', () => {
    expect(onlyResource(template, 'AWS::IAM::Role').properties['ManagedPolicyArns']).toBeUndefined();
  });

  it('grants each action on named resources only', () => {
    const landingArn = { 'Fn::GetAtt': [expect.stringMatching(/^Landing/), 'Arn'] };
    const resultsArn = { 'Fn::GetAtt': [expect.stringMatching(/^Results/), 'Arn'] };
    const join = (arn: unknown, suffix: string) => ({ 'Fn::Join': ['', [arn, suffix]] });
    expect(
      statements().map(({ Sid, Action, Resource, Condition }) => ({ Sid, Action, Resource, Condition })),
    ).toEqual([
      {
        Sid: undefined,
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [id(detector.logGroup), 'Arn'] },
        Condition: undefined,
      },
      {
        Sid: 'ReadIncomingFilesAndBaseline',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: [join(landingArn, '/churn/incoming/*'), join(landingArn, '/churn/baselines/profile.json')],
        Condition: undefined,
      },
      {
        Sid: 'WriteReports',
        Action: 's3:PutObject',
        Resource: join(resultsArn, '/reports/churn/*'),
        Condition: undefined,
      },
      {
        Sid: 'NotPerformanceReports',
        Action: 's3:PutObject',
        Resource: join(resultsArn, '/reports/churn/performance/*'),
        Condition: undefined,
      },
      WRITE_HISTORY_STATEMENT,
      {
        Sid: 'IdempotencyRecords',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Idempotency/), 'Arn'] },
        Condition: undefined,
      },
      PUT_DRIFTWATCH_EVENTS_STATEMENT,
      {
        Sid: 'SendPermanentFailuresToDeadLetterQueue',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [id(detector.deadLetterQueue), 'Arn'] },
        Condition: undefined,
      },
      KMS_KEY_STATEMENT,
      XRAY_TRACING_STATEMENT,
      {
        Sid: undefined,
        Action: [
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueUrl',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
        ],
        Resource: { 'Fn::GetAtt': [id(detector.queue), 'Arn'] },
        Condition: undefined,
      },
    ]);
  });

  it('allows nothing but X-Ray on "*", and no action wildcard', () => {
    for (const statement of statements()) {
      // The one Deny keeps the performance reports out of the drift function's reports prefix.
      expect(statement.Effect).toBe(statement.Sid === 'NotPerformanceReports' ? 'Deny' : 'Allow');
      for (const action of actionsOf(statement)) expect(action).not.toContain('*');
      if (statement.Resource === '*') {
        expect(actionsOf(statement)).toEqual(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
      }
    }
  });

  it('needs no KMS permission when the buckets use SSE-S3', () => {
    const other = testStack();
    new DriftDetector(other, 'Detector', {
      model,
      landingBucket: new s3.Bucket(other, 'Landing'),
      resultsBucket: new s3.Bucket(other, 'Results'),
      historyTable: new dynamodb.Table(other, 'History', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      }),
      idempotencyTable: new dynamodb.Table(other, 'Idem', {
        partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      }),
    });
    const actions = policyStatements(Template.fromStack(other)).flatMap(actionsOf);
    expect(actions.filter((action) => action.startsWith('kms:'))).toEqual([]);
  });
});
