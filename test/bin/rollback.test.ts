import { DescribeEndpointConfigCommand, UpdateEndpointCommand } from '@aws-sdk/client-sagemaker';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelState } from '../../bin/cli/aws.ts';
import {
  chooseVersion,
  EndpointChangeError,
  ModelLockedError,
  type PackageVersion,
  type RollbackOptions,
  rollbackModel,
} from '../../bin/cli/commands/rollback.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';
import type { ModelStateItem } from '../../lambdas/shared/retraining-contract.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import {
  type DeployedStack,
  deployChampion,
  ENDPOINT,
  MODEL,
  PACKAGE_GROUP,
  ROLE,
  STATE_TABLE,
  seedRegistry,
  startDeployedStack,
  waitForEndpoint,
  writeStackConfig,
} from './deployed-stack.ts';

const EXECUTION =
  'arn:aws:states:us-east-1:123456789012:execution:Dw-retraining:manual-20240801-000000-abc123';
const TARGET = { model: MODEL, endpointName: ENDPOINT, packageGroup: PACKAGE_GROUP, stateTable: STATE_TABLE };

let stack: DeployedStack;
let packageArns: string[];
let dir: string;
let cleanup: () => Promise<void>;
let configPath: string;

const cli = (...args: string[]) =>
  runCli(
    [
      'rollback',
      ...args,
      '--config',
      configPath,
      '--endpoint-url',
      stack.endpointUrl,
      '--poll-seconds',
      '0.02',
    ],
    {
      env: stack.cliEnv,
    },
  );
const clients = () => ({ sagemaker: stack.sagemaker, documents: stack.aws.documents });
const state = async (): Promise<ModelStateItem> =>
  (await readModelState(stack.aws.documents, STATE_TABLE, MODEL))!;
const setLock = (execution: string | null) =>
  stack.aws.documents.send(
    new UpdateCommand({
      TableName: STATE_TABLE,
      Key: { model: MODEL },
      ...(execution === null
        ? { UpdateExpression: 'REMOVE runningExecution, lockedAt' }
        : {
            UpdateExpression: 'SET runningExecution = :execution, lockedAt = :at',
            ExpressionAttributeValues: { ':execution': execution, ':at': '2024-08-01T00:00:00.000Z' },
          }),
    }),
  );
/** Options of a rollback at `at` (distinct times give distinct model and config names). */
const options = (at: string, extra: Partial<RollbackOptions> = {}): RollbackOptions => ({
  waitMs: 10_000,
  pollMs: 20,
  now: () => new Date(at),
  ...extra,
});
/** Starts an UpdateEndpoint to the config it serves: the endpoint is Updating for a while. */
const makeBusy = async () => {
  const { EndpointConfigName } = await waitForEndpoint(stack);
  await stack.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName }));
};

beforeAll(async () => {
  stack = await startDeployedStack({ timings: { endpointCreateSeconds: 0.05, endpointUpdateSeconds: 0.4 } });
  ({ packageArns } = await seedRegistry(stack));
  await deployChampion(stack, packageArns[1]!);
  ({ dir, cleanup } = await tempDir());
  configPath = await writeStackConfig(dir);
});
afterAll(async () => {
  await stack.close();
  await cleanup();
});

