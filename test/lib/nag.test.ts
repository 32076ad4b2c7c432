import { readFileSync } from 'node:fs';
import { type App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
// cdk-nag's own rendering of references in finding ids (not exported from its index).
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../lib/config/validate.ts';
import { addDriftwatch } from '../../lib/model-stacks.ts';
import {
  acknowledge,
  acknowledgeWildcardResource,
  WILDCARD_METADATA,
  type WildcardGrant,
} from '../../lib/nag.ts';
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
  'Driftwatch/Drift/Role: AwsSolutions-IAM5[Resource::<ResultsBucket46167C27.Arn>/capture-partials/*]',
  'Driftwatch/Drift/Role: AwsSolutions-IAM5[Resource::<ResultsBucket46167C27.Arn>/capture-calibrators/*]',
  'Driftwatch/Drift/Role: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint/*]',
  'Driftwatch/Drift/Role: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint-config/*]',
  'Driftwatch/Drift/Role: AwsSolutions-IAM5[Resource::<ResultsBucket46167C27.Arn>/reports/*/capture-windows/*]',
  'Driftwatch/Drift/Role: AwsSolutions-IAM5[Resource::<ResultsBucket46167C27.Arn>/ground-truth-matches/*]',
  'Driftwatch/Drift/Role: AwsSolutions-IAM5[Resource::*]',
  'Driftwatch/Performance/Role: AwsSolutions-IAM5[Resource::<LandingBucket6D60388F.Arn>/*]',
  'Driftwatch/Performance/Role: AwsSolutions-IAM5[Resource::<ResultsBucket46167C27.Arn>/reports/*/performance/*]',
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
  'Driftwatch/Notifier/Role: AwsSolutions-IAM5[Resource::*]',
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

  it('name exactly the actions they cover: every wildcard grant of the template is acknowledged with its actions', () => {
    // `<role path> <resource as cdk-nag names it>` -> actions, from the synthesized policies of every stack...
    const granted = new Map<string, Set<string>>();
    for (const stack of app.node
      .findAll()
      .filter((construct): construct is Stack => construct instanceof Stack)) {
      const template = app.synth().getStackByName(stack.stackName).template as {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
      const paths = new Map(
        stack.node
          .findAll()
          .filter((construct): construct is CfnResource => construct instanceof CfnResource)
          .map((resource) => [stack.getLogicalId(resource), resource.node.scope!.node.path]),
      );
      for (const resource of Object.values(template.Resources ?? {})) {
        if (resource.Type !== 'AWS::IAM::Policy') continue;
        const roles = resource.Properties['Roles'] as { Ref: string }[];
        const document = resource.Properties['PolicyDocument'] as { Statement: Record<string, unknown>[] };
        for (const statement of document.Statement) {
          if (statement['Effect'] !== 'Allow') continue;
          for (const arn of [statement['Resource']].flat()) {
            const name = flattenCfnReference(arn);
            if (!name.includes('*')) continue;
            for (const role of roles) {
              const key = `${paths.get(role.Ref)} ${name}`;
              const actions = granted.get(key) ?? new Set<string>();
              for (const action of [statement['Action']].flat() as string[]) actions.add(action);
              granted.set(key, actions);
            }
          }
        }
      }
    }
    // ...and from the acknowledgements (lib/nag.ts records the actions each one names).
    const acknowledged = new Map<string, Set<string>>();
    for (const construct of app.node.findAll()) {
      for (const entry of construct.node.metadata.filter((m) => m.type === WILDCARD_METADATA)) {
        const grant = entry.data as WildcardGrant;
        const key = `${construct.node.path} ${grant.resource}`;
        const actions = acknowledged.get(key) ?? new Set<string>();
        for (const action of grant.actions) actions.add(action);
        acknowledged.set(key, actions);
      }
    }
    const render = (map: Map<string, Set<string>>) =>
      Object.fromEntries([...map].map(([key, actions]) => [key, [...actions].sort()]).sort());
    expect(render(granted)).toEqual(render(acknowledged));
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
    acknowledgeWildcardResource(
      stack,
      `arn:${stack.partition}:s3:::${stack.account}-data/in/*`,
      ['s3:GetObject'],
      'Reason.',
    );
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
    for (const arn of arns) acknowledgeWildcardResource(stack, arn, ['s3:GetObject'], 'Reason.');
    expect(acknowledgements(stack).map(({ id }) => id)).toEqual(
      arns.map((arn) => `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(arn))}]`),
    );
  });
});
