import { readFileSync } from 'node:fs';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODELS_ENV, parseModelParameter } from '../../lambdas/shared/model-catalog.ts';
import type { DriftwatchConfig } from '../../lib/config/model-config.ts';
import { validateConfig } from '../../lib/config/validate.ts';
import { addDriftwatch, type DriftwatchDeployment, modelStackName, shardOf } from '../../lib/model-stacks.ts';
import { actionsOf, policyStatements, type TemplateStatement, testApp } from '../helpers/cdk.ts';

const config: DriftwatchConfig = validateConfig(JSON.parse(readFileSync('driftwatch.config.json', 'utf8')));
let app: App;
let deployment: DriftwatchDeployment;
let engine: Template;
let models: Template[];

beforeAll(() => {
  app = testApp();
  deployment = addDriftwatch(app, config);
  engine = Template.fromStack(deployment.engine);
  models = [...deployment.modelStacks.values()].map((stack) => Template.fromStack(stack));
});

const resources = (template: Template, type: string) => Object.entries(template.findResources(type));
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
type CfnJson = any;
const allModelResources = (): [string, CfnJson][] =>
  models.flatMap((template) => Object.entries(template.toJSON()['Resources'] as Record<string, CfnJson>));

describe('the shared engine', () => {
  it('has ONE drift function, ONE performance function, ONE set of retraining functions, ONE state machine', () => {
    const functions = resources(engine, 'AWS::Lambda::Function').map(([id]) =>
      id.replace(/[0-9A-F]{8}$/, ''),
    );
    expect(functions.sort()).toEqual(
      [
        'DriftFunction',
        'NotifierFunction',
        'PerformanceFunction',
        'RetrainingcanaryDecision',
        'RetrainingcostGate',
        'RetrainingevaluateFunction'.replace('Function', ''),
        'RetrainingplanFunction'.replace('Function', ''),
        'RetrainingprepareInputs',
        'Retrainingregister',
      ].sort(),
    );
    engine.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    // The landing queue and its dead-letter queue; the FIFO checks queue and its FIFO dead-letter queue.
    engine.resourceCountIs('AWS::SQS::Queue', 4);
    engine.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    engine.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
  });

  it('checks files from a FIFO queue (message groups per model), routing them there from the landing queue', () => {
    const queues = Object.fromEntries(
      resources(engine, 'AWS::SQS::Queue').map(([id, queue]) => [id.replace(/[0-9A-F]{8}$/, ''), queue]),
    );
    expect(queues['DriftChecksQueue']['Properties']).toMatchObject({
      FifoQueue: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      RedrivePolicy: { maxReceiveCount: 3 },
    });
    expect(queues['DriftChecksDeadLetterQueue']['Properties']).toMatchObject({ FifoQueue: true });
    expect(queues['DriftQueue']['Properties']['FifoQueue']).toBeUndefined();
    const mappings = resources(engine, 'AWS::Lambda::EventSourceMapping').map(([, mapping]) => ({
      source: mapping['Properties']['EventSourceArn']['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, ''),
      batchSize: mapping['Properties']['BatchSize'],
      maxConcurrency: mapping['Properties']['ScalingConfig']['MaximumConcurrency'],
    }));
    expect(mappings.sort((a, b) => a.source.localeCompare(b.source))).toEqual([
      { source: 'DriftChecksQueue', batchSize: 1, maxConcurrency: 10 },
      { source: 'DriftQueue', batchSize: 10, maxConcurrency: 2 },
    ]);
    const [, drift] = resources(engine, 'AWS::Lambda::Function').find(([id]) =>
      id.startsWith('DriftFunction'),
    )!;
    expect(drift['Properties']['Environment']['Variables']['CHECKS_QUEUE_URL']).toEqual({
      Ref: expect.stringMatching(/^DriftChecksQueue/),
    });
  });

  it('names no model: adding one changes nothing in it', () => {
    const text = JSON.stringify(engine.toJSON());
    for (const model of config.models) {
      expect(text).not.toContain(model.prefixes.incoming);
      expect(text).not.toContain(`"${model.name}"`);
    }
  });

  it('keeps the logical ids of the data of earlier versions (upgrade in place)', () => {
    const ids = ['Key961B73FD', 'LandingBucket6D60388F', 'ResultsBucket46167C27', 'ResultsHistory6ADA7D6E'];
    ids.push('IdempotencyTable48612DF4', 'ModelStateTable1C9394E4', 'AccessLogsBucketCD784A59');
    const template = engine.toJSON()['Resources'];
    for (const id of ids) expect(template[id], id).toBeDefined();
  });

  it('routes every landing file to the one queue, the function finding the model in its parameters', () => {
    const [[, rule]] = resources(engine, 'AWS::Events::Rule').filter(([id]) =>
      id.startsWith('DriftObjectCreated'),
    ) as [[string, Record<string, never>]];
    expect(rule['Properties']['EventPattern']).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: [{ Ref: 'LandingBucket6D60388F' }] } },
    });
    const [, drift] = resources(engine, 'AWS::Lambda::Function').find(([id]) =>
      id.startsWith('DriftFunction'),
    )!;
    const variables = drift['Properties']['Environment']['Variables'];
    expect(variables[MODELS_ENV.parameterPath]).toBe('/driftwatch/Driftwatch/models/');
    expect(variables['MODEL_CONFIG']).toBeUndefined();
  });

  it('outputs what the CLI and a user need', () => {
    expect(
      Object.keys(engine.toJSON()['Outputs'])
        .filter((name) => !name.startsWith('ExportsOutput'))
        .sort(),
    ).toEqual([
      'AlarmTopicArn',
      'DashboardName',
      'HistoryTableName',
      'LandingBucketName',
      'ModelStateTableName',
      'ModelsParameterPath',
      'PerformanceFunctionName',
      'ResultsBucketName',
      'RetrainingSageMakerRoleArn',
      'RetrainingStateMachineArn',
    ]);
  });

  it('has one dashboard with a model selector listing the models that emit metrics', () => {
    const [, dashboard] = resources(engine, 'AWS::CloudWatch::Dashboard')[0]!;
    const body = JSON.stringify(dashboard['Properties']['DashboardBody']);
    expect(body).toContain('\\"variables\\"');
    expect(body).toContain('\\"inputType\\":\\"select\\"');
    expect(body).toContain('MODEL_SELECTED');
    expect(body).toContain('PageReason');
    // Capture windows' drift per endpoint variant, for the selected model.
    expect(body).toMatch(
      /SEARCH\('\{Driftwatch,Model,Variant\} MetricName=\W+DatasetDriftShare\W+ Model=\W+MODEL_SELECTED\W+', 'Maximum', 300\)/,
    );
    expect(body).toContain('{Driftwatch,Model,Variant,Feature} MetricName=');
  });
});

