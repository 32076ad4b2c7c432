import type { FeedbackSettings } from '../../lambdas/core/concept-drift/feedback.ts';
import type {
  DriftModelRuntimeConfig,
  PerformanceModelRuntimeConfig,
} from '../../lambdas/shared/contract.ts';
import { type RetrainingRuntimeConfig, retrainingNames } from '../../lambdas/shared/retraining-contract.ts';
import type { CanaryConfig, ModelConfig, PerformanceConfig } from './model-config.ts';
import { defaultCanaryConfig } from './validate.ts';

/** Margin over the training job's stopping condition for its `.sync` task (provisioning, upload). */
export const TRAINING_MARGIN_MINUTES = 30;
/** Seconds between two polls of an endpoint's status by the state machine. */
export const ENDPOINT_POLL_SECONDS = 30;

/** Where a run's files go in the results bucket. */
export const RETRAINING_WORK_PREFIX = 'retraining/';

/**
 * What the drift Lambda of `model` needs, passed to it as the `MODEL_CONFIG` JSON. Pure: the same validated
 * model always gives the same runtime config, so a deployment changes the function only when the config did.
 */
export function driftRuntimeConfig(model: ModelConfig): DriftModelRuntimeConfig {
  const typed = Object.entries(model.features);
  return {
    name: model.name,
    incomingPrefix: model.prefixes.incoming,
    baselineProfileKey: `${model.prefixes.baselines}${model.drift.baselineProfile}`,
    numeric: typed.filter(([, type]) => type === 'numeric').map(([name]) => name),
    categorical: typed.filter(([, type]) => type === 'categorical').map(([name]) => name),
    exclude: [...model.exclude],
    segment: model.segment,
    method: model.drift.method,
    featureMethods: { ...model.drift.featureMethods },
    driftShare: model.drift.driftShare,
    criticalFeatures: [...model.drift.criticalFeatures],
    fdr: model.drift.fdr,
    minEffect: { ...model.drift.minEffect },
    persistence: { ...model.drift.persistence },
    maxObjectBytes: model.drift.maxObjectBytes,
    maxDecompressedBytes: model.drift.maxDecompressedBytes,
    ...(model.capture && {
      capture: {
        prefix: model.capture.prefix,
        endpoints: [...model.capture.endpoints],
        windowMinutes: model.capture.windowMinutes,
        maxRows: model.capture.maxRows,
        graceMinutes: model.capture.graceMinutes,
        maxBadShare: model.capture.maxBadShare,
        scoreColumn: model.capture.scoreColumn,
        features: Object.keys(model.features),
        ...(model.performance &&
          model.capture.estimate.enabled && {
            estimate: {
              // Without a reference nor a scored golden dataset the key is empty: every estimate is withheld.
              referenceKey:
                model.capture.estimate.reference !== undefined
                  ? `${model.prefixes.golden}${model.capture.estimate.reference}`
                  : model.performance.scoreColumn !== undefined
                    ? `${model.prefixes.golden}${model.performance.goldenDataset}`
                    : '',
              referenceScoreColumn: model.performance.scoreColumn ?? model.capture.scoreColumn,
              referenceModel: model.capture.estimate.referenceModel,
              labelColumn: model.performance.labelColumn,
              positiveClass: model.performance.positiveClass,
              classes: model.performance.classes === null ? null : [...model.performance.classes],
              threshold: model.performance.threshold,
              segmentColumn: model.performance.segmentColumn,
              limits: model.performance.limits.map((limit) => ({ ...limit })),
              baselineReportKey: `${model.prefixes.baselines}${model.performance.baselineReport}`,
            },
          }),
        ...(model.capture.groundTruth && {
          groundTruth: {
            prefix: model.capture.groundTruth.prefix,
            idColumn: model.capture.groundTruth.idColumn,
            labelColumn: model.capture.groundTruth.labelColumn,
            timeColumn: model.capture.groundTruth.timeColumn,
            settleMinutes: model.capture.groundTruth.settleMinutes,
            maxDelayHours: model.capture.groundTruth.maxDelayHours,
            positiveClass: model.performance?.positiveClass ?? '1',
            classes: model.performance?.classes ? [...model.performance.classes] : null,
            threshold: model.performance?.threshold ?? 0.5,
            segmentColumn: model.performance === undefined ? model.segment : model.performance.segmentColumn,
            limits: (model.performance?.limits ?? []).map((limit) => ({ ...limit })),
            baselineReportKey:
              model.performance === undefined
                ? null
                : `${model.prefixes.baselines}${model.performance.baselineReport}`,
            feedback: model.conceptDrift !== undefined,
          },
        }),
      },
    }),
  };
}

