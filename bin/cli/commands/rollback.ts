import { hostname, userInfo } from 'node:os';
import {
  CreateEndpointConfigCommand,
  type CreateEndpointConfigCommandInput,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  type DescribeEndpointOutput,
  DescribeModelCommand,
  type ModelPackageSummary,
  type ProductionVariant,
  type SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import { runIdOf, sageMakerName } from '../../../lambdas/core/retraining/plan.ts';
import type { ChampionRecord } from '../../../lambdas/shared/retraining-contract.ts';
import { DEFAULT_ENDPOINT_WAIT_MINUTES } from '../../../lib/config/validate.ts';
import {
  type AwsFlags,
  AwsRequestError,
  addAwsFlags,
  connectAws,
  deployedModel,
  parseDuration,
  readModelState,
  request,
  sleep,
} from '../aws.ts';
import { EXIT } from '../exit.ts';
import { parseWholeNumber } from '../flags.ts';
import { listModelPackages, sameArn } from './history.ts';

/** A retraining run (or another rollback) holds the model's lock. */
export class ModelLockedError extends Error {
  override readonly name: string = 'ModelLockedError';
  readonly model: string;
  /** The execution ARN (or rollback) in the lock. */
  readonly holder: string;

  constructor(model: string, holder: string, lockedAt: string | undefined) {
    super(
      `model ${model} is locked by ${holder}${lockedAt ? ` since ${lockedAt}` : ''}: wait for it to end, or pass --force to roll back anyway`,
    );
    this.model = model;
    this.holder = holder;
  }
}

/** The endpoint could not be changed: it failed, is being deleted, stayed busy past the deadline, or refused. */
export class EndpointChangeError extends Error {
  override readonly name: string = 'EndpointChangeError';
  readonly endpointName: string;

  constructor(endpointName: string, reason: string) {
    super(`endpoint ${endpointName}: ${reason}`);
    this.endpointName = endpointName;
  }
}

/** SageMaker statuses after which the endpoint becomes InService (or Failed) by itself. */
const BUSY = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'UpdateRollbackFailed']);

/** What to roll back and where. */
export interface RollbackTarget {
  model: string;
  endpointName: string;
  packageGroup: string;
  stateTable: string;
}

export interface RollbackOptions {
  /** The version to restore; default: the latest Approved version before the champion's. */
  to?: number;
  /** Roll back even while a run holds the lock (the lock is then neither checked nor taken). */
  force?: boolean;
  /** Role of the new model; default: the role of the model the endpoint serves now. */
  roleArn?: string;
  /** Longest wait for the endpoint to leave a busy status, before and after the update. */
  waitMs: number;
  /** Time between two DescribeEndpoint calls. */
  pollMs: number;
  now?: () => Date;
  wait?: (ms: number) => Promise<void>;
  /** Progress lines (waiting for the endpoint, each step). */
  onProgress?: (line: string) => void;
}

export interface RollbackResult {
  model: string;
  endpointName: string;
  from: { version: number | null; packageArn: string | null; endpointConfigName: string };
  to: { version: number; packageArn: string };
  modelName: string;
  endpointConfigName: string;
  variantName: string;
  /** Set with `--force` when a run held the lock: it may still change the endpoint. */
  lockIgnored: string | null;
}

/** What the choice of a version reads of a package. */
export type PackageVersion = Pick<
  ModelPackageSummary,
  'ModelPackageArn' | 'ModelPackageVersion' | 'ModelApprovalStatus'
>;

/** The version to restore: `--to`, or the latest Approved one before the champion's. */
export function chooseVersion<T extends PackageVersion>(
  model: string,
  packages: readonly T[],
  championArn: string | null,
  to: number | undefined,
): { target: T; current: T | null } {
  const current = packages.find((item) => sameArn(item.ModelPackageArn, championArn)) ?? null;
  if (to !== undefined) {
    const target = packages.find((item) => item.ModelPackageVersion === to);
    if (target === undefined) {
      const versions = packages.map((item) => item.ModelPackageVersion).join(', ') || 'none';
      throw new ConfigError('--to', `model ${model} has no version ${to} (versions: ${versions})`);
    }
    if (target.ModelApprovalStatus !== 'Approved') {
      throw new ConfigError(
        '--to',
        `version ${to} of model ${model} is ${target.ModelApprovalStatus}: only an Approved version can be restored`,
      );
    }
    if (current !== null && target === current) {
      throw new ConfigError('--to', `version ${to} of model ${model} is already the champion`);
    }
    return { target, current };
  }
  if (current === null) {
    throw new ConfigError(
      '--to',
      championArn === null
        ? `model ${model} has no champion version on record: name the version to restore`
        : `the champion of model ${model} (${championArn}) is not a version of its package group: name the version to restore`,
    );
  }
  const earlier = packages.filter(
    (item) =>
      item.ModelApprovalStatus === 'Approved' &&
      (item.ModelPackageVersion ?? 0) < (current.ModelPackageVersion ?? 0),
  );
  const target = earlier.at(-1);
  if (target === undefined) {
    throw new ConfigError(
      '--to',
      `model ${model} has no Approved version before its champion, version ${current.ModelPackageVersion}`,
    );
  }
  return { target, current };
}

