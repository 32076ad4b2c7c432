/**
 * The permission findings of issue 18, each judged by the IAM simulator on the synthesized template of the
 * shipped config: the policy as it was (rebuilt on a copy of the template) is refused where a real account
 * refuses it, and the policy as it is now is allowed (or, for the over-broad grants, the other way round).
 */
import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../../lib/config/validate.ts';
import { DriftwatchStack } from '../../../../lib/driftwatch-stack.ts';
import { ENGINE_TAG } from '../../../../lib/retraining/engine-tag.ts';
import { Authorizer, type Caller } from '../../../../local/aws/iam/authorizer.ts';
import { addStackToModel, emptyIamModel } from '../../../../local/aws/iam/model.ts';
import { type AccessRequest, describeTask } from '../../../../local/aws/iam/requests.ts';
import { type CfnTemplate, DEFAULT_IDENTITY, IntrinsicResolver } from '../../../../local/aws/template.ts';
import { testApp } from '../../../helpers/cdk.ts';

const ACCOUNT = DEFAULT_IDENTITY.accountId;
let stack: DriftwatchStack;
let template: CfnTemplate;

beforeAll(() => {
  const config = validateConfig(JSON.parse(readFileSync('driftwatch.config.json', 'utf8')));
  stack = new DriftwatchStack(testApp(), config.stackName, { config });
  template = Template.fromStack(stack).toJSON() as CfnTemplate;
});

const logicalId = (construct: IConstruct) =>
  stack.getLogicalId((construct.node.defaultChild ?? construct) as never);

/** An authorizer over `candidate` (the template, or a changed copy of it). */
function authorizerOf(candidate: CfnTemplate) {
  const resolver = new IntrinsicResolver(candidate, stack.stackName, DEFAULT_IDENTITY);
  const authorizer = new Authorizer(addStackToModel(emptyIamModel(DEFAULT_IDENTITY), resolver));
  const arn = (construct: IConstruct) => resolver.physicalResource(logicalId(construct)).arn;
  const allowed = async (caller: Caller, requests: AccessRequest[]) => {
    try {
      await authorizer.check(caller, requests);
      return true;
    } catch {
      return false;
    }
  };
  return { resolver, arn, allowed };
}

/** A copy of the template with `change` applied to every statement of every policy. */
function withStatements(
  change: (statement: Record<string, unknown>, policyId: string) => Record<string, unknown>[],
) {
  const copy = structuredClone(template);
  for (const [id, resource] of Object.entries(copy.Resources)) {
    const document =
      resource.Type === 'AWS::IAM::Policy'
        ? (resource.Properties!['PolicyDocument'] as { Statement: Record<string, unknown>[] })
        : resource.Type === 'AWS::KMS::Key'
          ? (resource.Properties!['KeyPolicy'] as { Statement: Record<string, unknown>[] })
          : undefined;
    if (document) document.Statement = document.Statement.flatMap((statement) => change(statement, id));
  }
  return copy;
}

const role = (roleArn: string): Caller => ({ kind: 'role', roleArn });
const churn = () => stack.retraining;

