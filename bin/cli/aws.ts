/**
 * What the commands that act on the deployed stack share (`retrain`, `history`, `rollback`): their flags, the
 * config lookup of a model and the names the stack gave its resources, the AWS clients, the model-state
 * record, and errors that name the AWS call and resource that failed.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { type ModelStateItem, retrainingNames } from '../../lambdas/shared/retraining-contract.ts';
import { ConfigValidationError } from '../../lib/config/errors.ts';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../../lib/config/load.ts';
import type { DriftwatchConfig, ModelConfig } from '../../lib/config/model-config.ts';

/** Flags of every command that talks to AWS. */
export interface AwsFlags {
  config: string;
  region?: string;
  endpointUrl?: string;
}

export function addAwsFlags(command: Command): Command {
  return command
    .option('--config <file>', 'the config the stack was deployed with', DEFAULT_CONFIG_FILE)
    .option('--region <region>', "AWS region (default: AWS_REGION or the profile's region)")
    .option('--endpoint-url <url>', 'send every AWS request to this URL (a local emulator)');
}

/**
 * An AWS request that failed, with the operation and the resource it was about, so the one line a user sees
 * says what was being done to what.
 */
export class AwsRequestError extends Error {
  override readonly name: string = 'AwsRequestError';
  /** `DescribeEndpoint`, `StartExecution`, … */
  readonly operation: string;
  /** The endpoint, table, package or state machine. */
  readonly resource: string;
  /** The service's error name, e.g. `ValidationException`. */
  readonly code: string;

  constructor(operation: string, resource: string, cause: unknown) {
    const error = cause as { name?: string; message?: string };
    const code = error?.name ?? 'Error';
    const detail = (error?.message ?? String(cause)).replace(/\s+/g, ' ').trim();
    super(`${operation} ${resource}: ${code}: ${detail}`, { cause });
    this.operation = operation;
    this.resource = resource;
    this.code = code;
  }
}

/** Runs one AWS request; a failure becomes an {@link AwsRequestError} naming `operation` and `resource`. */
export async function request<T>(operation: string, resource: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw new AwsRequestError(operation, resource, error);
  }
}

/** A model of the config and the names the stack gave what it deployed for it. */
export interface DeployedModel {
  configPath: string;
  config: DriftwatchConfig;
  model: ModelConfig;
  stackName: string;
  stateMachineName: string;
  stateTable: string;
  packageGroup: string;
}

/**
 * Loads and validates the config, and finds `modelName` in it.
 *
 * @throws ConfigError when the file cannot be read or is invalid (every problem on one line), or has no such
 * model
 */
export function deployedModel(configPath: string, modelName: string): DeployedModel {
  let config: DriftwatchConfig;
  try {
    config = loadConfig(configPath);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    throw new ConfigError(configPath, error.problems.map((problem) => problem.message).join('; '));
  }
  const model = config.models.find((candidate) => candidate.name === modelName);
  if (model === undefined) {
    const names = config.models.map((candidate) => candidate.name).join(', ');
    throw new ConfigError(configPath, `has no model ${JSON.stringify(modelName)} (models: ${names})`);
  }
  return {
    configPath,
    config,
    model,
    stackName: config.stackName,
    stateMachineName: retrainingNames.stateMachine(config.stackName),
    stateTable: retrainingNames.stateTable(config.stackName),
    packageGroup: retrainingNames.packageGroup(config.stackName, model.name),
  };
}

/** The clients of the commands, all in one region and, with `--endpoint-url`, all at one URL. */
export interface AwsClients {
  region: string;
  sagemaker: SageMakerClient;
  sfn: SFNClient;
  documents: DynamoDBDocumentClient;
  destroy(): void;
}

/**
 * Clients for the flags. The region is resolved now (flag, environment or profile), so a missing one is a
 * usage error before any request.
 *
 * @throws ConfigError when no region is configured
 */
export async function connectAws(flags: Pick<AwsFlags, 'region' | 'endpointUrl'>): Promise<AwsClients> {
  const settings = {
    ...(flags.region !== undefined && { region: flags.region }),
    ...(flags.endpointUrl !== undefined && { endpoint: flags.endpointUrl }),
  };
  const sagemaker = new SageMakerClient(settings);
  let region: string;
  try {
    region = await sagemaker.config.region();
  } catch {
    region = '';
  }
  if (!region) {
    sagemaker.destroy();
    throw new ConfigError('--region', 'no AWS region: pass --region or set AWS_REGION');
  }
  const sfn = new SFNClient({ ...settings, region });
  const dynamodb = new DynamoDBClient({ ...settings, region });
  const documents = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    region,
    sagemaker,
    sfn,
    documents,
    destroy() {
      sagemaker.destroy();
      sfn.destroy();
      documents.destroy();
      dynamodb.destroy();
    },
  };
}

/** `aws`, `aws-cn` or `aws-us-gov`: the partition of ARNs in `region`. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The model-state record of `model` (a strongly consistent read: the lock must be current). */
export async function readModelState(
  documents: DynamoDBDocumentClient,
  table: string,
  model: string,
): Promise<ModelStateItem | undefined> {
  const response = await request('GetItem', `${table} (model ${model})`, () =>
    documents.send(new GetCommand({ TableName: table, Key: { model }, ConsistentRead: true })),
  );
  return response.Item as ModelStateItem | undefined;
}

/** Resolves after `ms` (the polls of the commands that wait). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Parses a positive duration such as `--poll-seconds 0.5` or `--wait-minutes 30`. */
export function parseDuration(flag: string, unit: 'seconds' | 'minutes'): (value: string) => number {
  return (value) => {
    const amount = Number(value);
    if (value.trim() === '' || !(amount > 0) || !Number.isFinite(amount))
      throw new ConfigError(flag, `expected a positive number of ${unit}, got ${JSON.stringify(value)}`);
    return amount;
  };
}
