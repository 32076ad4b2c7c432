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
import type { PerformanceMonitor } from './performance-monitor.ts';
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

/** Options of {@link Alerting.alarmOnPerformanceMonitor}. */
export interface PerformanceAlarmOptions {
  /** Period each alarm evaluates. @default the monitor's metric period (1 hour) */
  period?: Duration;
}

/** The alarms of one model's scheduled performance checks. */
export interface PerformanceAlarms {
  /** One per bound of each configured limit (`min`, `max`, `maxDrop`), in the config's order. */
  limits: cloudwatch.Alarm[];
  /** A check could not complete. */
  checkErrors: cloudwatch.Alarm;
  /** The performance Lambda failed (could not even record the check). */
  functionErrors: cloudwatch.Alarm;
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
    // CloudWatch publishes alarms to the encrypted topic with its own service principal: only alarms of this
    // account (the same conditions as the topic policy, so no other account's alarm can use the key).
    const stack = Stack.of(this);
    const alarmsOfThisAccount = {
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
      StringEquals: { 'aws:SourceAccount': stack.account },
    };
    this.masterKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: alarmsOfThisAccount,
      }),
    );
    this.topic = new sns.Topic(
      this,
      'Topic',
      secureTopicProps(this.masterKey, { displayName: 'driftwatch alarms' }),
    );
    // A topic policy replaces SNS's default one, so CloudWatch's right to publish is stated: only alarms of
    // this account.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: alarmsOfThisAccount,
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
   * The alarms of a model's performance checks: one per bound of each configured limit (a floor on
   * `PerformanceMetric` for `min`, a ceiling for `max`, a ceiling on `PerformanceDrop` for `maxDrop`, each on
   * its Metric and Segment), one on failed checks and one on the Lambda failing. A limit alarm keeps its
   * state between checks (missing data is ignored): it stays in ALARM until a check finds the metric within
   * its limit again.
   */
  alarmOnPerformanceMonitor(
    monitor: PerformanceMonitor,
    options: PerformanceAlarmOptions = {},
  ): PerformanceAlarms {
    const { model, metrics } = monitor;
    const name = model.name;
    const scope = new Construct(this, `Performance-${name}`);
    const period = options.period ?? metrics.period;
    const report =
      `the latest report under the results bucket's reports prefix, ${name}/performance/ (its key is in the ` +
      '"Performance Degraded" event)';
    const limits: cloudwatch.Alarm[] = [];
    model.limits.forEach((limit, index) => {
      const segment = limit.segment ?? null;
      const target =
        segment === null
          ? `${limit.metric} of the whole golden dataset`
          : `${limit.metric} of segment ${segment}`;
      const label = `${limit.metric}-${segment === null ? 'all' : segment}`;
      const runbook =
        `Runbook: open ${report} and compare with the baseline report ${model.baselineReportKey}; if the golden ` +
        'dataset or the endpoint changed unexpectedly, fix that; if the model degraded, retrain it.';
      if (limit.min !== undefined) {
        limits.push(
          this.alarmOnMetric(scope, `Limit${index}-Min`, {
            name: `${name}-${label}-Min`,
            metric: metrics.value(limit.metric, segment, 'Minimum').with({ period }),
            threshold: limit.min,
            comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.IGNORE,
            description: `Model ${name}: ${target} fell below ${limit.min}. ${runbook}`,
          }),
        );
      }
      if (limit.max !== undefined) {
        limits.push(
          this.alarmOnMetric(scope, `Limit${index}-Max`, {
            name: `${name}-${label}-Max`,
            metric: metrics.value(limit.metric, segment, 'Maximum').with({ period }),
            threshold: limit.max,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.IGNORE,
            description: `Model ${name}: ${target} rose above ${limit.max}. ${runbook}`,
          }),
        );
      }
      if (limit.maxDrop !== undefined) {
        limits.push(
          this.alarmOnMetric(scope, `Limit${index}-MaxDrop`, {
            name: `${name}-${label}-MaxDrop`,
            metric: metrics.drop(limit.metric, segment).with({ period }),
            threshold: limit.maxDrop,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.IGNORE,
            description:
              `Model ${name}: ${target} is more than ${Number((limit.maxDrop * 100).toPrecision(4))}% worse than in ` +
              `the baseline report. ${runbook} If the baseline itself is outdated, replace it.`,
          }),
        );
      }
    });
    return {
      limits,
      checkErrors: this.alarmOnMetric(scope, 'CheckErrors', {
        name: `${name}-PerformanceCheckErrors`,
        metric: metrics.checkErrors().with({ period }),
        description:
          `Model ${name}: a scheduled performance check failed (golden dataset missing or malformed, a label ` +
          'or score out of range, a column missing, or the endpoint erroring or answering with the wrong number ' +
          'of predictions). Runbook: find the history item (kind "performance", status "failed") or the log ' +
          'line "Performance check failed" with its run id; fix the golden dataset or the endpoint, then invoke ' +
          'the function with {"model": "' +
          name +
          '"} or wait for the next scheduled run.',
      }),
      functionErrors: this.alarmOnMetric(scope, 'FunctionErrors', {
        name: `${name}-PerformanceFunctionErrors`,
        metric: monitor.function.metricErrors({ period, statistic: 'Sum' }),
        description:
          `Model ${name}: the performance Lambda failed, so a check may have no record. Runbook: read its log ` +
          'group and X-Ray traces; a permission, throttling or timeout error needs a deploy fix (memory or ' +
          "timeout in the model's performance settings). Lambda retries a failed run twice.",
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
