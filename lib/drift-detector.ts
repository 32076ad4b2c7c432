import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DRIFT_ENV,
  type DriftModelRuntimeConfig,
  EVENT_SOURCE,
  METRIC_NAMESPACE,
} from '../lambdas/shared/contract.ts';
import {
  DEFAULT_DRIFT_MAX_CONCURRENCY,
  DEFAULT_DRIFT_MEMORY_MB,
  DEFAULT_DRIFT_TIMEOUT_SECONDS,
  DEFAULT_REPORTS_PREFIX,
} from './config/validate.ts';
import { DriftMetrics } from './drift-metrics.ts';
import { lambdaBundling } from './lambda-bundling.ts';
import { acknowledgeWildcardResource, XRAY_FUNCTION_ACTIONS } from './nag.ts';
import { secureQueueProps } from './secure-defaults.ts';

/** The drift handler shipped with driftwatch. */
export const DRIFT_HANDLER_ENTRY = fileURLToPath(new URL('../lambdas/drift/handler.ts', import.meta.url));

/** Receives before a message moves to the dead-letter queue. */
export const DEFAULT_MAX_RECEIVE_COUNT = 3;

export interface DriftDetectorProps {
  /** The model as its Lambda sees it: `driftRuntimeConfig(model)` of a validated config, or written by hand. */
  model: DriftModelRuntimeConfig;
  /** Bucket of the incoming data and baseline profile; it must send its events to EventBridge. */
  landingBucket: s3.IBucket;
  /** Bucket the reports are written to. */
  resultsBucket: s3.IBucket;
  /** Prefix of reports in `resultsBucket`; this model writes under `<prefix><model>/`. @default "reports/" */
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
   * Most concurrent invocations the queue starts (SQS event source maximum concurrency, 2-1000). Caps the
   * model's share of the account's concurrency without reserving any.
   * @default 5
   */
  maxConcurrency?: number;
  /** Concurrency reserved for (and capping) the function. @default none: the account's unreserved pool */
  reservedConcurrentExecutions?: number;
  /** Receives of a message before it moves to the dead-letter queue. @default 3 */
  maxReceiveCount?: number;
  /** @default RetentionDays.THREE_MONTHS */
  logRetention?: logs.RetentionDays;
}

/**
 * Checks every file dropped under a model's incoming prefix for drift. An EventBridge rule matches the
 * landing bucket's `Object Created` events under the prefix and queues them; the drift Lambda reads each file
 * and the baseline profile, writes the report and a history item, emits the metrics and puts a
 * `Drift Detected` event. A message that fails `maxReceiveCount` times, or that the handler judges
 * permanently bad, lands in the dead-letter queue, and so do events EventBridge could not deliver.
 *
 * The function's role can read only the model's incoming prefix and baseline profile, write only its reports
 * prefix, and put only `driftwatch` events.
 *
 * @example
 * ```ts
 * const detector = new DriftDetector(this, 'Churn', {
 *   model: driftRuntimeConfig(config.models[0]),
 *   landingBucket: landing.bucket,
 *   resultsBucket: results.bucket,
 *   historyTable: results.historyTable,
 *   idempotencyTable: idempotency.table,
 * });
 * ```
 */
export class DriftDetector extends Construct {
  readonly model: DriftModelRuntimeConfig;
  readonly rule: events.Rule;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The model's drift metrics, as the handler emits them. */
  readonly metrics: DriftMetrics;

  constructor(scope: Construct, id: string, props: DriftDetectorProps) {
    super(scope, id);
    const { model, landingBucket, resultsBucket, historyTable, idempotencyTable } = props;
    this.model = model;
    this.metrics = new DriftMetrics(model.name);
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

    this.rule = new events.Rule(this, 'ObjectCreated', {
      description: `Files created under ${model.incomingPrefix} go to the ${model.name} drift queue`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [landingBucket.bucketName] },
          object: { key: events.Match.prefix(model.incomingPrefix) },
        },
      },
      targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue })],
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Drift checks of model ${model.name}`,
    });
    this.logGroup.grantWrite(this.role);
    this.grantLeastPrivilege({ ...props, reportsPrefix, eventBus });

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      description: `driftwatch: drift checks of model ${model.name}`,
      entry: props.entry ?? DRIFT_HANDLER_ENTRY,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULT_DRIFT_MEMORY_MB,
      timeout,
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        [DRIFT_ENV.modelConfig]: JSON.stringify(model),
        [DRIFT_ENV.dataBucket]: landingBucket.bucketName,
        [DRIFT_ENV.resultsBucket]: resultsBucket.bucketName,
        [DRIFT_ENV.reportsPrefix]: reportsPrefix,
        [DRIFT_ENV.historyTable]: historyTable.tableName,
        [DRIFT_ENV.idempotencyTable]: idempotencyTable.tableName,
        [DRIFT_ENV.eventBusName]: eventBus.eventBusName,
        [DRIFT_ENV.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        POWERTOOLS_SERVICE_NAME: 'driftwatch-drift',
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: lambdaBundling(),
    });
    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        // One file per invocation: each file gets the whole timeout, and a failure retries only that file.
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency ?? DEFAULT_DRIFT_MAX_CONCURRENCY,
      }),
    );
    acknowledgeWildcardResource(
      this.role,
      '*',
      XRAY_FUNCTION_ACTIONS,
      'X-Ray PutTraceSegments and PutTelemetryRecords (active tracing) have no resource-level permissions.',
    );
  }

  /** Every permission of the function besides logs, tracing and its queue, each on one named resource. */
  private grantLeastPrivilege(
    props: DriftDetectorProps & { reportsPrefix: string; eventBus: events.IEventBus },
  ): void {
    const { model, landingBucket, resultsBucket, reportsPrefix, eventBus } = props;
    const incoming = landingBucket.arnForObjects(`${model.incomingPrefix}*`);
    const reports = resultsBucket.arnForObjects(`${reportsPrefix}${model.name}/*`);
    const statements = [
      new iam.PolicyStatement({
        sid: 'ReadIncomingFilesAndBaseline',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [incoming, landingBucket.arnForObjects(model.baselineProfileKey)],
      }),
      new iam.PolicyStatement({ sid: 'WriteReports', actions: ['s3:PutObject'], resources: [reports] }),
      // Drift reports sit under a timestamp folder; the performance check's reports share the model's prefix
      // under `performance/`, which the drift function must not be able to overwrite.
      new iam.PolicyStatement({
        sid: 'NotPerformanceReports',
        effect: iam.Effect.DENY,
        actions: ['s3:PutObject'],
        resources: [resultsBucket.arnForObjects(`${reportsPrefix}${model.name}/performance/*`)],
      }),
      new iam.PolicyStatement({
        sid: 'WriteHistory',
        actions: ['dynamodb:PutItem'],
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
      incoming,
      ['s3:GetObject', 's3:GetObjectVersion'],
      `Reads any file under this model's incoming prefix ${model.incomingPrefix}: new files arrive under new names.`,
    );
    acknowledgeWildcardResource(
      this.role,
      reports,
      ['s3:PutObject'],
      `Writes reports only under this model's prefix ${reportsPrefix}${model.name}/, one new key per check.`,
    );
  }
}
