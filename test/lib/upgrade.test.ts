/**
 * Upgrade in place from 0.1 (one stack with everything per model) to the shared engine, checked against
 * the 0.1 template of the example config (test/fixtures/upgrade/v0.1-resources.json): the data keeps its
 * logical ids in the engine stack, and the model package groups, which move to the model stacks, are
 * declared so that `cdk import` can adopt the retained ones (docs/deploy.md, "Upgrade").
 */
import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DriftwatchConfig } from '../../lib/config/model-config.ts';
import { validateConfig } from '../../lib/config/validate.ts';
import { addDriftwatch, type DriftwatchDeployment, shardOf } from '../../lib/model-stacks.ts';
import { testApp } from '../helpers/cdk.ts';

interface OldResource {
  Type: string;
  DeletionPolicy: string | null;
  TableName?: string | null;
  ModelPackageGroupName?: string;
  ModelPackageGroupDescription?: string;
}
const old = JSON.parse(
  readFileSync(new URL('../fixtures/upgrade/v0.1-resources.json', import.meta.url), 'utf8'),
) as { stackName: string; models: string[]; resources: Record<string, OldResource> };

const config: DriftwatchConfig = validateConfig(JSON.parse(readFileSync('driftwatch.config.json', 'utf8')));
let deployment: DriftwatchDeployment;
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
let engine: Record<string, any>;

beforeAll(() => {
  deployment = addDriftwatch(testApp(), config);
  engine = Template.fromStack(deployment.engine).toJSON()['Resources'];
});

const data = Object.entries(old.resources).filter(([, r]) => r.Type !== 'AWS::SageMaker::ModelPackageGroup');
const groups = Object.entries(old.resources).filter(
  ([, r]) => r.Type === 'AWS::SageMaker::ModelPackageGroup',
);

describe('upgrade from 0.1', () => {
  it('is the same stack and models', () => {
    expect(deployment.engine.stackName).toBe(old.stackName);
    expect(config.models.map((model) => model.name)).toEqual(old.models);
  });

  it.each(data)(
    'keeps %s in the engine stack: same logical id, type, deletion policy and name',
    (id, before) => {
      const after = engine[id];
      expect(after, id).toBeDefined();
      expect(after.Type).toBe(before.Type);
      expect(after.DeletionPolicy ?? null).toBe(before.DeletionPolicy);
      if (before.Type === 'AWS::DynamoDB::Table')
        expect(after.Properties.TableName ?? null).toEqual(before.TableName);
    },
  );

  it.each(groups)(
    'declares %s in its model stack as cdk import needs: retained, same name and description',
    (_, before) => {
      const model = before.ModelPackageGroupName!.slice(`${old.stackName}-`.length);
      const stack = deployment.modelStacks.get(shardOf(model))!;
      const resources = Object.values(Template.fromStack(stack).toJSON()['Resources']) as {
        Type: string;
        DeletionPolicy?: string;
        UpdateReplacePolicy?: string;
        Properties: Record<string, unknown>;
      }[];
      const [after] = resources.filter(
        (r) =>
          r.Type === 'AWS::SageMaker::ModelPackageGroup' &&
          r.Properties['ModelPackageGroupName'] === before.ModelPackageGroupName,
      );
      expect(after, model).toBeDefined();
      // Import adopts only resources with a DeletionPolicy; Retain also keeps the versions when the model goes.
      expect(after!.DeletionPolicy).toBe('Retain');
      expect(after!.UpdateReplacePolicy).toBe('Retain');
      // Name and description are create-only: a different description would replace the adopted group.
      expect(after!.Properties['ModelPackageGroupDescription']).toBe(before.ModelPackageGroupDescription);
      // In 0.1 the group had no DeletionPolicy (Delete): the old stack must retain it before the engine update.
      expect(before.DeletionPolicy).toBeNull();
    },
  );
});
