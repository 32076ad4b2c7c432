/**
 * A fake AWS world for executions of the retraining state machine: SageMaker (endpoints with their status,
 * configs, variants and weights; training and transform jobs; models; model packages), the model-state
 * table, SNS, S3 (in memory) and CloudWatch variant metrics. Each Task state of the synthesized definition
 * gets a local handler that behaves like its service; Lambda states run the real handlers against these fakes.
 */
// biome-ignore lint/suspicious/noExplicitAny: the JSON values aws-local-stepfunctions passes (its type is not exported)
type JSONValue = any;

import type { RetrainingEnvironment } from '../../lambdas/retraining/aws.ts';
import { parseS3Uri } from '../../lambdas/retraining/aws.ts';
import { handleCanaryDecision } from '../../lambdas/retraining/canary-decision.ts';
import { handleCostGate } from '../../lambdas/retraining/cost-gate.ts';
import { handleEvaluate } from '../../lambdas/retraining/evaluate.ts';
import { handlePlan } from '../../lambdas/retraining/plan.ts';
import type {
  ModelRegistry,
  ModelStateStore,
  ObjectStore,
  StoredObject,
  VariantMetricsSource,
  VariantTraffic,
} from '../../lambdas/retraining/ports.ts';
import { handlePrepareInputs } from '../../lambdas/retraining/prepare-inputs.ts';
import { handleRegistry } from '../../lambdas/retraining/register.ts';
import type { ModelStateItem } from '../../lambdas/shared/retraining-contract.ts';
import type { AslDefinition } from './asl.ts';

/** An error as Step Functions names it (`SageMaker.ValidationException`, `DynamoDB.…`). */
export function serviceError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

export interface FakeVariant {
  name: string;
  model: string;
  weight: number;
}

export interface FakeEndpoint {
  status: 'InService' | 'Updating' | 'Failed';
  configName: string;
  variants: FakeVariant[];
  shadowVariants: FakeVariant[];
  pending: { configName: string | null; polls: number } | null;
}

interface ConfigVariant {
  VariantName: string;
  ModelName: string;
  InstanceType: string;
  InitialInstanceCount: number;
  InitialVariantWeight: number;
}

export interface FakeConfig {
  ProductionVariants: ConfigVariant[];
  ShadowProductionVariants?: ConfigVariant[];
}

export interface FakePackage {
  arn: string;
  version: number;
  status: string;
  description: string;
  metadata: Record<string, string>;
  statusReason: string | null;
}

/** In-memory S3: `bucket/key` -> text. */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, { text: string; lastModified: Date; etag: string }>();
  private counter = 0;

  put(bucket: string, key: string, text: string, lastModified = new Date()): void {
    this.objects.set(`${bucket}/${key}`, { text, lastModified, etag: `etag-${++this.counter}` });
  }

  text(bucket: string, key: string): string | undefined {
    return this.objects.get(`${bucket}/${key}`)?.text;
  }

  async list(bucket: string, prefix: string): Promise<StoredObject[]> {
    return [...this.objects.entries()]
      .filter(([path]) => path.startsWith(`${bucket}/${prefix}`))
      .map(([path, object]) => ({
        key: path.slice(bucket.length + 1),
        etag: object.etag,
        versionId: null,
        lastModified: object.lastModified,
        size: object.text.length,
      }));
  }

  async getText(bucket: string, key: string) {
    const object = this.objects.get(`${bucket}/${key}`);
    if (!object) throw serviceError('NoSuchKey', `s3://${bucket}/${key} does not exist`);
    return { text: object.text, etag: object.etag, versionId: null };
  }

  async putText(bucket: string, key: string, text: string) {
    this.put(bucket, key, text);
    return { etag: this.objects.get(`${bucket}/${key}`)!.etag };
  }

  async copy(from: { bucket: string; key: string }, to: { bucket: string; key: string }) {
    const { text } = await this.getText(from.bucket, from.key);
    this.put(to.bucket, to.key, text);
  }
}

export interface FakeWorldOptions {
  environment: RetrainingEnvironment;
  /** The endpoint as it serves before the run. */
  endpoint: { configName: string; variant: string; model: string };
  /** Scores a model gives each holdout row (feature line), by model name; default: the challenger's scorer. */
  scorer: (model: string, row: number) => number;
}

