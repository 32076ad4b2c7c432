import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { NOTIFIER_ENV } from '../lambdas/notifier/notify.ts';
import { METRIC_NAMESPACE } from '../lambdas/shared/contract.ts';
import { BundledFunction } from './bundled-function.ts';
import { acknowledgeXRay } from './nag.ts';

/** The notifier shipped with driftwatch. */
export const NOTIFIER_HANDLER_ENTRY = fileURLToPath(
  new URL('../lambdas/notifier/handler.ts', import.meta.url),
);

export interface IncidentNotifierProps {
  /** Holds each model's incident record (`INCIDENT#<name>` / `incident`) beside its checks. */
  historyTable: dynamodb.ITable;
  /** Where the reports are: the page links the latest one. */
  resultsBucket: s3.IBucket;
  /** The topic on-call subscribes to. */
  topic: sns.ITopic;
  /** The topic's key. */
  topicKey: kms.IKey;
  /** Its executions' ends open or close a model's `retraining` signal. */
  retraining: sfn.IStateMachine;
  /** Start of the Page alarms' names: `<prefix><model>-Page`. */
  alarmNamePrefix: string;
  /** Linked from the page. @default no link */
  dashboardName?: string;
  /** Minutes between pages while an incident stays open. @default none: one page per incident */
  renotifyMinutes?: number | null;
  /** @default 3 months */
  logRetention?: logs.RetentionDays;
  /** @default the notifier shipped with driftwatch */
  entry?: string;
}

/**
 * Turns alarms into the page on-call reads. AWS's own alarm message names a metric, not a model, what broke
 * or a report, so the models' Page alarms have no action of their own: an EventBridge rule sends their
 * changes to ALARM to this function, which reads the model's incident record and publishes one message per
 * incident (model, what fired, link to the latest report) to the topic. A second rule sends the ends of
 * retraining executions, so a failed retraining opens the model's `retraining` signal.
 */
export class IncidentNotifier extends Construct {
  readonly function: BundledFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** `CloudWatch Alarm State Change` of the Page alarms, to ALARM. */
  readonly pageAlarmRule: events.Rule;
  /** `Step Functions Execution Status Change` of the retraining state machine, when it ends. */
  readonly retrainingRule: events.Rule;

  constructor(scope: Construct, id: string, props: IncidentNotifierProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'driftwatch: pages on-call once per model incident',
    });
    this.logGroup.grantWrite(this.role);
    for (const statement of [
      new iam.PolicyStatement({
        sid: 'IncidentRecords',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [props.historyTable.tableArn],
      }),
      new iam.PolicyStatement({ sid: 'Page', actions: ['sns:Publish'], resources: [props.topic.topicArn] }),
      new iam.PolicyStatement({
        sid: 'EncryptPages',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.topicKey.keyArn],
      }),
    ])
      this.role.addToPrincipalPolicy(statement);

    this.function = new BundledFunction(this, 'Function', {
      description: 'driftwatch: pages on-call once per model incident (model, what fired, latest report)',
      entry: props.entry ?? NOTIFIER_HANDLER_ENTRY,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        [NOTIFIER_ENV.historyTable]: props.historyTable.tableName,
        [NOTIFIER_ENV.topicArn]: props.topic.topicArn,
        [NOTIFIER_ENV.resultsBucket]: props.resultsBucket.bucketName,
        [NOTIFIER_ENV.alarmNamePrefix]: props.alarmNamePrefix,
        ...(props.dashboardName ? { [NOTIFIER_ENV.dashboardName]: props.dashboardName } : {}),
        ...(props.renotifyMinutes ? { [NOTIFIER_ENV.renotifyMinutes]: String(props.renotifyMinutes) } : {}),
        POWERTOOLS_SERVICE_NAME: 'driftwatch-notifier',
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    acknowledgeXRay(this.role);

    const target = () =>
      new targets.LambdaFunction(this.function, { retryAttempts: 4, maxEventAge: Duration.hours(1) });
    this.pageAlarmRule = new events.Rule(this, 'PageAlarms', {
      description: "driftwatch: a model's Page alarm went to ALARM: the notifier pages once per incident",
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: {
          alarmName: [{ wildcard: `${props.alarmNamePrefix}*-Page` }],
          state: { value: ['ALARM'] },
        },
      },
      targets: [target()],
    });
    this.retrainingRule = new events.Rule(this, 'RetrainingEnded', {
      description: "driftwatch: a retraining execution ended: opens or closes the model's retraining signal",
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [props.retraining.stateMachineArn],
          status: ['FAILED', 'TIMED_OUT', 'ABORTED', 'SUCCEEDED'],
        },
      },
      targets: [target()],
    });
  }
}
