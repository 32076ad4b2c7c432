import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FEEDBACK_ENV } from '../lambdas/feedback/aws.ts';
import { EVENT_SOURCE, METRIC_NAMESPACE } from '../lambdas/shared/contract.ts';
import { MODELS_ENV } from '../lambdas/shared/model-catalog.ts';
import { BundledFunction } from './bundled-function.ts';
import { modelParametersArn } from './drift-detector.ts';
import { acknowledge, acknowledgeXRay } from './nag.ts';
import { secureQueueProps } from './secure-defaults.ts';

/** The feedback consumer shipped with driftwatch. */
export const FEEDBACK_HANDLER_ENTRY = fileURLToPath(
  new URL('../lambdas/feedback/handler.ts', import.meta.url),
);

export interface FeedbackStreamProps {
  /** SSM path of the model parameters: the consumer reads each model's `conceptDrift` there. */
  modelsParameterPath: string;
  stackName: string;
  /** Encrypts the stream (the engine's key). */
  encryptionKey: kms.IKey;
  /** Bus of `Concept Drift Detected`. */
  eventBus: events.IEventBus;
  /** The history table: a detection opens the model's `conceptDrift` signal in its incident record there. */
  historyTable: dynamodb.ITable;
  /** `provisioned` (with `shards`) or `on-demand`. @default provisioned */
  mode?: 'provisioned' | 'on-demand';
  /** @default 1 */
  shards?: number;
  /** @default 24 */
  retentionHours?: number;
  /** Records per invocation at most. @default 1000 */
  batchSize?: number;
  /** Longest the mapping gathers a batch, seconds. @default 1 */
  batchWindowSeconds?: number;
  /** Retries of a failing batch before its range goes to the failure queue. @default 5 */
  retryAttempts?: number;
  /**
   * Concurrent batches per shard (1-10). Above 1, Lambda keeps records in order per partition key only, so
   * the consumer refuses (to the failure queue, with the reason) records whose partition key is not their
   * model's name. @default 1
   */
  parallelizationFactor?: number;
  /** @default RetentionDays.THREE_MONTHS */
  logRetention?: logs.RetentionDays;
  /** Handler source. @default {@link FEEDBACK_HANDLER_ENTRY} */
  entry?: string;
}

/**
 * The labelled feedback loop of every model: ONE Kinesis stream (one record per outcome, partition key the
 * model), ONE consumer function behind an event source mapping (batch window, bisect on error, partial batch
 * responses, retries, then the failure queue), ONE table of detector states (partition key `model`, sort key
 * `cohort`, a `version` every write checks) and ONE failure queue, which gets both the records that could
 * not be parsed (with the reason, sent by the function) and the ranges of batches that failed every retry
 * (sent by Lambda). Detections go out as `Concept Drift Detected` events and on the model's `Page` metric.
 */
export class FeedbackStream extends Construct {
  readonly stream: kinesis.Stream;
  readonly table: dynamodb.Table;
  readonly failureQueue: sqs.Queue;
  readonly function: BundledFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: FeedbackStreamProps) {
    super(scope, id);
    const onDemand = props.mode === 'on-demand';
    const parallelizationFactor = props.parallelizationFactor ?? 1;
    if (!Number.isInteger(parallelizationFactor) || parallelizationFactor < 1 || parallelizationFactor > 10)
      throw new Error(`parallelizationFactor: ${parallelizationFactor} is not an integer from 1 to 10`);
    this.stream = new kinesis.Stream(this, 'Stream', {
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: props.encryptionKey,
      streamMode: onDemand ? kinesis.StreamMode.ON_DEMAND : kinesis.StreamMode.PROVISIONED,
      ...(onDemand ? {} : { shardCount: props.shards ?? 1 }),
      retentionPeriod: Duration.hours(props.retentionHours ?? 24),
    });
    acknowledge(
      this.stream,
      'KDS3',
      "Encrypted with the engine's customer-managed key, as the buckets and topic are: the records carry labels " +
        'and cohort attributes, and the key policy is the one place access to them is decided. Kinesis caches data ' +
        'keys, so the key costs a few KMS requests an hour per producer and consumer.',
    );
    this.table = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'model', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'cohort', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Detector states can be rebuilt from new feedback; nothing else depends on them.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.failureQueue = new sqs.Queue(
      this,
      'FailureQueue',
      secureQueueProps({ retentionPeriod: Duration.days(14) }),
    );
    acknowledge(
      this.failureQueue,
      'SQS3',
      "This queue is itself a dead-letter queue: the event source mapping's on-failure destination and where the " +
        'consumer sends unparseable records; its messages wait here (14 days, alarmed) for on-call.',
    );

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'driftwatch: concept drift from the labelled feedback stream of every model',
    });
    logGroup.grantWrite(this.role);
    for (const statement of [
      new iam.PolicyStatement({
        sid: 'ReadModelParameters',
        actions: ['ssm:GetParametersByPath'],
        resources: [modelParametersArn(this, props.modelsParameterPath).path],
      }),
      new iam.PolicyStatement({
        sid: 'DetectorStates',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [this.table.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'PutConceptDriftEvents',
        actions: ['events:PutEvents'],
        resources: [props.eventBus.eventBusArn],
        conditions: { StringEquals: { 'events:source': EVENT_SOURCE } },
      }),
      new iam.PolicyStatement({
        sid: 'SendUnparseableRecords',
        actions: ['sqs:SendMessage'],
        resources: [this.failureQueue.queueArn],
      }),
    ])
      this.role.addToPrincipalPolicy(statement);

    this.function = new BundledFunction(this, 'Function', {
      description: 'driftwatch: concept drift detectors on the labelled feedback of every model',
      entry: props.entry ?? FEEDBACK_HANDLER_ENTRY,
      architecture: lambda.Architecture.ARM_64,
      // A batch of 1,000 outcomes takes a few milliseconds of CPU; the time is DynamoDB and EventBridge.
      memorySize: 512,
      timeout: Duration.seconds(60),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup,
      environment: {
        [MODELS_ENV.parameterPath]: props.modelsParameterPath,
        [MODELS_ENV.stackName]: props.stackName,
        [FEEDBACK_ENV.stateTable]: this.table.tableName,
        [FEEDBACK_ENV.failureQueueUrl]: this.failureQueue.queueUrl,
        [FEEDBACK_ENV.eventBusName]: props.eventBus.eventBusName,
        [FEEDBACK_ENV.historyTable]: props.historyTable.tableName,
        [FEEDBACK_ENV.parallelizationFactor]: String(parallelizationFactor),
        POWERTOOLS_SERVICE_NAME: 'driftwatch-feedback',
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    // The model's incident record (pk INCIDENT#<model>) beside its checks: read it, set one signal.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'UpdateIncidents',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [props.historyTable.tableArn],
      }),
    );
    // Reads the stream (and decrypts it with the key): granted by the event source.
    this.function.addEventSource(
      new KinesisEventSource(this.stream, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: props.batchSize ?? 1000,
        maxBatchingWindow: Duration.seconds(props.batchWindowSeconds ?? 1),
        bisectBatchOnError: true,
        retryAttempts: props.retryAttempts ?? 5,
        parallelizationFactor,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.failureQueue),
      }),
    );
    acknowledgeXRay(this.role);
  }
}