/** The marker a rollback puts in the lock: who, where, when (shown by a refused run or rollback). */
function lockMarker(now: Date): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No user name (a container without a passwd entry): the host and pid still identify the rollback.
  }
  return `driftwatch rollback by ${user}@${hostname()} (pid ${process.pid}) at ${now.toISOString()}`;
}

/**
 * Restores an earlier Approved version of a model on its endpoint at once: a model from the package, an
 * endpoint config with it as the only variant (instance type and count of the config served now), the
 * endpoint updated to it once it is InService, and the champion record updated once it serves.
 *
 * The model's lock is checked and, unless `force`, held for the duration, so no retraining run starts from a
 * half-changed endpoint.
 *
 * @throws ModelLockedError when a run holds the lock (without `force`)
 * @throws ConfigError when the version does not exist, is not Approved, or there is none to default to
 * @throws EndpointChangeError when the endpoint fails, stays busy past the deadline, or rolls the update back
 */
export async function rollbackModel(
  clients: { sagemaker: SageMakerClient; documents: DynamoDBDocumentClient },
  target: RollbackTarget,
  options: RollbackOptions,
): Promise<RollbackResult> {
  const { sagemaker, documents } = clients;
  const { model, endpointName, stateTable } = target;
  const now = options.now ?? (() => new Date());
  const wait = options.wait ?? sleep;
  const progress = options.onProgress ?? (() => {});

  const state = await readModelState(documents, stateTable, model);
  const lockIgnored = state?.runningExecution ?? null;
  if (lockIgnored !== null && !options.force) {
    throw new ModelLockedError(model, lockIgnored, state?.lockedAt);
  }
  const packages = await listModelPackages(sagemaker, target.packageGroup);
  const { target: chosen, current } = chooseVersion(
    model,
    packages,
    state?.champion?.packageArn ?? null,
    options.to,
  );
  const version = chosen.ModelPackageVersion!;
  const packageArn = chosen.ModelPackageArn!;

  const started = now();
  const marker = lockMarker(started);
  if (lockIgnored === null) await takeLock(documents, stateTable, model, marker, started);
  const restore = async (): Promise<RollbackResult> => {
    const endpoint = await describeEndpoint(sagemaker, endpointName);
    const servedConfig = endpoint.EndpointConfigName!;
    const served = await request('DescribeEndpointConfig', servedConfig, () =>
      sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: servedConfig })),
    );
    const variant = served.ProductionVariants?.[0];
    if (variant === undefined) {
      throw new EndpointChangeError(endpointName, `its config ${servedConfig} has no production variant`);
    }
    let roleArn = options.roleArn;
    if (roleArn === undefined) {
      const servedModel = await request('DescribeModel', variant.ModelName!, () =>
        sagemaker.send(new DescribeModelCommand({ ModelName: variant.ModelName })),
      );
      roleArn = servedModel.ExecutionRoleArn;
    }

    const runId = runIdOf(started);
    const modelName = sageMakerName(`${model}-v${version}`, `rollback-${runId}`);
    const endpointConfigName = sageMakerName(endpointName, `rollback-v${version}-${runId}`);
    const variantName = `v${version}-${runId}`;
    progress(`creating model ${modelName} from ${packageArn}`);
    await request('CreateModel', modelName, () =>
      sagemaker.send(
        new CreateModelCommand({
          ModelName: modelName,
          ExecutionRoleArn: roleArn,
          PrimaryContainer: { ModelPackageName: packageArn },
        }),
      ),
    );
    const productionVariant: ProductionVariant = {
      VariantName: variantName,
      ModelName: modelName,
      InitialVariantWeight: 1,
      ...(variant.ServerlessConfig
        ? { ServerlessConfig: variant.ServerlessConfig }
        : { InstanceType: variant.InstanceType, InitialInstanceCount: variant.InitialInstanceCount ?? 1 }),
    };
    const configInput: CreateEndpointConfigCommandInput = {
      EndpointConfigName: endpointConfigName,
      ProductionVariants: [productionVariant],
      ...(served.DataCaptureConfig && { DataCaptureConfig: served.DataCaptureConfig }),
      ...(served.KmsKeyId && { KmsKeyId: served.KmsKeyId }),
    };
    progress(`creating endpoint config ${endpointConfigName}`);
    await request('CreateEndpointConfig', endpointConfigName, () =>
      sagemaker.send(new CreateEndpointConfigCommand(configInput)),
    );

    // Wait while the endpoint is busy, then update; an update refused because it just became busy waits again.
    const deadline = Date.now() + options.waitMs;
    for (;;) {
      await waitUntilInService(sagemaker, endpointName, deadline, options, wait, progress, null);
      try {
        progress(`updating endpoint ${endpointName} to ${endpointConfigName}`);
        await sagemaker.send(
          new UpdateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: endpointConfigName }),
        );
        break;
      } catch (error) {
        if (!/in-progress/i.test((error as Error).message ?? '')) {
          throw new AwsRequestError('UpdateEndpoint', endpointName, error);
        }
        progress(`endpoint ${endpointName} became busy; waiting again`);
      }
    }
    const updated = await waitUntilInService(
      sagemaker,
      endpointName,
      Date.now() + options.waitMs,
      options,
      wait,
      progress,
      endpointConfigName,
    );
    if (updated.EndpointConfigName !== endpointConfigName) {
      throw new EndpointChangeError(
        endpointName,
        `the update to ${endpointConfigName} did not take, it serves ${updated.EndpointConfigName} again${updated.FailureReason ? `: ${updated.FailureReason}` : ''}; the champion record is unchanged`,
      );
    }

    const champion: ChampionRecord = {
      modelName,
      packageArn,
      variantName,
      endpointConfigName,
      since: now().toISOString(),
    };
    await request('UpdateItem', `${stateTable} (model ${model})`, () =>
      documents.send(
        new UpdateCommand({
          TableName: stateTable,
          Key: { model },
          UpdateExpression: 'SET champion = :champion',
          ExpressionAttributeValues: { ':champion': champion },
        }),
      ),
    );
    return {
      model,
      endpointName,
      from: {
        version: current?.ModelPackageVersion ?? null,
        packageArn: state?.champion?.packageArn ?? null,
        endpointConfigName: servedConfig,
      },
      to: { version, packageArn },
      modelName,
      endpointConfigName,
      variantName,
      lockIgnored,
    };
  };
  if (lockIgnored !== null) return restore();
  let result: RollbackResult;
  try {
    result = await restore();
  } catch (error) {
    // The rollback's own error says more; a lock left behind is reported beside it.
    await releaseLock(documents, stateTable, model, marker).catch((releaseError: unknown) =>
      progress(
        `could not release the lock of ${model} (${(releaseError as Error).message}): remove it by hand`,
      ),
    );
    throw error;
  }
  await releaseLock(documents, stateTable, model, marker);
  return result;
}

