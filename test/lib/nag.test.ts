import { readFileSync } from 'node:fs';
import { type App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
// cdk-nag's own rendering of references in finding ids (not exported from its index).
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../lib/config/validate.ts';
import { addDriftwatch } from '../../lib/model-stacks.ts';
import { acknowledge, acknowledgeWildcardResource } from '../../lib/nag.ts';
import { testApp } from '../helpers/cdk.ts';

interface Acknowledgement {
  /** Construct path the acknowledgement is recorded on (it covers the children too). */
  path: string;
  id: string;
  reason: string;
}

interface Finding {
  ruleName: string;
  paths: string[];
}

/** Every acknowledgement recorded with `Validations.of(...).acknowledge` under `root`. */
function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

/** AwsSolutions findings, with acknowledgements honoured or (to see what each one hides) ignored. */
function findings(app: App, honourAcknowledgements: boolean): Finding[] {
  const pack = new AwsSolutionsChecks(app, { verbose: true });
  // isAcknowledged is cdk-nag's private check; replacing it shows the findings the acknowledgements hide.
  if (!honourAcknowledgements) Object.assign(pack, { isAcknowledged: () => false });
  return pack.validateScope(app).violations.map((violation) => ({
    ruleName: violation.ruleName,
    paths: violation.violatingResources.map((resource) => resource.constructPath ?? ''),
  }));
}

/**
 * Every acknowledgement of the deployment, on the shared engine only (the model stacks need none): X-Ray
 * and GetMetricData (no resource-level permissions); the landing bucket's objects, the reports and
 * retraining prefixes, the models' parameter path, package groups `Driftwatch-*`, SageMaker names and
 * endpoints named by each model's config (data: listing them would change the policy with every model and
 * pass IAM's 10,240-byte role policy limit before 200 models).
 */
const ACKNOWLEDGED = [
  'Driftwatch/Drift/Role: AwsSolutions-IAM5[Resource::<LandingBucket6D60388F.Arn>/*]',
  'Driftwatch/Drift/Role: AwsSolutions-IAM5[Resource::<ResultsBucket46167C27.Arn>/reports/*]',
  'Driftwatch/Drift/Role: AwsSolutions-IAM5[Resource::*]',
  'Driftwatch/Performance/Role: AwsSolutions-IAM5[Resource::<LandingBucket6D60388F.Arn>/*]',
  'Driftwatch/Performance/Role: AwsSolutions-IAM5[Resource::<ResultsBucket46167C27.Arn>/reports/*]',
  'Driftwatch/Performance/Role: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint/*]',
  'Driftwatch/Performance/Role: AwsSolutions-IAM5[Resource::*]',
  'Driftwatch/Retraining/SageMakerRole: AwsSolutions-IAM5[Resource::<ResultsBucket46167C27.Arn>/retraining/*]',
  'Driftwatch/Retraining/SageMakerRole: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*]',
  'Driftwatch/Retraining/SageMakerRole: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:*:*:repository/*]',
  'Driftwatch/Retraining/SageMakerRole: AwsSolutions-IAM5[Resource::*]',
  'Driftwatch/Retraining/planRole: AwsSolutions-IAM5[Resource::*]',
  'Driftwatch/Retraining/costGateRole: AwsSolutions-IAM5[Resource::*]',
  'Driftwatch/Retraining/prepareInputsRole: AwsSolutions-IAM5[Resource::*]',
  'Driftwatch/Retraining/prepareInputsRole: AwsSolutions-IAM5[Resource::<LandingBucket6D60388F.Arn>/*]',
  'Driftwatch/Retraining/prepareInputsRole: AwsSolutions-IAM5[Resource::<ResultsBucket46167C27.Arn>/retraining/*]',
  'Driftwatch/Retraining/evaluateRole: AwsSolutions-IAM5[Resource::*]',
  'Driftwatch/Retraining/evaluateRole: AwsSolutions-IAM5[Resource::<ResultsBucket46167C27.Arn>/retraining/*]',
  'Driftwatch/Retraining/registerRole: AwsSolutions-IAM5[Resource::*]',
  'Driftwatch/Retraining/registerRole: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model-package-group/Driftwatch-*]',
  'Driftwatch/Retraining/registerRole: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model-package/Driftwatch-*/*]',
  'Driftwatch/Retraining/canaryDecisionRole: AwsSolutions-IAM5[Resource::*]',
  'Driftwatch/Retraining/canaryDecisionRole: AwsSolutions-IAM5[Resource::<LandingBucket6D60388F.Arn>/*]',
  'Driftwatch/Retraining/canaryDecisionRole: AwsSolutions-IAM5[Resource::*]',
  'Driftwatch/Retraining/StateMachine/Role: AwsSolutions-IAM5[Resource::*]',
  'Driftwatch/Retraining/StateMachine/Role: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/*]',
  'Driftwatch/Retraining/StateMachine/Role: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:transform-job/*]',
  'Driftwatch/Retraining/StateMachine/Role: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model/*]',
  'Driftwatch/Retraining/StateMachine/Role: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint-config/*]',
  'Driftwatch/Retraining/StateMachine/Role: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint/*]',
  'Driftwatch/Retraining/StateMachine/Role: AwsSolutions-IAM5[Resource::<Retrainingplan8473C598.Arn>:*]',
  'Driftwatch/Retraining/StateMachine/Role: AwsSolutions-IAM5[Resource::<RetrainingcostGateF0D99E84.Arn>:*]',
  'Driftwatch/Retraining/StateMachine/Role: AwsSolutions-IAM5[Resource::<RetrainingprepareInputs4E468754.Arn>:*]',
  'Driftwatch/Retraining/StateMachine/Role: AwsSolutions-IAM5[Resource::<RetrainingevaluateAD7BEF93.Arn>:*]',
  'Driftwatch/Retraining/StateMachine/Role: AwsSolutions-IAM5[Resource::<RetrainingregisterD74CC36A.Arn>:*]',
  'Driftwatch/Retraining/StateMachine/Role: AwsSolutions-IAM5[Resource::<RetrainingcanaryDecision1CAADF07.Arn>:*]',
];

let app: App;

beforeAll(() => {
  const config = validateConfig(JSON.parse(readFileSync('driftwatch.config.json', 'utf8')));
  app = testApp();
  addDriftwatch(app, config);
  app.synth();
});

describe('cdk-nag AwsSolutions checks of the example stack', () => {
  it('find nothing unacknowledged, neither errors nor warnings', () => {
    expect(findings(app, true)).toEqual([]);
  });

  it('are acknowledged only for wildcards that are explained', () => {
    expect(acknowledgements(app).map(({ path, id }) => `${path}: ${id}`)).toEqual(ACKNOWLEDGED);
  });

  it('give every acknowledgement a reason of a sentence or more', () => {
    for (const { id, reason } of acknowledgements(app)) {
      expect(reason.length, id).toBeGreaterThanOrEqual(60);
      expect(reason, id).toMatch(/^[A-Z].*\.$/);
    }
  });

  it('have no stale acknowledgement: each hides a finding of its construct', () => {
    const raw = findings(app, false);
    for (const { path, id } of acknowledgements(app)) {
      const hidden = raw.find(
        (finding) =>
          finding.ruleName === id && finding.paths.some((resource) => resource.startsWith(`${path}/`)),
      );
      expect(hidden, `${path}: ${id}`).toBeDefined();
    }
  });
});

describe('acknowledgeWildcardResource', () => {
  it('names the finding as cdk-nag does, with references flattened', () => {
    const stack = new Stack();
    acknowledgeWildcardResource(stack, `arn:${stack.partition}:s3:::${stack.account}-data/in/*`, 'Reason.');
    acknowledge(stack, 'S1', 'Other reason.');
    expect(acknowledgements(stack)).toEqual([
      {
        path: 'Default',
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<AWS::AccountId>-data/in/*]',
        reason: 'Reason.',
      },
      { path: 'Default', id: 'AwsSolutions-S1', reason: 'Other reason.' },
    ]);
  });

  it('agrees with cdk-nag on references in ARNs', () => {
    const stack = new Stack();
    const bucket = new s3.Bucket(stack, 'Bucket');
    const arns = [
      bucket.arnForObjects('a/*'),
      `${bucket.bucketArn}/b/*`,
      stack.formatArn({ service: 'sqs', resource: '*' }),
    ];
    for (const arn of arns) acknowledgeWildcardResource(stack, arn, 'Reason.');
    expect(acknowledgements(stack).map(({ id }) => id)).toEqual(
      arns.map((arn) => `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(arn))}]`),
    );
  });
});
