import { ALL_METHODS } from '../core/drift/decision.ts';
import type { DriftOptions, MethodSetting } from '../core/drift/options.ts';
import { ConfigError } from '../core/errors.ts';
import { DRIFT_ENV, type DriftModelRuntimeConfig } from '../shared/contract.ts';

/** Everything the drift Lambda reads from its environment, validated. */
export interface DriftHandlerConfig {
  model: DriftModelRuntimeConfig;
  dataBucket: string;
  resultsBucket: string;
  reportsPrefix: string;
  historyTable: string;
  idempotencyTable: string;
  eventBusName: string;
  deadLetterQueueUrl: string;
}

type Environment = Readonly<Record<string, string | undefined>>;

function required(env: Environment, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(name, 'the environment variable is not set');
  }
  return value;
}

const FIELD = DRIFT_ENV.modelConfig;

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

function strings(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError(field, 'expected an array of strings');
  return value.map((item, index) => string(item, `${field}[${index}]`));
}

function positive(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(field, 'expected a whole number of bytes above 0');
  }
  return value;
}

function methodSetting(value: unknown, field: string): MethodSetting {
  const setting = object(value, field);
  const method = setting['method'];
  if (method !== 'auto' && !ALL_METHODS.includes(method as never)) {
    throw new ConfigError(`${field}.method`, `expected auto or one of ${ALL_METHODS.join(', ')}`);
  }
  const threshold = setting['threshold'];
  if (threshold === undefined || threshold === null) return { method: method as MethodSetting['method'] };
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    throw new ConfigError(`${field}.threshold`, 'expected a number');
  }
  return { method: method as MethodSetting['method'], threshold };
}

/**
 * Parses and checks the `MODEL_CONFIG` JSON; errors name the field, e.g. `MODEL_CONFIG.maxObjectBytes`.
 *
 * @example
 * ```ts
 * const model = parseModelConfig(process.env.MODEL_CONFIG ?? '');
 * ```
 */
export function parseModelConfig(text: string): DriftModelRuntimeConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(FIELD, `not valid JSON (${(error as Error).message})`);
  }
  const json = object(parsed, FIELD);
  const field = (name: string) => `${FIELD}.${name}`;
  const incomingPrefix = typeof json['incomingPrefix'] === 'string' ? json['incomingPrefix'] : undefined;
  if (incomingPrefix === undefined) throw new ConfigError(field('incomingPrefix'), 'expected a string');
  const segment = json['segment'] ?? null;
  const driftShare = json['driftShare'];
  if (typeof driftShare !== 'number' || !(driftShare > 0 && driftShare <= 1)) {
    throw new ConfigError(field('driftShare'), 'expected a number above 0 and at most 1');
  }
  const featureMethods = object(json['featureMethods'] ?? {}, field('featureMethods'));
  return {
    name: string(json['name'], field('name')),
    incomingPrefix,
    baselineProfileKey: string(json['baselineProfileKey'], field('baselineProfileKey')),
    numeric: strings(json['numeric'], field('numeric')),
    categorical: strings(json['categorical'], field('categorical')),
    exclude: strings(json['exclude'], field('exclude')),
    segment: segment === null ? null : string(segment, field('segment')),
    method:
      json['method'] === undefined || json['method'] === null
        ? null
        : methodSetting(json['method'], field('method')),
    featureMethods: Object.fromEntries(
      Object.entries(featureMethods).map(([name, setting]) => [
        name,
        methodSetting(setting, field(`featureMethods.${name}`)),
      ]),
    ),
    driftShare,
    criticalFeatures: strings(json['criticalFeatures'], field('criticalFeatures')),
    maxObjectBytes: positive(json['maxObjectBytes'], field('maxObjectBytes')),
    maxDecompressedBytes: positive(json['maxDecompressedBytes'], field('maxDecompressedBytes')),
  };
}

/**
 * Reads the drift Lambda's environment ({@link DRIFT_ENV}). A missing variable is a {@link ConfigError}
 * naming it.
 */
export function loadDriftHandlerConfig(env: Environment = process.env): DriftHandlerConfig {
  return {
    model: parseModelConfig(required(env, DRIFT_ENV.modelConfig)),
    dataBucket: required(env, DRIFT_ENV.dataBucket),
    resultsBucket: required(env, DRIFT_ENV.resultsBucket),
    // An empty prefix is allowed: reports then start with the model's name.
    reportsPrefix: env[DRIFT_ENV.reportsPrefix] ?? required(env, DRIFT_ENV.reportsPrefix),
    historyTable: required(env, DRIFT_ENV.historyTable),
    idempotencyTable: required(env, DRIFT_ENV.idempotencyTable),
    eventBusName: required(env, DRIFT_ENV.eventBusName),
    deadLetterQueueUrl: required(env, DRIFT_ENV.deadLetterQueueUrl),
  };
}

/** The core's drift options for a model's runtime config. */
export function driftOptions(model: DriftModelRuntimeConfig): DriftOptions {
  return {
    numeric: model.numeric,
    categorical: model.categorical,
    exclude: model.exclude,
    segment: model.segment,
    ...(model.method === null ? {} : { method: model.method }),
    features: model.featureMethods,
    driftShare: model.driftShare,
  };
}