describe('models as data, sharded by the app', () => {
  it('puts each model in the stack of its shard, by its name alone', () => {
    for (const model of config.models) {
      const stack = deployment.modelStacks.get(shardOf(model.name))!;
      expect(stack.stackName).toBe(modelStackName(config.stackName, shardOf(model.name)));
      expect(stack.node.tryFindChild(model.name)).toBeDefined();
    }
  });

  it('gives a model with every section 5 resources: parameter, page alarm, schedules, package group', () => {
    for (const model of config.models) {
      const template = Template.fromStack(deployment.modelStacks.get(shardOf(model.name))!);
      const own = Object.entries(template.toJSON()['Resources'] as Record<string, { Type: string }>)
        .filter(([id]) => id.startsWith(model.name))
        .map(([, resource]) => resource.Type)
        .sort();
      const expected = ['AWS::CloudWatch::Alarm', 'AWS::SSM::Parameter'];
      if (model.performance) expected.push('AWS::Scheduler::Schedule');
      if (model.retraining) expected.push('AWS::SageMaker::ModelPackageGroup');
      if (model.retraining?.schedule) expected.push('AWS::Scheduler::Schedule');
      expect(own, model.name).toEqual(expected.sort());
      expect(own.length).toBeLessThanOrEqual(5);
    }
  });

  it("writes each model's validated config as its parameter, read back as the same model", () => {
    const parameters = allModelResources().filter(([, resource]) => resource.Type === 'AWS::SSM::Parameter');
    expect(parameters).toHaveLength(config.models.length);
    for (const [, parameter] of parameters) {
      const { Name, Value, Tier, Type } = parameter.Properties;
      expect(Type).toBe('String');
      expect(Tier).toBe('Intelligent-Tiering');
      const model = parseModelParameter(Name, Value);
      expect(model).toEqual(config.models.find((candidate) => candidate.name === model.name));
    }
  });

  it('schedules the performance checks on the shared function with the shared role', () => {
    const schedules = allModelResources().filter(
      ([id, resource]) => resource.Type === 'AWS::Scheduler::Schedule' && id.includes('PerformanceSchedule'),
    );
    expect(schedules.length).toBe(config.models.filter((model) => model.performance).length);
    for (const [, schedule] of schedules) {
      const target = schedule.Properties.Target;
      expect(JSON.stringify(target.Arn)).toContain('PerformanceFunction');
      expect(JSON.parse(target.Input)).toMatchObject({ model: expect.any(String) });
    }
  });

  it('names package groups in the case they are created with, and IAM grants exactly that case', () => {
    const groups = allModelResources().filter(
      ([, resource]) => resource.Type === 'AWS::SageMaker::ModelPackageGroup',
    );
    for (const [, group] of groups) {
      expect(group.Properties.ModelPackageGroupName).toMatch(/^Driftwatch-/);
      expect(group.DeletionPolicy).toBe('Retain');
    }
    const register = policyStatements(engine, 'RetrainingregisterRole');
    const create = register.find((statement) =>
      actionsOf(statement).includes('sagemaker:CreateModelPackage'),
    )!;
    const text = JSON.stringify(create.Resource);
    expect(text).toContain('model-package-group/Driftwatch-*');
    expect(text).toContain('model-package/Driftwatch-*/*');
    expect(text).not.toContain('driftwatch-');
  });
});