export class FakeAwsWorld {
  readonly environment: RetrainingEnvironment;
  readonly s3 = new MemoryObjectStore();
  readonly state = new Map<string, ModelStateItem>();
  readonly endpoints = new Map<string, FakeEndpoint>();
  readonly configs = new Map<string, FakeConfig>();
  readonly models = new Map<string, { image: string; modelDataUrl: string; executionRoleArn?: string }>();
  readonly trainingJobs: { name: string; status: string; parameters: Record<string, unknown> }[] = [];
  readonly transformJobs: { name: string; model: string }[] = [];
  readonly packages: FakePackage[] = [];
  readonly messages: { subject: string; message: string }[] = [];
  /** Every SDK call made, `Service.Action`, in order. */
  readonly calls: string[] = [];
  /** Each UpdateEndpointWeightsAndCapacities request: variant name -> desired weight. */
  readonly weightChanges: Record<string, number>[] = [];

  // Scenario knobs.
  trainingFailure: string | null = null;
  /** The reason a transform job of a model fails (e.g. its role cannot read the artefact); undefined: it runs. */
  transformFailure: (modelName: string) => string | undefined = () => undefined;
  /** A training job waits for this before it completes (to hold a run in progress). */
  trainingGate: Promise<void> | null = null;
  /** UpdateEndpoint calls still to refuse with `Cannot update in-progress endpoint`. */
  refuseUpdates = 0;
  /** DescribeEndpoint polls an update stays `Updating`. */
  updatePolls = 1;
  /** Per variant, the CloudWatch traffic the canary decision sees. */
  traffic: (variant: string, role: 'champion' | 'challenger') => VariantTraffic = () => ({
    invocations: 1000,
    errors5xx: 0,
    meanLatencyMicros: 100,
  });
  scorer: (model: string, row: number) => number;
  /** Model name of the serving champion, for the traffic knob. */
  private championModel: string;

  constructor(options: FakeWorldOptions) {
    this.environment = options.environment;
    this.scorer = options.scorer;
    this.championModel = options.endpoint.model;
    const variant = { name: options.endpoint.variant, model: options.endpoint.model, weight: 1 };
    this.configs.set(options.endpoint.configName, {
      ProductionVariants: [
        {
          VariantName: variant.name,
          ModelName: variant.model,
          InstanceType: 'ml.m5.large',
          InitialInstanceCount: 1,
          InitialVariantWeight: 1,
        },
      ],
    });
    this.endpoints.set(options.environment.config.endpointName, {
      status: 'InService',
      configName: options.endpoint.configName,
      variants: [variant],
      shadowVariants: [],
      pending: null,
    });
  }

  get endpoint(): FakeEndpoint {
    return this.endpoints.get(this.environment.config.endpointName)!;
  }

  /** Weights of the serving variants, normalised to percentages, by variant name. */
  weights(): Record<string, number> {
    const total = this.endpoint.variants.reduce((sum, v) => sum + v.weight, 0);
    return Object.fromEntries(
      this.endpoint.variants.map((v) => [v.name, total === 0 ? 0 : (100 * v.weight) / total]),
    );
  }

  // --- ports for the real handlers ---------------------------------------------------------------------
  readonly stateStore: ModelStateStore = {
    get: async (model) => structuredClone(this.state.get(model)),
    addSpend: async (model, month, usd) => {
      const item = this.state.get(model) ?? { model };
      if (item.spendMonth === month) item.spendUsd = (item.spendUsd ?? 0) + usd;
      else Object.assign(item, { spendMonth: month, spendUsd: usd });
      this.state.set(model, item);
    },
    setChampion: async (model, champion) => {
      const item = this.state.get(model) ?? { model };
      item.champion = champion;
      this.state.set(model, item);
    },
  };

  readonly registry: ModelRegistry = {
    createPackage: async (input) => {
      this.calls.push('SageMaker.CreateModelPackage');
      const version = this.packages.length + 1;
      const arn = `arn:aws:sagemaker:us-east-1:123456789012:model-package/${input.groupName.toLowerCase()}/${version}`;
      this.packages.push({
        arn,
        version,
        status: 'PendingManualApproval',
        description: input.description,
        metadata: input.metadata,
        statusReason: null,
      });
      return { arn, version };
    },
    setStatus: async (arn, status, description) => {
      this.calls.push('SageMaker.UpdateModelPackage');
      const found = this.packages.find((p) => p.arn === arn);
      if (!found) throw serviceError('ValidationException', `no package ${arn}`);
      found.status = status;
      found.statusReason = description;
    },
  };

  readonly metrics: VariantMetricsSource = {
    get: async (_endpoint, variant) => {
      const challenger = !this.endpoint.variants
        .concat(this.endpoint.shadowVariants)
        .some((v) => v.name === variant && v.model === this.championModel);
      return this.traffic(variant, challenger ? 'challenger' : 'champion');
    },
  };

