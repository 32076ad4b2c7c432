import type { SSMClient } from '@aws-sdk/client-ssm';
import { driftRuntimeConfig } from '../../lib/config/runtime.ts';
import { DEFAULT_DRIFT_MAX_CONCURRENCY } from '../../lib/config/schema.ts';
import { checkPersistenceRule, DEFAULT_PERSISTENCE } from '../core/alerting/persistence.ts';
import { ALL_METHODS } from '../core/drift/decision.ts';
import type { DriftOptions, MethodSetting } from '../core/drift/options.ts';
import { DEFAULT_MIN_EFFECT } from '../core/drift/significance.ts';
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
  type CaptureEstimateRuntimeConfig,
  type CaptureRuntimeConfig,
  DRIFT_ENV,
  type DriftModelRuntimeConfig,
  type GroundTruthRuntimeConfig,
} from '../shared/contract.ts';
import { catalogFromEnvironment, type ModelCatalog } from '../shared/model-catalog.ts';

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
  /** The engine's feedback stream, for the outcomes of ground-truth joins; absent: no model has `conceptDrift`. */
  feedbackStreamName?: string;
}

const FIELD = DRIFT_ENV.modelConfig;

function strings(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError(field, 'expected an array of strings');
  return value.map((item, index) => stringField(item, `${field}[${index}]`));
}

function positive(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(field, 'expected a whole number of bytes above 0');
  }
  return value;
}

