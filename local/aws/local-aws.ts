/**
 * A local AWS for driftwatch, started and stopped by the project on 127.0.0.1: the app is synthesized as
 * `cdk synth` does, and everything the template declares runs locally with the code `cdk deploy` ships.
 * S3 is s3rver, DynamoDB is dynalite, SQS/SNS/EventBridge/CloudWatch/Step Functions/Lambda answer on one
 * local endpoint, functions run their bundled assets in worker threads, created objects and put events
 * are routed by the template's rules, alarms are evaluated on a clock the caller advances, and schedules
 * fire on it.
 *
 * @example
 * ```ts
 * const aws = await startLocalAws({ configPath: 'driftwatch.config.json' });
 * await aws.putObject(String(aws.outputs['LandingBucketName']), 'churn/incoming/day1.csv', csv);
 * await aws.advance(60_000);
 * aws.timeline.ofType('alarm-state');
 * await aws.stop();
 * ```
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import S3rver from 's3rver';
import {
  AlarmEvaluator,
  type AlarmState,
  type AlarmStateChange,
  alarmNotification,
  alarmStateChangeDetail,
} from './alarms.ts';
import { cloudWatchRoutes } from './apis/cloudwatch.ts';
import { eventBridgeRoutes, type PutEventsEntry } from './apis/eventbridge.ts';
import { lambdaRoute } from './apis/lambda.ts';
import { snsService } from './apis/sns.ts';
import { sqsRoutes } from './apis/sqs.ts';
import { ssmRoutes } from './apis/ssm.ts';
import { stepFunctionsRoutes } from './apis/stepfunctions.ts';
import { Activity, Clock, type ClockTimer } from './clock.ts';
import { LocalServiceError } from './errors.ts';
import {
  type BusEvent,
  busNameOf,
  EventRouter,
  objectCreatedDetail,
  type RuleDefinition,
  type RuleTarget,
  type S3NotificationRecord,
} from './event-router.ts';
import { SqsEventSource } from './event-source-mapping.ts';
import { type InvocationResult, LocalFunction, splitOutput } from './functions.ts';
import { AccessDeniedError, Authorizer, type Caller } from './iam/authorizer.ts';
import { addStackToModel, emptyIamModel } from './iam/model.ts';
import { type CheckingProxy, startCheckingProxy } from './iam/proxy.ts';
import { type AccessRequest, describeCall, describeTask } from './iam/requests.ts';
import {
  createStreams,
  KinesisEventSource,
  kinesisClient,
  kinesisMappingSettings,
  mappingCreateRequests,
  type StreamResource,
} from './kinesis.ts';
import { type MetricInput, MetricStore, parseEmf } from './metrics.ts';
import type { LocalQueue, MessageAttributeValue, QueueObserver } from './queue.ts';
import { createTables, readStackResources, type StackResources } from './resources.ts';
import { LocalScheduler, type ScheduleDefinition } from './scheduler.ts';
import { ServiceEndpoint } from './service-endpoint.ts';
import {
  type ExecutionRecord,
  LocalStepFunctions,
  type ServiceIntegration,
  type StepFunctionsExecutor,
  TaskFailedError,
  type TaskResourceLocalHandler,
} from './step-functions.ts';
import {
  DEFAULT_IDENTITY,
  IntrinsicResolver,
  type LocalIdentity,
  type PhysicalResource,
  readCloudAssembly,
  synthesizeApp,
  synthesizeCached,
} from './template.ts';
import { Timeline } from './timeline.ts';
import {
  type LocalTopic,
  notificationEnvelope,
  type PublishedMessage,
  type TopicSubscription,
} from './topic.ts';

/** A target input as the function receives it: JSON when it is JSON, else the text as a JSON string. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Credentials s3rver accepts (its default account); the other local services accept any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** Options of {@link startLocalAws}. */
export interface LocalAwsOptions {
  /** Config file to synthesize the app with (as `cdk synth -c config=<path>`). Ignored with `assemblyDir`. */
  configPath?: string;
  /** A cloud assembly already synthesized (a `cdk.out`), used as it is. */
  assemblyDir?: string;
  /** Directory of `cdk.json`. @default the current working directory */
  projectDir?: string;
  /**
   * Where synthesized assemblies are cached by the hash of their inputs; false: synthesize every time, into
   * the data directory.
   * @default `<projectDir>/node_modules/.cache/driftwatch-local-aws`
   */
  synthCache?: string | false;
  /** Where s3rver keeps objects and the assembly is written. @default a temporary directory, removed by stop() */
  dataDir?: string;
  /** Local clock time at start. @default now */
  startTime?: number | Date;
  identity?: Partial<LocalIdentity>;
  /** Execution environments (worker threads) per function at most. @default 2 */
  maxEnvironmentsPerFunction?: number;
  /**
   * Runs the executions that rules, schedules and `StartExecution` start. @default the local Step Functions:
   * aws-local-stepfunctions on the template's definitions
   */
  stepFunctionsExecutor?: StepFunctionsExecutor;
  /** Step Functions task handlers by state name. */
  taskResourceLocalHandlers?: Record<string, TaskResourceLocalHandler>;
  /** Step Functions task handlers by resource ARN (e.g. SageMaker integrations). */
  serviceIntegrations?: Record<string, ServiceIntegration>;
  /**
   * Endpoints of other local services, by the SDK's service id suffix of `AWS_ENDPOINT_URL_<ID>`
   * (`SAGEMAKER`, `SAGEMAKER_RUNTIME`). Services without one are sent to the local endpoint, which answers
   * what it does not implement with an error (never real AWS).
   */
  endpoints?: Record<string, string>;
  /** More environment variables for every function. */
  environment?: Record<string, string>;
  /**
   * Enforce IAM and KMS as the template declares them: every call of a function, a state machine task, a
   * rule target, a schedule or an alarm action is checked against the caller role's policies, the
   * resource's policy and the key policy, and refused as AWS refuses it. Turn it off only to debug.
   * @default true, unless the environment has `DRIFTWATCH_LOCAL_IAM=off` (`=log` also prints each denial)
   */
  iam?: boolean;
}

/** Whether local mode enforces IAM: on unless turned off by option or `DRIFTWATCH_LOCAL_IAM=off`. */
export function iamEnforced(option: boolean | undefined): boolean {
  return option ?? process.env['DRIFTWATCH_LOCAL_IAM'] !== 'off';
}

/** Where each local service listens. */
export interface LocalEndpoints {
  s3: string;
  dynamodb: string;
  /** kinesalite: the template's Kinesis streams. */
  kinesis: string;
  /** EventBridge, SQS, SNS, CloudWatch, Step Functions and Lambda. */
  services: string;
}

/** How an alarm stands. */
export interface AlarmView {
  name: string;
  state: AlarmState;
}

const LAMBDA_ASYNC_RETRY_DELAYS_MS = [60_000, 120_000];
const ALARM_EVALUATION_MS = 60_000;

