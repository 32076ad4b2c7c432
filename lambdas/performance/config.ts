import type { SSMClient } from '@aws-sdk/client-ssm';
import { performanceRuntimeConfig } from '../../lib/config/runtime.ts';
import type { FeatureType } from '../core/drift/types.ts';
import { ConfigError } from '../core/errors.ts';
import { validateLimits } from '../core/performance/limits.ts';
import {
  type Environment,
  objectField,
  parseJsonObject,
  readStorageEnvironment,
  requiredEnv,
  stringField,
} from '../shared/config-fields.ts';
import {
  type EndpointContentType,
  PERFORMANCE_ENV,
  type PerformanceModelRuntimeConfig,
  type PerformanceScoring,
} from '../shared/contract.ts';
import { catalogFromEnvironment, type ModelCatalog } from '../shared/model-catalog.ts';

/** Everything the performance Lambda reads from its environment, validated. */
export interface PerformanceHandlerConfig {
  model: PerformanceModelRuntimeConfig;
  /** The landing bucket: golden dataset and baseline report. */
  dataBucket: string;
  resultsBucket: string;
  reportsPrefix: string;
  historyTable: string;
  eventBusName: string;
}

const FIELD = PERFORMANCE_ENV.modelConfig;
const CONTENT_TYPES: readonly EndpointContentType[] = ['application/json', 'text/csv'];

function nullableString(value: unknown, field: string): string | null {
  return value === undefined || value === null ? null : stringField(value, field);
}

function wholeNumber(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(field, `expected a whole number >= ${min}`);
  }
  return value;
}

function scoring(value: unknown, field: string): PerformanceScoring {
  const json = objectField(value, field);
  if (json['kind'] === 'column') {
    return { kind: 'column', scoreColumn: stringField(json['scoreColumn'], `${field}.scoreColumn`) };
  }
  if (json['kind'] !== 'endpoint') throw new ConfigError(`${field}.kind`, 'expected "column" or "endpoint"');
  const contentType = json['contentType'];
  if (!CONTENT_TYPES.includes(contentType as EndpointContentType)) {
    throw new ConfigError(`${field}.contentType`, `expected one of ${CONTENT_TYPES.join(', ')}`);
  }
  const features = json['features'];
  if (!Array.isArray(features) || features.length === 0) {
    throw new ConfigError(`${field}.features`, 'expected a non-empty array');
  }
  return {
    kind: 'endpoint',
    endpointName: stringField(json['endpointName'], `${field}.endpointName`),
    contentType: contentType as EndpointContentType,
    features: features.map((entry, index) => {
      const feature = objectField(entry, `${field}.features[${index}]`);
      const type = feature['type'];
      if (type !== 'numeric' && type !== 'categorical') {
        throw new ConfigError(`${field}.features[${index}].type`, 'expected "numeric" or "categorical"');
      }
      return {
        name: stringField(feature['name'], `${field}.features[${index}].name`),
        type: type as FeatureType,
      };
    }),
    batchRows: wholeNumber(json['batchRows'], `${field}.batchRows`, 1),
    maxConcurrency: wholeNumber(json['maxConcurrency'], `${field}.maxConcurrency`, 1),
  };
}

/**
 * Parses and checks the `MODEL_CONFIG` JSON of the performance Lambda; errors name the field, e.g.
 * `MODEL_CONFIG.limits[1].maxDrop`. Limits are checked by the core's `validateLimits`, as the CLI's are.
 *
 * @example
 * ```ts
 * const model = parsePerformanceModelConfig(process.env.MODEL_CONFIG ?? '');
 * ```
 */
export function parsePerformanceModelConfig(text: string): PerformanceModelRuntimeConfig {
  const json = parseJsonObject(text, FIELD);
  const field = (name: string) => `${FIELD}.${name}`;
  const threshold = json['threshold'];
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    throw new ConfigError(field('threshold'), 'expected a number in [0, 1]');
  }
  const classes = json['classes'];
  if (classes !== null && classes !== undefined && !Array.isArray(classes)) {
    throw new ConfigError(field('classes'), 'expected an array of labels or null');
  }
  const limits = json['limits'];
  if (!Array.isArray(limits)) throw new ConfigError(field('limits'), 'expected an array');
  return {
    name: stringField(json['name'], field('name')),
    goldenDatasetKey: stringField(json['goldenDatasetKey'], field('goldenDatasetKey')),
    baselineReportKey: stringField(json['baselineReportKey'], field('baselineReportKey')),
    labelColumn: stringField(json['labelColumn'], field('labelColumn')),
    positiveClass: stringField(json['positiveClass'], field('positiveClass')),
    classes: Array.isArray(classes)
      ? classes.map((label, index) => stringField(label, field(`classes[${index}]`)))
      : null,
    threshold,
    segmentColumn: nullableString(json['segmentColumn'], field('segmentColumn')),
    limits: validateLimits(limits, field('limits')),
    scoring: scoring(json['scoring'], field('scoring')),
    maxDecompressedBytes: wholeNumber(json['maxDecompressedBytes'], field('maxDecompressedBytes'), 1),
  };
}

/**
 * Reads the performance Lambda's environment ({@link PERFORMANCE_ENV}). A missing variable is a
 * {@link ConfigError} naming it.
 */
export function loadPerformanceHandlerConfig(env: Environment = process.env): PerformanceHandlerConfig {
  return {
    model: parsePerformanceModelConfig(requiredEnv(env, PERFORMANCE_ENV.modelConfig)),
    ...readStorageEnvironment(env, PERFORMANCE_ENV),
    eventBusName: requiredEnv(env, PERFORMANCE_ENV.eventBusName),
  };
}

/** Everything the shared performance function reads from its environment: storage, and the models. */
export interface PerformanceEngineConfig extends Omit<PerformanceHandlerConfig, 'model'> {
  catalog: ModelCatalog<PerformanceModelRuntimeConfig>;
}

/**
 * Reads the shared performance function's environment: the models with a `performance` section come from
 * their parameters (`MODELS_PARAMETER_PATH`), or from `MODEL_CONFIG` for a one-model function.
 */
export function loadPerformanceEngineConfig(
  ssm: () => SSMClient,
  env: Environment = process.env,
): PerformanceEngineConfig {
  return {
    catalog: catalogFromEnvironment<PerformanceModelRuntimeConfig>(env, {
      parseStatic: parsePerformanceModelConfig,
      toRuntime: (model) =>
        model.performance === undefined
          ? undefined
          : {
              ...performanceRuntimeConfig({ ...model, performance: model.performance }),
              ...(model.retraining ? { retrainingTriggers: [...model.retraining.triggers] } : {}),
            },
      ssm,
    }),
    ...readStorageEnvironment(env, PERFORMANCE_ENV),
    eventBusName: requiredEnv(env, PERFORMANCE_ENV.eventBusName),
  };
}
