/**
 * The demo's world: the local AWS (local/aws) running the stack synthesized from the demo config, and the
 * SageMaker emulator (local/sagemaker) it talks to. The retraining state machine's SageMaker Task states
 * run through {@link sageMakerIntegrations} (the real SDK against the emulator), the Lambdas reach the
 * emulator through `AWS_ENDPOINT_URL_SAGEMAKER[_RUNTIME]`, and a {@link MetricBridge} copies the
 * emulator's per-variant invocation counts into the local CloudWatch, as SageMaker publishes them.
 * {@link driveCanary} drives a retraining's canary: traffic and labelled feedback every local minute.
 */
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  CreateTransformJobCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeTrainingJobCommand,
  DescribeTransformJobCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { LOCAL_CREDENTIALS, type LocalAws, startLocalAws } from '../aws/local-aws.ts';
import type { ServiceIntegration } from '../aws/step-functions.ts';
import type { Clock } from '../sagemaker/clock.ts';
import { type SageMakerEmulator, startSageMakerEmulator } from '../sagemaker/server.ts';
import { instances, labels, type Table } from './data.ts';

const REGION = 'us-east-1';

/** An error as Step Functions names a service's: `SageMaker.ValidationException`. */
class TaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const toJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
const realSleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The SageMaker Task states of the retraining state machine, run with the real SDK against the emulator.
 * `.sync` jobs poll the job (in real time: the emulator's jobs run in real time) until it ends.
 */
export function sageMakerIntegrations(sagemaker: SageMakerClient): Record<string, ServiceIntegration> {
  const call =
    (run: (input: Record<string, unknown>) => Promise<unknown>): ServiceIntegration =>
    async (input) => {
      try {
        const { $metadata: _, ...output } = (await run(input as Record<string, unknown>)) as Record<
          string,
          unknown
        >;
        return toJson(output) as never;
      } catch (error) {
        if (error instanceof TaskError) throw error;
        const name = (error as Error).name;
        throw new TaskError(`SageMaker.${name}`, (error as Error).message);
      }
    };
  const send = <T>(command: T) => sagemaker.send(command as never) as Promise<unknown>;
  const integrations: Record<string, ServiceIntegration> = {
    'aws-sdk:sagemaker:describeEndpoint': call((input) => send(new DescribeEndpointCommand(input as never))),
    'aws-sdk:sagemaker:describeEndpointConfig': call((input) =>
      send(new DescribeEndpointConfigCommand(input as never)),
    ),
    'aws-sdk:sagemaker:describeModel': call((input) => send(new DescribeModelCommand(input as never))),
    'aws-sdk:sagemaker:createEndpointConfig': call((input) =>
      send(new CreateEndpointConfigCommand(input as never)),
    ),
    'aws-sdk:sagemaker:updateEndpointWeightsAndCapacities': call((input) =>
      send(new UpdateEndpointWeightsAndCapacitiesCommand(input as never)),
    ),
    'sagemaker:updateEndpoint': call((input) => send(new UpdateEndpointCommand(input as never))),
    'sagemaker:createModel': call((input) => send(new CreateModelCommand(input as never))),
    'sagemaker:createTrainingJob.sync': call(async (input) => {
      await send(new CreateTrainingJobCommand(input as never));
      const name = String(input['TrainingJobName']);
      for (;;) {
        const job = (await send(new DescribeTrainingJobCommand({ TrainingJobName: name }))) as {
          TrainingJobStatus?: string;
          FailureReason?: string;
        };
        if (job.TrainingJobStatus === 'Completed') return job;
        if (job.TrainingJobStatus === 'Failed' || job.TrainingJobStatus === 'Stopped') {
          throw new TaskError(
            'States.TaskFailed',
            JSON.stringify({ TrainingJobName: name, FailureReason: job.FailureReason }),
          );
        }
        await realSleep(25);
      }
    }),
    'sagemaker:createTransformJob.sync': call(async (input) => {
      await send(new CreateTransformJobCommand(input as never));
      const name = String(input['TransformJobName']);
      for (;;) {
        const job = (await send(new DescribeTransformJobCommand({ TransformJobName: name }))) as {
          TransformJobStatus?: string;
          FailureReason?: string;
        };
        if (job.TransformJobStatus === 'Completed') return job;
        if (job.TransformJobStatus === 'Failed' || job.TransformJobStatus === 'Stopped') {
          throw new TaskError(
            'States.TaskFailed',
            JSON.stringify({ TransformJobName: name, FailureReason: job.FailureReason }),
          );
        }
        await realSleep(25);
      }
    }),
  };
  // The template's resources read `arn:${AWS::Partition}:states:::…`, resolved to the aws partition.
  return Object.fromEntries(
    Object.entries(integrations).map(([resource, run]) => [`arn:aws:states:::${resource}`, run]),
  );
}

interface Totals {
  invocations: number;
  errors5xx: number;
  errors4xx: number;
  latencyCount: number;
  latencySum: number;
}

/**
 * Copies the emulator's per-variant counts into the local CloudWatch (namespace AWS/SageMaker, dimensions
 * EndpointName and VariantName: Invocations, Invocation4XXErrors, Invocation5XXErrors, ModelLatency) as
 * deltas since the last copy, on every minute of the local clock and whenever {@link flush} is called.
 *
 * The datapoints are stamped with the wall-clock time: the canary decision Lambda asks CloudWatch for the
 * last minutes before its own `new Date()`, and Lambdas run on the wall clock.
 */
export class MetricBridge {
  private readonly seen = new Map<string, Totals>();
  private stopped = false;

  private readonly aws: LocalAws;
  private readonly emulator: SageMakerEmulator;

  constructor(aws: LocalAws, emulator: SageMakerEmulator) {
    this.aws = aws;
    this.emulator = emulator;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.flush();
      const next = Math.floor(this.aws.clock.now() / 60_000) * 60_000 + 60_000;
      this.aws.clock.at(next, tick, 'sagemaker metrics');
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
  }

  flush(): void {
    const now = Date.now();
    for (const stats of this.emulator.stats()) {
      if (stats.shadow) continue;
      const key = `${stats.endpoint}\u0000${stats.variant}`;
      const previous = this.seen.get(key) ?? {
        invocations: 0,
        errors5xx: 0,
        errors4xx: 0,
        latencyCount: 0,
        latencySum: 0,
      };
      const current: Totals = {
        invocations: stats.invocations,
        errors5xx: stats.invocation5XXErrors,
        errors4xx: stats.invocation4XXErrors,
        latencyCount: stats.modelLatency.count,
        latencySum: (stats.modelLatency.average ?? 0) * stats.modelLatency.count,
      };
      this.seen.set(key, current);
      const invocations = current.invocations - previous.invocations;
      if (invocations <= 0) continue;
      const dimensions = { EndpointName: stats.endpoint, VariantName: stats.variant };
      const metric = (name: string, value: number, unit = 'Count') =>
        this.aws.metrics.put({ namespace: 'AWS/SageMaker', name, dimensions, value, unit }, now);
      metric('Invocations', invocations);
      metric('Invocation5XXErrors', current.errors5xx - previous.errors5xx);
      metric('Invocation4XXErrors', current.errors4xx - previous.errors4xx);
      const count = current.latencyCount - previous.latencyCount;
      if (count > 0) {
        const sum = current.latencySum - previous.latencySum;
        const mean = sum / count;
        this.aws.metrics.put(
          {
            namespace: 'AWS/SageMaker',
            name: 'ModelLatency',
            dimensions,
            unit: 'Microseconds',
            statisticValues: { SampleCount: count, Sum: sum, Minimum: mean, Maximum: mean },
          },
          now,
        );
      }
    }
  }
}

export interface DemoWorld {
  aws: LocalAws;
  emulator: SageMakerEmulator;
  sagemaker: SageMakerClient;
  runtime: SageMakerRuntimeClient;
  bridge: MetricBridge;
  close(): Promise<void>;
}

export interface DemoWorldOptions {
  configPath: string;
  projectDir: string;
  /** Local clock time at start. @default now */
  startTime?: number;
  /** The SageMaker emulator's clock (its jobs, endpoints and Data Capture times). @default the system clock */
  sageMakerClock?: Clock;
}

/**
 * Starts the emulator (listening on a port the system picks, so nothing else can take it), then the local
 * AWS on the demo config with the emulator as its SageMaker; the emulator reaches the local S3 once it is up.
 */
export async function startDemoWorld(options: DemoWorldOptions): Promise<DemoWorld> {
  let aws: LocalAws | undefined;
  const emulator = await startSageMakerEmulator({
    // Jobs and models reach S3 as their roles, so local IAM judges them as AWS would.
    s3: (roleArn) => {
      if (aws === undefined) throw new Error('the local AWS has not started yet');
      return aws.s3ClientAs(roleArn);
    },
    // No timed phases: what the emulator does in the background is real work (loading an endpoint's
    // models, training, scoring), never a wait on a clock ...
    timings: {
      trainingStartSeconds: 0,
      trainingSeconds: 0,
      endpointCreateSeconds: 0,
      endpointUpdateSeconds: 0,
      weightsUpdateSeconds: 0,
      transformSeconds: 0,
    },
    // ... so the local clock waits for it: an endpoint still loading its models in real time must not see
    // the retraining's DescribeEndpoint polls (30 s apart on the local clock) run out in a second of a
    // story that advances minute by minute (a run FAILED with EndpointNotReady on a loaded machine).
    onBackground: (work) => {
      aws?.clock.activity.track(work);
    },
    ...(options.sageMakerClock && { clock: options.sageMakerClock }),
  });
  const client = { region: REGION, credentials: LOCAL_CREDENTIALS };
  const sagemaker = new SageMakerClient({ ...client, endpoint: emulator.url, maxAttempts: 1 });
  const runtime = new SageMakerRuntimeClient({ ...client, endpoint: emulator.runtimeUrl, maxAttempts: 1 });
  try {
    aws = await startLocalAws({
      configPath: options.configPath,
      projectDir: options.projectDir,
      ...(options.startTime === undefined ? {} : { startTime: options.startTime }),
      endpoints: { SAGEMAKER: emulator.url, SAGEMAKER_RUNTIME: emulator.runtimeUrl },
      serviceIntegrations: sageMakerIntegrations(sagemaker),
    });
  } catch (error) {
    sagemaker.destroy();
    runtime.destroy();
    await emulator.close();
    throw error;
  }
  const local = aws;
  const bridge = new MetricBridge(local, emulator);
  bridge.start();
  return {
    aws: local,
    emulator,
    sagemaker,
    runtime,
    bridge,
    async close() {
      bridge.stop();
      sagemaker.destroy();
      runtime.destroy();
      await local.stop();
      await emulator.close();
    },
  };
}

export interface DriveCanaryOptions {
  endpointName: string;
  /** Where each minute's feedback CSV goes in the landing bucket: `<feedbackPrefix>minute-NNN.csv`. */
  feedbackPrefix: string;
  /** The endpoint's variants before the run: one not among them is the challenger. */
  oldVariants: readonly string[];
  /** The customers sent, in order from the first, starting over at the end. */
  traffic: Table;
  customersPerMinute: number;
  /** Customers a request, each request routed by the weights. @default 1 */
  customersPerRequest?: number;
  /** The most local minutes driven before giving up. */
  maxMinutes: number;
  /** What the error calls the run that did not finish. @default 'the retraining' */
  runName?: string;
  /** Called once, before the challenger's first traffic (e.g. to inject faults into its variant). */
  onCanaryStart?: (challenger: string) => void;
  /** Called after each minute's traffic: the loop's minute, the weights it was sent under, what answered. */
  onTraffic?: (minute: number, traffic: { weights: Record<string, number>; byVariant: TrafficTally }) => void;
}

/**
 * Drives a retraining's canary on the local clock: while the retraining state machine has a run RUNNING,
 * each minute that the endpoint serves the challenger (a variant not among `oldVariants`) beside another
 * variant, sends the minute's customers through the SageMaker runtime ({@link generateTraffic}), puts
 * their labelled feedback under `feedbackPrefix` and flushes the {@link MetricBridge} (the canary decision
 * reads the invocation metrics); then advances the clock a minute. Throws, naming the states the runs are
 * still in, when they have not ended after `maxMinutes`. Returns the challenger's variant, if one served.
 */
export async function driveCanary(
  world: DemoWorld,
  options: DriveCanaryOptions,
): Promise<{ challenger: string | null }> {
  const { aws, emulator } = world;
  const landing = String(aws.outputs['LandingBucketName']);
  const stateMachine = String(aws.outputs['RetrainingStateMachineArn'] ?? '');
  const running = () =>
    aws
      .executions()
      .filter((execution) => execution.status === 'RUNNING' && execution.stateMachineArn === stateMachine);
  const isOld = (name: string) => options.oldVariants.includes(name);
  let challenger: string | null = null;
  let sent = 0;
  for (let minute = 0; minute < options.maxMinutes && running().length > 0; minute++) {
    const variants = emulator.state.endpoints.get(options.endpointName)?.variants ?? [];
    challenger ??= variants.find((variant) => !isOld(variant.name))?.name ?? null;
    if (variants.length > 1 && variants.some((variant) => !isOld(variant.name))) {
      if (sent === 0 && challenger !== null) options.onCanaryStart?.(challenger);
      const weights = Object.fromEntries(variants.map((variant) => [variant.name, variant.currentWeight]));
      const feedback = await generateTraffic(
        world.runtime,
        options.endpointName,
        options.traffic,
        sent,
        options.customersPerMinute,
        options.customersPerRequest,
      );
      sent += options.customersPerMinute;
      await aws.putObject(
        landing,
        `${options.feedbackPrefix}minute-${String(minute).padStart(3, '0')}.csv`,
        feedback.csv,
      );
      world.bridge.flush();
      options.onTraffic?.(minute, { weights, byVariant: feedback.byVariant });
    }
    await aws.advance(60_000);
  }
  const still = running();
  if (still.length > 0) {
    const states = still.map(
      (execution) =>
        execution.events.findLast((event) => event.type === 'StateEntered')?.state.name ?? 'not started',
    );
    throw new Error(
      `${options.runName ?? 'the retraining'} did not finish in ${options.maxMinutes} minutes (still in ${states.join(', ')})`,
    );
  }
  return { challenger };
}

/** Customers answered (`ok`) and not (`failed`), by the variant that answered (`(failed)`: unknown). */
export type TrafficTally = Record<string, { ok: number; failed: number }>;

/**
 * Calls the endpoint for `count` customers, `perRequest` to a request (one by default, so each customer is
 * routed by the weights on its own), and returns the labelled feedback CSV (`variant,label,score`) of the
 * customers whose request was answered.
 */
export async function generateTraffic(
  runtime: DemoWorld['runtime'],
  endpointName: string,
  table: Table,
  offset: number,
  count: number,
  perRequest = 1,
): Promise<{ csv: string; byVariant: TrafficTally }> {
  const rows = instances(table, ['churn']);
  const truth = labels(table);
  const lines = ['variant,label,score'];
  const byVariant: TrafficTally = {};
  const tally = (variant: string) => {
    byVariant[variant] ??= { ok: 0, failed: 0 };
    return byVariant[variant];
  };
  for (let first = 0; first < count; first += perRequest) {
    const at = Array.from(
      { length: Math.min(perRequest, count - first) },
      (_, i) => (offset + first + i) % rows.length,
    );
    try {
      const response = await runtime.send(
        new InvokeEndpointCommand({
          EndpointName: endpointName,
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: JSON.stringify({ instances: at.map((row) => rows[row]) }),
        }),
      );
      const variant = response.InvokedProductionVariant ?? 'unknown';
      const body = JSON.parse(new TextDecoder().decode(response.Body)) as {
        predictions: { score: number }[];
      };
      at.forEach((row, i) => {
        lines.push(`${variant},${truth[row]},${body.predictions[i]!.score}`);
      });
      tally(variant).ok += at.length;
    } catch {
      // A ModelError does not say which variant failed: counted apart (the bridge's metrics know).
      tally('(failed)').failed += at.length;
    }
  }
  return { csv: `${lines.join('\n')}\n`, byVariant };
}
