/**
 * Validation of `driftwatch.config.json`, by hand (no schema library): every problem is collected, each a
 * {@link ConfigError} naming its JSON path and saying what is wrong, and all of them are thrown together as
 * one {@link ConfigValidationError}. Unknown fields are errors too, so a misspelt optional field is caught
 * instead of silently defaulted.
 */
import { appliesTo, parseMethodSetting } from '../../lambdas/core/drift/decision.ts';
import { DEFAULT_DRIFT_SHARE, type MethodSetting } from '../../lambdas/core/drift/options.ts';
import type { FeatureType } from '../../lambdas/core/drift/types.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';
import {
  assertDistinctLimits,
  type PerformanceLimit,
  validateLimit,
} from '../../lambdas/core/performance/limits.ts';
import { METRIC_NAMES } from '../../lambdas/core/performance/metrics.ts';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../../lambdas/core/readers/decompress.ts';
import type { EndpointContentType } from '../../lambdas/shared/contract.ts';
import { ConfigValidationError } from './errors.ts';
import type {
  AlertsConfig,
  BucketEncryptionSetting,
  CanaryConfig,
  DriftSettings,
  DriftwatchConfig,
  ModelConfig,
  ModelPrefixes,
  PerformanceConfig,
  PerformanceMetric,
  RetrainingConfig,
  RetrainingTrigger,
} from './model-config.ts';

export const DEFAULT_STACK_NAME = 'Driftwatch';
export const DEFAULT_LOG_RETENTION_DAYS = 90;
export const DEFAULT_REPORTS_PREFIX = 'reports/';
export const DEFAULT_BASELINE_PROFILE = 'profile.json';
export const DEFAULT_BASELINE_PERFORMANCE_REPORT = 'performance.json';
export const DEFAULT_MAX_OBJECT_BYTES = 2 * 1024 ** 3;
/** 1769 MB is the memory at which Lambda gives a function one full vCPU. */
export const DEFAULT_DRIFT_MEMORY_MB = 1769;
export const DEFAULT_DRIFT_TIMEOUT_SECONDS = 300;
export const DEFAULT_DRIFT_MAX_CONCURRENCY = 5;
export const DEFAULT_CANARY_STEPS: readonly number[] = [5, 25, 100];
export const DEFAULT_CANARY_BAKE_MINUTES = 30;
export const DEFAULT_CANARY_DEADLINE_MINUTES = 120;
export const DEFAULT_CANARY_MAX_ERROR_RATE = 0.01;
export const DEFAULT_CANARY_MAX_LATENCY_INCREASE = 0.2;
export const DEFAULT_ENDPOINT_WAIT_MINUTES = 60;
export const DEFAULT_RETRAINING_DATA_WINDOW_DAYS = 30;
export const DEFAULT_PRIMARY_METRIC: PerformanceMetric = 'rocAuc';
export const DEFAULT_MIN_IMPROVEMENT = 0.005;
export const DEFAULT_SEGMENT_TOLERANCE = 0.02;
export const DEFAULT_TRANSFORM_INSTANCE_TYPE = 'ml.m5.large';
export const DEFAULT_ENDPOINT_CONTENT_TYPE: EndpointContentType = 'application/json';
export const ENDPOINT_CONTENT_TYPES: readonly EndpointContentType[] = ['application/json', 'text/csv'];
/** Rows per `InvokeEndpoint` request by default: small enough to stay far below the 6 MB payload limit. */
export const DEFAULT_ENDPOINT_BATCH_ROWS = 500;
export const DEFAULT_ENDPOINT_MAX_CONCURRENCY = 4;
export const DEFAULT_PERFORMANCE_MEMORY_MB = 1769;
export const DEFAULT_PERFORMANCE_TIMEOUT_SECONDS = 600;

/** Retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** The metrics a performance limit can name: the report's, in the spec's order. */
export const PERFORMANCE_METRICS: readonly PerformanceMetric[] = METRIC_NAMES;
const RETRAINING_TRIGGERS: readonly RetrainingTrigger[] = ['drift', 'criticalFeatureDrift', 'performance'];

