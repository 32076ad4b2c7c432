import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { retrainingNames } from '../lambdas/shared/retraining-contract.ts';
import { AccessLogsBucket } from './access-logs-bucket.ts';
import { Alerting, type DriftAlarms, type PerformanceAlarms } from './alerting.ts';
import type { DriftwatchConfig } from './config/model-config.ts';
import { driftRuntimeConfig, performanceRuntimeConfig } from './config/runtime.ts';
import { DriftDetector } from './drift-detector.ts';
import { IdempotencyTable } from './idempotency-table.ts';
import { LandingBucket } from './landing-bucket.ts';
import { ModelDashboard } from './model-dashboard.ts';
import { ModelStateTable } from './model-state-table.ts';
import { PerformanceMonitor } from './performance-monitor.ts';
import { ResultsStore } from './results-store.ts';
import { RetrainingPipeline } from './retraining-pipeline.ts';
import { secureKeyProps } from './secure-defaults.ts';

export interface DriftwatchStackProps extends StackProps {
  /** A config checked by `validateConfig` (or `loadConfig`). */
  config: DriftwatchConfig;
  /** Drift handler source. @default the handler shipped with driftwatch */
  driftHandlerEntry?: string;
  /** Performance handler source. @default the handler shipped with driftwatch */
  performanceHandlerEntry?: string;
}

/** What the stack deploys for one model. */
export interface ModelResources {
  detector: DriftDetector;
  alarms: DriftAlarms;
  dashboard: ModelDashboard;
  /** Scheduled performance checks and their alarms; present when the model has a `performance` section. */
  performance?: { monitor: PerformanceMonitor; alarms: PerformanceAlarms };
}

/**
 * Everything one config file declares: a landing bucket whose new files go, by model prefix, to a drift
 * detector per model; scheduled performance checks of the models with a `performance` section; reports and
 * history in the results store; alarms per model paging through one topic; a dashboard per model.
 * Environment-agnostic: it synthesizes offline, with no lookups.
 */
export class DriftwatchStack extends Stack {
  /** Encrypts the alarm topic and, with `encryption: "kms"`, the landing and results buckets. */
  readonly key: kms.Key;
  readonly landing: LandingBucket;
  readonly results: ResultsStore;
  readonly idempotency: IdempotencyTable;
  readonly alerting: Alerting;
  /** The bus driftwatch's own events (`Drift Detected`) go to: the account's default bus. */
  readonly eventBus: events.IEventBus;
  /** By model name. */
  readonly models: ReadonlyMap<string, ModelResources>;
  /** Retraining pipelines, by model name (models with a `retraining` section). */
  readonly retraining: ReadonlyMap<string, RetrainingPipeline>;
  /** Lock, cooldown, spend and champion per model; present when a model retrains. */
  readonly modelState?: ModelStateTable;

  constructor(scope: Construct, id: string, props: DriftwatchStackProps) {
    const { config, driftHandlerEntry, performanceHandlerEntry, ...stackProps } = props;
    super(scope, id, {
      description: 'driftwatch: drift checks of ML model inputs, with alarms that page on-call',
      ...stackProps,
    });
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
    this.eventBus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.alerting = new Alerting(this, 'Alerting', {
      masterKey: this.key,
      emails: config.alerts.emails,
      httpsEndpoints: config.alerts.httpsEndpoints,
    });

    const models = new Map<string, ModelResources>();
    for (const model of config.models) {
      const detector = new DriftDetector(this, `Drift-${model.name}`, {
        model: driftRuntimeConfig(model),
        landingBucket: this.landing.bucket,
        resultsBucket: this.results.bucket,
        reportsPrefix: this.results.reportsPrefix,
        historyTable: this.results.historyTable,
        idempotencyTable: this.idempotency.table,
        eventBus: this.eventBus,
        entry: driftHandlerEntry,
        memorySize: model.drift.memoryMb,
        timeout: Duration.seconds(model.drift.timeoutSeconds),
        maxConcurrency: model.drift.maxConcurrency,
        logRetention: config.logRetentionDays as logs.RetentionDays,
      });
      const alarms = this.alerting.alarmOnDriftDetector(detector);
      const dashboard = new ModelDashboard(this, `Dashboard-${model.name}`, {
        detector,
        alarms: Object.values(alarms),
      });
      // Performance: a schedule per model with a performance section, alarms on its limits, dashboard widgets.
      let performance: ModelResources['performance'];
      if (model.performance !== undefined) {
        const monitor = new PerformanceMonitor(this, `Performance-${model.name}`, {
          model: performanceRuntimeConfig({ ...model, performance: model.performance }),
          schedule: model.performance.schedule,
          timezone: model.performance.timezone,
          landingBucket: this.landing.bucket,
          resultsBucket: this.results.bucket,
          reportsPrefix: this.results.reportsPrefix,
          historyTable: this.results.historyTable,
          eventBus: this.eventBus,
          entry: performanceHandlerEntry,
          memorySize: model.performance.memoryMb,
          timeout: Duration.seconds(model.performance.timeoutSeconds),
          logRetention: config.logRetentionDays as logs.RetentionDays,
        });
        const performanceAlarms = this.alerting.alarmOnPerformanceMonitor(monitor);
        dashboard.addPerformanceWidgets(monitor, [
          ...performanceAlarms.limits,
          performanceAlarms.checkErrors,
          performanceAlarms.functionErrors,
        ]);
        performance = { monitor, alarms: performanceAlarms };
        new CfnOutput(this, `PerformanceFunctionOf-${model.name}`, {
          description: `Performance check of model ${model.name} (invoke with {"model": "${model.name}"} to run it now)`,
          value: monitor.function.functionName,
        });
      }
      models.set(model.name, { detector, alarms, dashboard, ...(performance && { performance }) });
      new CfnOutput(this, `DashboardOf-${model.name}`, {
        description: `CloudWatch dashboard of model ${model.name}`,
        value: dashboard.dashboard.dashboardName,
      });
    }
    this.models = models;

    // Retraining: one state machine per model with a retraining section, sharing the model-state table.
    const retrained = config.models.filter((model) => model.retraining !== undefined);
    if (retrained.length > 0) {
      this.modelState = new ModelStateTable(this, 'ModelState', {
        tableName: retrainingNames.stateTable(config.stackName),
      });
      new CfnOutput(this, 'ModelStateTableName', { value: this.modelState.table.tableName });
    }
    const retraining = new Map<string, RetrainingPipeline>();
    for (const model of retrained) {
      const pipeline = new RetrainingPipeline(this, `Retraining-${model.name}`, {
        model,
        stackName: config.stackName,
        landingBucket: this.landing.bucket,
        resultsBucket: this.results.bucket,
        stateTable: this.modelState!.table,
        topic: this.alerting.topic,
        eventBus: this.eventBus,
        logRetention: config.logRetentionDays as logs.RetentionDays,
      });
      this.alerting.alarmOnFailedExecutions(pipeline.stateMachine, { model: model.name });
      retraining.set(model.name, pipeline);
      new CfnOutput(this, `RetrainingStateMachineOf-${model.name}`, {
        description: `Retraining state machine of model ${model.name} (driftwatch retrain ${model.name})`,
        value: pipeline.stateMachine.stateMachineArn,
      });
    }
    this.retraining = retraining;

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
  }
}
