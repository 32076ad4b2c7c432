import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DIMENSION, METRIC, METRIC_NAMESPACE, UNROUTED_MODEL } from '../lambdas/shared/contract.ts';
import type { DriftDetector } from './drift-detector.ts';
import { modelMetric } from './metric-factory.ts';
import type { PerformanceMonitor } from './performance-monitor.ts';
import { secureKeyProps, secureTopicProps } from './secure-defaults.ts';

/** Model name of the failures of files under no model's prefix (as the drift handler records them). */

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

/** The alarms of the shared engine (not of one model): each pages with what broke. */
export interface EngineAlarms {
  /** Files that never got checked wait in the dead-letter queue (any model). */
  deadLetterMessages: cloudwatch.Alarm;
  /** The drift function failed (permissions, timeouts, throttling). */
  driftFunctionErrors: cloudwatch.Alarm;
  /** The performance function failed. */
  performanceFunctionErrors: cloudwatch.Alarm;
  /** A file landed under no configured model's prefix. */
  unroutedFiles: cloudwatch.Alarm;
  /**
   * A retraining execution failed, timed out or was aborted (any model): drawn on the dashboard, not paged,
   * since each failure pages through its model's Page alarm, naming the model.
   */
  retrainingFailed: cloudwatch.Alarm;
}