function methodSetting(value: unknown, field: string): MethodSetting {
  const setting = objectField(value, field);
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

function unitNumber(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    throw new ConfigError(field, 'expected a number in [0, 1]');
  return value;
}

/** `fdr`, `minEffect` and `persistence`; absent (a config from before them): version 1, page on every drift. */
function significance(
  json: Record<string, unknown>,
  field: (name: string) => string,
): Pick<DriftModelRuntimeConfig, 'fdr' | 'minEffect' | 'persistence'> {
  const fdr = json['fdr'] ?? null;
  if (fdr !== null && (typeof fdr !== 'number' || !(fdr > 0 && fdr <= 1))) {
    throw new ConfigError(field('fdr'), 'expected null or a number above 0 and at most 1');
  }
  const minEffect = objectField(json['minEffect'] ?? {}, field('minEffect'));
  const persistence = objectField(json['persistence'] ?? {}, field('persistence'));
  const rule = {
    m: persistence['m'] ?? DEFAULT_PERSISTENCE.m,
    n: persistence['n'] ?? DEFAULT_PERSISTENCE.n,
  } as { m: number; n: number };
  checkPersistenceRule(rule, field('persistence'));
  return {
    fdr,
    minEffect: {
      ks: unitNumber(minEffect['ks'], field('minEffect.ks'), DEFAULT_MIN_EFFECT.ks),
      chi2: unitNumber(minEffect['chi2'], field('minEffect.chi2'), DEFAULT_MIN_EFFECT.chi2),
    },
    persistence: rule,
  };
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
  const json = parseJsonObject(text, FIELD);
  const field = (name: string) => `${FIELD}.${name}`;
  const incomingPrefix = typeof json['incomingPrefix'] === 'string' ? json['incomingPrefix'] : undefined;
  if (incomingPrefix === undefined) throw new ConfigError(field('incomingPrefix'), 'expected a string');
  const segment = json['segment'] ?? null;
  const driftShare = json['driftShare'];
  if (typeof driftShare !== 'number' || !(driftShare > 0 && driftShare <= 1)) {
    throw new ConfigError(field('driftShare'), 'expected a number above 0 and at most 1');
  }
  const featureMethods = objectField(json['featureMethods'] ?? {}, field('featureMethods'));
  return {
    name: stringField(json['name'], field('name')),
    ...(json['retrainingTriggers'] !== undefined && {
      retrainingTriggers: strings(json['retrainingTriggers'], field('retrainingTriggers')),
    }),
    incomingPrefix,
    baselineProfileKey: stringField(json['baselineProfileKey'], field('baselineProfileKey')),
    numeric: strings(json['numeric'], field('numeric')),
    categorical: strings(json['categorical'], field('categorical')),
    exclude: strings(json['exclude'], field('exclude')),
    segment: segment === null ? null : stringField(segment, field('segment')),
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
    ...significance(json, field),
    maxObjectBytes: positive(json['maxObjectBytes'], field('maxObjectBytes')),
    maxDecompressedBytes: positive(json['maxDecompressedBytes'], field('maxDecompressedBytes')),
    ...(json['capture'] !== undefined && { capture: parseCapture(json['capture'], field('capture')) }),
  };
}

/** The `capture` settings of a `MODEL_CONFIG`. */
function parseCapture(value: unknown, field: string): CaptureRuntimeConfig {
  const json = objectField(value, field);
  const at = (name: string) => `${field}.${name}`;
  const prefix = stringField(json['prefix'], at('prefix'));
  if (!prefix.endsWith('/')) throw new ConfigError(at('prefix'), 'expected a prefix ending with "/"');
  const endpoints = strings(json['endpoints'], at('endpoints'));
  if (endpoints.length === 0) throw new ConfigError(at('endpoints'), 'expected at least one endpoint');
  const windowMinutes = positive(json['windowMinutes'], at('windowMinutes'));
  if (1440 % windowMinutes !== 0) throw new ConfigError(at('windowMinutes'), 'expected a divisor of 1440');
  const graceMinutes = json['graceMinutes'];
  if (typeof graceMinutes !== 'number' || !Number.isSafeInteger(graceMinutes) || graceMinutes < 0)
    throw new ConfigError(at('graceMinutes'), 'expected a whole number of minutes, at least 0');
  const maxBadShare = json['maxBadShare'];
  if (typeof maxBadShare !== 'number' || !(maxBadShare >= 0 && maxBadShare <= 1))
    throw new ConfigError(at('maxBadShare'), 'expected a number in [0, 1]');
  return {
    prefix,
    endpoints,
    windowMinutes,
    maxRows: positive(json['maxRows'], at('maxRows')),
    graceMinutes,
    maxBadShare,
    scoreColumn: stringField(json['scoreColumn'], at('scoreColumn')),
    features: strings(json['features'], at('features')),
    ...(json['estimate'] !== undefined && { estimate: parseEstimate(json['estimate'], at('estimate')) }),
    ...(json['groundTruth'] !== undefined && {
      groundTruth: parseGroundTruth(json['groundTruth'], at('groundTruth')),
    }),
  };
}

/** The `capture.estimate` settings of a `MODEL_CONFIG`. */
function parseEstimate(value: unknown, field: string): CaptureEstimateRuntimeConfig {
  const json = objectField(value, field);
  const at = (name: string) => `${field}.${name}`;
  const nullableString = (name: string) =>
    json[name] === null || json[name] === undefined ? null : stringField(json[name], at(name));
  const threshold = json['threshold'];
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1))
    throw new ConfigError(at('threshold'), 'expected a number in [0, 1]');
  const limits = json['limits'];
  if (!Array.isArray(limits)) throw new ConfigError(at('limits'), 'expected an array');
  const referenceKey = json['referenceKey'];
  if (typeof referenceKey !== 'string') throw new ConfigError(at('referenceKey'), 'expected a string');
  return {
    referenceKey,
    referenceScoreColumn: stringField(json['referenceScoreColumn'], at('referenceScoreColumn')),
    referenceModel: nullableString('referenceModel'),
    labelColumn: stringField(json['labelColumn'], at('labelColumn')),
    positiveClass: stringField(json['positiveClass'], at('positiveClass')),
    classes:
      json['classes'] === null || json['classes'] === undefined
        ? null
        : strings(json['classes'], at('classes')),
    threshold,
    segmentColumn: nullableString('segmentColumn'),
    limits: validateLimits(limits, at('limits')),
    baselineReportKey: stringField(json['baselineReportKey'], at('baselineReportKey')),
  };
}

