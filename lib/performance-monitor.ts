import { fileURLToPath } from 'node:url';
import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import {
  EVENT_SOURCE,
  METRIC_NAMESPACE,
  PERFORMANCE_ENV,
  type PerformanceCheckEvent,
  type PerformanceModelRuntimeConfig,
} from '../lambdas/shared/contract.ts';
import {
  DEFAULT_PERFORMANCE_MEMORY_MB,
  DEFAULT_PERFORMANCE_TIMEOUT_SECONDS,
  DEFAULT_REPORTS_PREFIX,
} from './config/validate.ts';
import { lambdaBundling } from './lambda-bundling.ts';
import { acknowledgeWildcardResource, XRAY_FUNCTION_ACTIONS } from './nag.ts';
import { PerformanceMetrics } from './performance-metrics.ts';

/** The performance handler shipped with driftwatch. */
export const PERFORMANCE_HANDLER_ENTRY = fileURLToPath(
  new URL('../lambdas/performance/handler.ts', import.meta.url),
);

/** How long the Scheduler keeps trying to deliver one run, and how often: a late check is still a check. */
const SCHEDULE_MAX_EVENT_AGE = Duration.hours(1);
const SCHEDULE_RETRY_ATTEMPTS = 3;

export interface PerformanceMonitorProps {
  /** The model as its Lambda sees it: `performanceRuntimeConfig(model)` of a validated config. */
  model: PerformanceModelRuntimeConfig;
  /** EventBridge Scheduler expression: `rate(1 day)`, `cron(0 6 * * ? *)`. */
  schedule: string;
  /** IANA time zone of the schedule. @default "UTC" */
  timezone?: string;
  /** Bucket of the golden dataset and the baseline report. */
  landingBucket: s3.IBucket;
  /** Bucket the reports are written to. */
  resultsBucket: s3.IBucket;
  /** Prefix of reports in `resultsBucket`; this model writes under `<prefix><model>/performance/`. @default "reports/" */
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
  /** Whether the schedule runs. @default true */
  enabled?: boolean;
}

/** A schedule target invoking one function with a role that may invoke that function and nothing else. */
class InvokeFunctionTarget implements scheduler.IScheduleTarget {
  private readonly fn: lambda.IFunction;
  private readonly role: iam.IRole;
  private readonly input: scheduler.ScheduleTargetInput;

  constructor(fn: lambda.IFunction, role: iam.IRole, input: scheduler.ScheduleTargetInput) {
    this.fn = fn;
    this.role = role;
    this.input = input;
  }

  bind(): scheduler.ScheduleTargetConfig {
    return {
      arn: this.fn.functionArn,
      role: this.role,
      input: this.input,
      retryPolicy: {
        maximumEventAgeInSeconds: SCHEDULE_MAX_EVENT_AGE.toSeconds(),
        maximumRetryAttempts: SCHEDULE_RETRY_ATTEMPTS,
      },
    };
  }
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
  readonly model: PerformanceModelRuntimeConfig;
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly schedule: scheduler.Schedule;
  /** The role EventBridge Scheduler assumes to invoke the function. */
  readonly scheduleRole: iam.Role;
  /** The model's performance metrics, as the handler emits them. */
  readonly metrics: PerformanceMetrics;
  /** ARN of the SageMaker endpoint that scores the golden dataset; null with a score column. */
  readonly endpointArn: string | null;