async function takeLock(
  documents: DynamoDBDocumentClient,
  table: string,
  model: string,
  marker: string,
  now: Date,
): Promise<void> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { model },
        UpdateExpression: 'SET runningExecution = :marker, lockedAt = :now',
        ConditionExpression: 'attribute_not_exists(runningExecution)',
        ExpressionAttributeValues: { ':marker': marker, ':now': now.toISOString() },
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') {
      throw new AwsRequestError('UpdateItem', `${table} (model ${model})`, error);
    }
    // A run took the lock between the read and this write.
    const state = await readModelState(documents, table, model);
    throw new ModelLockedError(model, state?.runningExecution ?? 'another run', state?.lockedAt);
  }
}

async function releaseLock(
  documents: DynamoDBDocumentClient,
  table: string,
  model: string,
  marker: string,
): Promise<void> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { model },
        UpdateExpression: 'REMOVE runningExecution, lockedAt',
        ConditionExpression: 'runningExecution = :marker',
        ExpressionAttributeValues: { ':marker': marker },
      }),
    );
  } catch (error) {
    // Someone removed or replaced the marker (by hand): theirs to keep.
    if ((error as Error).name !== 'ConditionalCheckFailedException') {
      throw new AwsRequestError('UpdateItem', `${table} (model ${model}): releasing the lock`, error);
    }
  }
}

function describeEndpoint(sagemaker: SageMakerClient, endpointName: string): Promise<DescribeEndpointOutput> {
  return request('DescribeEndpoint', endpointName, () =>
    sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName })),
  );
}

/** `30 s`, `60 min`. */
function duration(ms: number): string {
  return ms < 60_000 ? `${ms / 1000} s` : `${ms / 60_000} min`;
}

/**
 * DescribeEndpoint until InService; a busy status waits (until `deadline`), any other fails. `updatedTo`:
 * the config the endpoint is being updated to, null before the update.
 */