/**
 * What the performance Lambda of `model` needs, passed to it as the `MODEL_CONFIG` JSON: keys made absolute,
 * and how scores are obtained (the golden dataset's score column, or the endpoint with the model's declared
 * features in their order). Pure, like {@link driftRuntimeConfig}.
 */
export function performanceRuntimeConfig(
  model: ModelConfig & { performance: PerformanceConfig },
): PerformanceModelRuntimeConfig {
  const { performance } = model;
  return {
    name: model.name,
    goldenDatasetKey: `${model.prefixes.golden}${performance.goldenDataset}`,
    baselineReportKey: `${model.prefixes.baselines}${performance.baselineReport}`,
    labelColumn: performance.labelColumn,
    positiveClass: performance.positiveClass,
    classes: performance.classes === null ? null : [...performance.classes],
    threshold: performance.threshold,
    segmentColumn: performance.segmentColumn,
    limits: performance.limits.map((limit) => ({ ...limit })),
    scoring:
      performance.scoreColumn !== undefined
        ? { kind: 'column', scoreColumn: performance.scoreColumn }
        : {
            kind: 'endpoint',
            // Validation requires an endpoint when there is no score column.
            endpointName: model.endpointName!,
            contentType: performance.contentType,
            features: Object.entries(model.features).map(([name, type]) => ({ name, type })),
            batchRows: performance.batchRows,
            maxConcurrency: performance.maxConcurrency,
          },
    maxDecompressedBytes: model.drift.maxDecompressedBytes,
  };
}

/**
 * What the retraining Lambdas of `model` need. Pure, like `driftRuntimeConfig`.
 *
 * @throws Error when the model has no retraining section, endpoint or performance section (the validator
 * already refuses such a config).
 */
