/**
 * A deployed driftwatch stack on loopback for the tests of `retrain`, `history` and `rollback`: s3rver,
 * dynalite with the model-state table, the SageMaker emulator, a small Step Functions server, and one router
 * in front of them all, so the CLI reaches every service at one `--endpoint-url`, as it would LocalStack.
 * The registry is seeded through the register Lambda's own handler, so the packages carry the lineage a
 * real run writes.
 */
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateModelPackageGroupCommand,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { SFNClient } from '@aws-sdk/client-sfn';
import { planRun } from '../../lambdas/core/retraining/plan.ts';
import { dynamoModelStateStore, sageMakerModelRegistry } from '../../lambdas/retraining/aws.ts';
import { handleRegistry, type RegisterEvent } from '../../lambdas/retraining/register.ts';
import type { RetrainingRuntimeConfig } from '../../lambdas/shared/retraining-contract.ts';
import { validateConfig } from '../../lib/config/validate.ts';
import { retrainingRuntimeConfig } from '../../lib/retraining-pipeline.ts';
import type { SageMakerEmulatorOptions } from '../../local/sagemaker/server.ts';
import { type SageMakerEmulator, startSageMakerEmulator } from '../../local/sagemaker/server.ts';
import { packModel } from '../../local/trainers/artifact.ts';
import {
  AwsEmulators,
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  forwardRequest,
} from '../helpers/aws-emulators.ts';

export const STACK = 'Dw';
export const MODEL = 'churn';
export const ENDPOINT = 'churn-prod';
export const STATE_TABLE = 'Dw-model-state';
export const PACKAGE_GROUP = 'Dw-churn';
export const STATE_MACHINE = 'Dw-retraining';
export const BUCKET = 'ml';
export const ROLE = 'arn:aws:iam::123456789012:role/Dw-churn-sagemaker';
export const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-train:1.0';

/** A config with `churn` (retraining, endpoint, segment column `region`) and `fraud` (drift only, no segment). */
export function stackConfig(): Record<string, unknown> {
  return {
    stackName: STACK,
    alerts: { emails: ['oncall@example.com'] },
    models: [
      {
        name: MODEL,
        prefixes: { incoming: 'churn/incoming/', golden: 'churn/golden/', baselines: 'churn/baselines/' },
        features: { amount: 'numeric', plan: 'categorical' },
        exclude: ['label'],
        segment: 'region',
        drift: {},
        endpointName: ENDPOINT,
        performance: {
          schedule: 'rate(1 day)',
          goldenDataset: 'holdout.csv',
          labelColumn: 'label',
          positiveClass: '1',
          limits: [{ metric: 'accuracy', min: 0.6 }],
        },
        retraining: {
          triggers: ['drift', 'performance'],
          monthlyBudgetUsd: 50,
          instanceType: 'ml.m5.xlarge',
          instancePricePerHourUsd: 0.23,
          image: IMAGE,
        },
        canary: { endpointWaitMinutes: 1 },
      },
      {
        name: 'fraud',
        prefixes: { incoming: 'fraud/incoming/', golden: 'fraud/golden/', baselines: 'fraud/baselines/' },
        drift: {},
      },
    ],
  };
}

export async function writeStackConfig(dir: string): Promise<string> {
  const path = join(dir, 'driftwatch.config.json');
  await writeFile(path, JSON.stringify(stackConfig(), null, 2));
  return path;
}

/** What the runtime config of `churn` is in the deployed stack. */
export function churnRuntimeConfig(): RetrainingRuntimeConfig {
  const config = validateConfig(stackConfig(), 'test');
  return retrainingRuntimeConfig(config.models[0]!, config.stackName);
}

// --- Step Functions ----------------------------------------------------------------------------------------

/** How the next executions end: DescribeExecution says RUNNING `runningPolls` times, then this. */
export interface ScriptedEnding {
  runningPolls: number;
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  output?: unknown;
  error?: string;
  cause?: string;
}

interface Execution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  startDate: number;
  polls: number;
  ending: ScriptedEnding;
}