/**
 * Starts the local AWS. Every server listens on 127.0.0.1 on a free port; {@link LocalAws.stop} stops
 * them and the worker threads.
 */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  return LocalAws.start(options);
}

export class LocalAws {
  readonly identity: LocalIdentity;
  readonly activity = new Activity();
  readonly clock: Clock;
  readonly timeline: Timeline;
  readonly metrics = new MetricStore();
  readonly stacks: StackResources[] = [];
  /** Stack outputs by name (and `<stack>.<name>`), resolved to local values. */
  readonly outputs: Record<string, unknown> = {};
  readonly dataDir: string;
  endpoints!: LocalEndpoints;
  stepFunctions!: LocalStepFunctions;
  alarms!: AlarmEvaluator;
  router!: EventRouter;
  scheduler!: LocalScheduler;
  /** Decides every call of the stacks' roles and services; undefined when IAM enforcement is off. */
  readonly iam: Authorizer | undefined;
  private readonly options: LocalAwsOptions;
  /** The other local services' endpoints (by `AWS_ENDPOINT_URL_<ID>` suffix), behind checking proxies. */
  private readonly extraEndpoints: Record<string, string> = {};
  private readonly ownsDataDir: boolean;
  private readonly functions = new Map<string, LocalFunction>();
  private readonly unavailable = new Map<string, string>();
  private readonly queues: LocalQueue[] = [];
  private readonly topics: LocalTopic[] = [];
  private readonly buckets = new Map<string, { eventBridge: boolean }>();
  private readonly eventSources: SqsEventSource[] = [];
  /** Kinesis event source mappings, one poller per shard each. */
  readonly streamSources: KinesisEventSource[] = [];
  private kinesis?: KinesisClient;
  private readonly scheduledRules = new Map<string, RuleDefinition>();
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly clients: { destroy(): void }[] = [];
  private alarmTimer?: ClockTimer;
  private uploads?: S3Client;
  private sequencer = 0;
  private stopped = false;

  private constructor(options: LocalAwsOptions, dataDir: string, ownsDataDir: boolean) {
    this.options = options;
    this.identity = { ...DEFAULT_IDENTITY, ...options.identity };
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    const start = options.startTime === undefined ? Date.now() : new Date(options.startTime).getTime();
    this.clock = new Clock(start, this.activity);
    this.timeline = new Timeline(() => this.clock.now());
    this.iam = iamEnforced(options.iam)
      ? new Authorizer(emptyIamModel(this.identity), {
          observe: (decision) => {
            if (decision.allowed) return;
            if (process.env['DRIFTWATCH_LOCAL_IAM'] === 'log') console.error('DENIED', decision.reason);
            this.timeline.record({
              type: 'access-denied',
              principal: decision.principal,
              action: decision.action,
              resource: decision.resource,
              reason: decision.reason ?? '',
            });
          },
        })
      : undefined;
  }

  /** A checking proxy in front of `upstream` when IAM is enforced, else `upstream` itself. */
  private async guarded(upstream: string, upstreamAccessKeyId?: string): Promise<string> {
    if (!this.iam) return upstream;
    const proxy: CheckingProxy = await startCheckingProxy({
      upstream,
      authorizer: this.iam,
      region: this.identity,
      ...(upstreamAccessKeyId === undefined ? {} : { upstreamAccessKeyId }),
    });
    this.closers.push(() => proxy.close());
    return proxy.url;
  }

