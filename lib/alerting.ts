import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { DriftDetector } from './drift-detector.ts';
import { secureKeyProps, secureTopicProps } from './secure-defaults.ts';

export interface AlertingProps {
  /**
   * Key encrypting the topic. When it is a key of this app, CloudWatch is allowed to use it; an imported key's
   * policy must already allow `cloudwatch.amazonaws.com` `kms:Decrypt` and `kms:GenerateDataKey*`.
   * @default a new customer-managed key with rotation
   */
  masterKey?: kms.IKey;
  /** Email addresses paged. @default none */
  emails?: readonly string[];
  /** HTTPS endpoints paged (e.g. an incident tool's SNS integration). @default none */
  httpsEndpoints?: readonly string[];
  /** Start of every alarm name. @default the stack name */
  alarmNamePrefix?: string;
}

/** Thresholds of a model's drift alarms; each alarm fires on one period at or above its threshold. */
export interface DriftAlarmOptions {
  /** Period each alarm evaluates. @default the detector's metric period (5 minutes) */
  period?: Duration;
  /** Files that could not be checked, per period. @default 1 */
  fileErrorsThreshold?: number;
  /** Failed invocations of the drift Lambda, per period. @default 1 */
  functionErrorsThreshold?: number;
  /** Messages waiting in the dead-letter queue. @default 1 */
  deadLetterMessagesThreshold?: number;
}

/** The alarms of one model's drift detection. */
export interface DriftAlarms {
  datasetDrift: cloudwatch.Alarm;
  criticalFeatureDrift: cloudwatch.Alarm;
  fileErrors: cloudwatch.Alarm;
  functionErrors: cloudwatch.Alarm;
  deadLetterMessages: cloudwatch.Alarm;
}

/** Options of {@link Alerting.alarmOnFailedExecutions}. */
export interface FailedExecutionsAlarmOptions {
  /** Model the state machine serves, named in the alarm. @default none */
  model?: string;
  /** @default 5 minutes */
  period?: Duration;
  /** Failed executions per period. @default 1 */
  threshold?: number;
}

/** An alarm on any metric, paging through the topic. */
export interface MetricAlarmOptions {
  metric: cloudwatch.IMetric;
  /** Alarm name after the prefix. */
  name: string;
  /** What happened, and the runbook line: what on-call does about it. */
  description: string;
  /** @default 1 */
  threshold?: number;
  /** @default 1 */
  evaluationPeriods?: number;
  /** @default GREATER_THAN_OR_EQUAL_TO_THRESHOLD */
  comparisonOperator?: cloudwatch.ComparisonOperator;
  /** @default NOT_BREACHING: no data means nothing happened */
  treatMissingData?: cloudwatch.TreatMissingData;
}

/**
 * Pages on-call: one encrypted SNS topic per stack, subscribed to by email and HTTPS, and CloudWatch alarms
 * that publish to it. Every alarm's description ends with what to do.
 *
 * @example
 * ```ts
 * const alerting = new Alerting(this, 'Alerting', { emails: ['oncall@example.com'] });
 * alerting.alarmOnDriftDetector(detector);
 * alerting.alarmOnFailedExecutions(retraining.stateMachine, { model: 'churn' });
 * ```
 */
export class Alerting extends Construct {
  readonly topic: sns.Topic;
  readonly masterKey: kms.IKey;
  /** Every alarm created here, in creation order. */
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly alarmNamePrefix: string;

  constructor(scope: Construct, id: string, props: AlertingProps = {}) {
    super(scope, id);
    this.alarmNamePrefix = props.alarmNamePrefix ?? Stack.of(this).stackName;
    this.masterKey = props.masterKey ?? new kms.Key(this, 'Key', secureKeyProps('driftwatch alarm topic'));
    // CloudWatch publishes alarms to the encrypted topic with its own service principal.
    this.masterKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(
      this,
      'Topic',
      secureTopicProps(this.masterKey, { displayName: 'driftwatch alarms' }),
    );
    // A topic policy replaces SNS's default one, so CloudWatch's right to publish is stated: only alarms of
    // this account.
    const stack = Stack.of(this);
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    for (const email of props.emails ?? [])
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    for (const url of props.httpsEndpoints ?? [])
      this.topic.addSubscription(new subscriptions.UrlSubscription(url));
  }

