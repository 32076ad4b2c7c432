import { fileURLToPath } from 'node:url';
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CAPTURE, DRIFT_ENV, EVENT_SOURCE, METRIC_NAMESPACE } from '../lambdas/shared/contract.ts';
import { MODELS_ENV } from '../lambdas/shared/model-catalog.ts';
import { BundledFunction } from './bundled-function.ts';
import {
  DEFAULT_DRIFT_MEMORY_MB,
  DEFAULT_DRIFT_TIMEOUT_SECONDS,
  DEFAULT_REPORTS_PREFIX,
} from './config/validate.ts';
import { DRIFT_METRICS_MODEL_VARIABLE, DriftMetrics } from './drift-metrics.ts';
import { acknowledgeWildcardResource, acknowledgeXRay } from './nag.ts';
import { secureQueueProps } from './secure-defaults.ts';

/** The drift handler shipped with driftwatch. */
export const DRIFT_HANDLER_ENTRY = fileURLToPath(new URL('../lambdas/drift/handler.ts', import.meta.url));

/** Receives before a message moves to the dead-letter queue. */
export const DEFAULT_MAX_RECEIVE_COUNT = 3;

export interface DriftDetectorProps {
  /** SSM path of the model parameters (`/driftwatch/<stack>/models/`): the function reads its models there. */
  modelsParameterPath: string;
  /** Names the deployment (package groups); passed to the function. */
  stackName: string;
  /** Bucket of the incoming data and baseline profiles; it must send its events to EventBridge. */
  landingBucket: s3.IBucket;
  /** Bucket the reports are written to. */
  resultsBucket: s3.IBucket;
  /** Prefix of reports in `resultsBucket`; a model writes under `<prefix><model>/`. @default "reports/" */
  reportsPrefix?: string;
  /** Table of check history (one `PutItem` per check). */
  historyTable: dynamodb.ITable;
  /** Table of Powertools idempotency records. */
  idempotencyTable: dynamodb.ITable;
  /** Bus of driftwatch's own events (`Drift Detected`). @default the account's default event bus */
  eventBus?: events.IEventBus;
  /** Handler source, bundled by the locally installed esbuild. @default {@link DRIFT_HANDLER_ENTRY} */
  entry?: string;
  /** Memory of the function, MB; 1769 MB gives it one full vCPU. @default 1769 */
  memorySize?: number;
  /** @default 5 minutes */
  timeout?: Duration;
  /**
   * Most drift checks at once, for all models together (the checks queue's event source maximum concurrency,
   * 2-1000). Each model is held to its own `drift.maxConcurrency` within it (message groups).
   * @default 10
   */
  maxConcurrency?: number;
  /** Concurrency reserved for (and capping) the function. @default none: the account's unreserved pool */
  reservedConcurrentExecutions?: number;
  /** Receives of a message before it moves to the dead-letter queue. @default 3 */
  maxReceiveCount?: number;
  /** @default RetentionDays.THREE_MONTHS */
  logRetention?: logs.RetentionDays;
  /**
   * Table of Data Capture windows (`CaptureWindowTable`). With it, capture files are profiled into windows
   * and a schedule sweeps for windows to close; without it, capture files are recorded as failed.
   * @default none
   */
  captureTable?: dynamodb.ITable;
}

/** Concurrent drift checks of all models together, by default. */
export const DEFAULT_ENGINE_DRIFT_CONCURRENCY = 10;

/** Landing events routed per invocation, and routing invocations at once: routing is a lookup and a send. */
export const ROUTING_BATCH_SIZE = 10;
export const ROUTING_CONCURRENCY = 2;

/**
 * Checks every file dropped into the landing bucket for drift, for every model of the deployment. An
 * EventBridge rule matches the landing bucket's `Object Created` events and queues them on the landing
 * queue; the one drift Lambda routes each to the FIFO checks queue in its model's message groups (at most
 * `drift.maxConcurrency` groups per model, see `lambdas/drift/route.ts`: no model can hold another's files
 * back, and a poison message blocks only its own group), then, from the checks queue, reads the file
 * and the model's baseline profile, writes the report and a history item, emits the metrics and puts a
 * `Drift Detected` event. A file under no model's prefix is recorded as a failure (history item of model
 * `_unrouted`, `FileErrors`). A file the handler judges permanently bad, and events EventBridge could not
 * deliver or that fail routing `maxReceiveCount` times, land in the dead-letter queue; a check that fails
 * `maxReceiveCount` times lands in the checks queue's FIFO dead-letter queue.
 *
 * The function's role can read the landing bucket's objects and the model parameters, write reports under
 * the reports prefix, and put only `driftwatch` events.
 */
