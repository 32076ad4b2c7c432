import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_ENV } from '../../lambdas/shared/contract.ts';
import type { DriftwatchConfig } from '../../lib/config/model-config.ts';
import { driftRuntimeConfig } from '../../lib/config/runtime.ts';
import { validateConfig } from '../../lib/config/validate.ts';
import { DriftwatchStack } from '../../lib/driftwatch-stack.ts';
import { actionsOf, policyStatements, type TemplateStatement, testApp } from '../helpers/cdk.ts';

const config: DriftwatchConfig = validateConfig(JSON.parse(readFileSync('driftwatch.config.json', 'utf8')));
let stack: DriftwatchStack;
let template: Template;

beforeAll(() => {
  stack = new DriftwatchStack(testApp({ bundle: true }), config.stackName, { config });
  template = Template.fromStack(stack);
});

const resources = (type: string) => Object.entries(template.findResources(type));
/** Resources of the retraining pipelines (test/lib/retraining-pipeline.test.ts covers them). */
const isRetraining = (logicalId: string) =>
  /^(Retraining|ModelState|AlertingExecutions|SchedulerRoleForTarget)/.test(logicalId);
/** Resources of the performance checks (test/lib/performance-monitor.test.ts covers them in detail). */
const isPerformance = (logicalId: string) => /^(Performance|AlertingPerformance)/.test(logicalId);
const driftResources = (type: string) =>
  resources(type).filter(([id]) => !isRetraining(id) && !isPerformance(id));

describe('DriftwatchStack resources', () => {
  it('deploys what the example config declares, one drift path per model', () => {
    const counts: Record<string, number> = {
      'AWS::S3::Bucket': 3,
      'AWS::S3::BucketPolicy': 3,
      'AWS::KMS::Key': 1,
      'AWS::DynamoDB::Table': 2,
      'AWS::Events::Rule': 2,
      'AWS::SQS::Queue': 4,
      'AWS::SQS::QueuePolicy': 4,
      'AWS::Lambda::Function': 2,
      'AWS::Lambda::EventSourceMapping': 2,
      'AWS::Logs::LogGroup': 2,
      'AWS::IAM::Role': 2,
      'AWS::SNS::Topic': 1,
      'AWS::SNS::Subscription': 2,
      'AWS::CloudWatch::Alarm': 10,
      'AWS::CloudWatch::Dashboard': 2,
    };
    for (const [type, count] of Object.entries(counts))
      expect(driftResources(type), type).toHaveLength(count);
  });

  it('has no custom resource and no Lambda but the drift functions', () => {
    const types = Object.values(template.toJSON()['Resources'] as Record<string, { Type: string }>).map(
      (r) => r.Type,
    );
    expect(
      types.filter((type) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource'),
    ).toEqual([]);
    expect(driftResources('AWS::Lambda::Function').map(([, fn]) => fn['Properties']['Runtime'])).toEqual([
      'nodejs24.x',
      'nodejs24.x',
    ]);
  });

  it('gives each model its own rule on its own prefix and its runtime config', () => {
    for (const model of config.models) {
      const { detector } = stack.models.get(model.name)!;
      const rule =
        template.findResources('AWS::Events::Rule')[
          stack.getLogicalId(detector.rule.node.defaultChild as never)
        ]!;
      expect(rule['Properties']['EventPattern']['detail']['object']).toEqual({
        key: [{ prefix: model.prefixes.incoming }],
      });
      const fn =
        template.findResources('AWS::Lambda::Function')[
          stack.getLogicalId(detector.function.node.defaultChild as never)
        ]!;
      const variables = fn['Properties']['Environment']['Variables'];
      expect(JSON.parse(variables[DRIFT_ENV.modelConfig])).toEqual(driftRuntimeConfig(model));
      expect(fn['Properties']['MemorySize']).toBe(model.drift.memoryMb);
      expect(fn['Properties']['Timeout']).toBe(model.drift.timeoutSeconds);
    }
  });

  it('pages on five alarms per model through the one topic', () => {
    const topic = resources('AWS::SNS::Topic')[0]![0];
    const alarms = driftResources('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm['Properties']);
    expect(alarms.map((alarm) => alarm['AlarmName']).sort()).toEqual(
      ['churn', 'credit']
        .flatMap((model) =>
          ['DatasetDrift', 'CriticalFeatureDrift', 'FileErrors', 'FunctionErrors', 'DeadLetterMessages'].map(
            (alarm) => `Driftwatch-${model}-${alarm}`,
          ),
        )
        .sort(),
    );
    for (const alarm of alarms) expect(alarm['AlarmActions']).toEqual([{ Ref: topic }]);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ml-oncall@example.com',
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'https' });
  });

  it('has a dashboard per model and outputs what a user needs', () => {
    expect(
      resources('AWS::CloudWatch::Dashboard')
        .map(([, d]) => d['Properties']['DashboardName'])
        .sort(),
    ).toEqual(['Driftwatch-churn', 'Driftwatch-credit']);
    expect(
      Object.keys(template.toJSON()['Outputs'])
        .filter(
          (output) => !/^(RetrainingStateMachineOf|ModelStateTableName|PerformanceFunctionOf)/.test(output),
        )
        .sort(),
    ).toEqual(
      [
        'AlarmTopicArn',
        'DashboardOfchurn',
        'DashboardOfcredit',
        'HistoryTableName',
        'LandingBucketName',
        'ResultsBucketName',
      ].sort(),
    );
  });
});

