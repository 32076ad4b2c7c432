import { createHash } from 'node:crypto';
import { type App, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { MAX_MODEL_PARAMETER_BYTES } from '../lambdas/shared/model-catalog.ts';
import type { DriftwatchConfig, ModelConfig } from './config/model-config.ts';
import { DriftwatchStack, type DriftwatchStackProps } from './driftwatch-stack.ts';

/**
 * How many model stacks a deployment has at most. Fixed, so a model's stack depends on its name alone: adding
 * or removing a model never moves another. 16 stacks x 500 resources / 5 per model = 1,600 models with an even
 * spread; synth fails with a clear error when one stack would pass 500.
 */
export const MODEL_SHARDS = 16;

/** CloudFormation's limit of resources per stack. */
export const MAX_RESOURCES_PER_STACK = 500;

/** The shard (0..MODEL_SHARDS-1) of a model: the first byte of the SHA-256 of its name, modulo the shards. */
export function shardOf(modelName: string): number {
  return createHash('sha256').update(modelName).digest()[0]! % MODEL_SHARDS;
}

/** Name of the stack of shard `shard`: `<stack>-Models-<hex>`. */
export function modelStackName(stackName: string, shard: number): string {
  return `${stackName}-Models-${shard.toString(16)}`;
}

/** A model's config as its parameter holds it: compact JSON of the validated model. */
export function modelParameterValue(model: ModelConfig): string {
  return JSON.stringify(model);
}

/**
 * What one model has of its own, each because AWS needs one per model: its configuration as data (an SSM
 * parameter the shared functions read), its ONE paging alarm, the alarm of its estimated performance (with
 * capture and performance), its performance schedule, its model package group and its retraining schedule.
 * At most 6 resources; logical ids under the model's name.
 */
export class ModelResources extends Construct {
  readonly parameter: ssm.CfnParameter;

  constructor(scope: Construct, model: ModelConfig, engine: DriftwatchStack) {
    super(scope, model.name);
    const value = modelParameterValue(model);
    const bytes = Buffer.byteLength(value);
    if (bytes > MAX_MODEL_PARAMETER_BYTES) {
      throw new Error(
        `model ${model.name}: its configuration is ${bytes} bytes as JSON, above the ${MAX_MODEL_PARAMETER_BYTES} bytes ` +
          'an SSM parameter holds: shorten feature names or declare fewer features (undeclared columns are typed from the data)',
      );
    }
    this.parameter = new ssm.CfnParameter(this, 'Config', {
      name: `${engine.modelsParameterPath}${model.name}`,
      type: 'String',
      value,
      // Standard (free) up to 4 KB, advanced ($0.05 a month) above: SSM picks.
      tier: 'Intelligent-Tiering',
      description: `driftwatch: configuration of model ${model.name} (validated at synth; read by the shared functions)`,
    });
    engine.alerting.pageAlarm(this, 'PageAlarm', model.name);
    // Estimated performance of capture windows has its own alarm, which pages no one (see estimateAlarm).
    if (model.capture?.estimate.enabled && model.performance) {
      engine.alerting.estimateAlarm(this, 'EstimateAlarm', model.name);
    }
    if (model.performance) {
      engine.performance.scheduleFor(this, 'PerformanceSchedule', {
        model: model.name,
        schedule: model.performance.schedule,
        timezone: model.performance.timezone,
      });
    }
    if (model.retraining) engine.retraining.addModel(this, model);
  }
}

/** A stack of the models of one shard. */
export class ModelShardStack extends Stack {
  constructor(
    scope: Construct,
    id: string,
    props: StackProps & { engine: DriftwatchStack; models: readonly ModelConfig[] },
  ) {
    const { engine, models, ...stackProps } = props;
    super(scope, id, {
      description: `driftwatch models of ${engine.stackName}: ${models.map((m) => m.name).join(', ')}`.slice(
        0,
        1024,
      ),
      ...stackProps,
    });
    this.addStackDependency(engine);
    for (const model of models) new ModelResources(this, model, engine);
    new CfnOutput(this, 'Models', { value: models.map((model) => model.name).join(',') });
  }
}

/** The stacks of a deployment. */
export interface DriftwatchDeployment {
  engine: DriftwatchStack;
  /** By shard number; only shards that hold models. */
  modelStacks: Map<number, ModelShardStack>;
}

/**
 * The whole deployment of a config, sharded by itself: the engine stack (named `stackName`) and one stack per
 * non-empty shard of models (`<stackName>-Models-<hex>`). `cdk deploy --all` deploys them in order.
 */
export function addDriftwatch(
  app: App,
  config: DriftwatchConfig,
  options: Omit<DriftwatchStackProps, 'config'> = {},
): DriftwatchDeployment {
  const engine = new DriftwatchStack(app, config.stackName, { config, ...options });
  const shards = new Map<number, ModelConfig[]>();
  for (const model of config.models) {
    const shard = shardOf(model.name);
    shards.set(shard, [...(shards.get(shard) ?? []), model]);
  }
  const modelStacks = new Map<number, ModelShardStack>();
  for (const shard of [...shards.keys()].sort((a, b) => a - b)) {
    const name = modelStackName(config.stackName, shard);
    modelStacks.set(
      shard,
      new ModelShardStack(app, name, {
        engine,
        models: shards.get(shard)!,
        ...(options.env ? { env: options.env } : {}),
      }),
    );
  }
  return { engine, modelStacks };
}
