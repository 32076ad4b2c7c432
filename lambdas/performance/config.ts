import type { FeatureType } from '../core/drift/types.ts';
import { ConfigError } from '../core/errors.ts';
import { validateLimits } from '../core/performance/limits.ts';
import {
  type EndpointContentType,
  PERFORMANCE_ENV,
  type PerformanceModelRuntimeConfig,
  type PerformanceScoring,
} from '../shared/contract.ts';

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

type Environment = Readonly<Record<string, string | undefined>>;

const FIELD = PERFORMANCE_ENV.modelConfig;
const CONTENT_TYPES: readonly EndpointContentType[] = ['application/json', 'text/csv'];

function required(env: Environment, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(name, 'the environment variable is not set');
  }
  return value;
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(field, 'expected a JSON object');
  }
  return value as Record<string, unknown>;
}

function string(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(field, 'expected a non-empty string');
  return value;
}

function nullableString(value: unknown, field: string): string | null {
  return value === undefined || value === null ? null : string(value, field);
}

function wholeNumber(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(field, `expected a whole number >= ${min}`);
  }
  return value;
}

function scoring(value: unknown, field: string): PerformanceScoring {
  const json = object(value, field);
  if (json['kind'] === 'column') {
    return { kind: 'column', scoreColumn: string(json['scoreColumn'], `${field}.scoreColumn`) };
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
    endpointName: string(json['endpointName'], `${field}.endpointName`),
    contentType: contentType as EndpointContentType,
    features: features.map((entry, index) => {
      const feature = object(entry, `${field}.features[${index}]`);
      const type = feature['type'];
      if (type !== 'numeric' && type !== 'categorical') {
        throw new ConfigError(`${field}.features[${index}].type`, 'expected "numeric" or "categorical"');
      }
      return { name: string(feature['name'], `${field}.features[${index}].name`), type: type as FeatureType };
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
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(FIELD, `not valid JSON (${(error as Error).message})`);
  }
  const json = object(parsed, FIELD);
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
    name: string(json['name'], field('name')),
    goldenDatasetKey: string(json['goldenDatasetKey'], field('goldenDatasetKey')),
    baselineReportKey: string(json['baselineReportKey'], field('baselineReportKey')),
    labelColumn: string(json['labelColumn'], field('labelColumn')),
    positiveClass: string(json['positiveClass'], field('positiveClass')),
    classes: Array.isArray(classes)
      ? classes.map((label, index) => string(label, field(`classes[${index}]`)))
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
    model: parsePerformanceModelConfig(required(env, PERFORMANCE_ENV.modelConfig)),
    dataBucket: required(env, PERFORMANCE_ENV.dataBucket),
    resultsBucket: required(env, PERFORMANCE_ENV.resultsBucket),
    // An empty prefix is allowed: reports then start with the model's name.
    reportsPrefix: env[PERFORMANCE_ENV.reportsPrefix] ?? required(env, PERFORMANCE_ENV.reportsPrefix),
    historyTable: required(env, PERFORMANCE_ENV.historyTable),
    eventBusName: required(env, PERFORMANCE_ENV.eventBusName),
  };
}