describe('engine security', () => {
  const statements = (): TemplateStatement[] => policyStatements(engine);

  it('lets CloudWatch use the key only for alarms of this account', () => {
    const [, key] = resources(engine, 'AWS::KMS::Key')[0]!;
    const statement = (key['Properties']['KeyPolicy']['Statement'] as TemplateStatement[]).find(
      (candidate) => candidate.Sid === 'AllowCloudWatchAlarmsToPublish',
    )!;
    expect(statement.Condition).toMatchObject({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: { 'aws:SourceArn': expect.anything() },
    });
  });

  it('grants the SageMaker role no S3 wildcard: only the retraining work prefix', () => {
    const role = policyStatements(engine, 'RetrainingSageMakerRole');
    for (const statement of role.filter((candidate) =>
      actionsOf(candidate).some((a) => a.startsWith('s3:')),
    )) {
      expect(statement.Resource).not.toBe('*');
      expect(JSON.stringify(statement)).toMatch(/retraining\/\*/);
    }
  });

  it('reads the models only from their own parameter path', () => {
    const reads = statements().filter((statement) =>
      actionsOf(statement).includes('ssm:GetParametersByPath'),
    );
    expect(reads.length).toBeGreaterThanOrEqual(8);
    for (const statement of reads) {
      expect(JSON.stringify(statement.Resource)).toContain(':parameter/driftwatch/Driftwatch/models');
    }
  });

  it('grants no action wildcard', () => {
    for (const statement of statements()) {
      for (const action of actionsOf(statement)) expect(action).not.toMatch(/:\*$|^\*$/);
    }
  });

  it('encrypts every queue and table, with point-in-time recovery', () => {
    for (const [, queue] of resources(engine, 'AWS::SQS::Queue'))
      expect(queue['Properties']['SqsManagedSseEnabled']).toBe(true);
    for (const [, table] of resources(engine, 'AWS::DynamoDB::Table')) {
      expect(table['Properties']).toMatchObject({
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    }
  });
});
