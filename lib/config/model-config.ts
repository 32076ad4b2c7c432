/**
 * The validated shape of `driftwatch.config.json`: every default filled in, every constraint checked by
 * {@link validateConfig}. Code past the validator trusts these types. No CDK imports, so the CLI can load the
 * same file.
 *
 * Sections a later issue deploys (`retraining`, `canary`) are typed and validated now so a config written
 * today keeps working when they are wired.
 */
import type { MethodSetting } from '../../lambdas/core/drift/options.ts';
import type { FeatureType } from '../../lambdas/core/drift/types.ts';
import type { PerformanceLimit } from '../../lambdas/core/performance/limits.ts';
import type { MetricName } from '../../lambdas/core/performance/metrics.ts';
import type { EndpointContentType } from '../../lambdas/shared/contract.ts';
import type { RetrainingCanarySettings } from '../../lambdas/shared/retraining-contract.ts';

/** How the data buckets (landing and results) are encrypted. */
export type BucketEncryptionSetting = 'kms' | 's3-managed';

export interface DriftwatchConfig {
  /** CloudFormation stack name. @default "Driftwatch" */
  stackName: string;
  /**
   * Encryption of the landing and results buckets: `kms` (a customer-managed key with rotation, created by
   * the stack) or `s3-managed` (SSE-S3). The alarm topic always uses the stack's key.
   * @default "kms"
   */
  encryption: BucketEncryptionSetting;
  /** Retention of the Lambda log groups, in days (a value CloudWatch Logs accepts). @default 90 */
  logRetentionDays: number;
  /** Key prefix of reports in the results bucket (ends with `/`). @default "reports/" */
  reportsPrefix: string;
  /** Who is paged when an alarm fires. */
  alerts: AlertsConfig;
  models: ModelConfig[];
}

/** Subscriptions of the stack's one alarm topic. */
export interface AlertsConfig {
  /** Email addresses (each must confirm the subscription). @default [] */
  emails: string[];
  /** HTTPS endpoints, e.g. an incident tool's SNS integration URL. @default [] */
  httpsEndpoints: string[];
}

/** Where a model's files live in the landing bucket. Each prefix ends with `/`; no two prefixes overlap. */
export interface ModelPrefixes {
  /** New data to check for drift: every object created under it is checked. */
  incoming: string;
  /** Labelled (golden) datasets for performance checks. */
  golden: string;
  /** Baseline profiles (`driftwatch profile`) and baseline performance reports. */
  baselines: string;
}

export interface ModelConfig {
  /** Lower-case letters, digits and `-`, starting with a letter; used in resource, metric and alarm names. */
  name: string;
  /** @default "" */
  description: string;
  prefixes: ModelPrefixes;
  /**
   * Column types to force, by name. Columns not named are typed from the data (numeric when every value is
   * a number). When given, critical features and per-feature methods must name one of these.
   * @default {} (every column typed from the data)
   */
  features: Record<string, FeatureType>;
  /** Columns that are not features: labels, predictions, ids, timestamps. @default [] */
  exclude: string[];
  /** Column whose values split the data into segments tested separately. @default null */
  segment: string | null;
  drift: DriftSettings;
  /** SageMaker endpoint serving the model (performance checks without a score column, canary). */
  endpointName?: string;
  performance?: PerformanceConfig;
  retraining?: RetrainingConfig;
  canary?: CanaryConfig;
}

export interface DriftSettings {
  /** Method for every feature it applies to (`auto`, or `METHOD[:THRESHOLD]`). @default auto */
  method: MethodSetting | null;
  /** Per-feature `METHOD[:THRESHOLD]`, overriding `method`. @default {} */
  featureMethods: Record<string, MethodSetting>;
  /** Share of drifted features at which the dataset counts as drifted, in (0, 1]. @default 0.5 */
  driftShare: number;
  /** Features whose drift alone pages on-call. @default [] */
  criticalFeatures: string[];
  /** Key of the baseline profile, relative to `prefixes.baselines`. @default "profile.json" */
  baselineProfile: string;
  /** Larger incoming objects are refused with a failure record. @default 2 GiB */
  maxObjectBytes: number;
  /** gzip inputs that expand past this are refused. @default 10 GiB */
  maxDecompressedBytes: number;
  /** Memory of the drift Lambda, MB (1769 MB is one full vCPU). @default 1769 */
  memoryMb: number;
  /** Timeout of the drift Lambda, seconds (at most 900). @default 300 */
  timeoutSeconds: number;
  /** Most concurrent drift checks of this model (SQS event source maximum concurrency, >= 2). @default 5 */
  maxConcurrency: number;
}

/** Performance metrics of `shared/docs/performance-spec.md`. */
export type PerformanceMetric = MetricName;