async function waitUntilInService(
  sagemaker: SageMakerClient,
  endpointName: string,
  deadline: number,
  options: Pick<RollbackOptions, 'pollMs' | 'waitMs'>,
  wait: (ms: number) => Promise<void>,
  progress: (line: string) => void,
  updatedTo: string | null,
): Promise<DescribeEndpointOutput> {
  let reported: string | undefined;
  for (;;) {
    const endpoint = await describeEndpoint(sagemaker, endpointName);
    const status = endpoint.EndpointStatus ?? 'Unknown';
    if (status === 'InService') return endpoint;
    if (!BUSY.has(status)) {
      throw new EndpointChangeError(
        endpointName,
        `is ${status}${endpoint.FailureReason ? ` (${endpoint.FailureReason})` : ''}, not InService`,
      );
    }
    if (Date.now() >= deadline) {
      throw new EndpointChangeError(
        endpointName,
        updatedTo === null
          ? `still ${status} after ${duration(options.waitMs)}; nothing was changed on it (try again later, or raise --wait-minutes)`
          : `still ${status} ${duration(options.waitMs)} after the update to ${updatedTo}; the champion record is unchanged: check the endpoint, then run the rollback again`,
      );
    }
    if (status !== reported) {
      progress(`endpoint ${endpointName} is ${status}; waiting for InService`);
      reported = status;
    }
    await wait(options.pollMs);
  }
}

/** The one-line summary and the details of a rollback, for stdout. */
export function renderRollback(result: RollbackResult): string {
  const from = result.from.version === null ? 'the previous model' : `version ${result.from.version}`;
  const lines = [
    `${result.model}: rolled back from ${from} to version ${result.to.version} on endpoint ${result.endpointName}`,
    `  package          ${result.to.packageArn}`,
    `  model            ${result.modelName}`,
    `  endpoint config  ${result.endpointConfigName} (was ${result.from.endpointConfigName})`,
    `  variant          ${result.variantName}`,
  ];
  return `${lines.join('\n')}\n`;
}

interface RollbackFlags extends AwsFlags {
  to?: number;
  force?: boolean;
  roleArn?: string;
  waitMinutes?: number;
  pollSeconds: number;
  quiet?: boolean;
}

export function registerRollback(program: Command): void {
  const command = program
    .command('rollback')
    .summary('serve an earlier Approved version of MODEL on its endpoint at once')
    .description(
      'Restore an Approved version of MODEL from its package group (default: the latest one before the\n' +
        'champion): a model from the package, an endpoint config with it as the only variant, the endpoint\n' +
        'updated once it is InService, and the champion record updated once it serves. Refused while a\n' +
        `retraining run holds the model's lock, unless --force. Exits ${EXIT.usage} when the version does not\n` +
        'exist or is not Approved.',
    )
    .argument('<model>', 'the model, as named in the config');
  addAwsFlags(command)
    .option('--to <version>', 'the version to restore', parseWholeNumber('--to', 1))
    .option('--force', 'roll back even while a retraining run holds the lock')
    .option('--role-arn <arn>', "execution role of the new model (default: the serving model's)")
    .option(
      '--wait-minutes <n>',
      'longest wait for the endpoint to be InService, before and after the update (default: canary.endpointWaitMinutes, 60)',
      parseDuration('--wait-minutes', 'minutes'),
    )
    .option(
      '--poll-seconds <n>',
      'seconds between endpoint status checks',
      parseDuration('--poll-seconds', 'seconds'),
      15,
    )
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (modelName: string, flags: RollbackFlags) => {
      const deployed = deployedModel(flags.config, modelName);
      const endpointName = deployed.model.endpointName;
      if (endpointName === undefined) {
        throw new ConfigError(deployed.configPath, `model ${modelName} has no endpointName to roll back`);
      }
      const waitMinutes =
        flags.waitMinutes ?? deployed.model.canary?.endpointWaitMinutes ?? DEFAULT_ENDPOINT_WAIT_MINUTES;
      const aws = await connectAws(flags);
      try {
        const result = await rollbackModel(
          aws,
          {
            model: modelName,
            endpointName,
            packageGroup: deployed.packageGroup,
            stateTable: deployed.stateTable,
          },
          {
            to: flags.to,
            force: flags.force,
            roleArn: flags.roleArn,
            waitMs: waitMinutes * 60_000,
            pollMs: flags.pollSeconds * 1000,
            onProgress: flags.quiet ? undefined : (line) => process.stderr.write(`driftwatch: ${line}\n`),
          },
        );
        if (result.lockIgnored !== null) {
          process.stderr.write(
            `driftwatch: warning: ${result.lockIgnored} still holds the lock of ${modelName} and may change endpoint ${endpointName} again\n`,
          );
        }
        process.stdout.write(renderRollback(result));
      } finally {
        aws.destroy();
      }
    });
}
