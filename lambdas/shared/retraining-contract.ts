/**
 * What the retraining pipeline's pieces agree on: the runtime config of its Lambdas, the payloads they
 * exchange through the state machine, the model-state record and the naming conventions the CLI relies on.
 * Plain data only (no AWS SDK), imported by the handlers, lib/retraining-pipeline.ts, the CLI and the tests.
 */
import type { MetricName } from '../core/performance/metrics.ts';

/** Environment variables of the retraining Lambdas. */
export const RETRAINING_ENV = {
  /** {@link RetrainingRuntimeConfig} as JSON. */
  modelConfig: 'MODEL_CONFIG',
  /** Landing bucket: labelled data under the golden prefix, feedback under the feedback prefix. */
  dataBucket: 'DATA_BUCKET',
  /** Results bucket: training inputs, artifacts and scores under `retraining/<model>/<run>/`. */
  workBucket: 'WORK_BUCKET',
  stateTable: 'STATE_TABLE',
} as const;

/** A floor of the evaluation: an absolute bound of the model's performance limits. */
export interface RetrainingFloor {
  metric: MetricName;
  segment?: string;
  min?: number;
  max?: number;
}

/** How a retrained model is rolled out: what the Lambdas need of the model's canary config (lib/config). */
export interface RetrainingCanarySettings {
  /** Traffic percentages of the new variant, increasing, ending at 100. @default [5, 25, 100] */
  steps: number[];
  /** Time at each step before the next, minutes. @default 30 */
  bakeMinutes: number;
  /** Significance level of the comparison with the current variant, in (0, 0.5]. @default 0.05 */
  alpha: number;
  /** Fewest scored requests per variant before a step can pass. @default 500 */
  minSamples: number;
  /** Mirror traffic to the new variant without serving its answers first. @default false */
  shadow: boolean;
  /**
   * Longest a step may stay inconclusive before the rollout is rolled back, minutes (at least `bakeMinutes`).
   * @default 120
   */
  deadlineMinutes: number;
  /** Largest share of the new variant's requests that may fail with a 5XX. @default 0.01 */
  maxErrorRate: number;
  /** Largest rise of the new variant's mean model latency over the current one's, a share. @default 0.2 */
  maxLatencyIncrease: number;
}

/** What the retraining Lambdas know of their model (derived from the validated config, see lib/config). */
export interface RetrainingRuntimeConfig {
  name: string;
  endpointName: string;
  packageGroupName: string;
  /** Labelled data for training and the holdout live under this prefix of the landing bucket. */
  goldenPrefix: string;
  holdoutKey: string;
  /** Work prefix in the results bucket, `retraining/<model>/`. */
  workPrefix: string;
  feedbackPrefix: string;
  labelColumn: string;
  positiveClass: string;
  threshold: number;
  segmentColumn: string | null;
  /** Columns the model reads, in order; null: every column but the label, segment and excluded ones. */
  featureColumns: string[] | null;
  exclude: string[];
  dataWindowDays: number;
  cooldownHours: number;
  monthlyBudgetUsd: number;
  instanceCount: number;
  instancePricePerHourUsd: number;
  maxRuntimeMinutes: number;
  inferenceImage: string;
  primaryMetric: MetricName;
  minImprovement: number;
  segmentTolerance: number;
  floors: RetrainingFloor[];
  canary: RetrainingCanarySettings;
  /** What the one shared state machine needs of this model, handed to it by the plan. */
  sageMaker: RetrainingSageMakerSettings;
  /** Event triggers that start a run of this model (`schedule` and `manual` always do). */
  triggers: RetrainingTriggerType[];
  /** How a `conceptDrift` trigger runs (null: the model has no conceptDrift section). */
  emergency: EmergencyRetrainingSettings | null;
}

/** An emergency run on concept drift: the recent window only, the cooldown possibly skipped. */
export interface EmergencyRetrainingSettings {
  skipCooldown: boolean;
  /** Fixed window, hours; null: the window the detector kept (24 hours when it keeps none). */
  windowHours: number | null;
  /** Column of each row's event time in the labelled files; null: files are selected by upload time. */
  eventTimeColumn: string | null;
  segmentRetraining: boolean;
}

/** The model's SageMaker settings, as the shared state machine reads them from `$.plan.sageMaker`. */
export interface RetrainingSageMakerSettings {
  trainingImage: string;
  inferenceImage: string;
  /** The image the serving model runs (retraining.championImage): its copy scores the holdout. */
  championImage: string;
  /**
   * The ECR region of the images, or their regions joined by `,` when they differ (then no stack region
   * matches and a run stops before training, naming the fix): SageMaker pulls only from its own region.
   */
  imageRegion: string;
  /**
   * The AWS account of the images' ECR repositories, joined by `,` when they differ. Pulling from another
   * account needs that repository's policy to allow the stack's SageMaker role: a run whose job fails then
   * says so.
   */
  imageAccount: string;
  hyperparameters: Record<string, string>;
  /** `ml.m5.xlarge` */
  instanceType: string;
  instanceCount: number;
  maxRuntimeSeconds: number;
  /** The training task's timeout: the stopping condition plus a margin for provisioning and upload. */
  trainingTaskTimeoutSeconds: number;
  transformInstanceType: string;
  /** Polls of the endpoint status before a change counts as stuck (endpointWaitMinutes). */
  endpointMaxPolls: number;
}