/** Options of {@link Alerting.alarmOnFailedExecutions}. */
export interface FailedExecutionsAlarmOptions {
  /** Model the state machine serves, named in the alarm. @default none */
  model?: string;
  /** @default 5 minutes */
  period?: Duration;
  /** Failed executions per period. @default 1 */
  threshold?: number;
  /** Publish the alarm to the topic. @default true */
  notify?: boolean;
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
  /** Publish the alarm to the topic; false: drawn on the dashboard only. @default true */
  notify?: boolean;
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
    // CloudWatch publishes alarms to the encrypted topic with its own service principal: only alarms of
    // this account (confused-deputy guard).
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
    const alarm = this.metricAlarm(scope, id, options);
    if (options.notify !== false) alarm.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  /** An alarm on `metric`, named with the prefix, the defaults of {@link MetricAlarmOptions}, no action. */
  private metricAlarm(
    scope: Construct,
    id: string,
    options: Omit<MetricAlarmOptions, 'notify'>,
  ): cloudwatch.Alarm {
    return new cloudwatch.Alarm(scope, id, {
      alarmName: `${this.alarmNamePrefix}-${options.name}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold ?? 1,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      comparisonOperator:
        options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: options.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Start of the models' Page alarm names: `<prefix>-`. */
  get pageAlarmNamePrefix(): string {
    return `${this.alarmNamePrefix}-`;
  }

  /**
   * The ONE paging alarm of a model (in `scope`, e.g. its shard stack): `Page` (Model) reaches 1 in a
   * 5-minute period whenever a shared function finds a signal of this model's incident open. One standard
   * alarm on one metric: $0.10 a month. It has no action: its change to ALARM reaches the notifier through
   * EventBridge (see `IncidentNotifier`), which pages once per incident with the model, what fired and the
   * latest report.
   */
  pageAlarm(scope: Construct, id: string, model: string): cloudwatch.Alarm {
    return this.metricAlarm(scope, id, {
      name: `${model}-Page`,
      description:
        `Model ${model}: something broke - drift or critical-feature drift persisting (M of the last N checks), ` +
        'a file sent to the dead-letter queue, a performance limit breached, a performance check or a retraining ' +
        'failed. The notifier pages once per incident, naming what fired. Runbook: open the driftwatch dashboard, ' +
        `select ${model}: "What paged (by reason)" names it; the page links the latest report, and the history ` +
        `table holds the checks and the incident record (pk INCIDENT#${model}, sk incident).`,
      metric: modelMetric(model, Duration.minutes(5), METRIC.page, 'Sum'),
    });
  }

  /**
   * The estimate alarm of a model whose capture windows are estimated (CBPE): `EstimatedPerformanceBreaches`
   * (Model) at 1 or more in an hour. Its own alarm, so on-call can tell an estimate from a measurement. It
   * has no action and opens no incident: an estimate is an expectation that assumes no concept drift, and
   * the labels, when they arrive, confirm it or not through the measured check, which pages. Route
   * `Performance Estimated Degraded` events from the bus to be told earlier.
   */
  estimateAlarm(scope: Construct, id: string, model: string): cloudwatch.Alarm {
    return this.metricAlarm(scope, id, {
      name: `${model}-PerformanceEstimated`,
      description:
        `Model ${model}: the performance estimated from a Data Capture window's scores (CBPE, before labels) ` +
        'breached a limit of performance.limits. An estimate, not a measurement: it pages no one. Runbook: ' +
        `the dashboard's "Estimated performance" shows which variant and metric; the window's report is under ` +
        `<reports prefix>${model}/capture-windows/; the measured check on labels is the authority.`,
      metric: modelMetric(model, Duration.hours(1), METRIC.estimatedPerformanceBreaches, 'Maximum'),
    });
  }

  /** The alarms of the shared engine: dead letters, function errors, unrouted files, failed retraining. */
  alarmOnEngine(
    detector: DriftDetector,
    performance: PerformanceMonitor,
    retraining: sfn.IStateMachine,
  ): EngineAlarms {
    const scope = new Construct(this, 'Engine');
    const period = detector.metrics.period;
    return {
      deadLetterMessages: this.alarmOnMetric(scope, 'DeadLetterMessages', {
        name: 'DeadLetterMessages',
        // Both dead-letter queues: the landing one, and the FIFO one of checks that failed every retry.
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(landing, 0) + FILL(checks, 0)',
          usingMetrics: {
            landing: detector.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
              period,
              statistic: 'Maximum',
            }),
            checks: detector.checksDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
              period,
              statistic: 'Maximum',
            }),
          },
          label: 'Messages in the dead-letter queues',
          period,
        }),
        description:
          'Files that were never checked wait in a dead-letter queue. Runbook: read a message (its "model" and ' +
          '"key" attributes name the model and file), fix the cause, then redrive the queue to its source queue ' +
          '(the landing queue, or the FIFO checks queue for its FIFO dead-letter queue).',
      }),
      driftFunctionErrors: this.alarmOnMetric(scope, 'DriftFunctionErrors', {
        name: 'DriftFunctionErrors',
        metric: detector.function.metricErrors({ period, statistic: 'Sum' }),
        description:
          'The shared drift Lambda failed. Runbook: read its log group (each line names the model) and X-Ray ' +
          'traces; failed files are retried, then land in the dead-letter queue.',
      }),
      performanceFunctionErrors: this.alarmOnMetric(scope, 'PerformanceFunctionErrors', {
        name: 'PerformanceFunctionErrors',
        metric: performance.function.metricErrors({ period, statistic: 'Sum' }),
        description:
          'The shared performance Lambda failed, so a check may have no record. Runbook: read its log group ' +
          '(each line names the model); a schedule of a removed model fails here too.',
      }),
      unroutedFiles: this.alarmOnMetric(scope, 'UnroutedFiles', {
        name: 'UnroutedFiles',
        metric: new cloudwatch.Metric({
          namespace: METRIC_NAMESPACE,
          metricName: METRIC.fileErrors.name,
          dimensionsMap: { [DIMENSION.model]: UNROUTED_MODEL },
          statistic: 'Sum',
          period,
        }),
        description:
          "A file landed in the landing bucket under no model's prefixes. Runbook: find the failed history item " +
          `(model ${UNROUTED_MODEL}); move the file under its model's incoming prefix, or add the model.`,
      }),
      retrainingFailed: this.alarmOnFailedExecutions(retraining, { notify: false }),
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
      ...(options.notify === undefined ? {} : { notify: options.notify }),
      description:
        `${options.model ? `Model ${options.model}: an` : 'An'} execution of ${stateMachine.node.id} failed, ` +
        'timed out or was aborted. Runbook: open the execution in the Step Functions console, find the failed ' +
        'state and its error; fix the cause (quota, budget, image, data) and start the execution again.',
    });
  }
}