  static async start(options: LocalAwsOptions): Promise<LocalAws> {
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'driftwatch-local-aws-')));
    const aws = new LocalAws(options, dataDir, options.dataDir === undefined);
    try {
      await aws.boot();
    } catch (error) {
      await aws.stop();
      throw error;
    }
    return aws;
  }

  private async boot(): Promise<void> {
    const assembly = readCloudAssembly(await this.assemblyDir());
    const endpoint = await ServiceEndpoint.start(this.routes());
    this.closers.push(() => endpoint.close());
    const services = await this.guarded(endpoint.url);
    this.readStacks(assembly, services);
    if (this.iam) for (const stack of this.stacks) addStackToModel(this.iam.model, stack.resolver);
    const s3 = await this.guarded(await this.startS3(), LOCAL_CREDENTIALS.accessKeyId);
    const dynamodb = await this.guarded(await this.startDynamoDb());
    // The functions do not call Kinesis (the mappings read it for them): no checking proxy in front.
    const kinesis = await this.startKinesis();
    this.endpoints = { s3, dynamodb, services, kinesis };
    for (const [id, url] of Object.entries(this.options.endpoints ?? {})) {
      this.extraEndpoints[id] = await this.guarded(url);
    }
    const dynamoClient = this.dynamoDbClient();
    for (const stack of this.stacks) await createTables(dynamoClient, stack.tables);
    this.startFunctions();
    this.startStepFunctions(dynamoClient);
    this.startRouter();
    await this.checkEventSources();
    this.startEventSources();
    await this.startStreamSources();
    this.alarms = new AlarmEvaluator(
      this.stacks.flatMap((stack) => stack.alarms),
      this.metrics,
      this.clock.now(),
    );
    // A deployed stack's alarms have been evaluated before any data arrives (INSUFFICIENT_DATA -> OK with
    // notBreaching), so a first breach is an OK -> ALARM transition, as in AWS.
    this.evaluateAlarms();
    this.armAlarmEvaluation();
    this.startScheduler();
  }

  /** The given assembly, or the app synthesized (through the cache) with the config. */
  private async assemblyDir(): Promise<string> {
    const { options } = this;
    if (options.assemblyDir !== undefined) return options.assemblyDir;
    if (options.configPath === undefined) throw new Error('startLocalAws needs configPath or assemblyDir');
    const projectDir = options.projectDir ?? process.cwd();
    if (options.synthCache === false) {
      return synthesizeApp({
        configPath: options.configPath,
        projectDir,
        outdir: join(this.dataDir, 'cdk.out'),
      });
    }
    return synthesizeCached({
      configPath: options.configPath,
      projectDir,
      ...(options.synthCache !== undefined && { cacheDir: options.synthCache }),
    });
  }

  /** Resolves every stack against the local names (queue URLs on `queueEndpoint`) and builds its resources. */
  private readStacks(assembly: ReturnType<typeof readCloudAssembly>, queueEndpoint: string): void {
    const exports = new Map<string, unknown>();
    const queueObserver: QueueObserver = {
      sent: (queue, message) => {
        this.timeline.record({ type: 'message-sent', queue: queue.name, messageId: message.messageId });
        const dimensions = { QueueName: queue.name };
        this.putMetrics(
          [{ namespace: 'AWS/SQS', name: 'NumberOfMessagesSent', dimensions, value: 1, unit: 'Count' }],
          'sqs',
        );
      },
      deadLettered: (queue, message) =>
        this.timeline.record({
          type: 'message-dead-lettered',
          queue: queue.name,
          deadLetterQueue: queue.redrive?.deadLetterQueue.name ?? '',
          messageId: message.messageId,
          receiveCount: message.receiveCount,
        }),
    };
    for (const stack of assembly) {
      const resolver = new IntrinsicResolver(stack.template, stack.stackName, this.identity, {
        queueEndpoint,
        imports: (name) => exports.get(name),
      });
      const resources = readStackResources(stack, resolver, {
        clock: this.clock,
        dataDir: this.dataDir,
        queueObserver,
      });
      this.stacks.push(resources);
      for (const [name, value] of Object.entries(resources.outputs)) {
        this.outputs[name] ??= value;
        this.outputs[`${stack.stackName}.${name}`] = value;
        const exportName = stack.template.Outputs?.[name]?.Export?.Name;
        if (exportName !== undefined) exports.set(String(resolver.resolve(exportName)), value);
      }
      this.queues.push(...resources.queues);
      this.topics.push(...resources.topics);
      for (const bucket of resources.buckets)
        this.buckets.set(bucket.name, { eventBridge: bucket.eventBridge });
      for (const { definition, reason } of resources.unavailableFunctions)
        this.unavailable.set(definition.arn, reason);
    }
  }

  private startFunctions(): void {
    const environment = this.functionEnvironment();
    const { maxEnvironmentsPerFunction } = this.options;
    for (const definition of this.stacks.flatMap((stack) => stack.functions)) {
      const role = this.iam?.model.functionRoles.get(definition.arn);
      this.functions.set(
        definition.arn,
        new LocalFunction(definition, {
          environment:
            this.iam && role !== undefined
              ? { ...environment, AWS_ACCESS_KEY_ID: this.iam.accessKeyFor(role) }
              : environment,
          ...(maxEnvironmentsPerFunction === undefined
            ? {}
            : { maxEnvironments: maxEnvironmentsPerFunction }),
        }),
      );
    }
    this.closers.push(async () => {
      await Promise.all([...this.functions.values()].map((fn) => fn.close()));
    });
  }

  private startStepFunctions(dynamodb: DynamoDBClient): void {
    const { taskResourceLocalHandlers, serviceIntegrations } = this.options;
    this.stepFunctions = new LocalStepFunctions(
      this.stacks.flatMap((stack) => stack.stateMachines),
      {
        clock: this.clock,
        timeline: this.timeline,
        identity: this.identity,
        invokeFunction: (name, payload) => this.invoke(name, payload, 'states'),
        publish: (input) => this.publish(input.topicArn, input).messageId,
        putEvents: (entries) => this.router.putEvents(entries),
        sendMessage: (url, body, sendOptions) => {
          const queue = this.queue(url);
          if (!queue)
            throw new LocalServiceError('QueueDoesNotExist', `The specified queue does not exist: ${url}`);
          return queue.send(body, sendOptions);
        },
        putMetrics: (data) => this.putMetrics(data, 'states'),
        putEvent: (entry) => this.router.putEvents([entry]),
        dynamodb,
        ...(this.iam
          ? {
              authorize: (machineArn: string, resource: string, input: unknown) =>
                this.authorizeTask(machineArn, resource, input),
            }
          : {}),
        ...(taskResourceLocalHandlers ? { taskResourceLocalHandlers } : {}),
        ...(serviceIntegrations ? { serviceIntegrations } : {}),
      },
    );
  }

  private startRouter(): void {
    this.router = new EventRouter({
      rules: this.stacks.flatMap((stack) => stack.rules),
      identity: this.identity,
      now: () => this.clock.now(),
      deliver: (target, input, event, rule) => this.deliver(target, input, event, rule),
      observe: (event, bus, matched) =>
        this.timeline.record({
          type: 'event-put',
          bus,
          source: event.source,
          detailType: event['detail-type'],
          eventId: event.id,
          rules: matched.map((rule) => rule.name),
        }),
    });
  }

  /** Event source mappings whose source is a local queue (other sources, streams, do not run locally). */
  private startEventSources(): void {
    for (const mapping of this.stacks.flatMap((stack) => stack.eventSourceMappings)) {
      const queue = this.queues.find((candidate) => candidate.arn === mapping.eventSourceArn);
      if (!queue) continue;
      this.eventSources.push(
        new SqsEventSource({
          definition: mapping,
          queue,
          invoke: (event) => this.invokeOrFail(mapping.functionName, event, `sqs ${queue.name}`),
          activity: this.activity,
          region: this.identity.region,
        }),
      );
    }
  }

  /** Scheduler schedules, and EventBridge rules with a schedule expression (UTC). */
  private startScheduler(): void {
    const schedules: ScheduleDefinition[] = this.stacks.flatMap((stack) => stack.schedules);
    for (const rule of this.router.rules) {
      if (rule.scheduleExpression === undefined || !rule.enabled) continue;
      this.scheduledRules.set(rule.arn, rule);
      schedules.push({
        logicalId: rule.logicalId,
        name: rule.name,
        arn: rule.arn,
        expression: rule.scheduleExpression,
        timeZone: 'UTC',
        enabled: true,
        target: { arn: rule.arn },
      });
    }
    this.scheduler = new LocalScheduler(
      schedules,
      this.clock,
      (schedule, input) => this.fireSchedule(schedule, input),
      this.timeline,
    );
    this.scheduler.start();
  }

  private async startS3(): Promise<string> {
    const s3rver = new S3rver({
      address: '127.0.0.1',
      port: 0,
      directory: join(this.dataDir, 's3'),
      silent: true,
      allowMismatchedSignatures: true,
      vhostBuckets: false,
      configureBuckets: [...this.buckets.keys()].map((name) => ({ name })),
    });
    const address = await s3rver.run();
    this.closers.push(() => s3rver.close());
    (s3rver as unknown as NodeJS.EventEmitter).on('event', (event: { Records?: S3NotificationRecord[] }) => {
      for (const record of event.Records ?? []) this.objectEvent(record);
    });
    return `http://127.0.0.1:${address.port}`;
  }

  private async startKinesis(): Promise<string> {
    const server: Server = kinesalite({
      createStreamMs: 0,
      deleteStreamMs: 0,
      updateStreamMs: 0,
      shardLimit: 1000,
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.closers.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.kinesis = kinesisClient(url, this.identity.region);
    this.clients.push(this.kinesis);
    await createStreams(
      this.kinesis,
      this.stacks.flatMap((stack) => stack.streams),
    );
    return url;
  }

  /** Event source mappings whose source is a Kinesis stream of the template. */
  private async startStreamSources(): Promise<void> {
    const streams: StreamResource[] = this.stacks.flatMap((stack) => stack.streams);
    for (const mapping of this.stacks.flatMap((stack) => stack.eventSourceMappings)) {
      const stream = streams.find((candidate) => candidate.arn === mapping.eventSourceArn);
      if (!stream || !mapping.enabled) continue;
      const settings = kinesisMappingSettings(mapping.properties);
      // Lambda reads the stream as the function's role: each poll is judged (IAM and the stream's key).
      const fn = this.function(mapping.functionName);
      const roleArn = fn && this.iam?.model.functionRoles.get(fn.definition.arn);
      const source = new KinesisEventSource({
        stream,
        settings,
        functionName: mapping.functionName,
        client: this.kinesis!,
        invoke: (event) => this.invokeOrFail(mapping.functionName, event, `kinesis ${stream.name}`),
        activity: this.activity,
        region: this.identity.region,
        failureQueue: settings.onFailure === undefined ? undefined : this.queue(settings.onFailure),
        ...(this.iam && roleArn !== undefined
          ? { authorize: (requests) => this.iam!.check({ kind: 'role', roleArn }, requests) }
          : {}),
      });
      await source.start();
      this.streamSources.push(source);
    }
  }

  /** A Kinesis client of the local streams (kinesalite). */
  kinesisClient(): KinesisClient {
    return kinesisClient(this.endpoints.kinesis, this.identity.region);
  }

  /**
   * Puts records on a local stream with the real client (PutRecords, 500 at a time); returns each record's
   * shard and sequence number, in order.
   */
  async putRecords(
    streamName: string,
    records: readonly { data: string | Uint8Array; partitionKey: string }[],
  ): Promise<{ shardId: string; sequenceNumber: string }[]> {
    const placed: { shardId: string; sequenceNumber: string }[] = [];
    for (let i = 0; i < records.length; i += 500) {
      const response = await this.kinesis!.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: records.slice(i, i + 500).map((record) => ({
            Data: typeof record.data === 'string' ? Buffer.from(record.data) : record.data,
            PartitionKey: record.partitionKey,
          })),
        }),
      );
      if ((response.FailedRecordCount ?? 0) > 0)
        throw new Error(`PutRecords: ${response.FailedRecordCount} failed`);
      for (const entry of response.Records ?? [])
        placed.push({ shardId: entry.ShardId!, sequenceNumber: entry.SequenceNumber! });
    }
    for (const source of this.streamSources) if (source.stream.name === streamName) source.nudge();
    return placed;
  }

  /**
   * Waits (real time) until every mapping of `streamName` has moved past each record `placed` names, then
   * until the work it started has finished.
   */
  async drainStream(
    streamName: string,
    placed: readonly { shardId: string; sequenceNumber: string }[],
    timeoutMs = 60_000,
  ): Promise<void> {
    const last = new Map<string, bigint>();
    for (const { shardId, sequenceNumber } of placed) {
      const value = BigInt(sequenceNumber);
      if ((last.get(shardId) ?? -1n) < value) last.set(shardId, value);
    }
    const sources = this.streamSources.filter((source) => source.stream.name === streamName);
    const deadline = Date.now() + timeoutMs;
    const done = () =>
      sources.every((source) =>
        [...last].every(([shardId, sequence]) => {
          const checkpoint = source.checkpoints.get(shardId);
          return checkpoint !== undefined && BigInt(checkpoint) >= sequence;
        }),
      );
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`stream ${streamName} not drained within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await this.settle();
  }

  private async startDynamoDb(): Promise<string> {
    const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.closers.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** What every function's environment adds to its own variables: region, credentials, endpoints. */
  private functionEnvironment(): Record<string, string> {
    const { s3, dynamodb, services } = this.endpoints;
    const noFile = join(this.dataDir, 'no-aws-config');
    const endpoints: Record<string, string> = {
      AWS_ENDPOINT_URL: services,
      AWS_ENDPOINT_URL_S3: s3,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
      ...Object.fromEntries(
        [
          'EVENTBRIDGE',
          'SQS',
          'SNS',
          'CLOUDWATCH',
          'SFN',
          'LAMBDA',
          'SSM',
          'SAGEMAKER',
          'SAGEMAKER_RUNTIME',
        ].map((id) => [`AWS_ENDPOINT_URL_${id}`, services]),
      ),
      ...Object.fromEntries(
        Object.entries(this.extraEndpoints).map(([id, url]) => [`AWS_ENDPOINT_URL_${id.toUpperCase()}`, url]),
      ),
    };
    return {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      AWS_REGION: this.identity.region,
      AWS_DEFAULT_REGION: this.identity.region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      // The host's AWS config and instance metadata stay out of the functions.
      AWS_CONFIG_FILE: noFile,
      AWS_SHARED_CREDENTIALS_FILE: noFile,
      AWS_EC2_METADATA_DISABLED: 'true',
      // s3rver does not understand the CRC32 trailers of streamed uploads (clients.ts sets the same).
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      ...endpoints,
      ...this.options.environment,
    };
  }

  /** The environment a process needs to use the local AWS through the SDK's defaults. */
  get environment(): Record<string, string> {
    const {
      PATH: _,
      AWS_CONFIG_FILE: __,
      AWS_SHARED_CREDENTIALS_FILE: ___,
      ...rest
    } = this.functionEnvironment();
    return rest;
  }

  /** SDK client settings for a local service (`s3` adds path-style addressing and no checksum trailers). */
  clientConfig(service: 's3' | 'dynamodb' | 'services' = 'services') {
    return {
      region: this.identity.region,
      credentials: LOCAL_CREDENTIALS,
      endpoint: this.endpoints[service],
      ...(service === 's3'
        ? {
            forcePathStyle: true,
            requestChecksumCalculation: 'WHEN_REQUIRED' as const,
            responseChecksumValidation: 'WHEN_REQUIRED' as const,
          }
        : {}),
    };
  }

  /** A new S3 client for s3rver (destroyed by stop()). */
  s3Client(): S3Client {
    const client = new S3Client(this.clientConfig('s3'));
    this.clients.push(client);
    return client;
  }

  private readonly roleS3Clients = new Map<string, S3Client>();

  /**
   * The S3 as a role of the stacks (SageMaker's jobs and models run as one), judged by local IAM; the
   * operator's for a role outside the stacks (local mode knows no policy of those) or with IAM off.
   */
  s3ClientAs(roleArn: string | undefined): S3Client {
    if (roleArn === undefined || !this.iam?.model.roles.has(roleArn)) {
      this.operatorS3 ??= this.s3Client();
      return this.operatorS3;
    }
    let client = this.roleS3Clients.get(roleArn);
    if (client === undefined) {
      client = new S3Client({
        ...this.clientConfig('s3'),
        credentials: { ...LOCAL_CREDENTIALS, accessKeyId: this.iam.accessKeyFor(roleArn) },
      });
      this.clients.push(client);
      this.roleS3Clients.set(roleArn, client);
    }
    return client;
  }

  private operatorS3: S3Client | undefined;

  /** A new DynamoDB client for dynalite (destroyed by stop()). */
  dynamoDbClient(): DynamoDBClient {
    const client = new DynamoDBClient(this.clientConfig('dynamodb'));
    this.clients.push(client);
    return client;
  }

  /** A resource by logical id or construct path (`Drift-churn/Queue`), with its local name, Ref and ARN. */
  resource(idOrPath: string): PhysicalResource {
    for (const stack of this.stacks) {
      const logicalId =
        idOrPath in stack.resolver.template.Resources
          ? idOrPath
          : (stack.paths.get(idOrPath) ?? stack.paths.get(`${idOrPath}/Resource`));
      if (logicalId !== undefined) return stack.resolver.physicalResource(logicalId);
    }
    throw new Error(`no resource ${idOrPath} in the local stacks`);
  }

  /** A queue by URL, ARN or name. */
  queue(urlArnOrName: string): LocalQueue | undefined {
    const name = urlArnOrName.startsWith('arn:')
      ? urlArnOrName.split(':').pop()
      : urlArnOrName.split('/').pop();
    return this.queues.find((queue) => queue.arn === urlArnOrName || queue.name === name);
  }

  /** A topic by ARN or name. */
  topic(arnOrName: string): LocalTopic | undefined {
    return this.topics.find((topic) => topic.arn === arnOrName || topic.name === arnOrName);
  }

  /** A function by name or ARN (with or without a `$LATEST` qualifier). */
  function(nameOrArn: string): LocalFunction | undefined {
    const bare = nameOrArn.replace(/:\$LATEST$/, '');
    for (const fn of this.functions.values()) {
      if (fn.definition.arn === bare || fn.definition.name === bare) return fn;
    }
    return undefined;
  }

  /** Every alarm and its state. */
  alarmStates(): AlarmView[] {
    return this.alarms.alarms.map((alarm) => ({ name: alarm.name, state: this.alarms.state(alarm.name)! }));
  }

  /** Every Step Functions execution so far. */
  executions(): ExecutionRecord[] {
    return this.stepFunctions.executions();
  }

  /**
   * Uploads an object through the real S3 client and waits until everything it started (routed events,
   * queue deliveries, invocations) has finished.
   */
  async putObject(
    bucket: string,
    key: string,
    body: string | Uint8Array,
    options: { contentType?: string } = {},
  ): Promise<{ etag: string; size: number }> {
    this.uploads ??= this.s3Client();
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const response = await this.uploads.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: bytes,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
      }),
    );
    await this.settle();
    return { etag: (response.ETag ?? '').replaceAll('"', ''), size: bytes.length };
  }

  /**
   * Waits until no work is in flight (work waiting for the clock aside).
   *
   * @throws AggregateError with the errors of local AWS work that failed unexpectedly (bugs, not function errors)
   */
  async settle(): Promise<void> {
    await this.activity.settle();
    const failures = this.activity.takeFailures();
    if (failures.length > 0) throw new AggregateError(failures, 'local AWS work failed');
  }

  /** Moves the clock `ms` forward: schedules fire, messages become visible again, alarms are evaluated each minute. */
  async advance(ms: number): Promise<void> {
    await this.clock.advance(ms);
    await this.settle();
  }

  /** Invokes a function synchronously, as Lambda `Invoke` does; undefined when there is no such function. */
  async invoke(
    nameOrArn: string,
    payload: unknown,
    trigger = 'invoke',
  ): Promise<InvocationResult | undefined> {
    const fn = this.function(nameOrArn);
    if (!fn) {
      const arn = [...this.unavailable.keys()].find(
        (candidate) => candidate === nameOrArn || candidate.endsWith(`:function:${nameOrArn}`),
      );
      if (arn === undefined) return undefined;
      return {
        functionName: nameOrArn,
        requestId: '',
        status: 'failed',
        payload: null,
        error: { errorType: 'Runtime.Unavailable', errorMessage: this.unavailable.get(arn)!, trace: [] },
        durationMs: 0,
        lines: [],
      };
    }
    return this.activity.track(this.runInvocation(fn, payload, trigger));
  }

  /** Stops every server and worker thread and, when it made it, removes the data directory. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Nothing new starts: executions stop at their next state, schedules and queues stop delivering.
    this.stepFunctions?.abortAll();
    this.scheduler?.stop();
    for (const source of this.eventSources) source.stop();
    await Promise.all(this.streamSources.map((source) => source.stop()));
    this.alarmTimer?.cancel();
    this.clock.clear();
    for (const client of this.clients) client.destroy();
    for (const close of this.closers.reverse()) {
      await close().catch(() => {});
    }
    if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  private async invokeOrFail(nameOrArn: string, event: unknown, trigger: string): Promise<InvocationResult> {
    const result = await this.invoke(nameOrArn, event, trigger);
    if (result) return result;
    return {
      functionName: nameOrArn,
      requestId: '',
      status: 'failed',
      payload: null,
      error: {
        errorType: 'ResourceNotFoundException',
        errorMessage: `Function not found: ${nameOrArn}`,
        trace: [],
      },
      durationMs: 0,
      lines: [],
    };
  }

  private async runInvocation(
    fn: LocalFunction,
    payload: unknown,
    trigger: string,
  ): Promise<InvocationResult> {
    const { name } = fn.definition;
    const requestId = randomUUID();
    this.timeline.record({ type: 'function-invoked', function: name, requestId, trigger });
    const result = await fn.invoke(payload, { requestId });
    const { emf, logs } = splitOutput(result.lines);
    for (const document of emf) this.putMetrics(parseEmf(document), name);
    const dimensions = { FunctionName: name };
    this.putMetrics(
      [
        { namespace: 'AWS/Lambda', name: 'Invocations', dimensions, value: 1, unit: 'Count' },
        {
          namespace: 'AWS/Lambda',
          name: 'Errors',
          dimensions,
          value: result.status === 'failed' ? 1 : 0,
          unit: 'Count',
        },
        {
          namespace: 'AWS/Lambda',
          name: 'Duration',
          dimensions,
          value: result.durationMs,
          unit: 'Milliseconds',
        },
      ],
      'lambda',
    );
    this.timeline.record({
      type: 'function-finished',
      function: name,
      requestId,
      status: result.status,
      durationMs: result.durationMs,
      ...(result.status === 'succeeded' ? { result: result.payload } : {}),
      ...(result.error
        ? { error: { errorType: result.error.errorType, errorMessage: result.error.errorMessage } }
        : {}),
      logs,
    });
    return result;
  }

  /**
   * An asynchronous (`Event`) invocation, as Lambda runs them: on a function error it is retried a minute,
   * then two minutes later (at most `MaximumRetryAttempts` of the function's `EventInvokeConfig`, 2 by
   * default), and the result goes to the config's `OnSuccess` or `OnFailure` destination.
   */
  private invokeAsync(nameOrArn: string, payload: unknown, trigger: string, attempt = 0): void {
    const fn = this.function(nameOrArn);
    const config = this.stacks
      .flatMap((stack) => stack.eventInvokeConfigs)
      .find((candidate) => candidate.functionName === fn?.definition.name);
    const retries = Math.min(config?.maximumRetryAttempts ?? 2, LAMBDA_ASYNC_RETRY_DELAYS_MS.length);
    void this.invoke(nameOrArn, payload, trigger).then((result) => {
      if (!result || this.stopped) return;
      if (result.status === 'failed' && attempt < retries) {
        this.clock.at(
          this.clock.now() + LAMBDA_ASYNC_RETRY_DELAYS_MS[attempt]!,
          () => this.invokeAsync(nameOrArn, payload, `${trigger} (retry ${attempt + 1})`, attempt + 1),
          `retry ${nameOrArn}`,
        );
        return;
      }
      const destination = result.status === 'failed' ? config?.onFailure : config?.onSuccess;
      if (destination === undefined || !fn) return;
      this.sendToDestination(destination, {
        version: '1.0',
        timestamp: this.clock.date().toISOString(),
        requestContext: {
          requestId: result.requestId,
          functionArn: `${fn.definition.arn}:$LATEST`,
          condition: result.status === 'failed' ? 'RetriesExhausted' : 'Success',
          approximateInvokeCount: attempt + 1,
        },
        requestPayload: payload,
        responseContext: {
          statusCode: 200,
          executedVersion: '$LATEST',
          ...(result.status === 'failed' ? { functionError: 'Unhandled' } : {}),
        },
        responsePayload: result.status === 'failed' ? result.error : result.payload,
      });
    });
  }

  /** Sends an asynchronous invocation record to a Lambda destination (queue, topic, function or bus). */
  private sendToDestination(arn: string, record: Record<string, unknown>): void {
    if (arn.split(':')[2] === 'events') {
      const failed = (record['requestContext'] as { condition: string }).condition !== 'Success';
      this.router.putEvents([
        {
          Source: 'lambda',
          DetailType: `Lambda Function Invocation Result - ${failed ? 'Failure' : 'Success'}`,
          Detail: JSON.stringify(record),
          EventBusName: arn,
          Resources: [arn],
        },
      ]);
      return;
    }
    this.send(arn, JSON.stringify(record), 'destination');
  }

  /** Stores metric values at the local clock time and, unless they are gauge samples, records them. */
  private putMetrics(data: readonly MetricInput[], source: string, record = true): void {
    const now = this.clock.now();
    for (const input of data) {
      const datum = this.metrics.put(input, now);
      if (!datum || !record) continue;
      for (const value of datum.values.length > 0 ? datum.values : [datum.sum]) {
        this.timeline.record({
          type: 'metric',
          source,
          namespace: datum.namespace,
          name: datum.name,
          dimensions: datum.dimensions,
          value,
          ...(datum.unit === undefined ? {} : { unit: datum.unit }),
        });
      }
    }
  }

  private objectEvent(record: S3NotificationRecord): void {
    const bucket = record.s3.bucket.name;
    this.sequencer += 1;
    const sequencer = (BigInt(this.clock.now()) * 1_000_000n + BigInt(this.sequencer))
      .toString(16)
      .toUpperCase()
      .padStart(18, '0');
    const created = objectCreatedDetail(record, sequencer, this.identity.accountId);
    if (!created) return;
    const object = created.detail['object'] as { key: string; size: number; etag?: string };
    this.timeline.record({
      type: 'object-created',
      bucket,
      key: object.key,
      size: object.size,
      etag: object.etag ?? null,
      reason: created.reason,
    });
    if (!this.buckets.get(bucket)?.eventBridge) return;
    const event = this.router.event({
      source: 'aws.s3',
      detailType: 'Object Created',
      detail: created.detail,
      resources: [`arn:${this.identity.partition}:s3:::${bucket}`],
    });
    this.router.route(event, 'default');
  }

  /** Hands a rule's target its input, by the target's service; a failure goes to the target's DLQ. */
  private deliver(target: RuleTarget, input: string, event: BusEvent, rule: RuleDefinition): void {
    if (!this.iam) {
      this.deliverChecked(target, input, event, rule, undefined);
      return;
    }
    // EventBridge calls the target with the target's role, else as itself (the target's resource policy).
    const roleArn = this.iam.model.ruleTargetRoles.get(`${rule.arn} ${target.arn}`);
    const caller: Caller =
      roleArn === undefined
        ? { kind: 'service', service: 'events.amazonaws.com', sourceArn: rule.arn }
        : { kind: 'role', roleArn };
    void this.activity.track(
      this.authorizeDelivery(caller, this.deliveryRequests(target.arn, input)).then(
        () => this.deliverChecked(target, input, event, rule, undefined),
        (error: unknown) => this.deliverChecked(target, input, event, rule, error),
      ),
    );
  }

  private deliverChecked(
    target: RuleTarget,
    input: string,
    event: BusEvent,
    rule: RuleDefinition,
    denied: unknown,
  ): void {
    try {
      if (denied !== undefined) throw denied;
      this.send(target.arn, input, `rule ${rule.name}`);
      this.timeline.record({
        type: 'event-delivered',
        rule: rule.name,
        target: target.arn,
        eventId: event.id,
      });
    } catch (error) {
      const message = String((error as Error)?.message ?? error);
      this.timeline.record({
        type: 'event-delivered',
        rule: rule.name,
        target: target.arn,
        eventId: event.id,
        error: message,
      });
      const deadLetterQueue = target.deadLetterArn ? this.queue(target.deadLetterArn) : undefined;
      deadLetterQueue?.send(JSON.stringify(event), {
        messageAttributes: {
          RULE_ARN: { DataType: 'String', StringValue: rule.arn },
          TARGET_ARN: { DataType: 'String', StringValue: target.arn },
          ERROR_CODE: { DataType: 'String', StringValue: (error as LocalServiceError)?.code ?? 'Error' },
          ERROR_MESSAGE: { DataType: 'String', StringValue: message },
        },
      });
    }
  }

  /** Starts an execution (tracked) with the executor: the local Step Functions or the one given. */
  private startExecution(arn: string, input: string, options: { name?: string } = {}): void {
    const executor = this.options.stepFunctionsExecutor;
    if (!executor && !this.stepFunctions.has(arn)) {
      throw new LocalServiceError('StateMachineDoesNotExist', `no local state machine ${arn}`);
    }
    void this.activity.track((executor ?? this.stepFunctions).startExecution(arn, input, options));
  }

  /** Sends a payload to an ARN the way EventBridge and the Scheduler send to targets. */
  private send(arn: string, input: string, trigger: string): void {
    const service = arn.split(':')[2];
    switch (service) {
      case 'sqs': {
        const queue = this.queue(arn);
        if (!queue) throw new LocalServiceError('QueueDoesNotExist', `no local queue ${arn}`);
        queue.send(input);
        return;
      }
      case 'lambda': {
        if (!this.function(arn) && !this.unavailable.has(arn))
          throw new LocalServiceError('ResourceNotFoundException', `no local function ${arn}`);
        this.invokeAsync(arn, parseJson(input), trigger);
        return;
      }
      case 'states':
        this.startExecution(arn, input);
        return;
      case 'sns':
        this.publish(arn, { message: input });
        return;
      case 'events': {
        const detail = JSON.parse(input) as BusEvent;
        this.router.route(detail, busNameOf(arn));
        return;
      }
    }
    throw new LocalServiceError('UnsupportedTarget', `the local AWS cannot deliver to ${arn}`);
  }

  private async fireSchedule(schedule: ScheduleDefinition, input: string | undefined): Promise<void> {
    const roleArn = this.iam?.model.scheduleRoles.get(schedule.arn);
    if (roleArn !== undefined && !this.scheduledRules.has(schedule.arn)) {
      const universal = /^arn:aws:scheduler:::aws-sdk:([a-z0-9-]+):(\w+)$/.exec(schedule.target.arn);
      const requests = universal
        ? (describeTask(
            this.identity,
            `arn:aws:states:::aws-sdk:${universal[1]}:${universal[2]}`,
            JSON.parse(input ?? '{}') as Record<string, unknown>,
          ) ?? [])
        : this.deliveryRequests(schedule.target.arn, input ?? '{}');
      await this.authorizeDelivery({ kind: 'role', roleArn }, requests);
    }
    const rule = this.scheduledRules.get(schedule.arn);
    if (rule) {
      const event = this.router.event({
        source: 'aws.events',
        detailType: 'Scheduled Event',
        detail: {},
        resources: [rule.arn],
      });
      this.router.sendToTargets(rule, event);
      return;
    }
    const { target } = schedule;
    const universal = /^arn:aws:scheduler:::aws-sdk:([a-z0-9-]+):(\w+)$/.exec(target.arn);
    if (universal) {
      const parameters = JSON.parse(input ?? '{}') as Record<string, unknown>;
      const call = `${universal[1]}:${universal[2]}`;
      if (call === 'sfn:startExecution') {
        this.startExecution(String(parameters['StateMachineArn']), String(parameters['Input'] ?? '{}'), {
          ...(typeof parameters['Name'] === 'string' ? { name: parameters['Name'] } : {}),
        });
        return;
      }
      if (call === 'lambda:invoke') {
        void this.invoke(
          String(parameters['FunctionName']),
          parseJson(String(parameters['Payload'] ?? '{}')),
          `schedule ${schedule.name}`,
        );
        return;
      }
      throw new LocalServiceError('UnsupportedTarget', `the local Scheduler does not call ${call}`);
    }
    if (target.arn.split(':')[2] === 'events' && target.eventBridgeParameters) {
      this.router.putEvents([
        {
          Source: target.eventBridgeParameters.Source,
          DetailType: target.eventBridgeParameters.DetailType,
          Detail: input ?? '{}',
          EventBusName: target.arn,
        },
      ]);
      return;
    }
    this.send(target.arn, input ?? '{}', `schedule ${schedule.name}`);
  }

  /** Publishes to a topic and delivers to its subscriptions. */
  private publish(
    arnOrName: string,
    input: { message: string; subject?: string; messageAttributes?: Record<string, MessageAttributeValue> },
  ): PublishedMessage {
    const topic = this.topic(arnOrName);
    if (!topic) throw new LocalServiceError('NotFound', 'Topic does not exist', { status: 404 });
    const message = topic.publish(input, this.clock.date().toISOString(), (subscription, published) =>
      this.deliverNotification(topic, subscription, published),
    );
    this.timeline.record({
      type: 'sns-message',
      topic: topic.name,
      messageId: message.messageId,
      ...(message.subject === undefined ? {} : { subject: message.subject }),
      message: message.message,
      deliveries: message.deliveries,
    });
    return message;
  }

  private deliverNotification(
    topic: LocalTopic,
    subscription: TopicSubscription,
    message: PublishedMessage,
  ): string {
    const label = `${subscription.protocol} ${subscription.endpoint}`;
    if (subscription.protocol === 'sqs') {
      const queue = this.queue(subscription.endpoint);
      if (!queue) return `${label} (no such local queue)`;
      queue.send(
        subscription.rawMessageDelivery ? message.message : JSON.stringify(notificationEnvelope(message)),
      );
      return `${label} (delivered)`;
    }
    if (subscription.protocol === 'lambda') {
      const envelope = notificationEnvelope(message);
      this.invokeAsync(
        subscription.endpoint,
        {
          Records: [
            {
              EventSource: 'aws:sns',
              EventVersion: '1.0',
              EventSubscriptionArn: `${topic.arn}:local`,
              Sns: { ...envelope, Subject: message.subject ?? null },
            },
          ],
        },
        `sns ${topic.name}`,
      );
      return `${label} (invoked)`;
    }
    return `${label} (not sent: no network locally)`;
  }

  /** Checks a state machine task's call against the machine's role; throws the task's error when denied. */
  private async authorizeTask(machineArn: string, resource: string, input: unknown): Promise<void> {
    const roleArn = this.iam?.model.stateMachineRoles.get(machineArn);
    if (!this.iam || roleArn === undefined || resource.endsWith(':::local:wait')) return;
    const parameters = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
    const requests = describeTask(this.identity, resource, parameters);
    if (requests === undefined) {
      throw new TaskFailedError(
        'States.Runtime',
        `local IAM does not know what the task resource ${resource} asks of IAM: add it to local/aws/iam/requests.ts`,
      );
    }
    try {
      await this.iam.check({ kind: 'role', roleArn }, requests);
    } catch (error) {
      if (!(error instanceof AccessDeniedError)) throw error;
      const service = {
        sns: 'SNS',
        sqs: 'SQS',
        dynamodb: 'DynamoDB',
        lambda: 'Lambda',
        sagemaker: 'SageMaker',
        events: 'EventBridge',
        states: 'StepFunctions',
      }[error.request.action.split(':')[0]!];
      const code = error.isKms
        ? 'KMSAccessDeniedException'
        : service === 'SNS'
          ? 'AuthorizationErrorException'
          : 'AccessDeniedException';
      throw new TaskFailedError(`${service ?? 'States'}.${code}`, error.message);
    }
  }

  /**
   * Checks a call an AWS service or a role makes for a rule, schedule, subscription or alarm.
   *
   * @throws LocalServiceError `AccessDenied` (or `KMS.AccessDeniedException`) when AWS would refuse it
   */
  private async authorizeDelivery(caller: Caller, requests: AccessRequest[]): Promise<void> {
    if (!this.iam) return;
    try {
      await this.iam.check(caller, requests);
    } catch (error) {
      if (!(error instanceof AccessDeniedError)) throw error;
      throw new LocalServiceError(error.isKms ? 'KMS.AccessDeniedException' : 'AccessDenied', error.message, {
        status: 403,
      });
    }
  }

  /** What delivering to `arn` asks of IAM (SQS send, Lambda invoke, execution start, publish, put events). */
  private deliveryRequests(arn: string, input: string): AccessRequest[] {
    const service = arn.split(':')[2];
    switch (service) {
      case 'sqs':
        return describeCall(this.identity, 'sqs', 'SendMessage', { QueueUrl: arn });
      case 'lambda':
        return describeCall(this.identity, 'lambda', 'Invoke', { FunctionName: arn });
      case 'states':
        return describeCall(this.identity, 'states', 'StartExecution', { stateMachineArn: arn });
      case 'sns':
        return describeCall(this.identity, 'sns', 'Publish', { TopicArn: arn });
      case 'events':
        return describeCall(this.identity, 'events', 'PutEvents', {
          Entries: [
            {
              EventBusName: arn,
              ...(() => {
                try {
                  const event = JSON.parse(input) as { source?: string; 'detail-type'?: string };
                  return { Source: event.source, DetailType: event['detail-type'] };
                } catch {
                  return {};
                }
              })(),
            },
          ],
        });
    }
    return [];
  }

  /**
   * Deploy-time checks of event source mappings: CloudFormation refuses a mapping whose function role
   * cannot receive and delete the queue's messages, or read the stream and send to its on-failure destination.
   */
  private async checkEventSources(): Promise<void> {
    if (!this.iam) return;
    const streams = this.stacks.flatMap((stack) => stack.streams);
    for (const mapping of this.stacks.flatMap((stack) => stack.eventSourceMappings)) {
      const fn = this.function(mapping.functionName);
      const roleArn = fn && this.iam.model.functionRoles.get(fn.definition.arn);
      const stream = streams.find((candidate) => candidate.arn === mapping.eventSourceArn);
      if (roleArn !== undefined && stream !== undefined) {
        const requests = mappingCreateRequests(stream, kinesisMappingSettings(mapping.properties));
        for (const [what, calls, message] of [
          [
            'stream',
            requests.stream,
            `Cannot access stream ${stream.arn}. Please ensure the role can perform the GetRecords, ` +
              'GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM.',
          ],
          [
            'on-failure destination',
            requests.onFailure,
            'The provided execution role does not have permissions to call SendMessage on SQS.',
          ],
        ] as const) {
          try {
            await this.iam.check({ kind: 'role', roleArn }, calls);
          } catch (error) {
            if (!(error instanceof AccessDeniedError)) throw error;
            throw new Error(
              `the event source mapping of ${fn!.definition.name} on ${stream.arn} would fail to deploy ` +
                `(InvalidParameterValueException: ${message}): the function's role cannot use the ${what}: ${error.message}`,
            );
          }
        }
        continue;
      }
      if (roleArn === undefined || mapping.eventSourceArn.split(':')[2] !== 'sqs') continue;
      const requests: AccessRequest[] = ['ReceiveMessage', 'DeleteMessage', 'GetQueueAttributes'].map(
        (operation) => ({
          action: `sqs:${operation}`,
          resource: mapping.eventSourceArn,
          ...(operation === 'ReceiveMessage' ? { kmsActions: ['kms:Decrypt'] } : {}),
        }),
      );
      try {
        await this.iam.check({ kind: 'role', roleArn }, requests);
      } catch (error) {
        if (!(error instanceof AccessDeniedError)) throw error;
        throw new Error(
          `the event source mapping of ${fn!.definition.name} on ${mapping.eventSourceArn} would fail to deploy: ` +
            `the function's role cannot read the queue: ${error.message}`,
        );
      }
    }
  }

  /** The local endpoint's routes; their backends are looked up per request (some exist only after boot). */
  private routes() {
    const directory = {
      find: (urlOrName: string) => this.queue(urlOrName),
      all: () => this.queues,
    };
    return {
      json: {
        ...sqsRoutes(directory),
        ...eventBridgeRoutes((entries: PutEventsEntry[]) => this.router.putEvents(entries)),
        ...cloudWatchRoutes({
          store: this.metrics,
          now: () => this.clock.now(),
          put: (data) => this.putMetrics(data, 'PutMetricData'),
          alarms: () => this.alarms,
        }),
        ...stepFunctionsRoutes(() => this.stepFunctions),
        ...ssmRoutes(() => this.stacks.flatMap((stack) => stack.parameters)),
      },
      query: [
        snsService({
          find: (arn) => this.topic(arn),
          all: () => this.topics,
          publish: (topic, input) => this.publish(topic.arn, input),
        }),
      ],
      rest: [
        lambdaRoute({
          invoke: async (name, payload, type) => {
            if (type === 'RequestResponse') return this.invoke(name, payload, 'invoke');
            if (!this.function(name)) return undefined;
            this.invokeAsync(name, payload, 'invoke (Event)');
            return 'accepted';
          },
        }),
      ],
    };
  }

  /** Evaluates the alarms each minute of the clock, after sampling the queue depths. */
  private armAlarmEvaluation(): void {
    const now = this.clock.now();
    const next = Math.floor(now / ALARM_EVALUATION_MS) * ALARM_EVALUATION_MS + ALARM_EVALUATION_MS;
    this.alarmTimer = this.clock.at(
      next,
      () => {
        this.evaluateAlarms();
        this.armAlarmEvaluation();
      },
      'alarm evaluation',
    );
  }

  /** Samples the queue gauges (as SQS publishes them each minute), then evaluates every alarm. */
  private evaluateAlarms(): void {
    const samples = this.queues.flatMap((queue): MetricInput[] => {
      const gauge = (name: string, value: number, unit = 'Count'): MetricInput => ({
        namespace: 'AWS/SQS',
        name,
        dimensions: { QueueName: queue.name },
        value,
        unit,
      });
      return [
        gauge('ApproximateNumberOfMessagesVisible', queue.visibleCount),
        gauge('ApproximateNumberOfMessagesNotVisible', queue.inFlightCount),
        gauge('ApproximateAgeOfOldestMessage', queue.oldestAgeSeconds(), 'Seconds'),
      ];
    });
    this.putMetrics(samples, 'sqs', false);
    for (const change of this.alarms.evaluate(this.clock.now())) this.alarmChanged(change);
  }

  private alarmChanged(change: AlarmStateChange): void {
    const { alarm } = change;
    this.timeline.record({
      type: 'alarm-state',
      alarm: alarm.name,
      from: change.from,
      to: change.to,
      reason: change.reason,
    });
    // CloudWatch puts every state change of every alarm on the default bus (actions or not).
    this.router.route(
      this.router.event({
        source: 'aws.cloudwatch',
        detailType: 'CloudWatch Alarm State Change',
        resources: [alarm.arn],
        detail: alarmStateChangeDetail(alarm, change),
        time: change.time,
      }),
    );
    if (!alarm.actionsEnabled) return;
    const actions = {
      ALARM: alarm.alarmActions,
      OK: alarm.okActions,
      INSUFFICIENT_DATA: alarm.insufficientDataActions,
    }[change.to];
    const { subject, message } = alarmNotification(alarm, change, this.identity);
    for (const action of actions) {
      const service = action.split(':')[2];
      if (service === 'sns' && this.iam) {
        // CloudWatch publishes as itself: the topic policy and the topic key's policy must let it.
        const caller: Caller = { kind: 'service', service: 'cloudwatch.amazonaws.com', sourceArn: alarm.arn };
        void this.activity.track(
          this.authorizeDelivery(caller, this.deliveryRequests(action, message)).then(
            () => void this.publish(action, { message, subject }),
            () => {},
          ),
        );
      } else if (service === 'sns') this.publish(action, { message, subject });
      else if (service === 'lambda') {
        this.invokeAsync(
          action,
          { source: 'aws.cloudwatch', alarmArn: alarm.arn, alarmData: JSON.parse(message) },
          `alarm ${alarm.name}`,
        );
      }
    }
  }
}
