import { fileURLToPath } from 'node:url';
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import {
  EVENT_SOURCE,
  METRIC_NAMESPACE,
  PERFORMANCE_ENV,
  type PerformanceCheckEvent,
} from '../lambdas/shared/contract.ts';
import { MODELS_ENV } from '../lambdas/shared/model-catalog.ts';
import { BundledFunction } from './bundled-function.ts';
import {
  DEFAULT_PERFORMANCE_MEMORY_MB,
  DEFAULT_PERFORMANCE_TIMEOUT_SECONDS,
  DEFAULT_REPORTS_PREFIX,
} from './config/validate.ts';
import { modelParametersArn } from './drift-detector.ts';
import { DRIFT_METRICS_MODEL_VARIABLE } from './drift-metrics.ts';
import { acknowledgeWildcardResource, acknowledgeXRay } from './nag.ts';
import { PerformanceMetrics } from './performance-metrics.ts';

/** The performance handler shipped with driftwatch. */
export const PERFORMANCE_HANDLER_ENTRY = fileURLToPath(
  new URL('../lambdas/performance/handler.ts', import.meta.url),
);

/** How long the Scheduler keeps trying to deliver one run, and how often: a late check is still a check. */
const SCHEDULE_MAX_EVENT_AGE = Duration.hours(1);
const SCHEDULE_RETRY_ATTEMPTS = 3;

export interface PerformanceMonitorProps {
  /** SSM path of the model parameters: the function reads its models there. */
  modelsParameterPath: string;
  /** Names the deployment; passed to the function. */
  stackName: string;
  /** Bucket of the golden datasets and the baseline reports. */
  landingBucket: s3.IBucket;
  /** Bucket the reports are written to. */
  resultsBucket: s3.IBucket;
  /** Prefix of reports in `resultsBucket`; a model writes under `<prefix><model>/performance/`. @default "reports/" */
  reportsPrefix?: string;
  /** Table of check history (one `PutItem` per check). */
  historyTable: dynamodb.ITable;
  /** Bus of driftwatch's own events (`Performance Degraded`). @default the account's default event bus */
  eventBus?: events.IEventBus;
  /** Handler source, bundled by the locally installed esbuild. @default {@link PERFORMANCE_HANDLER_ENTRY} */
  entry?: string;
  /** Memory of the function, MB. @default 1769 */
  memorySize?: number;
  /** @default 10 minutes */
  timeout?: Duration;
  /** @default RetentionDays.THREE_MONTHS */
  logRetention?: logs.RetentionDays;
}

/** A model's schedule: when its performance is checked. */
export interface PerformanceScheduleOptions {
  model: string;
  /** EventBridge Scheduler expression: `rate(1 day)`, `cron(0 6 * * ? *)`. */
  schedule: string;
  /** IANA time zone of the schedule. @default "UTC" */
  timezone?: string;
  /** Whether the schedule runs. @default true */
  enabled?: boolean;
}

/**
 * Checks a model's performance on its golden dataset on a schedule. An EventBridge Scheduler schedule (rate
 * or cron, in the config's time zone) invokes the performance Lambda with `{"model": …}`; the Lambda reads
 * the golden dataset, scores it with the model's SageMaker endpoint (or reads its score column), writes the
 * report and a history item, emits the metrics, stores the baseline report on its first success and puts a
 * `Performance Degraded` event per breached limit.
 *
 * The function's role can read only the golden dataset and the baseline report, write only the baseline
 * report and its reports prefix, put only `driftwatch` events, and invoke only the model's endpoint. The
 * schedule's role can invoke only this function.
 *
 * @example
 * ```ts
 * const monitor = new PerformanceMonitor(this, 'ChurnPerformance', {
 *   model: performanceRuntimeConfig(model),
 *   schedule: 'cron(0 6 * * ? *)',
 *   timezone: 'Europe/Paris',
 *   landingBucket: landing.bucket,
 *   resultsBucket: results.bucket,
 *   historyTable: results.historyTable,
 * });
 * ```
 */
export class PerformanceMonitor extends Construct {
  readonly function: BundledFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The role EventBridge Scheduler assumes to invoke the function (every model's schedule). */
  readonly scheduleRole: iam.Role;
  /** The selected model's performance metrics, as the shared dashboard draws them. */
  readonly metrics: PerformanceMetrics;

  constructor(scope: Construct, id: string, props: PerformanceMonitorProps) {
    super(scope, id);
    const { landingBucket, resultsBucket, historyTable } = props;
    this.metrics = new PerformanceMetrics(DRIFT_METRICS_MODEL_VARIABLE, null);
    const reportsPrefix = props.reportsPrefix ?? DEFAULT_REPORTS_PREFIX;
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    const stack = Stack.of(this);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'driftwatch: scheduled performance checks of every model',
    });
    this.logGroup.grantWrite(this.role);
    this.grantLeastPrivilege({ ...props, reportsPrefix, eventBus });