/** The kinds of start of a run. */
export type RetrainingTriggerType =
  | 'drift'
  | 'criticalFeatureDrift'
  | 'performance'
  | 'conceptDrift'
  | 'estimatedPerformance'
  | 'schedule'
  | 'manual';

/** Input of an execution: what EventBridge rules, the schedule and `driftwatch retrain` send. */
export interface RetrainingExecutionInput {
  model: string;
  trigger: {
    type: RetrainingTriggerType;
    /** The event's detail, the schedule's name, or the CLI's note. */
    detail?: unknown;
    /** Train on this segment's rows only. */
    segment?: { column: string; value: string } | null;
    /** Ignore the cooldown (never the lock); `driftwatch retrain --force`. */
    force?: boolean;
  };
}

/** Names of everything a run creates; SageMaker names are at most 63 characters. */
export interface RunNames {
  trainingJob: string;
  challengerModel: string;
  /** The serving model re-created under the pipeline's own SageMaker role, to score the holdout. */
  championModel: string;
  championTransformJob: string;
  challengerTransformJob: string;
  canaryEndpointConfig: string;
  promotedEndpointConfig: string;
  challengerVariant: string;
}

/** Output of the plan Lambda, at `$.plan`. */
export interface RunPlan {
  runId: string;
  now: string;
  month: string;
  /** Runs that started at or after this ISO time block a new one (cooldown); far future with `force`. */
  cooldownCutoff: string;
  /**
   * An emergency run's training window: labelled data from this ISO time on (rows by their event time, or
   * files by upload time); null: the last `dataWindowDays` days.
   */
  trainingSince: string | null;
  /** Column of each row's event time, for `trainingSince`; null: files by upload time. */
  eventTimeColumn: string | null;
  trigger: { type: RetrainingTriggerType; reason: string; segment: { column: string; value: string } | null };
  names: RunNames;
  s3: {
    trainUri: string;
    outputUri: string;
    holdoutFeaturesUri: string;
    championScoresUri: string;
    challengerScoresUri: string;
    metricsUri: string;
  };
  /** Per canary step, the weights of the two variants (they sum to 100). */
  canarySteps: { challenger: number; champion: number }[];
  lastStepIndex: number;
  shadow: boolean;
  /** The live endpoint of the model. */
  endpointName: string;
  cooldownHours: number;
  sageMaker: RetrainingSageMakerSettings;
  /** False: the trigger is not one of the model's (the run ends at once, skipped, without taking the lock). */
  triggerEnabled: boolean;
  /** Seconds the state machine bakes each step (Wait state). */
  bakeSeconds: number;
}

/** One data file of the run, for lineage. */
export interface DataFile {
  key: string;
  etag: string | null;
  versionId: string | null;
}

/** Output of the prepare-inputs Lambda, at `$.data`. */
export interface PreparedInputs {
  trainUri: string;
  files: DataFile[];
  segment: { column: string; value: string } | null;
  /** Rows written when the data was filtered (segment, emergency window by event time); null for a plain copy. */
  trainingRows: number | null;
  /** An emergency run's window start (the plan's `trainingSince`); null: the last `dataWindowDays`. */
  trainingSince: string | null;
  holdout: DataFile & { rows: number; featureColumns: string[] };
  /** S3 URI of the JSON manifest of every file above. */
  manifestUri: string;
}

/** The model-state record, one item per model (partition key `model`). */
export interface ModelStateItem {
  model: string;
  /** Execution that holds the lock; absent when no run is in progress. */
  runningExecution?: string;
  lockedAt?: string;
  /** Start of the last run that took the lock (cooldown). */
  lastRunAt?: string;
  spendMonth?: string;
  spendUsd?: number;
  champion?: ChampionRecord;
}

export interface ChampionRecord {
  modelName: string;
  packageArn: string | null;
  variantName: string;
  endpointConfigName: string;
  since: string;
}

/**
 * Naming conventions, so the CLI finds what the stack deployed from the config alone: the state machine
 * `<stack>-retraining` (shared by every model), the model-state table `<stack>-model-state`, the package group
 * `<stack>-<model>`.
 */
export const retrainingNames = {
  /** One state machine for every model of the deployment; the model is in the execution input. */
  stateMachine: (stack: string) => `${stack}-retraining`,
  stateTable: (stack: string) => `${stack}-model-state`,
  packageGroup: (stack: string, model: string) => `${stack}-${model}`,
} as const;