describe('DriftwatchStack security', () => {
  it('encrypts every bucket, blocks public access, versions and refuses non-TLS requests', () => {
    const key = resources('AWS::KMS::Key')[0]![0];
    const policies = resources('AWS::S3::BucketPolicy').map(([, policy]) => policy['Properties']);
    for (const [id, bucket] of resources('AWS::S3::Bucket')) {
      const properties = bucket['Properties'];
      const sse =
        properties['BucketEncryption']['ServerSideEncryptionConfiguration'][0][
          'ServerSideEncryptionByDefault'
        ];
      // The access log bucket must be SSE-S3: S3 does not deliver access logs to SSE-KMS buckets.
      if (id.startsWith('AccessLogs')) expect(sse).toEqual({ SSEAlgorithm: 'AES256' });
      else expect(sse).toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] } });
      expect(properties['PublicAccessBlockConfiguration']).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(properties['VersioningConfiguration']).toEqual({ Status: 'Enabled' });
      if (!id.startsWith('AccessLogs')) expect(properties['LoggingConfiguration']).toBeDefined();
      const policy = policies.find((candidate) => candidate['Bucket']['Ref'] === id)!;
      expect(policy['PolicyDocument']['Statement']).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('encrypts every queue and table, with point-in-time recovery', () => {
    for (const [, queue] of resources('AWS::SQS::Queue'))
      expect(queue['Properties']['SqsManagedSseEnabled']).toBe(true);
    for (const [, table] of resources('AWS::DynamoDB::Table')) {
      expect(table['Properties']).toMatchObject({
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    }
  });

  /**
   * Wildcards allowed, and why: X-Ray trace upload has no resource-level permission; a drift function reads
   * any new file under its own incoming prefix and writes new report keys under its own reports prefix.
   * Key policies are not IAM policies: there "*" means the key itself.
   */
  it('uses a wildcard resource only where explained', () => {
    const explained = [
      /^\*$/,
      /^<LandingBucket\w+\.Arn>\/(churn|credit)\/incoming\/\*$/,
      /^<ResultsBucket\w+\.Arn>\/reports\/(churn|credit)\/\*$/,
    ];
    const flat = (value: unknown): string =>
      typeof value === 'string'
        ? value
        : JSON.stringify(value)
            .replace(/\{"Fn::GetAtt":\["(\w+)","Arn"\]\}/g, '<$1.Arn>')
            .replace(/^\{"Fn::Join":\["",\[/, '')
            .replace(/\]\]\}$/, '')
            .replace(/","|",|,"|"/g, '');
    const statements: TemplateStatement[] = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => !isRetraining(id) && !isPerformance(id))
      .flatMap(([, policy]) => policy['Properties']['PolicyDocument']['Statement'] as TemplateStatement[]);
    const wildcards: string[] = [];
    // A Deny with a wildcard takes rights away (the drift role's on the performance reports): only grants count.
    for (const statement of statements.filter((candidate) => candidate.Effect !== 'Deny')) {
      const list = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      for (const resource of list.map(flat).filter((text) => text.includes('*'))) {
        expect(
          explained.some((pattern) => pattern.test(resource)),
          resource,
        ).toBe(true);
        if (resource === '*')
          expect(actionsOf(statement)).toEqual(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
        wildcards.push(resource.replace(/<(\w+?)[0-9A-F]{8}\.Arn>/, '<$1>'));
      }
      for (const action of actionsOf(statement)) expect(action).not.toContain('*');
    }
    expect(wildcards.sort()).toEqual([
      '*',
      '*',
      '<LandingBucket>/churn/incoming/*',
      '<LandingBucket>/credit/incoming/*',
      '<ResultsBucket>/reports/churn/*',
      '<ResultsBucket>/reports/credit/*',
    ]);
  });

  it("lets each drift function read only its own model's prefix", () => {
    for (const model of config.models) {
      const { detector } = stack.models.get(model.name)!;
      const own = policyStatements(
        template,
        stack.getLogicalId(detector.role.node.defaultChild as never).replace(/Role.*/, 'Role'),
      );
      const reads = own.find((statement) => statement.Sid === 'ReadIncomingFilesAndBaseline')!;
      const text = JSON.stringify(reads.Resource);
      expect(text).toContain(`/${model.prefixes.incoming}*`);
      for (const other of config.models.filter((candidate) => candidate !== model)) {
        expect(text).not.toContain(other.prefixes.incoming);
      }
    }
  });

  it('uses SSE-S3 for the data buckets when the config says s3-managed', () => {
    const plain = new DriftwatchStack(testApp(), 'Plain', {
      config: { ...config, encryption: 's3-managed' },
    });
    const buckets = Object.values(Template.fromStack(plain).findResources('AWS::S3::Bucket'));
    for (const bucket of buckets) {
      expect(
        bucket['Properties']['BucketEncryption']['ServerSideEncryptionConfiguration'][0][
          'ServerSideEncryptionByDefault'
        ],
      ).toEqual({ SSEAlgorithm: 'AES256' });
    }
    // The key stays: the alarm topic needs a customer-managed key CloudWatch may use.
    Template.fromStack(plain).resourceCountIs('AWS::KMS::Key', 1);
  });
});

describe('DriftwatchStack performance checks', () => {
  const performanceResources = (type: string) => resources(type).filter(([id]) => isPerformance(id));

  it('schedules one check per model with a performance section, in its time zone', () => {
    const schedules = performanceResources('AWS::Scheduler::Schedule').map(
      ([, schedule]) => schedule['Properties'],
    );
    expect(
      schedules.map((schedule) => [schedule['ScheduleExpression'], schedule['ScheduleExpressionTimezone']]),
    ).toEqual([
      ['cron(0 6 * * ? *)', 'Europe/Paris'],
      ['rate(7 days)', 'UTC'],
    ]);
    expect(
      performanceResources('AWS::Lambda::Function').map(([, fn]) => fn['Properties']['Runtime']),
    ).toEqual(['nodejs24.x', 'nodejs24.x']);
    for (const model of config.models) {
      const { monitor } = stack.models.get(model.name)!.performance!;
      const fn =
        template.findResources('AWS::Lambda::Function')[
          stack.getLogicalId(monitor.function.node.defaultChild as never)
        ]!;
      expect(fn['Properties']['MemorySize']).toBe(model.performance!.memoryMb);
      expect(fn['Properties']['Timeout']).toBe(model.performance!.timeoutSeconds);
    }
  });

  it('alarms on every configured limit and on failed checks, through the one topic', () => {
    const topic = resources('AWS::SNS::Topic')[0]![0];
    const alarms = performanceResources('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm['Properties']);
    expect(alarms.map((alarm) => alarm['AlarmName']).sort()).toEqual(
      [
        'Driftwatch-churn-accuracy-all-Min',
        'Driftwatch-churn-rocAuc-all-MaxDrop',
        'Driftwatch-churn-PerformanceCheckErrors',
        'Driftwatch-churn-PerformanceFunctionErrors',
        'Driftwatch-credit-rocAuc-all-Min',
        'Driftwatch-credit-gini-subprime-MaxDrop',
        'Driftwatch-credit-PerformanceCheckErrors',
        'Driftwatch-credit-PerformanceFunctionErrors',
      ].sort(),
    );
    for (const alarm of alarms) expect(alarm['AlarmActions']).toEqual([{ Ref: topic }]);
  });

  it('outputs each performance function, to run a check by hand', () => {
    const outputs = Object.keys(template.toJSON()['Outputs']).filter((name) =>
      name.startsWith('PerformanceFunctionOf'),
    );
    expect(outputs.sort()).toEqual(['PerformanceFunctionOfchurn', 'PerformanceFunctionOfcredit']);
  });

  it("writes reports only under each model's performance prefix and invokes only the churn endpoint", () => {
    const statements = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => isPerformance(id))
      .flatMap(([, policy]) => policy['Properties']['PolicyDocument']['Statement'] as TemplateStatement[]);
    const wildcards = statements
      .flatMap((statement) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]))
      .map((resource) => JSON.stringify(resource))
      .filter((text) => text.includes('*'));
    expect(wildcards.sort()).toEqual([
      '"*"',
      '"*"',
      expect.stringContaining('/reports/churn/performance/*'),
      expect.stringContaining('/reports/credit/performance/*'),
    ]);
    const invoke = statements.filter((statement) =>
      actionsOf(statement).includes('sagemaker:InvokeEndpoint'),
    );
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0]!.Resource)).toContain(':endpoint/churn-prod');
  });
});