    this.function = new BundledFunction(this, 'Function', {
      description:
        'driftwatch: scheduled performance checks (invoke with {"model": "<name>"} to run one now)',
      entry: props.entry ?? PERFORMANCE_HANDLER_ENTRY,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULT_PERFORMANCE_MEMORY_MB,
      timeout: props.timeout ?? Duration.seconds(DEFAULT_PERFORMANCE_TIMEOUT_SECONDS),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      // A failed recording (S3 or DynamoDB unavailable) is retried twice; a failed check is recorded, not thrown.
      retryAttempts: 2,
      environment: {
        [MODELS_ENV.parameterPath]: props.modelsParameterPath,
        [MODELS_ENV.stackName]: props.stackName,
        [PERFORMANCE_ENV.dataBucket]: landingBucket.bucketName,
        [PERFORMANCE_ENV.resultsBucket]: resultsBucket.bucketName,
        [PERFORMANCE_ENV.reportsPrefix]: reportsPrefix,
        [PERFORMANCE_ENV.historyTable]: historyTable.tableName,
        [PERFORMANCE_ENV.eventBusName]: eventBus.eventBusName,
        POWERTOOLS_SERVICE_NAME: 'driftwatch-performance',
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    acknowledgeXRay(this.role);

    // Scheduler assumes this role only for schedules of this account (confused-deputy guard).
    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: invokes the performance checks of every model',
    });
    this.scheduleRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokePerformanceCheck',
        actions: ['lambda:InvokeFunction'],
        resources: [this.function.functionArn],
      }),
    );
  }

  /**
   * The schedule of one model (in `scope`, e.g. the model's shard stack): invokes the shared function with
   * `{"model": …}` as the shared schedule role. An L1 resource, so the function's stack is not touched.
   */
  scheduleFor(scope: Construct, id: string, options: PerformanceScheduleOptions): scheduler.CfnSchedule {
    const input: Required<PerformanceCheckEvent> = {
      model: options.model,
      executionId: scheduler.ContextAttribute.executionId,
      scheduledTime: scheduler.ContextAttribute.scheduledTime,
    };
    return new scheduler.CfnSchedule(scope, id, {
      description: `driftwatch: performance check of model ${options.model}, ${options.schedule}`,
      scheduleExpression: options.schedule,
      scheduleExpressionTimezone: options.timezone ?? 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: options.enabled === false ? 'DISABLED' : 'ENABLED',
      target: {
        arn: this.function.functionArn,
        roleArn: this.scheduleRole.roleArn,
        input: JSON.stringify(input),
        retryPolicy: {
          maximumEventAgeInSeconds: SCHEDULE_MAX_EVENT_AGE.toSeconds(),
          maximumRetryAttempts: SCHEDULE_RETRY_ATTEMPTS,
        },
      },
    });
  }

  /** Every permission of the function besides logs and tracing. */
  private grantLeastPrivilege(
    props: PerformanceMonitorProps & { reportsPrefix: string; eventBus: events.IEventBus },
  ): void {
    const { landingBucket, resultsBucket, reportsPrefix, eventBus } = props;
    const stack = Stack.of(this);
    const landingObjects = landingBucket.arnForObjects('*');
    // Only the performance reports (`<prefix><model>/performance/…`): the drift reports beside them are not its own.
    const reports = resultsBucket.arnForObjects(`${reportsPrefix}*/performance/*`);
    const endpoints = stack.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: '*' });
    const statements = [
      new iam.PolicyStatement({
        sid: 'ReadGoldenDatasetsAndBaselines',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [landingObjects],
      }),
      new iam.PolicyStatement({
        sid: 'WriteFirstBaselinesAndReports',
        actions: ['s3:PutObject'],
        resources: [landingObjects, reports],
      }),
      new iam.PolicyStatement({
        sid: 'ReadModelParameters',
        actions: ['ssm:GetParametersByPath'],
        resources: [modelParametersArn(this, props.modelsParameterPath).path],
      }),
      new iam.PolicyStatement({
        sid: 'WriteHistory',
        actions: ['dynamodb:PutItem'],
        resources: [props.historyTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'UpdateIncidents',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.historyTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'PutDriftwatchEvents',
        actions: ['events:PutEvents'],
        resources: [eventBus.eventBusArn],
        conditions: { StringEquals: { 'events:source': EVENT_SOURCE } },
      }),
      new iam.PolicyStatement({
        sid: 'ScoreWithModelEndpoints',
        actions: ['sagemaker:InvokeEndpoint'],
        resources: [endpoints],
      }),
    ];
    // Reading SSE-KMS objects needs Decrypt; writing them needs GenerateDataKey (and Decrypt for multipart).
    const keyActions = new Map<kms.IKey, Set<string>>();
    for (const key of [landingBucket.encryptionKey, resultsBucket.encryptionKey]) {
      if (key) keyActions.set(key, new Set(['kms:Decrypt', 'kms:GenerateDataKey']));
    }
    for (const [key, actions] of keyActions) {
      statements.push(new iam.PolicyStatement({ actions: [...actions].sort(), resources: [key.keyArn] }));
    }
    for (const statement of statements) this.role.addToPrincipalPolicy(statement);

    acknowledgeWildcardResource(
      this.role,
      landingObjects,
      ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
      'Reads golden datasets and baseline reports, and writes a first baseline report, in the landing bucket: ' +
        "each model's keys are data (its SSM parameter), so adding a model changes no policy.",
    );
    acknowledgeWildcardResource(
      this.role,
      reports,
      ['s3:PutObject'],
      `Writes performance reports under ${reportsPrefix}<model>/performance/, one new key per check.`,
    );
    acknowledgeWildcardResource(
      this.role,
      endpoints,
      ['sagemaker:InvokeEndpoint'],
      "Scores golden datasets with the endpoint each model's config names (data); endpoint ARNs are lower case.",
    );
  }
}