describe('the version to restore', () => {
  const summary = (version: number, status: string): PackageVersion => ({
    ModelPackageArn: `arn:aws:sagemaker:us-east-1:1:model-package/g/${version}`,
    ModelPackageVersion: version,
    ModelApprovalStatus: status as PackageVersion['ModelApprovalStatus'],
  });
  const packages = [
    summary(1, 'Approved'),
    summary(2, 'Approved'),
    summary(3, 'Rejected'),
    summary(4, 'PendingManualApproval'),
    summary(5, 'Approved'),
    summary(6, 'Rejected'),
  ];
  const arn = (version: number) => `arn:aws:sagemaker:us-east-1:1:model-package/g/${version}`;
  const message = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('expected a refusal');
  };

  it('defaults to the latest Approved version before the champion', () => {
    expect(chooseVersion('churn', packages, arn(5), undefined).target.ModelPackageVersion).toBe(2);
    expect(chooseVersion('churn', packages, arn(2), undefined).target.ModelPackageVersion).toBe(1);
  });

  it('restores any Approved version named, even a later one', () => {
    expect(chooseVersion('churn', packages, arn(2), 5).target.ModelPackageVersion).toBe(5);
    expect(chooseVersion('churn', packages, null, 1).current).toBeNull();
  });

  it('refuses what is not there, not Approved, already serving, or not decidable', () => {
    expect(message(() => chooseVersion('churn', packages, arn(5), 9))).toBe(
      '--to: model churn has no version 9 (versions: 1, 2, 3, 4, 5, 6)',
    );
    expect(message(() => chooseVersion('churn', packages, arn(5), 4))).toBe(
      '--to: version 4 of model churn is PendingManualApproval: only an Approved version can be restored',
    );
    expect(message(() => chooseVersion('churn', packages, arn(5), 5))).toBe(
      '--to: version 5 of model churn is already the champion',
    );
    expect(message(() => chooseVersion('churn', packages, arn(1), undefined))).toBe(
      '--to: model churn has no Approved version before its champion, version 1',
    );
    expect(message(() => chooseVersion('churn', packages, null, undefined))).toBe(
      '--to: model churn has no champion version on record: name the version to restore',
    );
  });
});