const MODEL_NAME = /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const ENDPOINT_NAME = /^[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const INSTANCE_TYPE = /^ml\.[a-z0-9]+\.[a-z0-9]+$/;
const ECR_IMAGE =
  /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/[a-z0-9._/-]+(?::[\w.-]+|@sha256:[a-f0-9]{64})?$/;
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\(([^()]+)\)$/;
/** SageMaker's limit on a training job's longest runtime: 28 days. */
const MAX_TRAINING_MINUTES = 28 * 24 * 60;

/**
 * Checks a parsed config file and fills in defaults.
 *
 * @param raw the parsed JSON
 * @param source the file name, used in the error message
 * @throws ConfigValidationError listing every problem found
 *
 * @example
 * ```ts
 * const config = validateConfig(JSON.parse(readFileSync(path, 'utf8')), path);
 * ```
 */
export function validateConfig(raw: unknown, source = 'driftwatch.config.json'): DriftwatchConfig {
  const check = new Checker();
  const config = readConfig(check, raw);
  if (check.problems.length > 0 || config === undefined)
    throw new ConfigValidationError(source, check.problems);
  return config;
}

function readConfig(check: Checker, raw: unknown): DriftwatchConfig | undefined {
  const root = check.object(raw, '', [
    'stackName',
    'encryption',
    'logRetentionDays',
    'reportsPrefix',
    'alerts',
    'models',
  ]);
  if (root === undefined) return undefined;
  const stackName = check.string(root['stackName'], 'stackName', {
    default: DEFAULT_STACK_NAME,
    pattern: STACK_NAME,
    hint: 'letters, digits and -, starting with a letter, at most 128 characters',
  });
  const encryption = check.oneOf<BucketEncryptionSetting>(
    root['encryption'],
    'encryption',
    ['kms', 's3-managed'],
    {
      default: 'kms',
    },
  );
  const logRetentionDays = check.number(root['logRetentionDays'], 'logRetentionDays', {
    default: DEFAULT_LOG_RETENTION_DAYS,
    integer: true,
  });
  if (logRetentionDays !== undefined && !LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    check.fail(
      'logRetentionDays',
      `${logRetentionDays} is not a retention CloudWatch Logs accepts (${LOG_RETENTION_DAYS.join(', ')})`,
    );
  }
  const reportsPrefix = check.prefix(root['reportsPrefix'], 'reportsPrefix', DEFAULT_REPORTS_PREFIX);
  const alerts = readAlerts(check, root['alerts']);
  const models = check
    .array(root['models'], 'models', { minLength: 1 })
    ?.map((model, i) => readModel(check, model, `models[${i}]`));
  if (models) checkAcrossModels(check, models);
  return { stackName, encryption, logRetentionDays, reportsPrefix, alerts, models } as DriftwatchConfig;
}

function readAlerts(check: Checker, raw: unknown): AlertsConfig {
  if (raw === undefined) return { emails: [], httpsEndpoints: [] };
  const alerts = check.object(raw, 'alerts', ['emails', 'httpsEndpoints']);
  const emails = check.stringList(alerts?.['emails'], 'alerts.emails', { default: [] }) ?? [];
  emails.forEach((email, i) => {
    if (!EMAIL.test(email))
      check.fail(`alerts.emails[${i}]`, `${JSON.stringify(email)} is not an email address`);
  });
  const httpsEndpoints =
    check.stringList(alerts?.['httpsEndpoints'], 'alerts.httpsEndpoints', { default: [] }) ?? [];
  httpsEndpoints.forEach((url, i) => {
    const problem = httpsUrlProblem(url);
    if (problem) check.fail(`alerts.httpsEndpoints[${i}]`, problem);
  });
  return { emails, httpsEndpoints };
}

function httpsUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${JSON.stringify(text)} is not a URL`;
  }
  if (url.protocol !== 'https:')
    return `${JSON.stringify(text)} must use https (SNS sends alarms in clear over http)`;
  if (url.username || url.password)
    return 'must not carry credentials in the URL (anyone who can read the topic sees them)';
  return undefined;
}

function readModel(check: Checker, raw: unknown, path: string): ModelConfig | undefined {
  const model = check.object(raw, path, [
    'name',
    'description',
    'prefixes',
    'features',
    'exclude',
    'segment',
    'drift',
    'endpointName',
    'performance',
    'retraining',
    'canary',
  ]);
  if (model === undefined) return undefined;
  const name = check.string(model['name'], `${path}.name`, {
    pattern: MODEL_NAME,
    hint: 'lower-case letters, digits and -, starting with a letter, at most 32 characters (it names AWS resources)',
  });
  const description =
    model['description'] === ''
      ? ''
      : check.string(model['description'], `${path}.description`, { default: '' });
  const prefixes = readPrefixes(check, model['prefixes'], `${path}.prefixes`);
  const features = readFeatures(check, model['features'], `${path}.features`);
  const exclude = check.stringList(model['exclude'], `${path}.exclude`, { default: [] }) ?? [];
  exclude.forEach((column, i) => {
    if (Object.hasOwn(features, column))
      check.fail(`${path}.exclude[${i}]`, `${JSON.stringify(column)} is also declared in ${path}.features`);
  });
  const segment =
    model['segment'] === undefined || model['segment'] === null
      ? null
      : (check.string(model['segment'], `${path}.segment`) ?? null);
  if (segment !== null && Object.hasOwn(features, segment)) {
    check.fail(
      `${path}.segment`,
      `${JSON.stringify(segment)} is a segment column, so it cannot also be in ${path}.features`,
    );
  }
  if (segment !== null && exclude.includes(segment)) {
    check.fail(
      `${path}.segment`,
      `${JSON.stringify(segment)} is also in ${path}.exclude (a segment column is already not a feature)`,
    );
  }
  const columns: Columns = { features, exclude, segment, path };
  const drift = readDrift(check, model['drift'], `${path}.drift`, columns);
  const endpointName =
    model['endpointName'] === undefined
      ? undefined
      : check.string(model['endpointName'], `${path}.endpointName`, {
          pattern: ENDPOINT_NAME,
          hint: 'a SageMaker endpoint name: letters, digits and -, at most 63 characters',
        });
  const performance =
    model['performance'] === undefined
      ? undefined
      : readPerformance(check, model['performance'], `${path}.performance`, columns, endpointName);
  const retraining =
    model['retraining'] === undefined
      ? undefined
      : readRetraining(check, model['retraining'], `${path}.retraining`, performance, endpointName);
  const canary =
    model['canary'] === undefined
      ? undefined
      : readCanary(check, model['canary'], `${path}.canary`, endpointName, name);
  return {
    name,
    description,
    prefixes,
    features,
    exclude,
    segment,
    drift,
    ...(endpointName !== undefined && { endpointName }),
    ...(performance !== undefined && { performance }),
    ...(retraining !== undefined && { retraining }),
    ...(canary !== undefined && { canary }),
  } as ModelConfig;
}

function readPrefixes(check: Checker, raw: unknown, path: string): ModelPrefixes | undefined {
  const prefixes = check.object(raw, path, ['incoming', 'golden', 'baselines']);
  if (prefixes === undefined) return undefined;
  return {
    incoming: check.prefix(prefixes['incoming'], `${path}.incoming`),
    golden: check.prefix(prefixes['golden'], `${path}.golden`),
    baselines: check.prefix(prefixes['baselines'], `${path}.baselines`),
  } as ModelPrefixes;
}

function readFeatures(check: Checker, raw: unknown, path: string): Record<string, FeatureType> {
  if (raw === undefined) return {};
  const features = check.object(raw, path);
  const result: Record<string, FeatureType> = {};
  for (const [name, type] of Object.entries(features ?? {})) {
    if (name === '') {
      check.fail(path, 'a feature name is empty');
      continue;
    }
    const parsed = check.oneOf<FeatureType>(type, at(path, name), ['numeric', 'categorical']);
    if (parsed !== undefined) result[name] = parsed;
  }
  return result;
}

/** What a model says about its columns, for checks of the fields that name columns. */
interface Columns {
  features: Record<string, FeatureType>;
  exclude: string[];
  segment: string | null;
  /** Path of the model, e.g. `models[0]`. */
  path: string;
}

/** Problem with using `column` as a feature, or undefined. */
function featureProblem(columns: Columns, column: string): string | undefined {
  const { features, exclude, segment, path } = columns;
  if (exclude.includes(column))
    return `${JSON.stringify(column)} is in ${path}.exclude, so it is not a feature`;
  if (column === segment)
    return `${JSON.stringify(column)} is the segment column (${path}.segment), not a feature`;
  if (Object.keys(features).length > 0 && !Object.hasOwn(features, column)) {
    return `${JSON.stringify(column)} is not among the declared features (${Object.keys(features).join(', ')})`;
  }
  return undefined;
}

function readDrift(check: Checker, raw: unknown, path: string, columns: Columns): DriftSettings {
  const drift =
    raw === undefined
      ? {}
      : (check.object(raw, path, [
          'method',
          'featureMethods',
          'driftShare',
          'criticalFeatures',
          'baselineProfile',
          'maxObjectBytes',
          'maxDecompressedBytes',
          'memoryMb',
          'timeoutSeconds',
          'maxConcurrency',
        ]) ?? {});
  const methodText = check.string(drift['method'], `${path}.method`, { default: 'auto' });
  const method = methodText === undefined ? undefined : check.method(methodText, `${path}.method`);
  const featureMethods: Record<string, MethodSetting> = {};
  const featureMethodsRaw =
    drift['featureMethods'] === undefined
      ? {}
      : (check.object(drift['featureMethods'], `${path}.featureMethods`) ?? {});
  for (const [feature, text] of Object.entries(featureMethodsRaw)) {
    const field = at(`${path}.featureMethods`, feature);
    const problem = featureProblem(columns, feature);
    if (problem) check.fail(field, problem);
    const settingText = check.string(text, field);
    const setting = settingText === undefined ? undefined : check.method(settingText, field);
    if (setting === undefined) continue;
    const type = Object.hasOwn(columns.features, feature) ? columns.features[feature] : undefined;
    if (type && setting.method !== 'auto' && !appliesTo(setting.method, type)) {
      check.fail(field, `${setting.method} does not apply to ${JSON.stringify(feature)}, a ${type} feature`);
    }
    featureMethods[feature] = setting;
  }
  const driftShare = check.number(drift['driftShare'], `${path}.driftShare`, {
    default: DEFAULT_DRIFT_SHARE,
    above: 0,
    max: 1,
  });
  const criticalFeatures =
    check.stringList(drift['criticalFeatures'], `${path}.criticalFeatures`, { default: [] }) ?? [];
  criticalFeatures.forEach((feature, i) => {
    const problem = featureProblem(columns, feature);
    if (problem) check.fail(`${path}.criticalFeatures[${i}]`, problem);
  });
  return {
    method: method?.method === 'auto' ? null : method,
    featureMethods,
    driftShare,
    criticalFeatures,
    baselineProfile: check.relativeKey(
      drift['baselineProfile'],
      `${path}.baselineProfile`,
      DEFAULT_BASELINE_PROFILE,
    ),
    maxObjectBytes: check.number(drift['maxObjectBytes'], `${path}.maxObjectBytes`, {
      default: DEFAULT_MAX_OBJECT_BYTES,
      integer: true,
      min: 1,
    }),
    maxDecompressedBytes: check.number(drift['maxDecompressedBytes'], `${path}.maxDecompressedBytes`, {
      default: DEFAULT_MAX_DECOMPRESSED_BYTES,
      integer: true,
      min: 1,
    }),
    memoryMb: check.number(drift['memoryMb'], `${path}.memoryMb`, {
      default: DEFAULT_DRIFT_MEMORY_MB,
      integer: true,
      min: 128,
      max: 10240,
    }),
    timeoutSeconds: check.number(drift['timeoutSeconds'], `${path}.timeoutSeconds`, {
      default: DEFAULT_DRIFT_TIMEOUT_SECONDS,
      integer: true,
      min: 1,
      max: 900,
    }),
    maxConcurrency: check.number(drift['maxConcurrency'], `${path}.maxConcurrency`, {
      default: DEFAULT_DRIFT_MAX_CONCURRENCY,
      integer: true,
      min: 2,
      max: 1000,
    }),
  } as DriftSettings;
}

function readPerformance(
  check: Checker,
  raw: unknown,
  path: string,
  columns: Columns,
  endpointName: string | undefined,
): PerformanceConfig | undefined {
  const performance = check.object(raw, path, [
    'schedule',
    'timezone',
    'goldenDataset',
    'baselineReport',
    'labelColumn',
    'positiveClass',
    'classes',
    'scoreColumn',
    'threshold',
    'segmentColumn',
    'limits',
    'contentType',
    'batchRows',
    'maxConcurrency',
    'memoryMb',
    'timeoutSeconds',
  ]);
  if (performance === undefined) return undefined;
  const schedule = check.string(performance['schedule'], `${path}.schedule`);
  if (schedule !== undefined) {
    const problem = scheduleProblem(schedule);
    if (problem) check.fail(`${path}.schedule`, problem);
  }
  const timezone = check.string(performance['timezone'], `${path}.timezone`, { default: 'UTC' });
  if (timezone !== undefined && !isTimeZone(timezone)) {
    check.fail(
      `${path}.timezone`,
      `${JSON.stringify(timezone)} is not an IANA time zone (e.g. "Europe/Paris")`,
    );
  }
  const labelColumn = check.string(performance['labelColumn'], `${path}.labelColumn`);
  if (labelColumn !== undefined && Object.hasOwn(columns.features, labelColumn)) {
    check.fail(
      `${path}.labelColumn`,
      `${JSON.stringify(labelColumn)} is declared as a feature; list it in ${columns.path}.exclude`,
    );
  }
  const positiveClass = check.string(performance['positiveClass'], `${path}.positiveClass`, {
    hint: 'write the label value as a string, e.g. "1" or "yes"',
  });
  let classes: string[] | null = null;
  if (performance['classes'] !== undefined) {
    classes = check.stringList(performance['classes'], `${path}.classes`, { minLength: 2 }) ?? null;
    if (classes !== null && positiveClass !== undefined && !classes.includes(positiveClass)) {
      check.fail(
        `${path}.classes`,
        `does not include the positive class ${JSON.stringify(positiveClass)} (${path}.positiveClass)`,
      );
    }
  }
  let scoreColumn: string | undefined;
  if (performance['scoreColumn'] !== undefined) {
    scoreColumn = check.string(performance['scoreColumn'], `${path}.scoreColumn`);
    if (scoreColumn !== undefined && Object.hasOwn(columns.features, scoreColumn)) {
      check.fail(
        `${path}.scoreColumn`,
        `${JSON.stringify(scoreColumn)} is declared as a feature; list it in ${columns.path}.exclude`,
      );
    }
    if (scoreColumn !== undefined && scoreColumn === labelColumn) {
      check.fail(`${path}.scoreColumn`, `the same column as ${path}.labelColumn`);
    }
    // Request settings of endpoint scoring would be ignored: say so rather than let them look in effect.
    for (const field of ['contentType', 'batchRows', 'maxConcurrency']) {
      if (performance[field] !== undefined) {
        check.fail(
          `${path}.${field}`,
          `only applies when the golden dataset is scored by the endpoint (without ${path}.scoreColumn)`,
        );
      }
    }
  } else if (endpointName === undefined) {
    check.fail(
      `${path}.scoreColumn`,
      `required when the model has no ${columns.path}.endpointName to score the golden dataset`,
    );
  } else if (Object.keys(columns.features).length === 0) {
    check.fail(
      `${columns.path}.features`,
      `scoring the golden dataset with ${columns.path}.endpointName needs the features declared: ` +
        'each request sends them, in the order declared',
    );
  }
  const segmentColumn =
    performance['segmentColumn'] === undefined
      ? columns.segment
      : performance['segmentColumn'] === null
        ? null
        : (check.string(performance['segmentColumn'], `${path}.segmentColumn`) ?? null);
  const limitsRaw = check.array(performance['limits'], `${path}.limits`, { minLength: 1 }) ?? [];
  const entries: { limit: PerformanceLimit; field: string }[] = [];
  limitsRaw.forEach((raw, i) => {
    const field = `${path}.limits[${i}]`;
    const limit = readLimit(check, raw, field, segmentColumn);
    if (limit !== undefined) entries.push({ limit, field });
  });
  check.attempt(() => assertDistinctLimits(entries));
  return {
    schedule,
    timezone,
    goldenDataset: check.relativeKey(performance['goldenDataset'], `${path}.goldenDataset`),
    baselineReport: check.relativeKey(
      performance['baselineReport'],
      `${path}.baselineReport`,
      DEFAULT_BASELINE_PERFORMANCE_REPORT,
    ),
    labelColumn,
    positiveClass,
    classes,
    ...(scoreColumn !== undefined && { scoreColumn }),
    threshold: check.number(performance['threshold'], `${path}.threshold`, { default: 0.5, min: 0, max: 1 }),
    segmentColumn,
    limits: entries.map((entry) => entry.limit),
    contentType: check.oneOf(performance['contentType'], `${path}.contentType`, ENDPOINT_CONTENT_TYPES, {
      default: DEFAULT_ENDPOINT_CONTENT_TYPE,
    }),
    batchRows: check.number(performance['batchRows'], `${path}.batchRows`, {
      default: DEFAULT_ENDPOINT_BATCH_ROWS,
      integer: true,
      min: 1,
      max: 100_000,
    }),
    maxConcurrency: check.number(performance['maxConcurrency'], `${path}.maxConcurrency`, {
      default: DEFAULT_ENDPOINT_MAX_CONCURRENCY,
      integer: true,
      min: 1,
      max: 64,
    }),
    memoryMb: check.number(performance['memoryMb'], `${path}.memoryMb`, {
      default: DEFAULT_PERFORMANCE_MEMORY_MB,
      integer: true,
      min: 128,
      max: 10240,
    }),
    timeoutSeconds: check.number(performance['timeoutSeconds'], `${path}.timeoutSeconds`, {
      default: DEFAULT_PERFORMANCE_TIMEOUT_SECONDS,
      integer: true,
      min: 1,
      max: 900,
    }),
  } as PerformanceConfig;
}

/**
 * One limit, checked by the core's {@link validateLimit} (the type `driftwatch evaluate` uses), plus what
 * only the config knows: a segment limit needs a segment column, and a bound outside the values its metric
 * can take is a typo (accuracy 85 for 0.85) rather than a limit never reached.
 */
function readLimit(
  check: Checker,
  raw: unknown,
  path: string,
  segmentColumn: string | null,
): PerformanceLimit | undefined {
  const limit = check.attempt(() => validateLimit(raw, path));
  if (limit === undefined) return undefined;
  if (limit.segment !== undefined && limit.segment !== null && segmentColumn === null) {
    check.fail(
      `${path}.segment`,
      "a segment limit needs a segment column (the model's segment or performance.segmentColumn)",
    );
  }
  const range =
    limit.metric === 'gini'
      ? { min: -1, max: 1 }
      : limit.metric === 'logLoss'
        ? { min: 0 }
        : { min: 0, max: 1 };
  for (const bound of ['min', 'max'] as const) {
    const value = limit[bound];
    if (value !== undefined) check.number(value, `${path}.${bound}`, range);
  }
  if (limit.maxDrop !== undefined && limit.maxDrop > 1) {
    check.fail(`${path}.maxDrop`, `must be at most 1, got ${limit.maxDrop} (a share: 0.05 is 5%)`);
  }
  if (limit.min !== undefined && limit.max !== undefined && limit.min > limit.max) {
    check.fail(path, `min ${limit.min} is above max ${limit.max}`);
  }
  return limit;
}

function scheduleProblem(schedule: string): string | undefined {
  const rate = RATE.exec(schedule);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    if (value < 1) return 'a rate must be at least 1';
    if ((value === 1) !== !unit.endsWith('s')) {
      return `write rate(1 ${unit.replace(/s$/, '')}) for one and rate(N ${unit.replace(/s?$/, 's')}) for more`;
    }
    return undefined;
  }
  const cron = CRON.exec(schedule);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6)
      return `a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`;
    return undefined;
  }
  return `${JSON.stringify(schedule)} is neither rate(N unit) nor cron(6 fields), e.g. "rate(1 day)" or "cron(0 6 * * ? *)"`;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function readRetraining(
  check: Checker,
  raw: unknown,
  path: string,
  performance: PerformanceConfig | undefined,
  endpointName: string | undefined,
): RetrainingConfig | undefined {
  const hasPerformance = performance !== undefined;
  const retraining = check.object(raw, path, [
    'schedule',
    'inferenceImage',
    'championImage',
    'dataWindowDays',
    'holdoutDataset',
    'primaryMetric',
    'minImprovement',
    'segmentTolerance',
    'transformInstanceType',
    'triggers',
    'cooldownHours',
    'monthlyBudgetUsd',
    'instanceType',
    'instanceCount',
    'instancePricePerHourUsd',
    'maxRuntimeMinutes',
    'image',
    'hyperparameters',
  ]);
  if (retraining === undefined) return undefined;
  const modelPath = path.replace(/\.retraining$/, '');
  // The run scores the challenger against the champion on a labelled holdout (performance section) and rolls
  // it out on the model's endpoint, so both must be declared.
  if (endpointName === undefined) {
    check.fail(path, `retraining rolls the new model out on an endpoint: set ${modelPath}.endpointName`);
  }
  if (!hasPerformance) {
    check.fail(
      path,
      `retraining evaluates the new model with ${modelPath}.performance (label, positive class, floors): add that section`,
    );
  }
  const triggers = check.stringList(retraining['triggers'], `${path}.triggers`, { minLength: 1 }) ?? [];
  triggers.forEach((trigger, i) => {
    check.oneOf(trigger, `${path}.triggers[${i}]`, RETRAINING_TRIGGERS);
    if (trigger === 'performance' && !hasPerformance) {
      check.fail(
        `${path}.triggers[${i}]`,
        'the performance trigger needs a performance section in the same model',
      );
    }
  });
  const monthlyBudgetUsd = check.number(retraining['monthlyBudgetUsd'], `${path}.monthlyBudgetUsd`, {
    above: 0,
  });
  const instanceCount = check.number(retraining['instanceCount'], `${path}.instanceCount`, {
    default: 1,
    integer: true,
    min: 1,
    max: 100,
  });
  const instancePricePerHourUsd = check.number(
    retraining['instancePricePerHourUsd'],
    `${path}.instancePricePerHourUsd`,
    {
      above: 0,
    },
  );
  const maxRuntimeMinutes = check.number(retraining['maxRuntimeMinutes'], `${path}.maxRuntimeMinutes`, {
    default: 60,
    integer: true,
    min: 1,
    max: MAX_TRAINING_MINUTES,
  });
  if (
    monthlyBudgetUsd !== undefined &&
    instanceCount !== undefined &&
    instancePricePerHourUsd !== undefined &&
    maxRuntimeMinutes !== undefined
  ) {
    const worstRun = (instanceCount * instancePricePerHourUsd * maxRuntimeMinutes) / 60;
    if (worstRun > monthlyBudgetUsd) {
      check.fail(
        `${path}.monthlyBudgetUsd`,
        `one run can cost up to $${worstRun.toFixed(2)} (instanceCount x instancePricePerHourUsd x maxRuntimeMinutes), ` +
          `more than the budget of $${monthlyBudgetUsd}, so no run could ever start`,
      );
    }
  }
  const hyperparameters: Record<string, string> = {};
  const hyperparametersRaw =
    retraining['hyperparameters'] === undefined
      ? {}
      : (check.object(retraining['hyperparameters'], `${path}.hyperparameters`) ?? {});
  for (const [key, value] of Object.entries(hyperparametersRaw)) {
    const field = at(`${path}.hyperparameters`, key);
    if (key.length === 0 || key.length > 256)
      check.fail(field, 'a hyperparameter name has 1 to 256 characters');
    if (
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))
    ) {
      hyperparameters[key] = String(value);
    } else {
      check.fail(field, `must be a string, number or boolean, got ${describe(value)}`);
    }
  }
  return {
    triggers: [...new Set(triggers)],
    cooldownHours: check.number(retraining['cooldownHours'], `${path}.cooldownHours`, {
      default: 24,
      min: 0,
    }),
    monthlyBudgetUsd,
    instanceType: check.string(retraining['instanceType'], `${path}.instanceType`, {
      pattern: INSTANCE_TYPE,
      hint: 'a SageMaker training instance type such as "ml.m5.xlarge"',
    }),
    instanceCount,
    instancePricePerHourUsd,
    maxRuntimeMinutes,
    image: check.string(retraining['image'], `${path}.image`, {
      pattern: ECR_IMAGE,
      hint: 'an ECR image URI such as "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-train:1.4"',
    }),
    hyperparameters,
    ...readRetrainingEvaluation(check, retraining, path, performance),
  } as RetrainingConfig;
}

/** The retraining fields added with the pipeline: schedule, data window, holdout and the challenger's bar. */
function readRetrainingEvaluation(
  check: Checker,
  retraining: Record<string, unknown>,
  path: string,
  performance: PerformanceConfig | undefined,
): Partial<RetrainingConfig> {
  const result: Partial<RetrainingConfig> = {};
  if (retraining['schedule'] !== undefined) {
    const schedule = check.string(retraining['schedule'], `${path}.schedule`);
    const problem = schedule === undefined ? undefined : scheduleProblem(schedule);
    if (problem) check.fail(`${path}.schedule`, problem);
    if (schedule !== undefined) result.schedule = schedule;
  }
  const image = typeof retraining['image'] === 'string' ? retraining['image'] : undefined;
  result.inferenceImage =
    retraining['inferenceImage'] === undefined
      ? image
      : check.string(retraining['inferenceImage'], `${path}.inferenceImage`, {
          pattern: ECR_IMAGE,
          hint: 'an ECR image URI such as "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-serve:1.4"',
        });
  result.championImage =
    retraining['championImage'] === undefined
      ? result.inferenceImage
      : check.string(retraining['championImage'], `${path}.championImage`, {
          pattern: ECR_IMAGE,
          hint: 'the ECR image URI of the model the endpoint serves, such as "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-serve:1.3"',
        });
  result.dataWindowDays = check.number(retraining['dataWindowDays'], `${path}.dataWindowDays`, {
    default: DEFAULT_RETRAINING_DATA_WINDOW_DAYS,
    integer: true,
    min: 1,
    max: 3650,
  });
  const holdoutDefault = performance?.goldenDataset;
  result.holdoutDataset =
    holdoutDefault === undefined
      ? check.relativeKey(retraining['holdoutDataset'], `${path}.holdoutDataset`)
      : check.relativeKey(retraining['holdoutDataset'], `${path}.holdoutDataset`, holdoutDefault);
  result.primaryMetric = check.oneOf(
    retraining['primaryMetric'],
    `${path}.primaryMetric`,
    PERFORMANCE_METRICS,
    {
      default: DEFAULT_PRIMARY_METRIC,
    },
  );
  if (result.primaryMetric === 'positiveRate') {
    check.fail(
      `${path}.primaryMetric`,
      'positiveRate has no better direction, so a challenger cannot beat it',
    );
  }
  result.minImprovement = check.number(retraining['minImprovement'], `${path}.minImprovement`, {
    default: DEFAULT_MIN_IMPROVEMENT,
    min: 0,
  });
  result.segmentTolerance = check.number(retraining['segmentTolerance'], `${path}.segmentTolerance`, {
    default: DEFAULT_SEGMENT_TOLERANCE,
    min: 0,
  });
  result.transformInstanceType = check.string(
    retraining['transformInstanceType'],
    `${path}.transformInstanceType`,
    {
      default: DEFAULT_TRANSFORM_INSTANCE_TYPE,
      pattern: INSTANCE_TYPE,
      hint: 'a SageMaker instance type such as "ml.m5.large"',
    },
  );
  return result;
}

/**
 * The canary settings of a model without a `canary` section: a retrained model is still rolled out, with
 * these defaults.
 */
export function defaultCanaryConfig(modelName: string): CanaryConfig {
  return {
    steps: [...DEFAULT_CANARY_STEPS],
    bakeMinutes: DEFAULT_CANARY_BAKE_MINUTES,
    alpha: 0.05,
    minSamples: 500,
    shadow: false,
    deadlineMinutes: DEFAULT_CANARY_DEADLINE_MINUTES,
    maxErrorRate: DEFAULT_CANARY_MAX_ERROR_RATE,
    maxLatencyIncrease: DEFAULT_CANARY_MAX_LATENCY_INCREASE,
    endpointWaitMinutes: DEFAULT_ENDPOINT_WAIT_MINUTES,
    feedbackPrefix: `${modelName}/feedback/`,
  };
}

function readCanary(
  check: Checker,
  raw: unknown,
  path: string,
  endpointName: string | undefined,
  modelName: string | undefined,
): CanaryConfig | undefined {
  const canary = check.object(raw, path, [
    'steps',
    'bakeMinutes',
    'alpha',
    'minSamples',
    'shadow',
    'deadlineMinutes',
    'maxErrorRate',
    'maxLatencyIncrease',
    'endpointWaitMinutes',
    'feedbackPrefix',
  ]);
  if (canary === undefined) return undefined;
  if (endpointName === undefined) {
    check.fail(
      path,
      `a canary needs the endpoint it rolls out on: set ${path.replace(/\.canary$/, '')}.endpointName`,
    );
  }
  let steps = [...DEFAULT_CANARY_STEPS];
  if (canary['steps'] !== undefined) {
    const given = (check.array(canary['steps'], `${path}.steps`, { minLength: 1 }) ?? []).map((step, i) =>
      check.number(step, `${path}.steps[${i}]`, { integer: true, min: 1, max: 100 }),
    );
    given.forEach((step, i) => {
      const previous = given[i - 1];
      if (step !== undefined && previous !== undefined && step <= previous) {
        check.fail(`${path}.steps[${i}]`, `${step} does not increase on the step before it (${previous})`);
      }
    });
    const last = given.at(-1);
    if (last !== undefined && last !== 100)
      check.fail(`${path}.steps`, 'the last step must be 100 (the full rollout)');
    steps = given as number[];
  }
  return {
    steps,
    bakeMinutes: check.number(canary['bakeMinutes'], `${path}.bakeMinutes`, {
      default: 30,
      integer: true,
      min: 1,
      max: 1440,
    }),
    alpha: check.number(canary['alpha'], `${path}.alpha`, { default: 0.05, above: 0, max: 0.5 }),
    minSamples: check.number(canary['minSamples'], `${path}.minSamples`, {
      default: 500,
      integer: true,
      min: 1,
    }),
    shadow: check.boolean(canary['shadow'], `${path}.shadow`, false),
    ...readCanaryRollout(check, canary, path, modelName),
  } as CanaryConfig;
}

/** The canary fields added with the pipeline: deadline, operational limits and the feedback prefix. */
function readCanaryRollout(
  check: Checker,
  canary: Record<string, unknown>,
  path: string,
  modelName: string | undefined,
): Partial<CanaryConfig> {
  const bakeMinutes = typeof canary['bakeMinutes'] === 'number' ? canary['bakeMinutes'] : 30;
  const deadlineMinutes = check.number(canary['deadlineMinutes'], `${path}.deadlineMinutes`, {
    default: Math.max(DEFAULT_CANARY_DEADLINE_MINUTES, bakeMinutes),
    integer: true,
    min: 1,
    max: 10_080,
  });
  if (deadlineMinutes !== undefined && deadlineMinutes < bakeMinutes) {
    check.fail(
      `${path}.deadlineMinutes`,
      `${deadlineMinutes} is shorter than bakeMinutes (${bakeMinutes}): no step could ever be judged`,
    );
  }
  return {
    deadlineMinutes,
    maxErrorRate: check.number(canary['maxErrorRate'], `${path}.maxErrorRate`, {
      default: DEFAULT_CANARY_MAX_ERROR_RATE,
      min: 0,
      max: 1,
    }),
    maxLatencyIncrease: check.number(canary['maxLatencyIncrease'], `${path}.maxLatencyIncrease`, {
      default: DEFAULT_CANARY_MAX_LATENCY_INCREASE,
      min: 0,
    }),
    endpointWaitMinutes: check.number(canary['endpointWaitMinutes'], `${path}.endpointWaitMinutes`, {
      default: DEFAULT_ENDPOINT_WAIT_MINUTES,
      integer: true,
      min: 1,
      max: 1440,
    }),
    feedbackPrefix: check.prefix(
      canary['feedbackPrefix'],
      `${path}.feedbackPrefix`,
      modelName === undefined ? undefined : `${modelName}/feedback/`,
    ),
  };
}

/** Checks that need every model: unique names, and prefixes that never overlap. */
function checkAcrossModels(check: Checker, models: readonly (ModelConfig | undefined)[]): void {
  const names = new Map<string, number>();
  const prefixes: { prefix: string; path: string }[] = [];
  models.forEach((model, i) => {
    if (!model) return;
    if (typeof model.name === 'string') {
      const first = names.get(model.name);
      if (first === undefined) names.set(model.name, i);
      else
        check.fail(
          `models[${i}].name`,
          `${JSON.stringify(model.name)} is already the name of models[${first}]`,
        );
    }
    for (const kind of ['incoming', 'golden', 'baselines'] as const) {
      const prefix = model.prefixes?.[kind];
      if (typeof prefix !== 'string') continue;
      const path = `models[${i}].prefixes.${kind}`;
      // An incoming prefix over another one would send golden or baseline uploads (or another model's data)
      // to a drift check; overlapping golden/baseline prefixes would mix models' files.
      for (const other of prefixes) {
        if (prefix.startsWith(other.prefix) || other.prefix.startsWith(prefix)) {
          check.fail(
            path,
            `${JSON.stringify(prefix)} overlaps ${other.path} (${JSON.stringify(other.prefix)})`,
          );
        }
      }
      prefixes.push({ prefix, path });
    }
  });
}

/** `path.key`, or `path["odd key"]` when the key is not a plain identifier. */
function at(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

interface NumberRule {
  default?: number;
  integer?: boolean;
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  above?: number;
}

/**
 * Reads values and records a {@link ConfigError} for each problem, returning undefined for a bad value so
 * the caller carries on and finds the next problem. Without `default`, a missing value is a problem.
 */
class Checker {
  readonly problems: ConfigError[] = [];

  fail(path: string, reason: string): undefined {
    this.problems.push(new ConfigError(path === '' ? '(config root)' : path, reason));
    return undefined;
  }

  /** An object; with `keys`, any other key is a problem (a misspelt optional field must not pass silently). */
  object(value: unknown, path: string, keys?: readonly string[]): Record<string, unknown> | undefined {
    if (value === undefined) return this.fail(path, 'is required');
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.fail(path, `must be an object, got ${describe(value)}`);
    }
    if (keys) {
      for (const key of Object.keys(value)) {
        if (!keys.includes(key))
          this.fail(at(path, key), `unknown field (expected one of: ${keys.join(', ')})`);
      }
    }
    return value as Record<string, unknown>;
  }

  array(value: unknown, path: string, rule: { minLength?: number } = {}): unknown[] | undefined {
    if (value === undefined) return this.fail(path, 'is required');
    if (!Array.isArray(value)) return this.fail(path, `must be an array, got ${describe(value)}`);
    if (rule.minLength !== undefined && value.length < rule.minLength) {
      return this.fail(
        path,
        `must have at least ${rule.minLength} ${rule.minLength === 1 ? 'entry' : 'entries'}`,
      );
    }
    return value;
  }

  string(
    value: unknown,
    path: string,
    rule: { default?: string; pattern?: RegExp; hint?: string } = {},
  ): string | undefined {
    if (value === undefined) return 'default' in rule ? rule.default : this.fail(path, 'is required');
    if (typeof value !== 'string') {
      return this.fail(path, `must be a string, got ${describe(value)}${rule.hint ? ` (${rule.hint})` : ''}`);
    }
    if (value.trim() === '') return this.fail(path, 'must not be empty');
    if (rule.pattern && !rule.pattern.test(value)) {
      return this.fail(path, `${JSON.stringify(value)} is not valid${rule.hint ? `: ${rule.hint}` : ''}`);
    }
    return value;
  }

  oneOf<T extends string>(
    value: unknown,
    path: string,
    allowed: readonly T[],
    rule: { default?: T } = {},
  ): T | undefined {
    if (value === undefined) return 'default' in rule ? rule.default : this.fail(path, 'is required');
    if (typeof value !== 'string' || !allowed.includes(value as T)) {
      return this.fail(path, `${describe(value)} is not one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  number(value: unknown, path: string, rule: NumberRule = {}): number | undefined {
    if (value === undefined) return 'default' in rule ? rule.default : this.fail(path, 'is required');
    if (typeof value !== 'number' || !Number.isFinite(value))
      return this.fail(path, `must be a number, got ${describe(value)}`);
    if (rule.integer && !Number.isInteger(value))
      return this.fail(path, `must be a whole number, got ${value}`);
    if (rule.min !== undefined && value < rule.min)
      return this.fail(path, `must be at least ${rule.min}, got ${value}`);
    if (rule.above !== undefined && value <= rule.above)
      return this.fail(path, `must be above ${rule.above}, got ${value}`);
    if (rule.max !== undefined && value > rule.max)
      return this.fail(path, `must be at most ${rule.max}, got ${value}`);
    return value;
  }

  boolean(value: unknown, path: string, fallback: boolean): boolean | undefined {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') return this.fail(path, `must be true or false, got ${describe(value)}`);
    return value;
  }

  /** Distinct non-empty strings. */
  stringList(
    value: unknown,
    path: string,
    rule: { default?: string[]; minLength?: number } = {},
  ): string[] | undefined {
    if (value === undefined && rule.default) return [...rule.default];
    const list = this.array(value, path, rule);
    if (list === undefined) return undefined;
    const result: string[] = [];
    list.forEach((item, i) => {
      const text = this.string(item, `${path}[${i}]`);
      if (text === undefined) return;
      if (result.includes(text)) this.fail(`${path}[${i}]`, `${JSON.stringify(text)} is listed twice`);
      else result.push(text);
    });
    return result;
  }

  /** An S3 key prefix: non-empty, ends with `/`, no leading `/`, no empty path segment. */
  prefix(value: unknown, path: string, fallback?: string): string | undefined {
    const text =
      fallback === undefined ? this.string(value, path) : this.string(value, path, { default: fallback });
    if (text === undefined) return undefined;
    if (!text.endsWith('/'))
      return this.fail(path, `${JSON.stringify(text)} must end with "/" (a prefix names a folder)`);
    if (text.startsWith('/') || text.includes('//')) {
      return this.fail(
        path,
        `${JSON.stringify(text)} must not start with "/" or contain "//" (S3 keys have no leading slash)`,
      );
    }
    if (/[*?]/.test(text))
      return this.fail(path, `${JSON.stringify(text)} is a literal prefix; wildcards are not supported`);
    return text;
  }

  /** An object key relative to a prefix: no leading or trailing `/`. */
  relativeKey(value: unknown, path: string, fallback?: string): string | undefined {
    const text =
      fallback === undefined ? this.string(value, path) : this.string(value, path, { default: fallback });
    if (text === undefined) return undefined;
    if (text.startsWith('/') || text.endsWith('/')) {
      return this.fail(
        path,
        `${JSON.stringify(text)} is a key relative to the model's prefix: no leading or trailing "/"`,
      );
    }
    return text;
  }

  method(text: string, path: string): MethodSetting | undefined {
    return this.attempt(() => parseMethodSetting(text, path));
  }

  /** The result of a check that throws {@link ConfigError} (a core validator), its error recorded. */
  attempt<T>(run: () => T): T | undefined {
    try {
      return run();
    } catch (error) {
      if (error instanceof ConfigError) {
        this.problems.push(error);
        return undefined;
      }
      throw error;
    }
  }
}
