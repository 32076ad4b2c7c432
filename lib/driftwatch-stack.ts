import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { modelsParameterPath } from '../lambdas/shared/model-catalog.ts';
import { retrainingNames } from '../lambdas/shared/retraining-contract.ts';
import { AccessLogsBucket } from './access-logs-bucket.ts';
import { Alerting, type EngineAlarms } from './alerting.ts';
import { CaptureWindowTable } from './capture-window-table.ts';
import type { DriftwatchConfig } from './config/model-config.ts';
import { DriftDetector } from './drift-detector.ts';
import { FeedbackStream } from './feedback-stream.ts';
import { IdempotencyTable } from './idempotency-table.ts';
import { IncidentNotifier } from './incident-notifier.ts';
import { LandingBucket } from './landing-bucket.ts';
import { ModelDashboard } from './model-dashboard.ts';
import { ModelStateTable } from './model-state-table.ts';
import { PerformanceMonitor } from './performance-monitor.ts';
import { ResultsStore } from './results-store.ts';
import { RetrainingPipeline } from './retraining-pipeline.ts';
import { secureKeyProps } from './secure-defaults.ts';

export interface DriftwatchStackProps extends StackProps {
  /**
   * A config checked by `validateConfig` (or `loadConfig`). The engine reads only its deployment-wide
   * settings (stack name, encryption, log retention, reports prefix, alerts): the models are data, deployed
   * by the model stacks (see `addDriftwatch`), so adding a model changes nothing here.
   */
  config: DriftwatchConfig;
  /** Drift handler source. @default the handler shipped with driftwatch */
  driftHandlerEntry?: string;
  /** Performance handler source. @default the handler shipped with driftwatch */
  performanceHandlerEntry?: string;
}

/**
 * The shared engine of a deployment: the landing and results buckets, history, idempotency, Data Capture
 * window and model-state tables, the key, ONE drift function behind one landing queue (and DLQ), ONE performance function, ONE set
 * of retraining functions and ONE retraining state machine, the alarm topic with the engine's alarms, and one
 * dashboard with a model selector. The models are data (one SSM parameter each, written by the model stacks)
 * the functions read with a cache. Environment-agnostic: it synthesizes offline, with no lookups.
 *
 * The logical ids of the buckets, tables and key are those of earlier versions, so a deployment upgrades in
 * place and keeps its data.
 */
export class DriftwatchStack extends Stack {
  /** Encrypts the alarm topic and, with `encryption: "kms"`, the landing and results buckets. */
  readonly key: kms.Key;
  readonly landing: LandingBucket;
  readonly results: ResultsStore;
  readonly idempotency: IdempotencyTable;
  /** Data Capture windows of every model with `capture`. */
  readonly captureWindows: CaptureWindowTable;
  readonly alerting: Alerting;
  /** The bus driftwatch's own events (`Drift Detected`) go to: the account's default bus. */
  readonly eventBus: events.IEventBus;
  readonly drift: DriftDetector;
  readonly performance: PerformanceMonitor;
  readonly retraining: RetrainingPipeline;
  /** Lock, cooldown, spend and champion per model. */
  readonly modelState: ModelStateTable;
  readonly dashboard: ModelDashboard;
  readonly engineAlarms: EngineAlarms;
  /** Pages on-call once per model incident, from the models' Page alarms. */
  readonly notifier: IncidentNotifier;
  /** The labelled feedback stream and its consumer: present when a model has a `conceptDrift` section. */
  readonly feedback?: FeedbackStream;
  /** SSM path of the model parameters, `/driftwatch/<stack>/models/`. */
  readonly modelsParameterPath: string;

