/** The constructs and config functions of driftwatch, for use in your own CDK app. */
export { AccessLogsBucket, type AccessLogsBucketProps } from './access-logs-bucket.ts';
export {
  Alerting,
  type AlertingProps,
  type EngineAlarms,
  type FailedExecutionsAlarmOptions,
  type MetricAlarmOptions,
} from './alerting.ts';
export { BundledFunction, type BundledFunctionProps } from './bundled-function.ts';
export { ConfigValidationError } from './config/errors.ts';
export { DEFAULT_CONFIG_FILE, loadConfig } from './config/load.ts';
export type * from './config/model-config.ts';
export { driftRuntimeConfig, feedbackSettings, performanceRuntimeConfig } from './config/runtime.ts';
export { validateConfig } from './config/validate.ts';
export { DRIFT_HANDLER_ENTRY, DriftDetector, type DriftDetectorProps } from './drift-detector.ts';
export { DriftMetrics } from './drift-metrics.ts';
export { DriftwatchStack, type DriftwatchStackProps } from './driftwatch-stack.ts';
export { FEEDBACK_HANDLER_ENTRY, FeedbackStream, type FeedbackStreamProps } from './feedback-stream.ts';
export { IdempotencyTable } from './idempotency-table.ts';
export { ESM_REQUIRE_BANNER, handlerBundle, SHIPPED_HANDLERS } from './lambda-bundles.ts';
export { LandingBucket, type LandingBucketProps } from './landing-bucket.ts';
export { ModelDashboard, type ModelDashboardProps } from './model-dashboard.ts';
export {
  addDriftwatch,
  type DriftwatchDeployment,
  MODEL_SHARDS,
  ModelResources,
  ModelShardStack,
  modelStackName,
  shardOf,
} from './model-stacks.ts';
export { DEFAULT_PERFORMANCE_PERIOD, PerformanceMetrics } from './performance-metrics.ts';
export {
  PERFORMANCE_HANDLER_ENTRY,
  PerformanceMonitor,
  type PerformanceMonitorProps,
} from './performance-monitor.ts';
export { ResultsStore, type ResultsStoreProps } from './results-store.ts';
export { secureBucketProps, secureKeyProps, secureQueueProps, secureTopicProps } from './secure-defaults.ts';