describe('finding 1: registering a model package', () => {
  const request = (group: string): AccessRequest[] => [
    {
      action: 'sagemaker:CreateModelPackage',
      resource: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/${group}/1`,
    },
  ];

  it('is allowed on the group as SageMaker names it (`<stack>-<model>`, in the case of the stack name), and was denied when lower-cased', async () => {
    const now = authorizerOf(template);
    const registerRole = role(now.arn(churn().functions.register.role!));
    expect(await now.allowed(registerRole, request('Driftwatch-churn'))).toBe(true);
    const before = authorizerOf(
      withStatements((statement) => [
        JSON.parse(
          JSON.stringify(statement).replaceAll('model-package/Driftwatch-', 'model-package/driftwatch-'),
        ),
      ]),
    );
    expect(await before.allowed(registerRole, request('Driftwatch-churn'))).toBe(false);
  });
});

describe('finding 2: scoring the champion', () => {
  it("writes the champion's scores as the pipeline's SageMaker role; the serving model's own role could not", async () => {
    const now = authorizerOf(template);
    const results = now.resolver.physicalResource(logicalId(stack.results.bucket)).name;
    const scores: AccessRequest[] = [
      {
        action: 's3:PutObject',
        resource: `arn:aws:s3:::${results}/retraining/churn/run-1/scores/champion/features.csv.out`,
        kmsActions: ['kms:GenerateDataKey'],
      },
      {
        action: 's3:GetObject',
        resource: `arn:aws:s3:::${results}/retraining/churn/run-1/holdout/features.csv`,
        kmsActions: ['kms:Decrypt'],
      },
    ];
    expect(await now.allowed(role(now.arn(churn().sageMakerRole)), scores)).toBe(true);
    // The old design ran the transform with the serving model, as its execution role (made outside the stack).
    expect(await now.allowed(role(`arn:aws:iam::${ACCOUNT}:role/serving-model-role`), scores)).toBe(false);
  });
});

describe('finding 3: the SageMaker role and other buckets', () => {
  it('cannot read or write another bucket, as it could with the S3 grants on "*"', async () => {
    const elsewhere: AccessRequest[] = [
      { action: 's3:GetObject', resource: 'arn:aws:s3:::someone-elses-bucket/data.csv' },
    ];
    const now = authorizerOf(template);
    const sageMaker = role(now.arn(churn().sageMakerRole));
    expect(await now.allowed(sageMaker, elsewhere)).toBe(false);
    const sageMakerPolicy = logicalId(churn().sageMakerRole).replace(/[0-9A-F]{8}$/, '');
    const before = authorizerOf(
      withStatements((statement, id) =>
        id.startsWith(sageMakerPolicy) && statement['Sid'] === 'RunFiles'
          ? [
              statement,
              { Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket', 's3:PutObject'], Resource: '*' },
            ]
          : [statement],
      ),
    );
    expect(await before.allowed(sageMaker, elsewhere)).toBe(true);
  });
});

describe('finding 4: narrower grants', () => {
  it("keeps the drift function from overwriting the performance check's reports", async () => {
    const now = authorizerOf(template);
    const drift = role(now.arn(stack.drift.role));
    const results = now.resolver.physicalResource(logicalId(stack.results.bucket)).name;
    const put = (key: string): AccessRequest[] => [
      { action: 's3:PutObject', resource: `arn:aws:s3:::${results}/${key}` },
    ];
    expect(await now.allowed(drift, put('reports/churn/2025-06-02T09:00:00.000Z/day.csv.json'))).toBe(true);
    expect(await now.allowed(drift, put('reports/churn/performance/2025-06-02.json'))).toBe(false);
    const before = authorizerOf(
      withStatements((statement) => (statement['Sid'] === 'NotPerformanceReports' ? [] : [statement])),
    );
    expect(await before.allowed(drift, put('reports/churn/performance/2025-06-02.json'))).toBe(true);
  });

  it("keeps the performance check from writing the drift function's reports", async () => {
    const now = authorizerOf(template);
    const performance = role(now.arn(stack.performance.role));
    const results = now.resolver.physicalResource(logicalId(stack.results.bucket)).name;
    const put = (key: string): AccessRequest[] => [
      { action: 's3:PutObject', resource: `arn:aws:s3:::${results}/${key}` },
    ];
    expect(await now.allowed(performance, put('reports/churn/performance/2025-06-02.json'))).toBe(true);
    expect(await now.allowed(performance, put('reports/churn/2025-06-02T09:00:00.000Z/day.csv.json'))).toBe(
      false,
    );
    const before = authorizerOf(
      withStatements((statement) => [
        JSON.parse(JSON.stringify(statement).replaceAll('/reports/*/performance/*', '/reports/*')),
      ]),
    );
    expect(
      await before.allowed(performance, put('reports/churn/2025-06-02T09:00:00.000Z/day.csv.json')),
    ).toBe(true);
  });

  it("lets CloudWatch use the alarm key only for this account's alarms", async () => {
    const now = authorizerOf(template);
    const key = now.resolver.physicalResource(logicalId(stack.alerting.masterKey as never)).arn;
    const cloudWatch = (account: string): Caller => ({
      kind: 'service',
      service: 'cloudwatch.amazonaws.com',
      sourceArn: `arn:aws:cloudwatch:us-east-1:${account}:alarm:x`,
      sourceAccount: account,
    });
    const generate: AccessRequest[] = [{ action: 'kms:GenerateDataKey', resource: key }];
    expect(await now.allowed(cloudWatch(ACCOUNT), generate)).toBe(true);
    expect(await now.allowed(cloudWatch('999999999999'), generate)).toBe(false);
    const before = authorizerOf(
      withStatements((statement) => {
        if (statement['Sid'] !== 'AllowCloudWatchAlarmsToPublish') return [statement];
        const { Condition: _, ...unconditioned } = statement;
        return [unconditioned];
      }),
    );
    expect(await before.allowed(cloudWatch('999999999999'), generate)).toBe(true);
  });

  it('lets the retraining machine create, tag and poll only the SageMaker jobs and models of its own engine', async () => {
    const now = authorizerOf(template);
    const machine = role(now.arn(stack.retraining.stateMachine.role));
    const sageMakerRole = now.arn(stack.retraining.sageMakerRole);
    const tags = (engine: string) => [{ Key: ENGINE_TAG, Value: engine }];
    const where = DEFAULT_IDENTITY;
    const train = (engine?: string) =>
      describeTask(where, 'arn:aws:states:::sagemaker:createTrainingJob.sync', {
        TrainingJobName: 'churn-20250602-090000',
        RoleArn: sageMakerRole,
        ...(engine ? { Tags: tags(engine) } : {}),
      })!;
    const transform = (engine: string) =>
      describeTask(where, 'arn:aws:states:::sagemaker:createTransformJob.sync', {
        TransformJobName: 'churn-20250602-090000-champion',
        Tags: tags(engine),
      })!;
    const model = (engine: string) =>
      describeTask(where, 'arn:aws:states:::sagemaker:createModel', {
        ModelName: 'churn-20250602-090000',
        ExecutionRoleArn: sageMakerRole,
        Tags: tags(engine),
      })!;
    // Creating, tagging on creation and the .sync polling (Describe*Job, the EventBridge rule) are all judged.
    expect(train('Driftwatch').map((request) => request.action)).toEqual(
      expect.arrayContaining([
        'sagemaker:CreateTrainingJob',
        'sagemaker:AddTags',
        'sagemaker:DescribeTrainingJob',
        'events:PutRule',
      ]),
    );
    expect(await now.allowed(machine, train('Driftwatch'))).toBe(true);
    expect(await now.allowed(machine, transform('Driftwatch'))).toBe(true);
    expect(await now.allowed(machine, model('Driftwatch'))).toBe(true);
    // Another engine's (or anybody's untagged) jobs and models are out of reach.
    expect(await now.allowed(machine, train('OtherTeam'))).toBe(false);
    expect(await now.allowed(machine, train())).toBe(false);
    expect(await now.allowed(machine, transform('OtherTeam'))).toBe(false);
    expect(await now.allowed(machine, model('OtherTeam'))).toBe(false);
    const stop = (engine: string): AccessRequest[] => [
      {
        action: 'sagemaker:StopTrainingJob',
        resource: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:training-job/x-20250602-090000`,
        context: { [`aws:ResourceTag/${ENGINE_TAG}`]: engine },
      },
    ];
    expect(await now.allowed(machine, stop('Driftwatch'))).toBe(true);
    expect(await now.allowed(machine, stop('OtherTeam'))).toBe(false);
    // Before: the grants on training-job/*, transform-job/* and model/* held for every name in the account.
    const before = authorizerOf(
      withStatements((statement) => {
        const { Condition: _, ...unconditioned } = statement;
        return [JSON.stringify(statement).includes(ENGINE_TAG) ? unconditioned : statement];
      }),
    );
    expect(await before.allowed(machine, train('OtherTeam'))).toBe(true);
    expect(await before.allowed(machine, stop('OtherTeam'))).toBe(true);
  });
});