/** The Step Functions operations the CLI uses, on the AWS JSON 1.0 protocol, with scripted endings. */
export class StepFunctionsStub {
  /** State machine names in the account; ListStateMachines pages them `pageSize` at a time. */
  readonly stateMachines: string[] = ['Other-retraining', 'Dw-old-retraining', STATE_MACHINE];
  pageSize = 2;
  ending: ScriptedEnding = { runningPolls: 0, status: 'SUCCEEDED', output: {} };
  readonly executions: Execution[] = [];
  /** Operation names in the order they arrived. */
  readonly calls: string[] = [];

  arnOf(name: string): string {
    return `arn:aws:states:${EMULATOR_REGION}:123456789012:stateMachine:${name}`;
  }

  handle(operation: string, input: Record<string, unknown>): { status: number; body: unknown } {
    this.calls.push(operation);
    const fail = (type: string, message: string) => ({ status: 400, body: { __type: type, message } });
    switch (operation) {
      case 'ListStateMachines': {
        const start = Number(input['nextToken'] ?? 0);
        const page = this.stateMachines.slice(start, start + this.pageSize);
        const next = start + this.pageSize;
        return {
          status: 200,
          body: {
            stateMachines: page.map((name) => ({
              name,
              stateMachineArn: this.arnOf(name),
              type: 'STANDARD',
              creationDate: 1_700_000_000,
            })),
            ...(next < this.stateMachines.length && { nextToken: String(next) }),
          },
        };
      }
      case 'StartExecution': {
        const stateMachineArn = String(input['stateMachineArn']);
        const machine = stateMachineArn.slice(stateMachineArn.lastIndexOf(':') + 1);
        if (!this.stateMachines.includes(machine) || stateMachineArn !== this.arnOf(machine)) {
          return fail('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
        }
        const name = String(input['name'] ?? `generated-${this.executions.length}`);
        if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) return fail('InvalidName', `Invalid Name: '${name}'`);
        const execution: Execution = {
          executionArn: `arn:aws:states:${EMULATOR_REGION}:123456789012:execution:${machine}:${name}`,
          stateMachineArn,
          name,
          input: String(input['input'] ?? '{}'),
          startDate: 1_700_000_000,
          polls: 0,
          ending: this.ending,
        };
        this.executions.push(execution);
        return {
          status: 200,
          body: { executionArn: execution.executionArn, startDate: execution.startDate },
        };
      }
      case 'DescribeExecution': {
        const execution = this.executions.find((item) => item.executionArn === input['executionArn']);
        if (execution === undefined)
          return fail('ExecutionDoesNotExist', `Execution Does Not Exist: '${input['executionArn']}'`);
        const running = execution.polls++ < execution.ending.runningPolls;
        const { ending } = execution;
        return {
          status: 200,
          body: {
            executionArn: execution.executionArn,
            stateMachineArn: execution.stateMachineArn,
            name: execution.name,
            status: running ? 'RUNNING' : ending.status,
            startDate: execution.startDate,
            input: execution.input,
            ...(!running && { stopDate: execution.startDate + 60 }),
            ...(!running && ending.output !== undefined && { output: JSON.stringify(ending.output) }),
            ...(!running && ending.error !== undefined && { error: ending.error }),
            ...(!running && ending.cause !== undefined && { cause: ending.cause }),
          },
        };
      }
      default:
        return fail('UnknownOperationException', `the stub does not implement ${operation}`);
    }
  }
}

// --- One endpoint for every service -----------------------------------------------------------------------