export class DriftDetector extends Construct {
  readonly rule: events.Rule;
  /** The landing queue: `Object Created` events, routed by model to {@link checksQueue}. */
  readonly queue: sqs.Queue;
  /** Where failures of every stage go but the checks queue's own redrive (EventBridge, routing, bad files). */
  readonly deadLetterQueue: sqs.Queue;
  /** FIFO: the files to check, one message group per model slot. */
  readonly checksQueue: sqs.Queue;
  /** FIFO: checks that failed `maxReceiveCount` times (a FIFO queue's dead-letter queue is FIFO). */
  readonly checksDeadLetterQueue: sqs.Queue;
  readonly function: BundledFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The model's drift metrics, as the handler emits them. */
  readonly metrics: DriftMetrics;
  /** The Data Capture sweep schedule (with a capture table only). */
  readonly sweepRule?: events.Rule;

  constructor(scope: Construct, id: string, props: DriftDetectorProps) {
    super(scope, id);
    const { landingBucket, resultsBucket, historyTable, idempotencyTable } = props;
    this.metrics = new DriftMetrics(DRIFT_METRICS_MODEL_VARIABLE);
    const reportsPrefix = props.reportsPrefix ?? DEFAULT_REPORTS_PREFIX;
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    const timeout = props.timeout ?? Duration.seconds(DEFAULT_DRIFT_TIMEOUT_SECONDS);

    this.deadLetterQueue = new sqs.Queue(
      this,
      'DeadLetterQueue',
      secureQueueProps({ retentionPeriod: Duration.days(14) }),
    );
    this.queue = new sqs.Queue(
      this,
      'Queue',
      secureQueueProps({
        // Lambda's advice for SQS sources: at least six times the function timeout, so a message is not
        // received again while a retried invocation still works on it.
        visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: {
          queue: this.deadLetterQueue,
          maxReceiveCount: props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
        },
      }),
    );

    this.checksDeadLetterQueue = new sqs.Queue(
      this,
      'ChecksDeadLetterQueue',
      secureQueueProps({ fifo: true, retentionPeriod: Duration.days(14) }),
    );
    this.checksQueue = new sqs.Queue(
      this,
      'ChecksQueue',
      secureQueueProps({
        fifo: true,
        // High-throughput FIFO: quotas per message group rather than 300 sends a second for the queue, so a
        // burst of files is routed at once; a file's duplicates share its group, so per-group deduplication holds.
        deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
        fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: {
          queue: this.checksDeadLetterQueue,
          maxReceiveCount: props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
        },
      }),
    );

    this.rule = new events.Rule(this, 'ObjectCreated', {
      description:
        'Files created in the landing bucket go to the drift queue (the function routes them by model prefix)',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [landingBucket.bucketName] } },
      },
      targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue })],
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'driftwatch: drift checks of every model',
    });
    this.logGroup.grantWrite(this.role);
    this.grantLeastPrivilege({ ...props, reportsPrefix, eventBus });

    this.function = new BundledFunction(this, 'Function', {
      description: 'driftwatch: drift checks of every model (models from their SSM parameters)',
      entry: props.entry ?? DRIFT_HANDLER_ENTRY,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULT_DRIFT_MEMORY_MB,
      timeout,
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        [MODELS_ENV.parameterPath]: props.modelsParameterPath,
        [MODELS_ENV.stackName]: props.stackName,
        [DRIFT_ENV.dataBucket]: landingBucket.bucketName,
        [DRIFT_ENV.resultsBucket]: resultsBucket.bucketName,
        [DRIFT_ENV.reportsPrefix]: reportsPrefix,
        [DRIFT_ENV.historyTable]: historyTable.tableName,
        [DRIFT_ENV.idempotencyTable]: idempotencyTable.tableName,
        [DRIFT_ENV.eventBusName]: eventBus.eventBusName,
        [DRIFT_ENV.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        ...(props.captureTable && {
          [DRIFT_ENV.captureTable]: props.captureTable.tableName,
          [DRIFT_ENV.queueUrl]: this.queue.queueUrl,
        }),
        [DRIFT_ENV.checksQueueUrl]: this.checksQueue.queueUrl,
        [DRIFT_ENV.maxReceiveCount]: String(props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT),
        POWERTOOLS_SERVICE_NAME: 'driftwatch-drift',
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    // Routing: many events per invocation, each a catalog lookup and one SendMessage.
    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: ROUTING_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency: ROUTING_CONCURRENCY,
      }),
    );
    this.function.addEventSource(
      new SqsEventSource(this.checksQueue, {
        // One file per invocation: each file gets the whole timeout, and a failure retries only that file.
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency ?? DEFAULT_ENGINE_DRIFT_CONCURRENCY,
      }),
    );
    if (props.captureTable) {
      this.sweepRule = this.addCaptureSweep(props.captureTable, resultsBucket);
      this.grantGroundTruthJoins(resultsBucket, reportsPrefix);
    }
    acknowledgeXRay(this.role);
  }

  /**
   * Data Capture windows: the one sweep schedule of every model (a message on the drift queue every five
   * minutes; the function queues a check of each window due), and the function's access to the capture table,
   * the partial profiles and its own queue.
   */
  private addCaptureSweep(table: dynamodb.ITable, resultsBucket: s3.IBucket): events.Rule {
    const rule = new events.Rule(this, 'CaptureSweep', {
      description: 'Every five minutes: close and check the Data Capture windows that are over (all models)',
      schedule: events.Schedule.expression(CAPTURE.sweepSchedule),
      targets: [
        new targets.SqsQueue(this.queue, {
          message: events.RuleTargetInput.fromObject(CAPTURE.sweepMessage),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
    const partials = resultsBucket.arnForObjects(`${CAPTURE.partialsPrefix}*`);
    const calibrators = resultsBucket.arnForObjects(`${CAPTURE.calibratorsPrefix}*`);
    const stack = Stack.of(this);
    const sageMakerArn = (resource: string) =>
      stack.formatArn({ service: 'sagemaker', resource, resourceName: '*' });
    const endpoints = [sageMakerArn('endpoint'), sageMakerArn('endpoint-config')];
    const statements = [
      new iam.PolicyStatement({
        sid: 'CaptureWindows',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        resources: [table.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'CaptureWindowsDue',
        actions: ['dynamodb:Query'],
        resources: [`${table.tableArn}/index/${CAPTURE.dueIndex}`],
      }),
      new iam.PolicyStatement({
        sid: 'CapturePartialProfiles',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [partials],
      }),
      // CBPE: one calibrator per version of a model's reference, fitted once and reused by every window.
      new iam.PolicyStatement({
        sid: 'CaptureCalibrators',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [calibrators],
      }),
      // Which model serves a window's variant: an estimate is withheld when it is not the reference's.
      new iam.PolicyStatement({
        sid: 'DescribeServingModels',
        actions: ['sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig'],
        resources: endpoints,
      }),
      new iam.PolicyStatement({
        sid: 'QueueWindowChecks',
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
      }),
    ];
    for (const statement of statements) this.role.addToPrincipalPolicy(statement);
    acknowledgeWildcardResource(
      this.role,
      partials,
      ['s3:GetObject', 's3:PutObject'],
      `Partial profiles of Data Capture files, one new key per file under ${CAPTURE.partialsPrefix}<model>/<endpoint>/<variant>/<window>/.`,
    );
    acknowledgeWildcardResource(
      this.role,
      calibrators,
      ['s3:GetObject', 's3:PutObject'],
      `Fitted CBPE calibrators, one key per version of a model's reference under ${CAPTURE.calibratorsPrefix}<model>/.`,
    );
    for (const resource of endpoints) {
      acknowledgeWildcardResource(
        this.role,
        resource,
        ['sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig'],
        "Read-only: which model serves each captured endpoint variant. The endpoints are models' data (their SSM " +
          'parameters), so adding a model changes no policy; endpoint config names are chosen by whoever deploys.',
      );
    }
    return rule;
  }

  /**
   * Ground-truth joins (`lambdas/drift/ground-truth.ts`) read the window's capture and label files (granted
   * with the landing bucket's other files) and the window's CBPE estimate, to sit beside the realized
   * performance.
   */
  private grantGroundTruthJoins(resultsBucket: s3.IBucket, reportsPrefix: string) {
    const estimates = resultsBucket.arnForObjects(`${reportsPrefix}*/capture-windows/*`);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadCaptureWindowReports',
        actions: ['s3:GetObject'],
        resources: [estimates],
      }),
    );
    acknowledgeWildcardResource(
      this.role,
      estimates,
      ['s3:GetObject'],
      `Reads the CBPE estimate of a capture window (${reportsPrefix}<model>/capture-windows/<endpoint>/<variant>/<window>/estimated.json) to put it beside the realized performance.`,
    );
    // Which labels of a label file each window matched, ORed once the file's windows are all joined.
    const matches = resultsBucket.arnForObjects(`${CAPTURE.labelMatchesPrefix}*`);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'LabelFileMatches',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [matches],
      }),
    );
    acknowledgeWildcardResource(
      this.role,
      matches,
      ['s3:GetObject', 's3:PutObject'],
      `Which labels of a label file each window's join matched, one key per label file and window under ${CAPTURE.labelMatchesPrefix}<model>/<label file id>/.`,
    );
  }

  /**
   * The outcomes of ground-truth joins go to the engine's feedback stream, for the concept-drift detectors
   * of models with `conceptDrift`: the stream's name, `PutRecords` on it and, for its encryption, a data key.
   */
  feedJoinedOutcomes(stream: kinesis.IStream): void {
    this.function.addEnvironment(DRIFT_ENV.feedbackStreamName, stream.streamName);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PutJoinedOutcomesOnFeedbackStream',
        actions: ['kinesis:PutRecords'],
        resources: [stream.streamArn],
      }),
    );
    if (stream.encryptionKey) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'EncryptFeedbackRecords',
          actions: ['kms:GenerateDataKey'],
          resources: [stream.encryptionKey.keyArn],
        }),
      );
    }
  }

  /** Every permission of the function besides logs, tracing and its queue. */
  private grantLeastPrivilege(
    props: DriftDetectorProps & { reportsPrefix: string; eventBus: events.IEventBus },
  ): void {
    const { landingBucket, resultsBucket, reportsPrefix, eventBus } = props;
    const landingObjects = landingBucket.arnForObjects('*');
    const reports = resultsBucket.arnForObjects(`${reportsPrefix}*`);
    const parameters = modelParametersArn(this, props.modelsParameterPath);
    const statements = [
      new iam.PolicyStatement({
        sid: 'ReadIncomingFilesAndBaselines',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [landingObjects],
      }),
      new iam.PolicyStatement({ sid: 'WriteReports', actions: ['s3:PutObject'], resources: [reports] }),
      // Drift reports sit under a timestamp folder of their model; the performance check's reports share the
      // model's prefix under `performance/`, which the drift function must not be able to overwrite.
      new iam.PolicyStatement({
        sid: 'NotPerformanceReports',
        effect: iam.Effect.DENY,
        actions: ['s3:PutObject'],
        resources: [resultsBucket.arnForObjects(`${reportsPrefix}*/performance/*`)],
      }),
      new iam.PolicyStatement({
        sid: 'ReadModelParameters',
        actions: ['ssm:GetParametersByPath'],
        resources: [parameters.path],
      }),
      new iam.PolicyStatement({
        sid: 'WriteHistory',
        actions: ['dynamodb:PutItem'],
        resources: [props.historyTable.tableArn],
      }),
      // Persistence counts the model's last N checks; the model's incident record sits beside them.
      new iam.PolicyStatement({
        sid: 'CountChecksAndUpdateIncidents',
        actions: ['dynamodb:Query', 'dynamodb:UpdateItem'],
        resources: [props.historyTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'IdempotencyRecords',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [props.idempotencyTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'PutDriftwatchEvents',
        actions: ['events:PutEvents'],
        resources: [eventBus.eventBusArn],
        conditions: { StringEquals: { 'events:source': EVENT_SOURCE } },
      }),
      new iam.PolicyStatement({
        sid: 'RouteFilesToChecksQueue',
        actions: ['sqs:SendMessage'],
        resources: [this.checksQueue.queueArn],
      }),
      new iam.PolicyStatement({
        sid: 'SendPermanentFailuresToDeadLetterQueue',
        actions: ['sqs:SendMessage'],
        resources: [this.deadLetterQueue.queueArn],
      }),
    ];
    // Reading SSE-KMS objects needs Decrypt; writing them needs GenerateDataKey (and Decrypt for multipart).
    const keyActions = new Map<kms.IKey, Set<string>>();
    const needs = (key: kms.IKey | undefined, ...actions: string[]) => {
      if (!key) return;
      const set = keyActions.get(key) ?? new Set<string>();
      for (const action of actions) set.add(action);
      keyActions.set(key, set);
    };
    needs(landingBucket.encryptionKey, 'kms:Decrypt');
    needs(resultsBucket.encryptionKey, 'kms:Decrypt', 'kms:GenerateDataKey');
    for (const [key, actions] of keyActions) {
      statements.push(new iam.PolicyStatement({ actions: [...actions].sort(), resources: [key.keyArn] }));
    }
    for (const statement of statements) this.role.addToPrincipalPolicy(statement);

    acknowledgeWildcardResource(
      this.role,
      landingObjects,
      ['s3:GetObject', 's3:GetObjectVersion'],
      "Reads the files of the landing bucket, which holds only model data: each model's prefixes are data " +
        "(its SSM parameter), so adding a model changes no policy, and IAM's 10,240-byte inline policy limit " +
        "could not list 200 models' prefixes. The function reads only under the prefix of the file's model.",
    );
    acknowledgeWildcardResource(
      this.role,
      reports,
      ['s3:PutObject'],
      `Writes reports under ${reportsPrefix}<model>/, one new key per check.`,
    );
  }
}

/** ARN of the models' parameter path, for `GetParametersByPath` (the path itself, without its last `/`). */
export function modelParametersArn(scope: Construct, path: string): { path: string } {
  return {
    path: Stack.of(scope).formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: path.replace(/^\/+/, '').replace(/\/+$/, ''),
    }),
  };
}
