import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { AccessLogsBucket } from './access-logs-bucket.ts';
import { Alerting, type DriftAlarms } from './alerting.ts';
import type { DriftwatchConfig } from './config/model-config.ts';
import { driftRuntimeConfig } from './config/runtime.ts';
import { DriftDetector } from './drift-detector.ts';
import { IdempotencyTable } from './idempotency-table.ts';
import { LandingBucket } from './landing-bucket.ts';
import { ModelDashboard } from './model-dashboard.ts';
import { ResultsStore } from './results-store.ts';
import { secureKeyProps } from './secure-defaults.ts';

export interface DriftwatchStackProps extends StackProps {
  /** A config checked by `validateConfig` (or `loadConfig`). */
  config: DriftwatchConfig;
  /** Drift handler source. @default the handler shipped with driftwatch */
  driftHandlerEntry?: string;
}

/** What the stack deploys for one model. */
export interface ModelResources {
  detector: DriftDetector;
  alarms: DriftAlarms;
  dashboard: ModelDashboard;
}

/**
 * Everything one config file declares: a landing bucket whose new files go, by model prefix, to a drift
 * detector per model; reports and history in the results store; alarms per model paging through one topic;
 * a dashboard per model. Environment-agnostic: it synthesizes offline, with no lookups.
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

  constructor(scope: Construct, id: string, props: DriftwatchStackProps) {
    const { config, driftHandlerEntry, ...stackProps } = props;
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
      models.set(model.name, { detector, alarms, dashboard });
      new CfnOutput(this, `DashboardOf-${model.name}`, {
        description: `CloudWatch dashboard of model ${model.name}`,
        value: dashboard.dashboard.dashboardName,
      });
    }
    this.models = models;

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