  // --- SDK integrations ----------------------------------------------------------------------------------
  describeEndpoint(input: { EndpointName: string }) {
    this.calls.push('SageMaker.DescribeEndpoint');
    const endpoint = this.endpoints.get(input.EndpointName);
    if (!endpoint)
      throw serviceError('SageMaker.ValidationException', `Could not find endpoint ${input.EndpointName}`);
    if (endpoint.pending) {
      if (endpoint.pending.polls > 0) endpoint.pending.polls--;
      else {
        if (endpoint.pending.configName !== null) this.applyConfig(endpoint, endpoint.pending.configName);
        endpoint.pending = null;
        endpoint.status = 'InService';
      }
    }
    return {
      EndpointName: input.EndpointName,
      EndpointStatus: endpoint.status,
      EndpointConfigName: endpoint.configName,
    };
  }

  private applyConfig(endpoint: FakeEndpoint, configName: string) {
    const config = this.configs.get(configName)!;
    const variants = (list: ConfigVariant[] | undefined) =>
      (list ?? []).map((v) => ({ name: v.VariantName, model: v.ModelName, weight: v.InitialVariantWeight }));
    endpoint.configName = configName;
    endpoint.variants = variants(config.ProductionVariants);
    endpoint.shadowVariants = variants(config.ShadowProductionVariants);
  }

  describeEndpointConfig(input: { EndpointConfigName: string }) {
    this.calls.push('SageMaker.DescribeEndpointConfig');
    const config = this.configs.get(input.EndpointConfigName);
    if (!config)
      throw serviceError(
        'SageMaker.ValidationException',
        `Could not find config ${input.EndpointConfigName}`,
      );
    return { EndpointConfigName: input.EndpointConfigName, ...structuredClone(config) };
  }

