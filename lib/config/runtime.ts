import type {
  DriftModelRuntimeConfig,
  PerformanceModelRuntimeConfig,
} from '../../lambdas/shared/contract.ts';
import type { ModelConfig, PerformanceConfig } from './model-config.ts';

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