  constructor(scope: Construct, id: string, props: DriftwatchStackProps) {
    const { config, driftHandlerEntry, performanceHandlerEntry, ...stackProps } = props;
    super(scope, id, {
      description: 'driftwatch engine: drift, performance and retraining of every configured model',
      ...stackProps,
    });
    this.modelsParameterPath = modelsParameterPath(config.stackName);
    this.key = new kms.Key(
      this,
      'Key',
      secureKeyProps(`driftwatch ${this.stackName}: buckets and alarm topic`),
    );
    const dataKey = config.encryption === 'kms' ? this.key : undefined;
    const accessLogs = new AccessLogsBucket(this, 'AccessLogs');
    this.landing = new LandingBucket(this, 'Landing', {
      encryptionKey: dataKey,
      serverAccessLogsBucket: accessLogs.bucket,
    });
    this.results = new ResultsStore(this, 'Results', {
      encryptionKey: dataKey,
      serverAccessLogsBucket: accessLogs.bucket,
      reportsPrefix: config.reportsPrefix,
    });
    this.idempotency = new IdempotencyTable(this, 'Idempotency');
    this.captureWindows = new CaptureWindowTable(this, 'CaptureWindows');
    this.eventBus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.alerting = new Alerting(this, 'Alerting', {
      masterKey: this.key,
      emails: config.alerts.emails,
      httpsEndpoints: config.alerts.httpsEndpoints,
    });
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    const shared = {
      modelsParameterPath: this.modelsParameterPath,
      stackName: config.stackName,
      landingBucket: this.landing.bucket,
      resultsBucket: this.results.bucket,
      reportsPrefix: this.results.reportsPrefix,
      historyTable: this.results.historyTable,
      eventBus: this.eventBus,
      logRetention,
    };
    // The functions are sized for the largest model's settings (memory and timeout are per function).
    const largest = (
      pick: (model: DriftwatchConfig['models'][number]) => number | undefined,
      fallback: number,
    ) => Math.max(fallback, ...config.models.map((model) => pick(model) ?? 0));
    this.drift = new DriftDetector(this, 'Drift', {
      ...shared,
      idempotencyTable: this.idempotency.table,
      captureTable: this.captureWindows.table,
      entry: driftHandlerEntry,
      memorySize: largest((model) => model.drift.memoryMb, 1769),
      timeout: Duration.seconds(largest((model) => model.drift.timeoutSeconds, 300)),
    });
    this.performance = new PerformanceMonitor(this, 'Performance', {
      ...shared,
      entry: performanceHandlerEntry,
      memorySize: largest((model) => model.performance?.memoryMb, 1769),
      timeout: Duration.seconds(largest((model) => model.performance?.timeoutSeconds, 600)),
    });
    this.modelState = new ModelStateTable(this, 'ModelState', {
      tableName: retrainingNames.stateTable(config.stackName),
    });
    this.retraining = new RetrainingPipeline(this, 'Retraining', {
      stackName: config.stackName,
      modelsParameterPath: this.modelsParameterPath,
      landingBucket: this.landing.bucket,
      resultsBucket: this.results.bucket,
      stateTable: this.modelState.table,
      topic: this.alerting.topic,
      eventBus: this.eventBus,
      logRetention,
    });
    this.engineAlarms = this.alerting.alarmOnEngine(
      this.drift,
      this.performance,
      this.retraining.stateMachine,
    );
    const engineAlarms = Object.values(this.engineAlarms);
    if (config.models.some((model) => model.conceptDrift !== undefined)) {
      const settings = config.feedbackStream;
      this.feedback = new FeedbackStream(this, 'Feedback', {
        modelsParameterPath: this.modelsParameterPath,
        stackName: config.stackName,
        encryptionKey: this.key,
        eventBus: this.eventBus,
        historyTable: this.results.historyTable,
        mode: settings.mode,
        shards: settings.shards,
        retentionHours: settings.retentionHours,
        batchSize: settings.batchSize,
        batchWindowSeconds: settings.batchWindowSeconds,
        retryAttempts: settings.retryAttempts,
        parallelizationFactor: settings.parallelizationFactor,
        logRetention,
      });
      // Labels joined to captured predictions feed the detectors too (issue 13 section 3, issue 14 section 2).
      this.drift.feedJoinedOutcomes(this.feedback.stream);
      // Engine-wide: each message names its model (unparseable records) or the shard range (failed batches).
      engineAlarms.push(
        this.alerting.alarmOnMetric(this.feedback, 'FailuresAlarm', {
          name: 'FeedbackFailures',
          metric: this.feedback.failureQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(5),
            statistic: 'Maximum',
          }),
          description:
            'Feedback records could not be applied: the failure queue holds unparseable records (the "model" and ' +
            '"reason" attributes say which and why) or the shard ranges of batches that failed every retry. ' +
            "Runbook: read a message; fix the producer, or the cause of the failures (the feedback function's " +
            'log group), then replay the range from the stream (its retention allowing) and delete the message.',
        }),
      );
      engineAlarms.push(
        this.alerting.alarmOnMetric(this.feedback, 'IteratorAgeAlarm', {
          name: 'FeedbackIteratorAge',
          metric: this.feedback.function.metric('IteratorAge', {
            period: Duration.minutes(5),
            statistic: 'Maximum',
          }),
          threshold: 5 * 60_000,
          description:
            'The feedback consumer is more than 5 minutes behind the stream: concept drift is detected late. ' +
            "Runbook: check the feedback function's errors and throttles; add shards (feedbackStream.shards) or " +
            'raise feedbackStream.parallelizationFactor when the stream is busier than its shards.',
        }),
      );
      new CfnOutput(this, 'FeedbackStreamName', {
        description:
          'Send labelled outcomes here: one JSON record per outcome {"model", "label", "prediction", "cohort", "eventTime"}, partition key the model',
        value: this.feedback.stream.streamName,
      });
      new CfnOutput(this, 'FeedbackFailureQueueUrl', { value: this.feedback.failureQueue.queueUrl });
    }
    this.dashboard = new ModelDashboard(this, 'Dashboard', {
      detector: this.drift,
      performance: this.performance,
      retraining: this.retraining.stateMachine,
      alarms: engineAlarms,
    });
    this.notifier = new IncidentNotifier(this, 'Notifier', {
      historyTable: this.results.historyTable,
      resultsBucket: this.results.bucket,
      topic: this.alerting.topic,
      topicKey: this.key,
      retraining: this.retraining.stateMachine,
      alarmNamePrefix: this.alerting.pageAlarmNamePrefix,
      dashboardName: this.dashboard.dashboard.dashboardName,
      renotifyMinutes: config.alerts.renotifyMinutes,
      logRetention,
    });
    // The notifier cannot page about its own failures: its errors page with AWS's alarm message.
    this.alerting.alarmOnMetric(this.alerting, 'NotifierErrors', {
      name: 'NotifierErrors',
      metric: this.notifier.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      description:
        "The notifier failed, so a model's incident may not have paged. Runbook: read its log group (each line " +
        'names the model), fix the cause; the incident records in the history table (sk incident) say what is open.',
    });

    new CfnOutput(this, 'LandingBucketName', {
      description: "Upload files under each model's prefixes here",
      value: this.landing.bucket.bucketName,
    });
    new CfnOutput(this, 'ResultsBucketName', {
      description: `Reports, under ${this.results.reportsPrefix}<model>/`,
      value: this.results.bucket.bucketName,
    });
    new CfnOutput(this, 'HistoryTableName', { value: this.results.historyTable.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alerting.topic.topicArn });
    new CfnOutput(this, 'ModelStateTableName', { value: this.modelState.table.tableName });
    new CfnOutput(this, 'RetrainingStateMachineArn', {
      description:
        'Retraining of every model: start it with {"model": "<name>", "trigger": …} (driftwatch retrain)',
      value: this.retraining.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'RetrainingSageMakerRoleArn', {
      description:
        "The role SageMaker's training and transform jobs run as: an ECR repository in another account must let it pull",
      value: this.retraining.sageMakerRole.roleArn,
    });
    new CfnOutput(this, 'PerformanceFunctionName', {
      description: 'Performance checks: invoke with {"model": "<name>"} to run one now',
      value: this.performance.function.functionName,
    });
    new CfnOutput(this, 'DashboardName', {
      description: 'The CloudWatch dashboard of every model (pick the model at the top)',
      value: this.dashboard.dashboard.dashboardName,
    });
    new CfnOutput(this, 'ModelsParameterPath', {
      description: 'Where the models live as data (one SSM parameter each)',
      value: this.modelsParameterPath,
    });
  }
}