  constructor(scope: Construct, id: string, props: PerformanceMonitorProps) {
    super(scope, id);
    const { model, landingBucket, resultsBucket, historyTable } = props;
    this.model = model;
    this.metrics = new PerformanceMetrics(model.name, model.segmentColumn);
    const reportsPrefix = props.reportsPrefix ?? DEFAULT_REPORTS_PREFIX;
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    const stack = Stack.of(this);
    // SageMaker ARNs carry the endpoint name in lower case, whatever its case when created.
    this.endpointArn =
      model.scoring.kind === 'endpoint'
        ? stack.formatArn({
            service: 'sagemaker',
            resource: 'endpoint',
            resourceName: model.scoring.endpointName.toLowerCase(),
          })
        : null;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Scheduled performance checks of model ${model.name}`,
    });
    this.logGroup.grantWrite(this.role);
    this.grantLeastPrivilege({ ...props, reportsPrefix, eventBus });

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      description: `driftwatch: scheduled performance checks of model ${model.name}`,
      entry: props.entry ?? PERFORMANCE_HANDLER_ENTRY,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULT_PERFORMANCE_MEMORY_MB,
      timeout: props.timeout ?? Duration.seconds(DEFAULT_PERFORMANCE_TIMEOUT_SECONDS),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      // A failed recording (S3 or DynamoDB unavailable) is retried twice; a failed check is recorded, not thrown.
      retryAttempts: 2,
      environment: {
        [PERFORMANCE_ENV.modelConfig]: JSON.stringify(model),
        [PERFORMANCE_ENV.dataBucket]: landingBucket.bucketName,
        [PERFORMANCE_ENV.resultsBucket]: resultsBucket.bucketName,
        [PERFORMANCE_ENV.reportsPrefix]: reportsPrefix,
        [PERFORMANCE_ENV.historyTable]: historyTable.tableName,
        [PERFORMANCE_ENV.eventBusName]: eventBus.eventBusName,
        POWERTOOLS_SERVICE_NAME: 'driftwatch-performance',
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: lambdaBundling(),
    });
    acknowledgeWildcardResource(
      this.role,
      '*',
      XRAY_FUNCTION_ACTIONS,
      'X-Ray PutTraceSegments and PutTelemetryRecords (active tracing) have no resource-level permissions.',
    );

    // Scheduler assumes this role only for schedules of this account (confused-deputy guard).
    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `EventBridge Scheduler: invokes the performance check of model ${model.name}`,
    });
    this.scheduleRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokePerformanceCheck',
        actions: ['lambda:InvokeFunction'],
        resources: [this.function.functionArn],
      }),
    );
    const input: Required<PerformanceCheckEvent> = {
      model: model.name,
      executionId: scheduler.ContextAttribute.executionId,
      scheduledTime: scheduler.ContextAttribute.scheduledTime,
    };
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `driftwatch: performance check of model ${model.name}, ${props.schedule}`,
      schedule: scheduler.ScheduleExpression.expression(props.schedule, TimeZone.of(props.timezone ?? 'UTC')),
      target: new InvokeFunctionTarget(
        this.function,
        this.scheduleRole,
        scheduler.ScheduleTargetInput.fromObject(input),
      ),
      enabled: props.enabled ?? true,
    });
  }

  /** Every permission of the function besides logs and tracing, each on one named resource. */
  private grantLeastPrivilege(
    props: PerformanceMonitorProps & { reportsPrefix: string; eventBus: events.IEventBus },
  ): void {
    const { model, landingBucket, resultsBucket, reportsPrefix, eventBus } = props;
    const golden = landingBucket.arnForObjects(model.goldenDatasetKey);
    const baseline = landingBucket.arnForObjects(model.baselineReportKey);
    const reports = resultsBucket.arnForObjects(`${reportsPrefix}${model.name}/performance/*`);
    const statements = [
      new iam.PolicyStatement({
        sid: 'ReadGoldenDatasetAndBaseline',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [golden, baseline],
      }),
      new iam.PolicyStatement({
        sid: 'WriteFirstBaselineAndReports',
        actions: ['s3:PutObject'],
        resources: [baseline, reports],
      }),
      new iam.PolicyStatement({
        sid: 'WriteHistory',
        actions: ['dynamodb:PutItem'],
        resources: [props.historyTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'PutDriftwatchEvents',
        actions: ['events:PutEvents'],
        resources: [eventBus.eventBusArn],
        conditions: { StringEquals: { 'events:source': EVENT_SOURCE } },
      }),
    ];
    if (this.endpointArn !== null) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'ScoreWithModelEndpoint',
          actions: ['sagemaker:InvokeEndpoint'],
          resources: [this.endpointArn],
        }),
      );
    }
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
      reports,
      ['s3:PutObject'],
      `Writes performance reports only under ${reportsPrefix}${model.name}/performance/, one new key per check.`,
    );
  }
}