describe('rolling back on the SageMaker emulator', () => {
  it('refuses while a retraining run holds the lock, naming the execution', async () => {
    await setLock(EXECUTION);
    try {
      const error = await rollbackModel(clients(), TARGET, options('2024-08-01T00:00:00Z')).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ModelLockedError);
      const result = await cli(MODEL);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `driftwatch: model churn is locked by ${EXECUTION} since 2024-08-01T00:00:00.000Z: wait for it to end, or pass --force to roll back anyway\n`,
      );
      // Nothing was created or changed.
      expect([...stack.emulator.state.models.keys()]).toEqual(['churn-20240601-030000']);
      expect((await state()).champion?.packageArn).toBe(packageArns[1]);
      expect((await state()).runningExecution).toBe(EXECUTION);
    } finally {
      await setLock(null);
    }
  });

  it('refuses a Rejected or missing version with exit 2', async () => {
    const rejected = await cli(MODEL, '--to', '3');
    expect(rejected.code).toBe(2);
    expect(rejected.stderr).toBe(
      'driftwatch: --to: version 3 of model churn is Rejected: only an Approved version can be restored\n',
    );
    const missing = await cli(MODEL, '--to', '7');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('driftwatch: --to: model churn has no version 7 (versions: 1, 2, 3)\n');
    expect(stack.emulator.state.models.size).toBe(1);
  });

  it('waits while the endpoint is Updating, then restores the previous Approved version', async () => {
    await makeBusy();
    const progress: string[] = [];
    let lockDuringRollback: Promise<ModelStateItem> | undefined;
    const result = await rollbackModel(
      clients(),
      TARGET,
      options('2024-08-02T10:00:00Z', {
        onProgress: (line) => {
          progress.push(line);
          lockDuringRollback ??= state();
        },
      }),
    );
    expect(result).toEqual({
      model: MODEL,
      endpointName: ENDPOINT,
      from: { version: 2, packageArn: packageArns[1], endpointConfigName: 'churn-prod-20240601-030000' },
      to: { version: 1, packageArn: packageArns[0] },
      modelName: 'churn-v1-rollback-20240802-100000',
      endpointConfigName: 'churn-prod-rollback-v1-20240802-100000',
      variantName: 'v1-20240802-100000',
      lockIgnored: null,
    });
    expect(progress).toEqual([
      `creating model churn-v1-rollback-20240802-100000 from ${packageArns[0]}`,
      'creating endpoint config churn-prod-rollback-v1-20240802-100000',
      'endpoint churn-prod is Updating; waiting for InService',
      'updating endpoint churn-prod to churn-prod-rollback-v1-20240802-100000',
      'endpoint churn-prod is Updating; waiting for InService',
    ]);
    expect((await lockDuringRollback)!.runningExecution).toMatch(
      /^driftwatch rollback by .+ \(pid \d+\) at 2024-08-02T10:00:00\.000Z$/,
    );

    // The endpoint serves the package's model alone, on the instances the champion had.
    const endpoint = await waitForEndpoint(stack);
    expect(endpoint).toMatchObject({
      EndpointStatus: 'InService',
      EndpointConfigName: 'churn-prod-rollback-v1-20240802-100000',
      ProductionVariants: [{ VariantName: 'v1-20240802-100000', CurrentWeight: 1 }],
    });
    const config = await stack.sagemaker.send(
      new DescribeEndpointConfigCommand({ EndpointConfigName: 'churn-prod-rollback-v1-20240802-100000' }),
    );
    expect(config.ProductionVariants).toEqual([
      {
        VariantName: 'v1-20240802-100000',
        ModelName: 'churn-v1-rollback-20240802-100000',
        InstanceType: 'ml.m5.large',
        InitialInstanceCount: 2,
        InitialVariantWeight: 1,
      },
    ]);
    const model = stack.emulator.state.models.get('churn-v1-rollback-20240802-100000')!;
    expect(model.modelDataUrl).toBe('s3://ml/models/20240501-030000/output/model.tar.gz');
    expect(model.request.ExecutionRoleArn).toBe(ROLE);
    expect(model.request.PrimaryContainer).toEqual({ ModelPackageName: packageArns[0] });

    // The champion record names it; the lock is released.
    const after = await state();
    expect(after.champion).toEqual({
      modelName: 'churn-v1-rollback-20240802-100000',
      packageArn: packageArns[0],
      variantName: 'v1-20240802-100000',
      endpointConfigName: 'churn-prod-rollback-v1-20240802-100000',
      since: '2024-08-02T10:00:00.000Z',
    });
    expect(after.runningExecution).toBeUndefined();
    expect(after.lockedAt).toBeUndefined();
  });

  it('gives up, changing nothing, when the endpoint stays busy past the deadline', async () => {
    await makeBusy();
    const before = await state();
    const error = await rollbackModel(
      clients(),
      { ...TARGET },
      options('2024-08-03T10:00:00Z', { to: 2, waitMs: 50 }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EndpointChangeError);
    expect((error as Error).message).toBe(
      'endpoint churn-prod: still Updating after 0.05 s; nothing was changed on it (try again later, or raise --wait-minutes)',
    );
    const after = await state();
    expect(after.champion).toEqual(before.champion);
    expect(after.runningExecution).toBeUndefined();
    expect((await waitForEndpoint(stack)).EndpointConfigName).toBe('churn-prod-rollback-v1-20240802-100000');
  });

  it('defaults to nothing when the champion is the first version, and restores --to 2 from the CLI', async () => {
    const none = await cli(MODEL);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      'driftwatch: --to: model churn has no Approved version before its champion, version 1\n',
    );

    const result = await cli(MODEL, '--to', '2');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('churn: rolled back from version 1 to version 2 on endpoint churn-prod');
    expect(lines[1]).toBe(`  package          ${packageArns[1]}`);
    expect(lines[3]).toMatch(
      /^ {2}endpoint config {2}churn-prod-rollback-v2-\d{8}-\d{6} \(was churn-prod-rollback-v1-20240802-100000\)$/,
    );
    expect(result.stderr).toContain('driftwatch: updating endpoint churn-prod to churn-prod-rollback-v2-');
    expect((await state()).champion?.packageArn).toBe(packageArns[1]);
    expect((await waitForEndpoint(stack)).EndpointConfigName).toMatch(/^churn-prod-rollback-v2-/);
  });

  it('rolls back anyway with --force, leaving the run its lock, and warns', async () => {
    await setLock(EXECUTION);
    try {
      const result = await cli(MODEL, '--force', '--quiet');
      expect(result.code).toBe(0);
      expect(result.stdout.split('\n')[0]).toBe(
        'churn: rolled back from version 2 to version 1 on endpoint churn-prod',
      );
      expect(result.stderr).toBe(
        `driftwatch: warning: ${EXECUTION} still holds the lock of churn and may change endpoint churn-prod again\n`,
      );
      const after = await state();
      expect(after.runningExecution).toBe(EXECUTION);
      expect(after.champion?.packageArn).toBe(packageArns[0]);
    } finally {
      await setLock(null);
    }
  });
});