async function body(incoming: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Routes each request by its `X-Amz-Target`: SageMaker, DynamoDB and Step Functions at one URL. */
async function startRouter(routes: {
  sagemaker: string;
  dynamodb: string;
  sfn: StepFunctionsStub;
}): Promise<Server> {
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const target = String(incoming.headers['x-amz-target'] ?? '');
    if (target.startsWith('AWSStepFunctions.')) {
      void body(incoming).then((bytes) => {
        const reply = routes.sfn.handle(
          target.slice('AWSStepFunctions.'.length),
          bytes.length === 0 ? {} : (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>),
        );
        outgoing.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.0' });
        outgoing.end(JSON.stringify(reply.body));
      });
      return;
    }
    const upstream = new URL(target.startsWith('DynamoDB_') ? routes.dynamodb : routes.sagemaker);
    forwardRequest(incoming, outgoing, upstream.hostname, upstream.port);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

// --- The stack ---------------------------------------------------------------------------------------------

export interface DeployedStack {
  aws: AwsEmulators;
  emulator: SageMakerEmulator;
  sfnStub: StepFunctionsStub;
  /** `--endpoint-url` of the CLI: every service behind one router. */
  endpointUrl: string;
  /** The environment of a CLI child process: credentials and nothing from the user's AWS setup. */
  cliEnv: Record<string, string>;
  sagemaker: SageMakerClient;
  sfn: SFNClient;
  close(): Promise<void>;
}

export async function startDeployedStack(
  options: { timings?: SageMakerEmulatorOptions['timings'] } = {},
): Promise<DeployedStack> {
  const aws = await AwsEmulators.start({
    buckets: [BUCKET],
    tables: [{ name: STATE_TABLE, partitionKey: 'model' }],
  });
  const emulator = await startSageMakerEmulator({ s3: aws.s3, timings: options.timings });
  const sfnStub = new StepFunctionsStub();
  const router = await startRouter({ sagemaker: emulator.url, dynamodb: aws.dynamodbEndpoint, sfn: sfnStub });
  const endpointUrl = `http://127.0.0.1:${(router.address() as AddressInfo).port}`;
  const client = { region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS };
  const sagemaker = new SageMakerClient({ ...client, endpoint: emulator.url });
  const sfn = new SFNClient({ ...client, endpoint: endpointUrl });
  return {
    aws,
    emulator,
    sfnStub,
    endpointUrl,
    cliEnv: {
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_REGION: EMULATOR_REGION,
      AWS_PROFILE: '',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    },
    sagemaker,
    sfn,
    async close() {
      sagemaker.destroy();
      sfn.destroy();
      router.closeAllConnections();
      await new Promise<void>((resolve) => router.close(() => resolve()));
      await emulator.close();
      await aws.stop();
    },
  };
}

// --- The registry, as runs leave it --------------------------------------------------------------------------

/** One run of the seeded history: what it trained on and how its evaluation went. */
export interface SeededRun {
  at: string;
  trigger: RegisterEvent['plan']['trigger']['type'];
  detail?: unknown;
  files: { key: string; etag: string }[];
  challenger: number;
  champion: number | null;
  /** approve: promoted (it becomes the champion); reject: rejected at evaluation. */
  verdict: 'approve' | 'reject';
  reason: string;
}

/** v1 and v2 promoted (v2 is the champion), v3 rejected: the history both `history` and `rollback` see. */
export const SEEDED_RUNS: readonly SeededRun[] = [
  {
    at: '2024-05-01T03:00:00Z',
    trigger: 'schedule',
    detail: 'rate(30 days)',
    files: [
      { key: 'churn/golden/2024-04-20.csv', etag: 'aaa111' },
      { key: 'churn/golden/2024-04-27.csv', etag: 'bbb222' },
    ],
    challenger: 0.81,
    champion: 0.78,
    verdict: 'approve',
    reason: 'rocAuc 0.81 beats 0.78 by 0.03',
  },
  {
    at: '2024-06-01T03:00:00Z',
    trigger: 'drift',
    detail: { key: 'churn/incoming/2024-05-31.csv', driftShare: 0.6 },
    files: [{ key: 'churn/golden/2024-05-25.csv', etag: 'ccc333' }],
    challenger: 0.84,
    champion: 0.81,
    verdict: 'approve',
    reason: 'canary passed at 5%, 25%, 100%',
  },
  {
    at: '2024-07-01T03:00:00Z',
    trigger: 'manual',
    detail: 'new labels',
    files: [{ key: 'churn/golden/2024-06-28.csv', etag: 'ddd444' }],
    challenger: 0.8,
    champion: 0.84,
    verdict: 'reject',
    reason: 'rocAuc 0.80 does not beat 0.84 by 0.005',
  },
];

/** A servable model artifact (the emulator loads it when an endpoint deploys the model). */
async function uploadArtifact(stack: DeployedStack, key: string): Promise<string> {
  const artifact = packModel({
    format: 'driftwatch-model',
    version: 1,
    algorithm: 'logistic',
    label: 'label',
    positive: '1',
    features: [],
    intercept: 0,
    weights: [],
  });
  await stack.aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: artifact }));
  return `s3://${BUCKET}/${key}`;
}