/** The `capture.groundTruth` settings of a `MODEL_CONFIG` (checked by the config schema; shapes only here). */
function parseGroundTruth(value: unknown, field: string): GroundTruthRuntimeConfig {
  const json = objectField(value, field);
  const at = (name: string) => `${field}.${name}`;
  const prefix = stringField(json['prefix'], at('prefix'));
  if (!prefix.endsWith('/')) throw new ConfigError(at('prefix'), 'expected a prefix ending with "/"');
  const whole = (name: string, min: number) => {
    const number = json[name];
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < min)
      throw new ConfigError(at(name), `expected a whole number, at least ${min}`);
    return number;
  };
  const threshold = json['threshold'];
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1))
    throw new ConfigError(at('threshold'), 'expected a number in [0, 1]');
  const segment = json['segmentColumn'];
  const baseline = json['baselineReportKey'];
  if (!Array.isArray(json['limits'])) throw new ConfigError(at('limits'), 'expected an array');
  return {
    prefix,
    idColumn: stringField(json['idColumn'], at('idColumn')),
    labelColumn: stringField(json['labelColumn'], at('labelColumn')),
    timeColumn:
      json['timeColumn'] === undefined || json['timeColumn'] === null
        ? null
        : stringField(json['timeColumn'], at('timeColumn')),
    settleMinutes: whole('settleMinutes', 0),
    maxDelayHours: whole('maxDelayHours', 1),
    positiveClass: stringField(json['positiveClass'], at('positiveClass')),
    classes: json['classes'] === null ? null : strings(json['classes'], at('classes')),
    threshold,
    segmentColumn: segment === null ? null : stringField(segment, at('segmentColumn')),
    limits: validateLimits(json['limits'] as unknown[], at('limits')),
    baselineReportKey: baseline === null ? null : stringField(baseline, at('baselineReportKey')),
    feedback: json['feedback'] === true,
  };
}

/** A model as the shared drift function routes files to it. */
export interface DriftCatalogEntry {
  name: string;
  drift: DriftModelRuntimeConfig;
  /** `drift.maxConcurrency`: the model's message groups in the checks queue, so its most checks at once. */
  maxConcurrency: number;
  /** The model's prefixes that hold no incoming data (golden, baselines, feedback): files there are not checked. */
  otherPrefixes: string[];
}

/** Everything the shared drift function reads from its environment: storage, and the models it serves. */
export interface DriftEngineConfig extends Omit<DriftHandlerConfig, 'model'> {
  catalog: ModelCatalog<DriftCatalogEntry>;
  /**
   * What a file under no model's prefix becomes: `record` (the shared function: a failure record, never
   * dropped) or `ignore` (a one-model function, `MODEL_CONFIG`, sees only its own prefix's files by design).
   */
  unroutedFiles: 'record' | 'ignore';
  /** The capture table and the drift queue's URL; null when the function has no capture table. */
  capture: { table: string; queueUrl: string } | null;
  /**
   * The FIFO checks queue the landing events are routed to, one message group per model slot
   * (`CHECKS_QUEUE_URL`); unset: the function checks the files it receives (a one-model function).
   */
  checksQueueUrl?: string;
}

/**
 * Reads the shared drift function's environment: the models come from their parameters
 * (`MODELS_PARAMETER_PATH`), or from `MODEL_CONFIG` for a one-model function.
 */
