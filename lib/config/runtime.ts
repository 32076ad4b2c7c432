import type { DriftModelRuntimeConfig } from '../../lambdas/shared/contract.ts';
import type { ModelConfig } from './model-config.ts';

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
    maxObjectBytes: model.drift.maxObjectBytes,
    maxDecompressedBytes: model.drift.maxDecompressedBytes,
  };
}