/** Registers, approves and rejects packages through the register handler, as the state machine does. */
export async function seedRegistry(stack: DeployedStack): Promise<{ packageArns: string[] }> {
  const config = churnRuntimeConfig();
  const environment = { config, dataBucket: 'landing', workBucket: 'results', stateTable: STATE_TABLE };
  const registry = sageMakerModelRegistry(stack.sagemaker);
  const state = dynamoModelStateStore(stack.aws.documents, STATE_TABLE);
  await stack.sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: PACKAGE_GROUP }));
  const packageArns: string[] = [];
  for (const run of SEEDED_RUNS) {
    const plan = planRun(
      config,
      { model: MODEL, trigger: { type: run.trigger, detail: run.detail } },
      new Date(run.at),
      'results',
    );
    const artifacts = await uploadArtifact(stack, `models/${plan.runId}/output/model.tar.gz`);
    const event: RegisterEvent = {
      action: 'register',
      model: MODEL,
      executionId: `arn:aws:states:us-east-1:123456789012:execution:${STATE_MACHINE}:${plan.runId}`,
      plan,
      data: {
        trainUri: plan.s3.trainUri,
        files: run.files.map((file) => ({ ...file, versionId: null })),
        segment: null,
        trainingSince: null,
        trainingRows: null,
        holdout: {
          key: 'churn/golden/holdout.csv',
          etag: 'hhh999',
          versionId: null,
          rows: 400,
          featureColumns: ['amount'],
        },
        manifestUri: `${plan.s3.trainUri}manifest.json`,
      },
      training: {
        jobName: plan.names.trainingJob,
        jobArn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${plan.names.trainingJob}`,
        artifacts,
      },
      evaluation: {
        accepted: run.verdict === 'approve',
        reason: run.reason,
        primaryMetric: 'rocAuc',
        champion: run.champion,
        challenger: run.challenger,
      },
    };
    const { packageArn } = await handleRegistry(event, environment, registry, state);
    packageArns.push(packageArn);
    if (run.verdict === 'approve') {
      await handleRegistry(
        {
          action: 'approve',
          model: MODEL,
          packageArn,
          reason: run.reason,
          champion: {
            modelName: plan.names.challengerModel,
            variantName: plan.names.challengerVariant,
            endpointConfigName: plan.names.promotedEndpointConfig,
          },
          now: plan.now,
        },
        environment,
        registry,
        state,
      );
    } else {
      await handleRegistry(
        { action: 'reject', model: MODEL, packageArn, reason: run.reason },
        environment,
        registry,
        state,
      );
    }
  }
  return { packageArns };
}

/**
 * The endpoint as the last promotion left it: the champion's model (from its package) alone in the
 * config the champion record names, InService.
 */
export async function deployChampion(stack: DeployedStack, championArn: string): Promise<void> {
  const config = churnRuntimeConfig();
  const plan = planRun(
    config,
    { model: MODEL, trigger: { type: SEEDED_RUNS[1]!.trigger } },
    new Date(SEEDED_RUNS[1]!.at),
    'results',
  );
  await stack.sagemaker.send(
    new CreateModelCommand({
      ModelName: plan.names.challengerModel,
      ExecutionRoleArn: ROLE,
      PrimaryContainer: { ModelPackageName: championArn },
    }),
  );
  await stack.sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: plan.names.promotedEndpointConfig,
      ProductionVariants: [
        {
          VariantName: plan.names.challengerVariant,
          ModelName: plan.names.challengerModel,
          InstanceType: 'ml.m5.large',
          InitialInstanceCount: 2,
          InitialVariantWeight: 1,
        },
      ],
    }),
  );
  await stack.sagemaker.send(
    new CreateEndpointCommand({
      EndpointName: ENDPOINT,
      EndpointConfigName: plan.names.promotedEndpointConfig,
    }),
  );
  await waitForEndpoint(stack);
}

/** DescribeEndpoint until the endpoint leaves Creating/Updating. */
export async function waitForEndpoint(stack: DeployedStack): Promise<DescribeEndpointCommandOutput> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const endpoint = await stack.sagemaker.send(new DescribeEndpointCommand({ EndpointName: ENDPOINT }));
    if (!['Creating', 'Updating'].includes(endpoint.EndpointStatus!)) return endpoint;
    if (Date.now() > deadline) throw new Error(`endpoint still ${endpoint.EndpointStatus}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