  createEndpointConfig(input: FakeConfig & { EndpointConfigName: string }) {
    this.calls.push('SageMaker.CreateEndpointConfig');
    if (this.configs.has(input.EndpointConfigName)) {
      throw serviceError(
        'SageMaker.ValidationException',
        `Cannot create already existing endpoint configuration`,
      );
    }
    for (const v of [...input.ProductionVariants, ...(input.ShadowProductionVariants ?? [])]) {
      if (!this.models.has(v.ModelName) && v.ModelName !== this.championModel) {
        throw serviceError('SageMaker.ValidationException', `Could not find model ${v.ModelName}`);
      }
    }
    const { EndpointConfigName, ...config } = input;
    this.configs.set(EndpointConfigName, structuredClone(config));
    return {
      EndpointConfigArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/${EndpointConfigName}`,
    };
  }

  updateEndpoint(input: { EndpointName: string; EndpointConfigName: string }) {
    this.calls.push('SageMaker.UpdateEndpoint');
    const endpoint = this.endpoints.get(input.EndpointName)!;
    if (this.refuseUpdates > 0 || endpoint.status !== 'InService') {
      if (this.refuseUpdates > 0) {
        this.refuseUpdates--;
        // Another update (a concurrent deploy) wins the race and keeps the endpoint busy a while.
        endpoint.status = 'Updating';
        endpoint.pending = { configName: null, polls: 1 };
      }
      throw serviceError(
        'SageMaker.ValidationException',
        `Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/${input.EndpointName}".`,
      );
    }
    if (!this.configs.has(input.EndpointConfigName)) {
      throw serviceError(
        'SageMaker.ValidationException',
        `Could not find config ${input.EndpointConfigName}`,
      );
    }
    endpoint.status = 'Updating';
    endpoint.pending = { configName: input.EndpointConfigName, polls: this.updatePolls };
    return { EndpointArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${input.EndpointName}` };
  }

  updateWeights(input: {
    EndpointName: string;
    DesiredWeightsAndCapacities: { VariantName: string; DesiredWeight: number }[];
  }) {
    this.calls.push('SageMaker.UpdateEndpointWeightsAndCapacities');
    const endpoint = this.endpoints.get(input.EndpointName)!;
    if (endpoint.status !== 'InService') {
      throw serviceError('SageMaker.ValidationException', 'Cannot update in-progress endpoint');
    }
    this.weightChanges.push(
      Object.fromEntries(input.DesiredWeightsAndCapacities.map((d) => [d.VariantName, d.DesiredWeight])),
    );
    for (const desired of input.DesiredWeightsAndCapacities) {
      const variant = endpoint.variants.find((v) => v.name === desired.VariantName);
      if (!variant)
        throw serviceError(
          'SageMaker.ValidationException',
          `The variant ${desired.VariantName} does not exist`,
        );
      variant.weight = desired.DesiredWeight;
    }
    endpoint.status = 'Updating';
    endpoint.pending = { configName: null, polls: this.updatePolls };
    return { EndpointArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${input.EndpointName}` };
  }

  async createTrainingJob(input: Record<string, unknown>) {
    this.calls.push('SageMaker.CreateTrainingJob');
    await this.trainingGate;
    const name = input['TrainingJobName'] as string;
    const output = (input['OutputDataConfig'] as { S3OutputPath: string }).S3OutputPath;
    if (this.trainingFailure) {
      this.trainingJobs.push({ name, status: 'Failed', parameters: input });
      throw serviceError(
        'States.TaskFailed',
        JSON.stringify({ TrainingJobName: name, FailureReason: this.trainingFailure }),
      );
    }
    this.trainingJobs.push({ name, status: 'Completed', parameters: input });
    return {
      TrainingJobName: name,
      TrainingJobArn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${name}`,
      TrainingJobStatus: 'Completed',
      ModelArtifacts: { S3ModelArtifacts: `${output}${name}/output/model.tar.gz` },
    };
  }

  /** The serving champion, when not created by a run, runs the training image on a fixed artefact. */
  describeModel(input: { ModelName: string }) {
    this.calls.push('SageMaker.DescribeModel');
    const model = this.models.get(input.ModelName) ?? {
      image: this.championImage,
      modelDataUrl: `s3://models/${input.ModelName}/model.tar.gz`,
    };
    return {
      ModelName: input.ModelName,
      PrimaryContainer: { Image: model.image, ModelDataUrl: model.modelDataUrl },
      ExecutionRoleArn: 'arn:aws:iam::123456789012:role/serving',
    };
  }

  /**
   * The model whose artefact `model` serves: a copy of the serving champion (same artefact) scores as the
   * champion does.
   */
  servingModelOf(model: string): string {
    const artefact = /^s3:\/\/models\/([^/]+)\/model\.tar\.gz$/.exec(
      this.models.get(model)?.modelDataUrl ?? '',
    );
    return artefact ? artefact[1]! : model;
  }

  /** Image of the champion the endpoint serves before any run (the config's training image). */
  championImage = '123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-train:1.0';

  createModel(input: {
    ModelName: string;
    ExecutionRoleArn: string;
    PrimaryContainer: { Image: string; ModelDataUrl: string };
  }) {
    this.calls.push('SageMaker.CreateModel');
    this.models.set(input.ModelName, {
      image: input.PrimaryContainer.Image,
      modelDataUrl: input.PrimaryContainer.ModelDataUrl,
      executionRoleArn: input.ExecutionRoleArn,
    });
    return { ModelArn: `arn:aws:sagemaker:us-east-1:123456789012:model/${input.ModelName}` };
  }

  /** Scores the features file line by line with the scenario's scorer, as a batch transform would. */
  async createTransformJob(input: {
    TransformJobName: string;
    ModelName: string;
    TransformInput: { DataSource: { S3DataSource: { S3Uri: string } } };
    TransformOutput: { S3OutputPath: string };
  }) {
    this.calls.push('SageMaker.CreateTransformJob');
    this.transformJobs.push({ name: input.TransformJobName, model: input.ModelName });
    const failure = this.transformFailure(input.ModelName);
    if (failure !== undefined) {
      throw serviceError(
        'States.TaskFailed',
        JSON.stringify({ TransformJobName: input.TransformJobName, FailureReason: failure }),
      );
    }
    const source = parseS3Uri(input.TransformInput.DataSource.S3DataSource.S3Uri);
    const { text } = await this.s3.getText(source.bucket, source.key);
    const lines = text.split('\n').filter((line) => line !== '');
    const output = parseS3Uri(input.TransformOutput.S3OutputPath);
    const name = source.key.slice(source.key.lastIndexOf('/') + 1);
    this.s3.put(
      output.bucket,
      `${output.key}${name}.out`,
      lines.map((_, i) => `${this.scorer(this.servingModelOf(input.ModelName), i)}\n`).join(''),
    );
    return { TransformJobName: input.TransformJobName, TransformJobStatus: 'Completed' };
  }

  // --- DynamoDB integrations (the two lock expressions of the definition) ---------------------------------
  updateItem(input: {
    Key: { model: { S: string } };
    UpdateExpression: string;
    ConditionExpression?: string;
    ExpressionAttributeValues: Record<string, { S: string }>;
  }) {
    this.calls.push('DynamoDB.UpdateItem');
    const model = input.Key.model.S;
    const item: ModelStateItem = this.state.get(model) ?? { model };
    const values = input.ExpressionAttributeValues;
    if (input.UpdateExpression.startsWith('SET runningExecution')) {
      const free = item.runningExecution === undefined;
      const cooled = item.lastRunAt === undefined || item.lastRunAt < values[':cutoff']!.S;
      if (!(free && cooled))
        throw serviceError('DynamoDB.ConditionalCheckFailedException', 'The conditional request failed');
      item.runningExecution = values[':execution']!.S;
      item.lockedAt = values[':now']!.S;
      item.lastRunAt = values[':now']!.S;
    } else if (input.UpdateExpression.startsWith('REMOVE runningExecution')) {
      if (item.runningExecution !== values[':execution']!.S) {
        throw serviceError('DynamoDB.ConditionalCheckFailedException', 'The conditional request failed');
      }
      delete item.runningExecution;
      delete item.lockedAt;
    } else {
      throw new Error(`the fake table does not know ${input.UpdateExpression}`);
    }
    this.state.set(model, item);
    return {};
  }

  getItem(input: { Key: { model: { S: string } } }) {
    this.calls.push('DynamoDB.GetItem');
    const item = this.state.get(input.Key.model.S);
    if (!item) return {};
    const marshalled: Record<string, { S: string } | { N: string }> = {};
    for (const [key, value] of Object.entries(item)) {
      if (typeof value === 'string') marshalled[key] = { S: value };
      if (typeof value === 'number') marshalled[key] = { N: String(value) };
    }
    return { Item: marshalled };
  }

  publish(input: { Subject: string; Message: string }) {
    this.calls.push('SNS.Publish');
    this.messages.push({ subject: input.Subject, message: input.Message });
    return { MessageId: String(this.messages.length) };
  }

  // --- The local handler of every Task state ------------------------------------------------------------
  /**
   * A handler for every Task of `definition`, chosen by its Resource (the service integration, or the
   * Lambda function named after the handler it bundles). A Task without one is an error: nothing may call AWS.
   */
  handlers(
    definition: AslDefinition,
    functionIds: Record<string, string>,
  ): Record<string, (input: JSONValue) => Promise<JSONValue>> {
    const environment = this.environment;
    const byResource: Record<string, (input: never) => unknown> = {
      'aws-sdk:sagemaker:describeEndpoint': (input) => this.describeEndpoint(input),
      'aws-sdk:sagemaker:describeEndpointConfig': (input) => this.describeEndpointConfig(input),
      'aws-sdk:sagemaker:describeModel': (input) => this.describeModel(input),
      'aws-sdk:sagemaker:createEndpointConfig': (input) => this.createEndpointConfig(input),
      'aws-sdk:sagemaker:updateEndpointWeightsAndCapacities': (input) => this.updateWeights(input),
      'sagemaker:updateEndpoint': (input) => this.updateEndpoint(input),
      'sagemaker:createTrainingJob.sync': (input) => this.createTrainingJob(input),
      'sagemaker:createModel': (input) => this.createModel(input),
      'sagemaker:createTransformJob.sync': (input) => this.createTransformJob(input),
      'dynamodb:updateItem': (input) => this.updateItem(input),
      'dynamodb:getItem': (input) => this.getItem(input),
      'sns:publish': (input) => this.publish(input),
    };
    const lambdas: Record<string, (input: never) => unknown> = {
      plan: (input) => handlePlan(input, environment),
      costGate: (input) => handleCostGate(input, environment, this.stateStore),
      prepareInputs: (input) => handlePrepareInputs(input, environment, this.s3),
      evaluate: (input) => handleEvaluate(input, environment, this.s3),
      register: (input) => handleRegistry(input, environment, this.registry, this.stateStore),
      canaryDecision: (input) => handleCanaryDecision(input, environment, this.metrics, this.s3),
    };
    const handlers: Record<string, (input: JSONValue) => Promise<JSONValue>> = {};
    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type !== 'Task') continue;
      const resource = state.Resource!;
      let handler: ((input: never) => unknown) | undefined;
      const integration = /^arn:aws:states:::(.*)$/.exec(resource)?.[1];
      if (integration) handler = byResource[integration];
      else {
        const logicalId = resource.slice(resource.lastIndexOf(':') + 1);
        const fn = Object.entries(functionIds).find(([, id]) => id === logicalId)?.[0];
        if (fn) handler = lambdas[fn];
      }
      if (!handler) throw new Error(`no local handler for Task ${name} (${resource})`);
      const run = handler;
      handlers[name] = async (input) =>
        JSON.parse(JSON.stringify((await run(input as never)) ?? {})) as JSONValue;
    }
    return handlers;
  }
}