/**
 * `PerformanceLimit`: a limit on one metric, for the whole dataset or one segment value; the core's type, the
 * same as `driftwatch evaluate --min/--max/--max-drop` take (at least one bound is set).
 * `EndpointContentType`: the payload format of the requests that score a golden dataset with the endpoint.
 */
export type { EndpointContentType, PerformanceLimit };

/** Scheduled performance checks on a golden dataset. */
export interface PerformanceConfig {
  /** EventBridge Scheduler expression: `rate(1 day)` or `cron(0 6 * * ? *)`. */
  schedule: string;
  /** IANA time zone of a cron schedule. @default "UTC" */
  timezone: string;
  /** Key of the golden dataset, relative to `prefixes.golden`. */
  goldenDataset: string;
  /** Key of the baseline performance report, relative to `prefixes.baselines`. @default "performance.json" */
  baselineReport: string;
  labelColumn: string;
  /** Label value of the positive class. */
  positiveClass: string;
  /** The only label values allowed (a row with another is a failed check); includes `positiveClass`. @default any */
  classes: string[] | null;
  /** Column holding the model's score; omitted: the golden dataset is scored by `endpointName`. */
  scoreColumn?: string;
  /** Score at or above which the prediction is positive, in [0, 1]. @default 0.5 */
  threshold: number;
  /** Column whose values the segment limits refer to. @default the model's `segment` */
  segmentColumn: string | null;
  limits: PerformanceLimit[];
  /** Format of `InvokeEndpoint` requests (endpoint scoring only). @default "application/json" */
  contentType: EndpointContentType;
  /** Most rows per `InvokeEndpoint` request; fewer when the payload would reach 6 MB. @default 500 */
  batchRows: number;
  /** Most `InvokeEndpoint` requests in flight at once. @default 4 */
  maxConcurrency: number;
  /** Memory of the performance Lambda, MB. @default 1769 */
  memoryMb: number;
  /** Timeout of the performance Lambda, seconds (at most 900). @default 600 */
  timeoutSeconds: number;
}

export type RetrainingTrigger = 'drift' | 'criticalFeatureDrift' | 'performance';

/** SageMaker retraining (deployed by a later issue). */
export interface RetrainingConfig {
  /** What starts a retraining run. */
  triggers: RetrainingTrigger[];
  /** Least time between two runs, hours. @default 24 */
  cooldownHours: number;
  /** Spend ceiling per calendar month, USD; a run that could exceed it is not started. */
  monthlyBudgetUsd: number;
  /** SageMaker training instance type, e.g. `ml.m5.xlarge`. */
  instanceType: string;
  /** @default 1 */
  instanceCount: number;
  /** On-demand price of one instance, USD per hour (used for the budget). */
  instancePricePerHourUsd: number;
  /** Stopping condition of a training job, minutes. @default 60 */
  maxRuntimeMinutes: number;
  /** Training image URI (ECR). */
  image: string;
  /** Passed to the training job as strings. @default {} */
  hyperparameters: Record<string, string>;
  /**
   * Scheduled retraining, an EventBridge Scheduler expression (`rate(30 days)`, `cron(0 3 1 * ? *)`), in UTC.
   * @default none: only events and `driftwatch retrain` start a run
   */
  schedule?: string;
  /** Inference image of the retrained model (CreateModel). @default the training `image` */
  inferenceImage: string;
  /**
   * Image of the model the endpoint serves when retraining starts, if it is not `inferenceImage` (say, a
   * model deployed before driftwatch). The pipeline scores the holdout with a copy of that model created
   * under its own SageMaker role, which may pull only the images named here; a run whose champion runs
   * another image stops before training and names this setting.
   * @default `inferenceImage`
   */
  championImage: string;
  /** Days of incoming data (by upload time) the training run uses. @default 30 */
  dataWindowDays: number;
  /**
   * Labelled holdout both models are scored on, relative to `prefixes.golden`.
   * @default the model's `performance.goldenDataset`
   */
  holdoutDataset: string;
  /** Metric the challenger must improve. @default "rocAuc" */
  primaryMetric: PerformanceMetric;
  /**
   * Least improvement of the primary metric over the champion, in the metric's units (a rise, or a fall for
   * `logLoss` and `brier`). @default 0.005
   */
  minImprovement: number;
  /** Largest regression of the primary metric allowed in any segment, in the metric's units. @default 0.02 */
  segmentTolerance: number;
  /** Instance type of the batch transforms that score the holdout. @default "ml.m5.large" */
  transformInstanceType: string;
}

/** Canary rollout of a retrained model (deployed by a later issue). */
export interface CanaryConfig extends RetrainingCanarySettings {
  /** Longest wait for the endpoint to be `InService` before or after an update, minutes. @default 60 */
  endpointWaitMinutes: number;
  /**
   * Where labelled feedback of the served predictions is uploaded (CSV: `variant,label,score`), a prefix of
   * the landing bucket. @default "<model>/feedback/"
   */
  feedbackPrefix: string;
}