export function retrainingRuntimeConfig(model: ModelConfig, stackName: string): RetrainingRuntimeConfig {
  const { retraining, performance, endpointName } = model;
  if (!retraining || !performance || !endpointName) {
    throw new Error(`model ${model.name}: retraining needs retraining, performance and endpointName`);
  }
  const canary: CanaryConfig = model.canary ?? defaultCanaryConfig(model.name);
  const declared = Object.keys(model.features);
  return {
    name: model.name,
    endpointName,
    packageGroupName: retrainingNames.packageGroup(stackName, model.name),
    goldenPrefix: model.prefixes.golden,
    holdoutKey: `${model.prefixes.golden}${retraining.holdoutDataset}`,
    workPrefix: `${RETRAINING_WORK_PREFIX}${model.name}/`,
    feedbackPrefix: canary.feedbackPrefix,
    labelColumn: performance.labelColumn,
    positiveClass: performance.positiveClass,
    threshold: performance.threshold,
    segmentColumn: performance.segmentColumn,
    featureColumns: declared.length > 0 ? declared : null,
    exclude: [...model.exclude, ...(performance.scoreColumn ? [performance.scoreColumn] : [])],
    dataWindowDays: retraining.dataWindowDays,
    cooldownHours: retraining.cooldownHours,
    monthlyBudgetUsd: retraining.monthlyBudgetUsd,
    instanceCount: retraining.instanceCount,
    instancePricePerHourUsd: retraining.instancePricePerHourUsd,
    maxRuntimeMinutes: retraining.maxRuntimeMinutes,
    inferenceImage: retraining.inferenceImage,
    primaryMetric: retraining.primaryMetric,
    minImprovement: retraining.minImprovement,
    segmentTolerance: retraining.segmentTolerance,
    floors: performance.limits
      .filter((limit) => limit.min !== undefined || limit.max !== undefined)
      .map((limit) => ({
        metric: limit.metric,
        ...(limit.segment !== undefined && limit.segment !== null && { segment: limit.segment }),
        ...(limit.min !== undefined && { min: limit.min }),
        ...(limit.max !== undefined && { max: limit.max }),
      })),
    sageMaker: {
      trainingImage: retraining.image,
      inferenceImage: retraining.inferenceImage,
      championImage: retraining.championImage,
      imageRegion: [
        ...new Set(
          [retraining.image, retraining.inferenceImage, retraining.championImage].map(
            (image) => /\.dkr\.ecr\.([a-z0-9-]+)\./.exec(image)?.[1] ?? image,
          ),
        ),
      ].join(','),
      imageAccount: [
        ...new Set(
          [retraining.image, retraining.inferenceImage, retraining.championImage].map(
            (image) => /^(\d{12})\.dkr\.ecr\./.exec(image)?.[1] ?? image,
          ),
        ),
      ].join(','),
      hyperparameters: { ...retraining.hyperparameters },
      instanceType: retraining.instanceType,
      instanceCount: retraining.instanceCount,
      maxRuntimeSeconds: retraining.maxRuntimeMinutes * 60,
      trainingTaskTimeoutSeconds: (retraining.maxRuntimeMinutes + TRAINING_MARGIN_MINUTES) * 60,
      transformInstanceType: retraining.transformInstanceType,
      endpointMaxPolls: Math.ceil((canary.endpointWaitMinutes * 60) / ENDPOINT_POLL_SECONDS),
    },
    triggers: [...retraining.triggers],
    emergency: model.conceptDrift
      ? {
          skipCooldown: model.conceptDrift.emergencyRetraining.skipCooldown,
          windowHours: model.conceptDrift.emergencyRetraining.windowHours ?? null,
          eventTimeColumn: model.conceptDrift.emergencyRetraining.eventTimeColumn ?? null,
          segmentRetraining: model.conceptDrift.emergencyRetraining.segmentRetraining,
        }
      : null,
    canary: {
      steps: [...canary.steps],
      bakeMinutes: canary.bakeMinutes,
      alpha: canary.alpha,
      minSamples: canary.minSamples,
      shadow: canary.shadow,
      deadlineMinutes: canary.deadlineMinutes,
      maxErrorRate: canary.maxErrorRate,
      maxLatencyIncrease: canary.maxLatencyIncrease,
    },
  };
}

/** What the feedback consumer needs of a model; undefined when the model has no `conceptDrift` section. */
export function feedbackSettings(model: ModelConfig): FeedbackSettings | undefined {
  const concept = model.conceptDrift;
  if (concept === undefined) return undefined;
  return {
    name: model.name,
    model: model.name,
    positiveClass: concept.positiveClass,
    threshold: concept.threshold,
    cohorts: [...concept.cohorts],
    maxCohortsPerAttribute: concept.maxCohortsPerAttribute,
    detectors: concept.detectors.map((detector) => ({
      method: detector.method,
      parameters: { ...detector.parameters },
    })),
    rateMonitors: concept.rateMonitors.map((monitor) => ({
      name: monitor.name,
      outcome: monitor.outcome,
      baselineRate: monitor.baselineRate,
      baselineTrials: monitor.baselineTrials ?? null,
      alpha: monitor.alpha,
      minSamples: monitor.minSamples,
    })),
    renotifyAfterMs: concept.renotifyAfterMinutes * 60_000,
    segmentColumn: model.segment,
    retrains: model.retraining?.triggers.includes('conceptDrift') ?? false,
    segmentRetraining: concept.emergencyRetraining.segmentRetraining,
  };
}