  /** An alarm on `metric` that publishes to the topic. */
  alarmOnMetric(scope: Construct, id: string, options: MetricAlarmOptions): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(scope, id, {
      alarmName: `${this.alarmNamePrefix}-${options.name}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold ?? 1,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      comparisonOperator:
        options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: options.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  /** The five alarms of a model's drift detection: dataset drift, critical feature drift, file errors,
   * function errors, dead-letter messages. */
  alarmOnDriftDetector(detector: DriftDetector, options: DriftAlarmOptions = {}): DriftAlarms {
    const name = detector.model.name;
    const scope = new Construct(this, `Drift-${name}`);
    const period = options.period ?? detector.metrics.period;
    const metrics = detector.metrics;
    const report =
      'the report under the results bucket\'s reports prefix (its key is in the "Drift Detected" event)';
    return {
      datasetDrift: this.alarmOnMetric(scope, 'DatasetDrift', {
        name: `${name}-DatasetDrift`,
        metric: metrics.datasetDrift().with({ period }),
        description:
          `Model ${name}: an incoming file drifted (the share of drifted features reached the threshold). ` +
          `Runbook: open ${report}, check the drifted features against the upstream data source; if the shift ` +
          'is a data bug, fix it upstream, if it is real, retrain the model or rebuild the baseline profile.',
      }),
      criticalFeatureDrift: this.alarmOnMetric(scope, 'CriticalFeatureDrift', {
        name: `${name}-CriticalFeatureDrift`,
        metric: metrics.criticalFeatureDrift().with({ period }),
        description:
          `Model ${name}: a critical feature drifted. Runbook: open ${report}, look at the critical features ` +
          'listed in it; if their values are wrong upstream, stop serving predictions on them until fixed, ' +
          'otherwise retrain the model.',
      }),
      fileErrors: this.alarmOnMetric(scope, 'FileErrors', {
        name: `${name}-FileErrors`,
        metric: metrics.fileErrors().with({ period }),
        threshold: options.fileErrorsThreshold ?? 1,
        description:
          `Model ${name}: an incoming file could not be checked (bad input, schema mismatch, too large, or no ` +
          'baseline). Runbook: find the failure item in the history table (status "failed") or the function ' +
          'logs; fix the file or upload the baseline profile, then upload the file again.',
      }),
      functionErrors: this.alarmOnMetric(scope, 'FunctionErrors', {
        name: `${name}-FunctionErrors`,
        metric: detector.function.metricErrors({ period, statistic: 'Sum' }),
        threshold: options.functionErrorsThreshold ?? 1,
        description:
          `Model ${name}: the drift Lambda failed. Runbook: read its log group and X-Ray traces for the error; ` +
          'a permission or throttling error needs a deploy fix, a timeout needs more memory or timeout in ' +
          "the model's drift settings. Failed files are retried, then land in the dead-letter queue.",
      }),
      deadLetterMessages: this.alarmOnMetric(scope, 'DeadLetterMessages', {
        name: `${name}-DeadLetterMessages`,
        metric: detector.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period,
          statistic: 'Maximum',
        }),
        threshold: options.deadLetterMessagesThreshold ?? 1,
        description:
          `Model ${name}: files that were never checked wait in the dead-letter queue. Runbook: read a message ` +
          'to see which file, fix the cause (see the FunctionErrors and FileErrors alarms), then redrive the ' +
          'queue to its source queue from the SQS console.',
      }),
    };
  }

  /**
   * An alarm on failed, timed-out or aborted executions of a state machine, e.g. a model's retraining.
   */
  alarmOnFailedExecutions(
    stateMachine: sfn.IStateMachine,
    options: FailedExecutionsAlarmOptions = {},
  ): cloudwatch.Alarm {
    const period = options.period ?? Duration.minutes(5);
    const label = options.model ? `${options.model}-${stateMachine.node.id}` : stateMachine.node.id;
    const sum = (metric: cloudwatch.Metric) => metric.with({ period, statistic: 'Sum' });
    return this.alarmOnMetric(new Construct(this, `Executions-${label}`), 'Failed', {
      name: `${label}-FailedExecutions`,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
        usingMetrics: {
          failed: sum(stateMachine.metricFailed()),
          timedOut: sum(stateMachine.metricTimedOut()),
          aborted: sum(stateMachine.metricAborted()),
        },
        label: 'Failed, timed-out and aborted executions',
        period,
      }),
      threshold: options.threshold ?? 1,
      description:
        `${options.model ? `Model ${options.model}: an` : 'An'} execution of ${stateMachine.node.id} failed, ` +
        'timed out or was aborted. Runbook: open the execution in the Step Functions console, find the failed ' +
        'state and its error; fix the cause (quota, budget, image, data) and start the execution again.',
    });
  }
}