export function loadDriftEngineConfig(
  ssm: () => SSMClient,
  env: Environment = process.env,
): DriftEngineConfig {
  const single = env[DRIFT_ENV.modelConfig];
  return {
    unroutedFiles: single !== undefined && single.trim() !== '' ? 'ignore' : 'record',
    catalog: catalogFromEnvironment<DriftCatalogEntry>(env, {
      parseStatic: (text) => {
        const drift = parseModelConfig(text);
        return { name: drift.name, drift, maxConcurrency: DEFAULT_DRIFT_MAX_CONCURRENCY, otherPrefixes: [] };
      },
      toRuntime: (model) => ({
        name: model.name,
        maxConcurrency: model.drift.maxConcurrency ?? DEFAULT_DRIFT_MAX_CONCURRENCY,
        drift: {
          ...driftRuntimeConfig(model),
          ...(model.retraining ? { retrainingTriggers: [...model.retraining.triggers] } : {}),
        },
        otherPrefixes: [
          model.prefixes.golden,
          model.prefixes.baselines,
          ...(model.canary ? [model.canary.feedbackPrefix] : []),
        ],
      }),
      ssm,
    }),
    ...readStorageEnvironment(env, DRIFT_ENV),
    idempotencyTable: requiredEnv(env, DRIFT_ENV.idempotencyTable),
    eventBusName: requiredEnv(env, DRIFT_ENV.eventBusName),
    deadLetterQueueUrl: requiredEnv(env, DRIFT_ENV.deadLetterQueueUrl),
    capture: env[DRIFT_ENV.captureTable]
      ? { table: env[DRIFT_ENV.captureTable]!, queueUrl: requiredEnv(env, DRIFT_ENV.queueUrl) }
      : null,
    ...(env[DRIFT_ENV.checksQueueUrl] ? { checksQueueUrl: env[DRIFT_ENV.checksQueueUrl] } : {}),
    ...(env[DRIFT_ENV.feedbackStreamName] ? { feedbackStreamName: env[DRIFT_ENV.feedbackStreamName] } : {}),
  };
}

/**
 * The model a created object belongs to: the one whose incoming prefix is the longest that starts one of
 * the object's key candidates; `other` when the key is under a model's other prefixes (not incoming data);
 * `none` when no model claims it.
 */
export function routeKey(
  entries: readonly DriftCatalogEntry[],
  keyCandidates: readonly string[],
):
  | { kind: 'model'; entry: DriftCatalogEntry }
  | { kind: 'capture'; entry: DriftCatalogEntry }
  | { kind: 'groundTruth'; entry: DriftCatalogEntry }
  | { kind: 'other'; entry: DriftCatalogEntry }
  | { kind: 'none' } {
  // Ground-truth prefixes never overlap other prefixes either (validated).
  const labelled = entries.find((entry) => {
    const prefix = entry.drift.capture?.groundTruth?.prefix;
    return prefix !== undefined && keyCandidates.some((key) => key.startsWith(prefix));
  });
  if (labelled) return { kind: 'groundTruth', entry: labelled };
  // Capture prefixes never overlap other prefixes (validated), so the first claim is the only one.
  const captured = entries.find((entry) => {
    const prefix = entry.drift.capture?.prefix;
    return prefix !== undefined && keyCandidates.some((key) => key.startsWith(prefix));
  });
  if (captured) return { kind: 'capture', entry: captured };
  let best: DriftCatalogEntry | undefined;
  for (const entry of entries) {
    const prefix = entry.drift.incomingPrefix;
    if (!keyCandidates.some((key) => key.startsWith(prefix))) continue;
    if (best === undefined || prefix.length > best.drift.incomingPrefix.length) best = entry;
  }
  if (best) return { kind: 'model', entry: best };
  const other = entries.find((entry) =>
    entry.otherPrefixes.some((prefix) => keyCandidates.some((key) => key.startsWith(prefix))),
  );
  return other ? { kind: 'other', entry: other } : { kind: 'none' };
}

/**
 * Reads the drift Lambda's environment ({@link DRIFT_ENV}). A missing variable is a {@link ConfigError}
 * naming it.
 */
export function loadDriftHandlerConfig(env: Environment = process.env): DriftHandlerConfig {
  return {
    model: parseModelConfig(requiredEnv(env, DRIFT_ENV.modelConfig)),
    ...readStorageEnvironment(env, DRIFT_ENV),
    idempotencyTable: requiredEnv(env, DRIFT_ENV.idempotencyTable),
    eventBusName: requiredEnv(env, DRIFT_ENV.eventBusName),
    deadLetterQueueUrl: requiredEnv(env, DRIFT_ENV.deadLetterQueueUrl),
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
    ...(model.fdr === null ? {} : { fdr: model.fdr, minEffect: model.minEffect }),
  };
}
