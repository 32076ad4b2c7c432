/**
 * The one declaration of `driftwatch.config.json` (zod 4). The TypeScript types (`model-config.ts`), the
 * defaults, the validation (`validate.ts`) and the JSON Schema editors use (`driftwatch.config.schema.json`,
 * written by `npm run docs`) all come from it.
 *
 * How a field is declared: a helper below (`text`, `num`, `oneOf`, `list`, `prefix`, `relativeKey`, `flag`)
 * gives the rule and today's error message, `.default(x)` its default, `doc(..)` its description (required:
 * a test fails on a field without one). Rules that involve more than one field are refinements
 * (`.superRefine(.., ALWAYS)`) on the object that holds every field they read, so they run even when another
 * field is invalid and every problem is reported at once. A message that names another field of the same
 * model writes `${MODEL}` for the model's path (`models[1]`); `validate.ts` fills it in.
 */
import * as z from 'zod';
import { DEFAULT_PERSISTENCE, MAX_PERSISTENCE_WINDOW } from '../../lambdas/core/alerting/persistence.ts';
import { createDetector, DETECTOR_METHODS } from '../../lambdas/core/concept-drift/detector.ts';
import { createRateMonitor } from '../../lambdas/core/concept-drift/rate-monitor.ts';
import { appliesTo, parseMethodSetting } from '../../lambdas/core/drift/decision.ts';
import { DEFAULT_DRIFT_SHARE, type MethodSetting } from '../../lambdas/core/drift/options.ts';
import { DEFAULT_MIN_EFFECT } from '../../lambdas/core/drift/significance.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';
import {
  assertDistinctLimits,
  LIMIT_KINDS,
  type PerformanceLimit,
  validateLimit,
} from '../../lambdas/core/performance/limits.ts';
import { METRIC_NAMES, type MetricName } from '../../lambdas/core/performance/metrics.ts';
import { DEFAULT_MAX_BAD_SHARE } from '../../lambdas/core/readers/capture.ts';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../../lambdas/core/readers/decompress.ts';
import type { EndpointContentType } from '../../lambdas/shared/contract.ts';

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
export const DEFAULT_PRIMARY_METRIC: MetricName = 'rocAuc';
export const DEFAULT_MIN_IMPROVEMENT = 0.005;
export const DEFAULT_SEGMENT_TOLERANCE = 0.02;
export const DEFAULT_TRANSFORM_INSTANCE_TYPE = 'ml.m5.large';
export const DEFAULT_ENDPOINT_CONTENT_TYPE: EndpointContentType = 'application/json';
export const ENDPOINT_CONTENT_TYPES = [
  'application/json',
  'text/csv',
] as const satisfies readonly EndpointContentType[];
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
export const PERFORMANCE_METRICS: readonly MetricName[] = METRIC_NAMES;
export const RETRAINING_TRIGGERS = [
  'drift',
  'criticalFeatureDrift',
  'performance',
  'conceptDrift',
  'estimatedPerformance',
] as const;

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

/** Stands for the model's path (`models[1]`) in a message; `validate.ts` replaces it. */
export const MODEL = '\u0000model';

/** Refinement options: run even when another field already failed, so every problem is found at once. */
const ALWAYS = { when: () => true } as const;
/** Marks an issue as a rule's (across fields) rather than a field's own: see `validate.ts`. */
const RULE = { code: 'custom', params: { rule: true } } as const;

// ---------------------------------------------------------------------------------------------------------
// Field helpers: each gives one kind of field its rule and the message a user reads when it is broken.

/** `string "x"`, `number 3`, `an array`...: what a value is, for messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

const requiredOr =
  (message: (input: unknown) => string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : message(issue.input);

/** Attaches the description shown by editors and the generated config reference. */
function doc<T extends z.ZodType>(schema: T, description: string): T {
  return schema.describe(description);
}

/** A non-blank string, optionally matching `pattern` (`hint` says what is expected). */
function text(rule: { pattern?: RegExp; hint?: string } = {}) {
  const hint = rule.hint;
  let schema = z
    .string({
      error: requiredOr((v) => `must be a string, got ${describeValue(v)}${hint ? ` (${hint})` : ''}`),
    })
    .regex(/\S/, { error: 'must not be empty' });
  if (rule.pattern) {
    schema = schema.regex(rule.pattern, {
      error: (issue) => `${JSON.stringify(issue.input)} is not valid${hint ? `: ${hint}` : ''}`,
    });
  }
  return schema;
}

interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  above?: number;
}

/** A finite number within the bounds (checked in this order: whole, min, above, max). */
function num(rule: NumberRule = {}) {
  let schema = z.number({ error: requiredOr((v) => `must be a number, got ${describeValue(v)}`) });
  if (rule.integer) {
    schema = schema.refine(Number.isInteger, {
      error: (issue) => `must be a whole number, got ${issue.input}`,
    });
  }
  if (rule.min !== undefined) {
    const min = rule.min;
    schema = schema.min(min, { error: (issue) => `must be at least ${min}, got ${issue.input}` });
  }
  if (rule.above !== undefined) {
    const above = rule.above;
    schema = schema.gt(above, { error: (issue) => `must be above ${above}, got ${issue.input}` });
  }
  if (rule.max !== undefined) {
    const max = rule.max;
    schema = schema.max(max, { error: (issue) => `must be at most ${max}, got ${issue.input}` });
  }
  // The refinement above is invisible to JSON Schema: say it there (zod copies `meta` into the schema).
  return rule.integer ? schema.meta({ type: 'integer' }) : schema;
}

/** One of a fixed set of strings. */
function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: requiredOr((v) => `${describeValue(v)} is not one of ${values.join(', ')}`),
  });
}

/** A list of distinct items (non-blank strings by default). */
function list<T extends z.ZodType = ReturnType<typeof text>>(rule: { minLength?: number; item?: T } = {}) {
  const item = (rule.item ?? text()) as T;
  let schema = z.array(item, { error: requiredOr((v) => `must be an array, got ${describeValue(v)}`) });
  if (rule.minLength !== undefined) {
    const n = rule.minLength;
    schema = schema.min(n, { error: `must have at least ${n} ${n === 1 ? 'entry' : 'entries'}` });
  }
  const unique = schema.superRefine((items, ctx) => {
    if (!Array.isArray(items)) return;
    const seen = new Set<unknown>();
    items.forEach((value, i) => {
      if (typeof value === 'string' && seen.has(value))
        ctx.addIssue({ code: 'custom', path: [i], message: `${JSON.stringify(value)} is listed twice` });
      seen.add(value);
    });
  }, ALWAYS);
  return unique.meta({ uniqueItems: true });
}

/** true or false. */
function flag() {
  return z.boolean({ error: requiredOr((v) => `must be true or false, got ${describeValue(v)}`) });
}

/** An object whose every field is declared: any other key is reported (a misspelt field must not pass). */
function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  const keys = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field (expected one of: ${keys})`
        : requiredOr((v) => `must be an object, got ${describeValue(v)}`)(issue),
  });
}

/** A map from names the user chooses (columns, hyperparameters) to values. */
function map<V extends z.ZodType>(value: V) {
  return z.record(z.string(), value, {
    error: requiredOr((v) => `must be an object, got ${describeValue(v)}`),
  });
}

/** An S3 key prefix: non-empty, ends with `/`, no leading `/`, no empty path segment, no wildcard. */
function prefix() {
  return text()
    .regex(/\/$/, { error: (i) => `${JSON.stringify(i.input)} must end with "/" (a prefix names a folder)` })
    .regex(/^(?!\/)(?!.*\/\/)/, {
      error: (i) =>
        `${JSON.stringify(i.input)} must not start with "/" or contain "//" (S3 keys have no leading slash)`,
    })
    .regex(/^[^*?]*$/, {
      error: (i) => `${JSON.stringify(i.input)} is a literal prefix; wildcards are not supported`,
    });
}

/** An object key relative to a prefix: no leading or trailing `/`. */
function relativeKey() {
  return text().regex(/^(?!\/).*[^/]$/s, {
    error: (i) =>
      `${JSON.stringify(i.input)} is a key relative to the model's prefix: no leading or trailing "/"`,
  });
}

/** The message of a core validator's ConfigError without its field (the field is the issue's path). */
function reasonOf(error: ConfigError): string {
  return error.message.slice(error.field.length + 2);
}

/** A drift method setting, `METHOD[:THRESHOLD]`, parsed by the CLI's parser. */
function methodSetting() {
  return text().transform((value, ctx): MethodSetting => {
    try {
      return parseMethodSetting(value, '');
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      ctx.addIssue({ code: 'custom', message: reasonOf(error), input: value });
      return z.NEVER;
    }
  });
}

/** Problem with an EventBridge Scheduler expression, or undefined. */
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

function schedule() {
  return text()
    .regex(/^(rate|cron)\(/, { error: (i) => scheduleProblem(String(i.input)) })
    .superRefine((value, ctx) => {
      const problem = RATE.test(value) || CRON.test(value) ? scheduleProblem(value) : undefined;
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

function httpsUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${JSON.stringify(value)} is not a URL`;
  }
  if (url.protocol !== 'https:')
    return `${JSON.stringify(value)} must use https (SNS sends alarms in clear over http)`;
  if (url.username || url.password)
    return 'must not carry credentials in the URL (anyone who can read the topic sees them)';
  return undefined;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The config, section by section. Add a field: declare it in its section (helper, `.default`, `doc`); add
// its cross-field rule, if any, to the section's refinement; `npm run docs` rewrites the JSON Schema and
// docs/deploy.md's reference, and the types follow by themselves.

export const AlertsSchema = doc(
  strict({
    emails: doc(
      list({
        item: text().regex(EMAIL, { error: (i) => `${JSON.stringify(i.input)} is not an email address` }),
      }),
      'Email addresses (each must confirm the subscription).',
    ).default([]),
    httpsEndpoints: doc(
      list({
        item: text()
          .regex(/^https:\/\//, { error: (i) => httpsUrlProblem(String(i.input)) })
          .superRefine((value, ctx) => {
            const problem = value.startsWith('https://') ? httpsUrlProblem(value) : undefined;
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
      }),
      "HTTPS endpoints, e.g. an incident tool's SNS integration URL (no credentials in the URL).",
    ).default([]),
    renotifyMinutes: doc(
      num({ integer: true, min: 5, max: 10080 }).nullable(),
      "Page again every this many minutes while a model's incident stays open (checked when the model's next signal arrives). null: one page per incident.",
    ).default(null),
  }),
  "Subscriptions of the stack's one alarm topic: who is paged when an alarm fires.",
);

export const PrefixesSchema = doc(
  strict({
    incoming: doc(prefix(), 'New data to check for drift: every object created under it is checked.'),
    golden: doc(prefix(), 'Labelled (golden) datasets for performance checks.'),
    baselines: doc(prefix(), 'Baseline profiles (`driftwatch profile`) and baseline performance reports.'),
  }),
  'Where the model\'s files live in the landing bucket. Each prefix ends with "/"; no two prefixes overlap.',
);

export const DriftSchema = doc(
  strict({
    method: doc(
      methodSetting(),
      "Method for every feature it applies to: `auto` (the spec's choice) or `METHOD[:THRESHOLD]` with METHOD one of ks, psi, jensenShannon, wasserstein, chi2.",
    ).prefault('auto'),
    featureMethods: doc(
      map(methodSetting()),
      'Per-feature `METHOD[:THRESHOLD]`, overriding `method`; each key must be a feature.',
    ).prefault({}),
    driftShare: doc(
      num({ above: 0, max: 1 }),
      'Share of drifted features at which the dataset counts as drifted, in (0, 1].',
    ).default(DEFAULT_DRIFT_SHARE),
    criticalFeatures: doc(list(), 'Features whose drift alone pages on-call.').default([]),
    fdr: doc(
      num({ above: 0, max: 1 }).nullable(),
      'False discovery level Q: drift is decided on p-values adjusted by Benjamini-Hochberg AND a minimum effect (drift spec version 2). null keeps version 1 decisions; new configs get 0.05.',
    ).default(null),
    minEffect: doc(
      strict({
        ks: doc(num({ min: 0, max: 1 }), 'Smallest KS D statistic that counts as drift.').default(
          DEFAULT_MIN_EFFECT.ks,
        ),
        chi2: doc(num({ min: 0, max: 1 }), "Smallest chi-square Cramér's V that counts as drift.").default(
          DEFAULT_MIN_EFFECT.chi2,
        ),
      }),
      'With `fdr` only: significant differences smaller than these are reported but not counted as drift. Omitted: ks 0.1, chi2 0.1.',
    ).optional(),
    persistence: doc(
      strict({
        m: doc(num({ integer: true, min: 1 }), 'Drifted checks needed among the last n.').default(
          DEFAULT_PERSISTENCE.m,
        ),
        n: doc(
          num({ integer: true, min: 1, max: MAX_PERSISTENCE_WINDOW }),
          'Checks looked at (counted per check, not per time period: files arrive irregularly).',
        ).default(DEFAULT_PERSISTENCE.n),
      }).superRefine((rule, ctx) => {
        if (typeof rule.m === 'number' && typeof rule.n === 'number' && rule.m > rule.n)
          ctx.addIssue({
            ...RULE,
            path: ['m'],
            message: `must be at most persistence.n (${rule.n}), got ${rule.m}`,
          });
      }, ALWAYS),
      "Page only when m of the model's last n checks drifted (dataset drift and critical-feature drift each); the incident closes at the check after which the rule no longer holds.",
    ).prefault({}),
    baselineProfile: doc(
      relativeKey(),
      'Key of the baseline profile (`driftwatch profile`), relative to `prefixes.baselines`.',
    ).default(DEFAULT_BASELINE_PROFILE),
    maxObjectBytes: doc(
      num({ integer: true, min: 1 }),
      'Larger incoming objects are refused with a failure record (bytes).',
    ).default(DEFAULT_MAX_OBJECT_BYTES),
    maxDecompressedBytes: doc(
      num({ integer: true, min: 1 }),
      'gzip inputs that expand past this many bytes are refused.',
    ).default(DEFAULT_MAX_DECOMPRESSED_BYTES),
    memoryMb: doc(
      num({ integer: true, min: 128, max: 10240 }),
      "Memory the drift checks need, MB (1769 MB is one full vCPU). The one shared drift Lambda gets the largest of every model's value, so raising it for one model raises it for all.",
    ).default(DEFAULT_DRIFT_MEMORY_MB),
    timeoutSeconds: doc(
      num({ integer: true, min: 1, max: 900 }),
      "Time a drift check may take, seconds (at most 900). The one shared drift Lambda gets the largest of every model's value (its queues' visibility timeouts are six times that).",
    ).default(DEFAULT_DRIFT_TIMEOUT_SECONDS),
    maxConcurrency: doc(
      num({ integer: true, min: 2, max: 1000 }),
      "Most drift checks of this model at once: its files are spread over this many message groups of the engine's FIFO checks queue, and Lambda runs one check per group at a time. The engine runs at most 10 checks at once across all models: a model flooding files holds at most this many of them, and while the flooding models hold fewer than 10 together, another model's file starts as soon as it is routed.",
    ).default(DEFAULT_DRIFT_MAX_CONCURRENCY),
  })
    .superRefine((drift, ctx) => {
      if (drift.minEffect !== undefined && drift.fdr === null)
        ctx.addIssue({
          ...RULE,
          path: ['minEffect'],
          message: 'applies only with fdr (drift spec version 2): set fdr, e.g. 0.05',
        });
    }, ALWAYS)
    .transform(({ method, minEffect, ...rest }) => ({
      method: method.method === 'auto' ? null : method,
      minEffect: minEffect ?? { ...DEFAULT_MIN_EFFECT },
      ...rest,
    })),
  'How drift is measured and decided for this model (see docs/drift-spec.md).',
);

/** The values a bound of `metric` can take: a bound outside them is a typo (accuracy 85 for 0.85). */
function metricRange(metric: unknown): { min: number; max?: number } {
  if (metric === 'gini') return { min: -1, max: 1 };
  if (metric === 'logLoss') return { min: 0 };
  return { min: 0, max: 1 };
}

const bound = (description: string) =>
  doc(z.number({ error: 'expected a finite number' }).optional(), `${description} Omitted: not checked.`);

export const LimitSchema = doc(
  z
    .strictObject(
      {
        metric: doc(
          z.enum(METRIC_NAMES as unknown as [MetricName, ...MetricName[]], {
            error: (i) =>
              `unknown metric ${JSON.stringify(i.input)}; expected one of ${METRIC_NAMES.join(', ')}`,
          }),
          'The metric limited (docs/performance-spec.md).',
        ),
        segment: doc(
          z
            .string({ error: 'expected a segment value (a non-empty string)' })
            .min(1, { error: 'expected a segment value (a non-empty string)' })
            .nullable()
            .optional(),
          'The segment value it applies to (a value of the segment column). Omitted or null: all rows.',
        ),
        min: bound('Floor of a metric that is better when higher.'),
        max: bound('Ceiling of a metric that is better when lower.'),
        maxDrop: bound('Largest relative drop from the baseline report, a share (0.05 is 5%).'),
      },
      {
        error: (issue) =>
          issue.code === 'unrecognized_keys'
            ? `unknown key; expected metric, segment, ${LIMIT_KINDS.join(', ')}`
            : 'expected an object such as {"metric": "accuracy", "min": 0.85}',
      },
    )
    .superRefine((limit, ctx) => {
      // The core's checks (the same as `driftwatch evaluate --min/--max/--max-drop`): at least one bound, a
      // bound the metric can have, a drop >= 0. Structural problems are the schema's, reported above.
      try {
        validateLimit(limit, '');
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        const key = error.field.replace(/^\./, '');
        ctx.addIssue({ ...RULE, path: key === '' ? [] : [key], message: reasonOf(error) });
        return;
      }
      const range = metricRange(limit.metric);
      for (const kind of ['min', 'max'] as const) {
        const value = limit[kind];
        if (typeof value !== 'number') continue;
        if (value < range.min)
          ctx.addIssue({ ...RULE, path: [kind], message: `must be at least ${range.min}, got ${value}` });
        else if (range.max !== undefined && value > range.max)
          ctx.addIssue({ ...RULE, path: [kind], message: `must be at most ${range.max}, got ${value}` });
      }
      if (typeof limit.maxDrop === 'number' && limit.maxDrop > 1) {
        ctx.addIssue({
          ...RULE,
          path: ['maxDrop'],
          message: `must be at most 1, got ${limit.maxDrop} (a share: 0.05 is 5%)`,
        });
      }
      if (typeof limit.min === 'number' && typeof limit.max === 'number' && limit.min > limit.max)
        ctx.addIssue({ ...RULE, message: `min ${limit.min} is above max ${limit.max}` });
    }, ALWAYS)
    .transform((limit) => validateLimit(limit, 'limit') as PerformanceLimit),
  'A limit on one metric, for the whole dataset or one segment value: at least one of min, max, maxDrop.',
);

export const DEFAULT_CAPTURE_WINDOW_MINUTES = 60;
export const DEFAULT_CAPTURE_MAX_ROWS = 1_000_000;
export const DEFAULT_CAPTURE_GRACE_MINUTES = 10;

export const CaptureEstimateSchema = doc(
  strict({
    enabled: doc(
      flag(),
      "Estimate every window's performance from its scores while its labels have not arrived (CBPE). Needs the model's `performance` section (a binary classifier with scores).",
    ).default(true),
    reference: doc(
      relativeKey(),
      "Labelled table the model scored, relative to `prefixes.golden`: the calibrator (isotonic regression of the label on the score) is fitted on it once per version of the object. It needs `performance.labelColumn` and the score column (`performance.scoreColumn`, else `capture.scoreColumn`). Omitted: `performance.goldenDataset` when it holds `performance.scoreColumn`; otherwise there is no reference and every window's estimate is withheld, with that reason.",
    ).optional(),
    referenceModel: doc(
      text().nullable(),
      "Name of the SageMaker model that scored the reference. A window whose variant serves another model (a promoted challenger, a canary) gets no estimate: its scores are not the ones the calibrator knows. null: the champion's model (the endpoint's variant taking the most traffic) when the calibrator is first fitted on this version of the reference.",
    ).default(null),
  }),
  'Performance estimated before labels arrive (CBPE) for each Data Capture window, per segment and variant, checked against `performance.limits` as `Performance Estimated Degraded` events (docs/deploy.md).',
);

export const DEFAULT_GROUND_TRUTH_SETTLE_MINUTES = 15;
export const DEFAULT_GROUND_TRUTH_MAX_DELAY_HOURS = 24;

export const GroundTruthSchema = doc(
  strict({
    prefix: doc(
      prefix(),
      "Where delayed labels land, in the landing bucket. SageMaker's convention (and the cheapest): `<prefix>yyyy/mm/dd/hh/<file>`, the hour being that of the predictions labelled, so a file is joined to that hour's window only. A file outside that layout is joined to every window of the last `maxDelayHours`. Must not overlap another prefix.",
    ),
    idColumn: doc(
      text(),
      "The id column of label files that are tables (CSV, JSON Lines, Parquet): a prediction's `inferenceId`, or its `eventId` when the capture has no inferenceId. SageMaker ground-truth records (`groundTruthData`) carry theirs in `eventMetadata.eventId`.",
    ).default('inferenceId'),
    labelColumn: doc(text(), 'The label column of label files that are tables.').default('label'),
    timeColumn: doc(
      text().nullable(),
      "The column of label files that are tables holding when each label was known (ISO 8601, epoch seconds or a Parquet timestamp): the label delay is measured from the prediction's `inferenceTime` to it. An empty cell, a file without the column and SageMaker ground-truth records take the file's arrival time; a cell that is no time is a bad record. null: every label's time is its file's arrival.",
    ).default(null),
    settleMinutes: doc(
      num({ integer: true, min: 0, max: 1440 }),
      "How long a window waits after its last label file before it is joined (label files of one upload are joined once), and never before the capture window's end plus `graceMinutes`. A later label file joins the window again (a new version).",
    ).default(DEFAULT_GROUND_TRUTH_SETTLE_MINUTES),
    maxDelayHours: doc(
      num({ integer: true, min: 1, max: 24 * 35 }),
      'How long labels may lag their predictions, in hours: a label file outside the `yyyy/mm/dd/hh` layout is joined to every window of that many hours before it arrived.',
    ).default(DEFAULT_GROUND_TRUTH_MAX_DELAY_HOURS),
  }),
  'Delayed labels joined to the captured predictions of each window (realized performance per window, endpoint, variant and segment, checked against `performance.limits`). The realized performance uses `performance`\'s positive class, threshold, classes and segment column (without `performance`: "1", 0.5, any, the model\'s `segment`).',
);

export const CaptureSchema = doc(
  strict({
    prefix: doc(
      prefix(),
      "Where the endpoints' Data Capture files land, in the landing bucket: point each endpoint config's `DataCaptureConfig.DestinationS3Uri` at `s3://<landing bucket>/<prefix without the last />`; SageMaker adds `<EndpointName>/<VariantName>/yyyy/mm/dd/hh/`. Must not overlap another prefix.",
    ),
    endpoints: doc(
      list({
        minLength: 1,
        item: text({
          pattern: ENDPOINT_NAME,
          hint: 'a SageMaker endpoint name: letters, digits and -, at most 63 characters',
        }),
      }),
      "Endpoints whose capture is watched; a capture file of another endpoint under the prefix is recorded as failed. Omitted: the model's `endpointName`.",
    ).optional(),
    windowMinutes: doc(
      num({ integer: true, min: 5, max: 1440 }).refine((minutes) => 1440 % minutes === 0, {
        error: (issue) =>
          `must divide a day (1440 minutes) so windows align to UTC midnight, got ${issue.input}`,
      }),
      "Length of a window, in minutes (windows start at UTC midnight and every `windowMinutes` after): each endpoint variant's files of one window are checked together, once the window is over.",
    ).default(DEFAULT_CAPTURE_WINDOW_MINUTES),
    maxRows: doc(
      num({ integer: true, min: 1 }),
      "A window is closed early, and checked, once it holds this many rows; later files of the same period start the window's next part.",
    ).default(DEFAULT_CAPTURE_MAX_ROWS),
    graceMinutes: doc(
      num({ integer: true, min: 0, max: 1440 }),
      'How long after its end a window waits for files SageMaker still buffers before it is checked. A file arriving later re-checks its window.',
    ).default(DEFAULT_CAPTURE_GRACE_MINUTES),
    maxBadShare: doc(
      num({ min: 0, max: 1 }),
      'Share of bad records (undecodable, wrong number of fields, an output that is not a score) above which a capture file is recorded as failed and sent to the dead-letter queue; below it, bad records are counted and reported.',
    ).default(DEFAULT_MAX_BAD_SHARE),
    scoreColumn: doc(
      text(),
      "Name of the column holding the endpoint's output (prediction drift is checked on it when the baseline profile has it). Omitted: `performance.scoreColumn`, else `score`.",
    ).optional(),
    estimate: doc(CaptureEstimateSchema, CaptureEstimateSchema.description!).default({
      enabled: true,
      referenceModel: null,
    }),
    groundTruth: doc(GroundTruthSchema.optional(), `${GroundTruthSchema.description} Omitted: no labels.`),
  }),
  "Watch the live traffic of the model's SageMaker endpoints through Data Capture: files are profiled as they arrive and checked per window, endpoint and variant.",
);

export const PerformanceSchema = doc(
  strict({
    schedule: doc(schedule(), 'EventBridge Scheduler expression: `rate(1 day)` or `cron(0 6 * * ? *)`.'),
    timezone: doc(
      text().refine(isTimeZone, {
        error: (i) => `${JSON.stringify(i.input)} is not an IANA time zone (e.g. "Europe/Paris")`,
      }),
      'IANA time zone of a cron schedule.',
    ).default('UTC'),
    goldenDataset: doc(relativeKey(), 'Key of the golden (labelled) dataset, relative to `prefixes.golden`.'),
    baselineReport: doc(
      relativeKey(),
      'Key of the baseline performance report, relative to `prefixes.baselines`.',
    ).default(DEFAULT_BASELINE_PERFORMANCE_REPORT),
    labelColumn: doc(text(), 'Column holding the true label.'),
    positiveClass: doc(
      text({ hint: 'write the label value as a string, e.g. "1" or "yes"' }),
      'Label value of the positive class, as a string.',
    ),
    classes: doc(
      list({ minLength: 2 }).nullable(),
      'The only label values allowed (a row with another is a failed check); includes `positiveClass`. null: any.',
    ).default(null),
    scoreColumn: doc(
      text(),
      "Column holding the model's score; omitted: the golden dataset is scored by the model's `endpointName`.",
    ).optional(),
    threshold: doc(
      num({ min: 0, max: 1 }),
      'Score at or above which the prediction is positive, in [0, 1].',
    ).default(0.5),
    segmentColumn: doc(
      text().nullable(),
      "Column whose values the segment limits refer to. Omitted: the model's `segment`; null: none.",
    ).optional(),
    limits: doc(list({ minLength: 1, item: LimitSchema }), 'The limits checked; a breach is an alarm.'),
    contentType: doc(
      oneOf(ENDPOINT_CONTENT_TYPES),
      'Format of `InvokeEndpoint` requests (endpoint scoring only).',
    )
      .optional()
      .meta({ default: DEFAULT_ENDPOINT_CONTENT_TYPE }),
    batchRows: doc(
      num({ integer: true, min: 1, max: 100_000 }),
      'Most rows per `InvokeEndpoint` request (endpoint scoring only); fewer when the payload would reach 6 MB.',
    )
      .optional()
      .meta({ default: DEFAULT_ENDPOINT_BATCH_ROWS }),
    maxConcurrency: doc(
      num({ integer: true, min: 1, max: 64 }),
      'Most `InvokeEndpoint` requests in flight at once (endpoint scoring only).',
    )
      .optional()
      .meta({ default: DEFAULT_ENDPOINT_MAX_CONCURRENCY }),
    memoryMb: doc(
      num({ integer: true, min: 128, max: 10240 }),
      "Memory the performance checks need, MB. The one shared performance Lambda gets the largest of every model's value.",
    ).default(DEFAULT_PERFORMANCE_MEMORY_MB),
    timeoutSeconds: doc(
      num({ integer: true, min: 1, max: 900 }),
      "Time a performance check may take, seconds (at most 900). The one shared performance Lambda gets the largest of every model's value.",
    ).default(DEFAULT_PERFORMANCE_TIMEOUT_SECONDS),
  }).superRefine((performance, ctx) => {
    const { classes, positiveClass, scoreColumn, labelColumn } = performance;
    if (Array.isArray(classes) && typeof positiveClass === 'string' && !classes.includes(positiveClass)) {
      ctx.addIssue({
        ...RULE,
        path: ['classes'],
        message: `does not include the positive class ${JSON.stringify(positiveClass)} (${MODEL}.performance.positiveClass)`,
      });
    }
    if (scoreColumn !== undefined) {
      if (scoreColumn === labelColumn)
        ctx.addIssue({
          ...RULE,
          path: ['scoreColumn'],
          message: `the same column as ${MODEL}.performance.labelColumn`,
        });
      // Request settings of endpoint scoring would be ignored: say so rather than let them look in effect.
      for (const field of ['contentType', 'batchRows', 'maxConcurrency'] as const) {
        if (performance[field] !== undefined) {
          ctx.addIssue({
            ...RULE,
            path: [field],
            message: `only applies when the golden dataset is scored by the endpoint (without ${MODEL}.performance.scoreColumn)`,
          });
        }
      }
    }
    const entries = (Array.isArray(performance.limits) ? performance.limits : [])
      .map((limit, i) => ({ limit, field: `${MODEL}.performance.limits[${i}]` }))
      .filter(({ limit }) => typeof limit === 'object' && limit !== null && 'metric' in limit);
    try {
      assertDistinctLimits(entries);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const index = /\[(\d+)\]$/.exec(error.field)?.[1];
      ctx.addIssue({ ...RULE, path: ['limits', Number(index)], message: reasonOf(error) });
    }
  }, ALWAYS),
  'Scheduled performance checks on a golden (labelled) dataset (see docs/performance-spec.md).',
);

/** Cost of one run at its longest, USD. */
function worstRunUsd(r: {
  instanceCount: number;
  instancePricePerHourUsd: number;
  maxRuntimeMinutes: number;
}) {
  return (r.instanceCount * r.instancePricePerHourUsd * r.maxRuntimeMinutes) / 60;
}

export const RetrainingSchema = doc(
  strict({
    schedule: doc(
      schedule(),
      'Scheduled retraining, an EventBridge Scheduler expression (`rate(30 days)`, `cron(0 3 1 * ? *)`), in UTC. Omitted: only events and `driftwatch retrain` start a run.',
    ).optional(),
    inferenceImage: doc(
      text({
        pattern: ECR_IMAGE,
        hint: 'an ECR image URI such as "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-serve:1.4"',
      }),
      'Inference image of the retrained model (CreateModel). Default: the training `image`.',
    ).optional(),
    championImage: doc(
      text({
        pattern: ECR_IMAGE,
        hint: 'an ECR image URI such as "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-serve:1.3"',
      }),
      'Image of the model the endpoint serves now: the pipeline scores the holdout with a copy of it under its own SageMaker role, so that role must be allowed to pull it. Default: `inferenceImage`.',
    ).optional(),
    dataWindowDays: doc(
      num({ integer: true, min: 1, max: 3650 }),
      'Days of incoming data (by upload time) the training run uses.',
    ).default(DEFAULT_RETRAINING_DATA_WINDOW_DAYS),
    holdoutDataset: doc(
      relativeKey(),
      "Labelled holdout both models are scored on, relative to `prefixes.golden`. Default: the model's `performance.goldenDataset`.",
    ).optional(),
    primaryMetric: doc(
      oneOf(METRIC_NAMES as unknown as [MetricName, ...MetricName[]]).refine((m) => m !== 'positiveRate', {
        error: 'positiveRate has no better direction, so a challenger cannot beat it',
      }),
      'Metric the challenger must improve.',
    ).default(DEFAULT_PRIMARY_METRIC),
    minImprovement: doc(
      num({ min: 0 }),
      "Least improvement of the primary metric over the champion, in the metric's units (a rise, or a fall for logLoss and brier).",
    ).default(DEFAULT_MIN_IMPROVEMENT),
    segmentTolerance: doc(
      num({ min: 0 }),
      "Largest regression of the primary metric allowed in any segment, in the metric's units.",
    ).default(DEFAULT_SEGMENT_TOLERANCE),
    transformInstanceType: doc(
      text({ pattern: INSTANCE_TYPE, hint: 'a SageMaker instance type such as "ml.m5.large"' }),
      'Instance type of the batch transforms that score the holdout.',
    ).default(DEFAULT_TRANSFORM_INSTANCE_TYPE),
    triggers: doc(
      list({ minLength: 1, item: oneOf(RETRAINING_TRIGGERS) }),
      "What starts a retraining run. `estimatedPerformance` (a capture window's CBPE estimate breaching a limit, before any label) is never implied by `performance`: the realized check on labels stays the authority unless you name it.",
    ),
    cooldownHours: doc(num({ min: 0 }), 'Least time between two runs, hours.').default(24),
    monthlyBudgetUsd: doc(
      num({ above: 0 }),
      'Spend ceiling per calendar month, USD; a run that could exceed it is not started.',
    ),
    instanceType: doc(
      text({ pattern: INSTANCE_TYPE, hint: 'a SageMaker training instance type such as "ml.m5.xlarge"' }),
      'SageMaker training instance type, e.g. `ml.m5.xlarge`.',
    ),
    instanceCount: doc(num({ integer: true, min: 1, max: 100 }), 'Training instances.').default(1),
    instancePricePerHourUsd: doc(
      num({ above: 0 }),
      'On-demand price of one instance, USD per hour (used for the budget).',
    ),
    maxRuntimeMinutes: doc(
      num({ integer: true, min: 1, max: MAX_TRAINING_MINUTES }),
      'Stopping condition of a training job, minutes.',
    ).default(60),
    image: doc(
      text({
        pattern: ECR_IMAGE,
        hint: 'an ECR image URI such as "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-train:1.4"',
      }),
      'Training image URI (ECR).',
    ),
    hyperparameters: doc(
      z
        .record(
          z.string().min(1, { error: 'a hyperparameter name has 1 to 256 characters' }).max(256, {
            error: 'a hyperparameter name has 1 to 256 characters',
          }),
          z.union([z.string(), z.number(), z.boolean()], {
            error: (i) => `must be a string, number or boolean, got ${describeValue(i.input)}`,
          }),
          { error: requiredOr((v) => `must be an object, got ${describeValue(v)}`) },
        )
        .transform((values) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]))),
      'Passed to the training job as strings.',
    ).prefault({}),
  }).superRefine((retraining, ctx) => {
    const { monthlyBudgetUsd, instanceCount, instancePricePerHourUsd, maxRuntimeMinutes } = retraining;
    const numbers = [monthlyBudgetUsd, instanceCount, instancePricePerHourUsd, maxRuntimeMinutes];
    if (!numbers.every((n) => typeof n === 'number' && Number.isFinite(n))) return;
    const worstRun = worstRunUsd(retraining);
    if (worstRun > monthlyBudgetUsd) {
      ctx.addIssue({
        ...RULE,
        path: ['monthlyBudgetUsd'],
        message:
          `one run can cost up to $${worstRun.toFixed(2)} (instanceCount x instancePricePerHourUsd x maxRuntimeMinutes), ` +
          `more than the budget of $${monthlyBudgetUsd}, so no run could ever start`,
      });
    }
  }, ALWAYS),
  "SageMaker retraining: needs the model's `endpointName` and `performance` section.",
);

export const CanarySchema = doc(
  strict({
    steps: doc(
      list({ minLength: 1, item: num({ integer: true, min: 1, max: 100 }) }),
      'Traffic percentages of the new variant, increasing, ending at 100.',
    ).default([...DEFAULT_CANARY_STEPS]),
    bakeMinutes: doc(
      num({ integer: true, min: 1, max: 1440 }),
      'Time at each step before the next, minutes.',
    ).default(DEFAULT_CANARY_BAKE_MINUTES),
    alpha: doc(
      num({ above: 0, max: 0.5 }),
      'Significance level of the comparison with the current variant, in (0, 0.5].',
    ).default(0.05),
    minSamples: doc(
      num({ integer: true, min: 1 }),
      'Fewest scored requests per variant before a step can pass.',
    ).default(500),
    shadow: doc(flag(), 'Mirror traffic to the new variant without serving its answers first.').default(
      false,
    ),
    deadlineMinutes: doc(
      num({ integer: true, min: 1, max: 10_080 }),
      'Longest a step may stay inconclusive before the rollout is rolled back, minutes (at least `bakeMinutes`). Default: 120, or `bakeMinutes` when longer.',
    ).optional(),
    maxErrorRate: doc(
      num({ min: 0, max: 1 }),
      "Largest share of the new variant's requests that may fail with a 5XX.",
    ).default(DEFAULT_CANARY_MAX_ERROR_RATE),
    maxLatencyIncrease: doc(
      num({ min: 0 }),
      "Largest rise of the new variant's mean model latency over the current one's, a share.",
    ).default(DEFAULT_CANARY_MAX_LATENCY_INCREASE),
    endpointWaitMinutes: doc(
      num({ integer: true, min: 1, max: 1440 }),
      'Longest wait for the endpoint to be InService before or after an update, minutes.',
    ).default(DEFAULT_ENDPOINT_WAIT_MINUTES),
    feedbackPrefix: doc(
      prefix(),
      'Where labelled feedback of the served predictions is uploaded (CSV: `variant,label,score`), a prefix of the landing bucket. Default: `<model>/feedback/`.',
    ).optional(),
  }).superRefine((canary, ctx) => {
    const steps = Array.isArray(canary.steps) ? canary.steps : [];
    steps.forEach((step, i) => {
      const previous = steps[i - 1];
      if (typeof step === 'number' && typeof previous === 'number' && step <= previous)
        ctx.addIssue({
          ...RULE,
          path: ['steps', i],
          message: `${step} does not increase on the step before it (${previous})`,
        });
    });
    const last = steps.at(-1);
    if (typeof last === 'number' && last !== 100)
      ctx.addIssue({ ...RULE, path: ['steps'], message: 'the last step must be 100 (the full rollout)' });
    const bake = typeof canary.bakeMinutes === 'number' ? canary.bakeMinutes : DEFAULT_CANARY_BAKE_MINUTES;
    if (typeof canary.deadlineMinutes === 'number' && canary.deadlineMinutes < bake) {
      ctx.addIssue({
        ...RULE,
        path: ['deadlineMinutes'],
        message: `${canary.deadlineMinutes} is shorter than bakeMinutes (${bake}): no step could ever be judged`,
      });
    }
  }, ALWAYS),
  "Canary rollout of a retrained model on the model's endpoint. Omitted: the defaults.",
);

/** What a model says about its columns, for the rules of the fields that name columns. */
interface Columns {
  features: Record<string, unknown>;
  exclude: unknown[];
  segment: unknown;
}

/** Problem with using `column` as a feature, or undefined. */
function featureProblem(columns: Columns, column: string): string | undefined {
  const { features, exclude, segment } = columns;
  if (exclude.includes(column))
    return `${JSON.stringify(column)} is in ${MODEL}.exclude, so it is not a feature`;
  if (column === segment)
    return `${JSON.stringify(column)} is the segment column (${MODEL}.segment), not a feature`;
  if (Object.keys(features).length > 0 && !Object.hasOwn(features, column)) {
    return `${JSON.stringify(column)} is not among the declared features (${Object.keys(features).join(', ')})`;
  }
  return undefined;
}

const objectOr = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

const ConceptDetectorSchema = doc(
  strict({
    method: doc(
      oneOf(DETECTOR_METHODS as unknown as ['adwin', 'ddm', 'page-hinkley']),
      'The detector: `adwin` (Bifet & Gavaldà), `ddm` (Gama et al.) or `page-hinkley`.',
    ),
    parameters: doc(
      map(z.union([z.number(), z.string()], { error: 'must be a number (or a direction for page-hinkley)' })),
      "The method's parameters (River's defaults): adwin `delta`, `clock`, `maxBuckets`, `minWindowLength`, `gracePeriod`; ddm `minInstances`, `warningThreshold`, `driftThreshold`; page-hinkley `minInstances`, `delta`, `threshold`, `alpha`, `direction`.",
    ).default({}),
  }).superRefine((detector, ctx) => {
    if (!DETECTOR_METHODS.includes(detector.method)) return;
    try {
      createDetector(detector.method, objectOr(detector.parameters) as never, 'parameters');
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      ctx.addIssue({ ...RULE, path: error.field.split('.'), message: reasonOf(error) });
    }
  }, ALWAYS),
  "A concept-drift detector run on the model's error stream (1 = wrong prediction, 0 = right), per cohort.",
);

const RateMonitorSchema = doc(
  strict({
    name: doc(
      text({ pattern: /^[A-Za-z][A-Za-z0-9_-]{0,63}$/, hint: 'letters, digits, _ and -, at most 64' }),
      'Names the monitor in events and metrics.',
    ),
    outcome: doc(
      oneOf(['label', 'error']),
      '`label`: the rate of the positive class among the labels (approval, fraud, click-through rate); `error`: the error rate.',
    ),
    baselineRate: doc(num({ above: 0, max: 1 }), 'The expected rate, in (0, 1).'),
    baselineTrials: doc(
      num({ integer: true, min: 1 }),
      'Outcomes the baseline rate was estimated from (its uncertainty widens the test). Omitted: known exactly.',
    ).optional(),
    alpha: doc(num({ above: 0, max: 0.5 }), 'Largest false alarm rate of the always-valid test.').default(
      0.05,
    ),
    minSamples: doc(num({ integer: true, min: 1 }), 'Outcomes before the first look.').default(100),
  }).superRefine((monitor, ctx) => {
    try {
      createRateMonitor(
        {
          baselineRate: monitor.baselineRate,
          baselineTrials: monitor.baselineTrials ?? null,
          alpha: monitor.alpha,
          minSamples: monitor.minSamples,
        },
        '',
      );
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      ctx.addIssue({ ...RULE, path: [error.field.replace(/^\./, '')], message: reasonOf(error) });
    }
  }, ALWAYS),
  "A cohort's rate against its baseline rate: a mixture SPRT looked at after every outcome.",
);

export const ConceptDriftSchema = doc(
  strict({
    detectors: doc(
      list({ minLength: 1, item: ConceptDetectorSchema }),
      'Detectors on the error stream, one per method, run for the whole model and each cohort.',
    ).default([{ method: 'adwin', parameters: {} }]),
    rateMonitors: doc(list({ item: RateMonitorSchema }), 'Sequential rate monitors, per cohort.').default([]),
    cohorts: doc(
      list(),
      "Attributes of the feedback records whose values are cohorts, each with its own detectors. Default: the model's `segment` (if any).",
    ).optional(),
    renotifyAfterMinutes: doc(
      num({ min: 0, max: 10_080 }),
      'After a detection, further detections of the same detector in the same cohort within this many minutes (event time) are counted but put no event and page no one: ADWIN cuts its window several times while a change settles.',
    ).default(60),
    maxCohortsPerAttribute: doc(
      num({ integer: true, min: 1, max: 1000 }),
      'Distinct values of one cohort attribute that get their own detectors; records of further values count for the whole model only (and are counted).',
    ).default(50),
    positiveClass: doc(
      text(),
      'The label of the positive class, for scores (`prediction` a probability) and `label` rate monitors. Default: the model\'s `performance.positiveClass`, else "1".',
    ).optional(),
    threshold: doc(
      num({ min: 0, max: 1 }),
      "Score at or above which a probability `prediction` means the positive class. Default: the model's `performance.threshold`, else 0.5.",
    ).optional(),
    emergencyRetraining: doc(
      strict({
        skipCooldown: doc(
          flag(),
          'Start even within the cooldown of the last run (never while one runs).',
        ).default(true),
        windowHours: doc(
          num({ above: 0, max: 8760 }),
          'Train on the labelled data of the last this many hours. Omitted: the window the detector kept (ADWIN), or 24 hours when it keeps none.',
        ).optional(),
        eventTimeColumn: doc(
          text(),
          "Column of the labelled files with each row's event time (ISO 8601 or epoch milliseconds): rows before the window are left out. Omitted: files are selected by upload time.",
        ).optional(),
        segmentRetraining: doc(
          flag(),
          "A detection in a cohort of the model's segment column trains on that segment's rows only.",
        ).default(true),
      }),
      'How a `conceptDrift` retraining trigger runs: an emergency run on the recent window.',
    ).prefault({}),
  }).superRefine((concept, ctx) => {
    const methods = new Set<unknown>();
    (Array.isArray(concept.detectors) ? concept.detectors : []).forEach((detector, i) => {
      const method = objectOr(detector)['method'];
      if (methods.has(method))
        ctx.addIssue({
          ...RULE,
          path: ['detectors', i, 'method'],
          message: `${String(method)} is listed twice`,
        });
      methods.add(method);
    });
    const names = new Set<unknown>();
    (Array.isArray(concept.rateMonitors) ? concept.rateMonitors : []).forEach((monitor, i) => {
      const name = objectOr(monitor)['name'];
      if (names.has(name))
        ctx.addIssue({
          ...RULE,
          path: ['rateMonitors', i, 'name'],
          message: `${String(name)} is listed twice`,
        });
      names.add(name);
    });
  }, ALWAYS),
  'Concept drift from labelled feedback (the Kinesis feedback stream): detectors on the error stream and sequential rate monitors, per model and per cohort.',
);

const ModelObject = strict({
  name: doc(
    text({
      pattern: MODEL_NAME,
      hint: 'lower-case letters, digits and -, starting with a letter, at most 32 characters (it names AWS resources)',
    }),
    'Lower-case letters, digits and `-`, starting with a letter, at most 32 characters; used in resource, metric and alarm names.',
  ),
  description: doc(
    z
      .string({ error: (i) => `must be a string, got ${describeValue(i.input)}` })
      .regex(/^$|\S/, { error: 'must not be empty' }),
    'Free text.',
  ).default(''),
  prefixes: PrefixesSchema,
  features: doc(
    map(oneOf(['numeric', 'categorical'])),
    'Column types to force, by name (`numeric` or `categorical`). Columns not named are typed from the data (numeric when every value is a number). When given, critical features and per-feature methods must name one of these.',
  ).default({}),
  exclude: doc(list(), 'Columns that are not features: labels, predictions, ids, timestamps.').default([]),
  segment: doc(
    text().nullable(),
    'Column whose values split the data into segments tested separately.',
  ).default(null),
  drift: DriftSchema.prefault({}),
  endpointName: doc(
    text({
      pattern: ENDPOINT_NAME,
      hint: 'a SageMaker endpoint name: letters, digits and -, at most 63 characters',
    }),
    'SageMaker endpoint serving the model (performance checks without a score column, retraining, canary). Omitted: none.',
  ).optional(),
  performance: doc(
    PerformanceSchema.optional(),
    `${PerformanceSchema.description} Omitted: no performance checks.`,
  ),
  retraining: doc(RetrainingSchema.optional(), `${RetrainingSchema.description} Omitted: no retraining.`),
  canary: CanarySchema.optional(),
  capture: doc(CaptureSchema.optional(), `${CaptureSchema.description} Omitted: no capture.`),
  conceptDrift: doc(
    ConceptDriftSchema.optional(),
    `${ConceptDriftSchema.description} Omitted: the model's feedback records are not analysed.`,
  ),
}).superRefine((model, ctx) => {
  // Rules across the model's fields. Each reads the raw values defensively: a field that is itself invalid
  // has been reported, and its rule is skipped.
  const features = objectOr(model.features);
  if (Object.hasOwn(features, ''))
    ctx.addIssue({ ...RULE, path: ['features'], message: 'a feature name is empty' });
  const exclude = Array.isArray(model.exclude) ? model.exclude : [];
  const segment = typeof model.segment === 'string' ? model.segment : null;
  const columns: Columns = { features, exclude, segment };
  exclude.forEach((column, i) => {
    if (typeof column === 'string' && Object.hasOwn(features, column))
      ctx.addIssue({
        ...RULE,
        path: ['exclude', i],
        message: `${JSON.stringify(column)} is also declared in ${MODEL}.features`,
      });
  });
  if (segment !== null && Object.hasOwn(features, segment))
    ctx.addIssue({
      ...RULE,
      path: ['segment'],
      message: `${JSON.stringify(segment)} is a segment column, so it cannot also be in ${MODEL}.features`,
    });
  if (segment !== null && exclude.includes(segment))
    ctx.addIssue({
      ...RULE,
      path: ['segment'],
      message: `${JSON.stringify(segment)} is also in ${MODEL}.exclude (a segment column is already not a feature)`,
    });
  const drift = objectOr(model.drift);
  for (const [feature, setting] of Object.entries(objectOr(drift['featureMethods']))) {
    const path = ['drift', 'featureMethods', feature];
    const problem = featureProblem(columns, feature);
    if (problem) ctx.addIssue({ ...RULE, path, message: problem });
    const type = Object.hasOwn(features, feature) ? features[feature] : undefined;
    const method = (setting as MethodSetting | undefined)?.method;
    if ((type === 'numeric' || type === 'categorical') && typeof method === 'string' && method !== 'auto') {
      if (!appliesTo(method, type))
        ctx.addIssue({
          ...RULE,
          path,
          message: `${method} does not apply to ${JSON.stringify(feature)}, a ${type} feature`,
        });
    }
  }
  const critical = Array.isArray(drift['criticalFeatures']) ? drift['criticalFeatures'] : [];
  critical.forEach((feature, i) => {
    const problem = typeof feature === 'string' ? featureProblem(columns, feature) : undefined;
    if (problem) ctx.addIssue({ ...RULE, path: ['drift', 'criticalFeatures', i], message: problem });
  });
  checkPerformanceColumns(model, columns, ctx);
  checkRetrainingNeeds(model, ctx);
  if (
    model.capture !== undefined &&
    objectOr(model.capture)['endpoints'] === undefined &&
    model.endpointName === undefined
  )
    ctx.addIssue({
      ...RULE,
      path: ['capture', 'endpoints'],
      message: `required when the model has no ${MODEL}.endpointName`,
    });
  if (model.canary !== undefined && model.endpointName === undefined)
    ctx.addIssue({
      ...RULE,
      path: ['canary'],
      message: `a canary needs the endpoint it rolls out on: set ${MODEL}.endpointName`,
    });
}, ALWAYS);

export const ModelSchema = doc(
  ModelObject.transform(fillModelDefaults),
  'One model watched: where its files land and how it is checked.',
);

function checkPerformanceColumns(
  model: { performance?: unknown; endpointName?: unknown },
  columns: Columns,
  ctx: z.core.$RefinementCtx,
): void {
  if (model.performance === undefined) return;
  const performance = objectOr(model.performance);
  const here = (field: string) => ['performance', field];
  for (const field of ['labelColumn', 'scoreColumn'] as const) {
    const column = performance[field];
    if (typeof column === 'string' && Object.hasOwn(columns.features, column))
      ctx.addIssue({
        ...RULE,
        path: here(field),
        message: `${JSON.stringify(column)} is declared as a feature; list it in ${MODEL}.exclude`,
      });
  }
  if (performance['scoreColumn'] === undefined) {
    if (model.endpointName === undefined)
      ctx.addIssue({
        ...RULE,
        path: here('scoreColumn'),
        message: `required when the model has no ${MODEL}.endpointName to score the golden dataset`,
      });
    else if (Object.keys(columns.features).length === 0)
      ctx.addIssue({
        ...RULE,
        path: ['features'],
        message:
          `scoring the golden dataset with ${MODEL}.endpointName needs the features declared: ` +
          'each request sends them, in the order declared',
      });
  }
  const segmentColumn =
    performance['segmentColumn'] === undefined ? columns.segment : performance['segmentColumn'];
  const limits = Array.isArray(performance['limits']) ? performance['limits'] : [];
  limits.forEach((limit, i) => {
    const segment = objectOr(limit)['segment'];
    if (segment !== undefined && segment !== null && segmentColumn === null)
      ctx.addIssue({
        ...RULE,
        path: ['performance', 'limits', i, 'segment'],
        message: "a segment limit needs a segment column (the model's segment or performance.segmentColumn)",
      });
  });
}

function checkRetrainingNeeds(
  model: { retraining?: unknown; performance?: unknown; endpointName?: unknown; conceptDrift?: unknown },
  ctx: z.core.$RefinementCtx,
): void {
  if (model.retraining === undefined) return;
  // The run scores the challenger against the champion on a labelled holdout (performance section) and rolls
  // it out on the model's endpoint, so both must be declared.
  if (model.endpointName === undefined)
    ctx.addIssue({
      ...RULE,
      path: ['retraining'],
      message: `retraining rolls the new model out on an endpoint: set ${MODEL}.endpointName`,
    });
  const hasPerformance = model.performance !== undefined;
  if (!hasPerformance)
    ctx.addIssue({
      ...RULE,
      path: ['retraining'],
      message: `retraining evaluates the new model with ${MODEL}.performance (label, positive class, floors): add that section`,
    });
  const retraining = objectOr(model.retraining);
  const triggers = Array.isArray(retraining['triggers']) ? retraining['triggers'] : [];
  triggers.forEach((trigger, i) => {
    if (trigger === 'performance' && !hasPerformance)
      ctx.addIssue({
        ...RULE,
        path: ['retraining', 'triggers', i],
        message: 'the performance trigger needs a performance section in the same model',
      });
    if (trigger === 'conceptDrift' && model.conceptDrift === undefined)
      ctx.addIssue({
        ...RULE,
        path: ['retraining', 'triggers', i],
        message: 'the conceptDrift trigger needs a conceptDrift section in the same model',
      });
  });
  if (
    retraining['holdoutDataset'] === undefined &&
    typeof objectOr(model.performance)['goldenDataset'] !== 'string'
  )
    ctx.addIssue({ ...RULE, path: ['retraining', 'holdoutDataset'], message: 'is required' });
}

/** Defaults that depend on other fields: the segment column, the holdout, the images, the canary's. */
function fillModelDefaults(model: z.output<typeof ModelObject>) {
  const { performance, retraining, canary, capture, conceptDrift, ...rest } = model;
  const filledPerformance =
    performance === undefined
      ? undefined
      : {
          ...performance,
          segmentColumn: performance.segmentColumn === undefined ? model.segment : performance.segmentColumn,
          contentType: performance.contentType ?? DEFAULT_ENDPOINT_CONTENT_TYPE,
          batchRows: performance.batchRows ?? DEFAULT_ENDPOINT_BATCH_ROWS,
          maxConcurrency: performance.maxConcurrency ?? DEFAULT_ENDPOINT_MAX_CONCURRENCY,
        };
  const filledRetraining =
    retraining === undefined
      ? undefined
      : {
          ...retraining,
          triggers: [...new Set(retraining.triggers)],
          inferenceImage: retraining.inferenceImage ?? retraining.image,
          championImage: retraining.championImage ?? retraining.inferenceImage ?? retraining.image,
          holdoutDataset: retraining.holdoutDataset ?? performance!.goldenDataset,
        };
  const filledCanary =
    canary === undefined
      ? undefined
      : {
          ...canary,
          deadlineMinutes:
            canary.deadlineMinutes ?? Math.max(DEFAULT_CANARY_DEADLINE_MINUTES, canary.bakeMinutes),
          feedbackPrefix: canary.feedbackPrefix ?? `${model.name}/feedback/`,
        };
  const filledConceptDrift =
    conceptDrift === undefined
      ? undefined
      : {
          ...conceptDrift,
          cohorts: conceptDrift.cohorts ?? (model.segment === null ? [] : [model.segment]),
          positiveClass: conceptDrift.positiveClass ?? performance?.positiveClass ?? '1',
          threshold: conceptDrift.threshold ?? performance?.threshold ?? 0.5,
        };
  return {
    ...rest,
    ...(filledConceptDrift !== undefined && { conceptDrift: filledConceptDrift }),
    ...(filledPerformance !== undefined && { performance: filledPerformance }),
    ...(filledRetraining !== undefined && { retraining: filledRetraining }),
    ...(filledCanary !== undefined && { canary: filledCanary }),
    ...(capture !== undefined && {
      capture: {
        ...capture,
        // Validation requires endpoints or an endpoint name.
        endpoints: capture.endpoints ?? [model.endpointName!],
        scoreColumn: capture.scoreColumn ?? performance?.scoreColumn ?? 'score',
      },
    }),
  };
}

export const FeedbackStreamSchema = doc(
  strict({
    mode: doc(
      oneOf(['provisioned', 'on-demand']),
      'Capacity mode of the Kinesis stream: `provisioned` (`shards` shards, $0.015 an hour each: 1 MB/s or 1,000 records/s of writes per shard) or `on-demand` (scales itself, $0.04 an hour per stream plus $0.08 per GB written).',
    ).default('provisioned'),
    shards: doc(num({ integer: true, min: 1, max: 500 }), 'Shards of a provisioned stream.').default(1),
    retentionHours: doc(
      num({ integer: true, min: 24, max: 8760 }),
      'How long records stay readable (retries and replays), hours.',
    ).default(24),
    batchSize: doc(num({ integer: true, min: 1, max: 10_000 }), 'Records per invocation at most.').default(
      1000,
    ),
    batchWindowSeconds: doc(
      num({ integer: true, min: 0, max: 300 }),
      'Longest the event source mapping gathers records before it invokes the consumer, seconds.',
    ).default(1),
    retryAttempts: doc(
      num({ integer: true, min: 0, max: 10_000 }),
      'Retries of a failing batch (halved each time: bisect on error) before its range goes to the failure queue.',
    ).default(5),
    parallelizationFactor: doc(
      num({ integer: true, min: 1, max: 10 }),
      "Concurrent batches per shard. Above 1, Lambda keeps records in order per partition key only: records whose partition key is not their model's name are refused to the failure queue with the reason (one model's outcomes are still applied in order, one batch at a time; several models on a shard are processed at once).",
    ).default(1),
  }),
  'The labelled feedback stream (Kinesis), created when a model has a `conceptDrift` section.',
);

export const ConfigSchema = strict({
  $schema: doc(
    z.string(),
    'The JSON Schema of this file, for editors: `./driftwatch.config.schema.json`.',
  ).optional(),
  stackName: doc(
    text({
      pattern: STACK_NAME,
      hint: 'letters, digits and -, starting with a letter, at most 128 characters',
    }),
    'CloudFormation stack name.',
  ).default(DEFAULT_STACK_NAME),
  encryption: doc(
    oneOf(['kms', 's3-managed']),
    "Encryption of the landing and results buckets: `kms` (a customer-managed key with rotation, created by the stack) or `s3-managed` (SSE-S3). The alarm topic always uses the stack's key.",
  ).default('kms'),
  logRetentionDays: doc(
    num({ integer: true })
      .refine((days) => LOG_RETENTION_DAYS.includes(days), {
        error: (i) =>
          `${i.input} is not a retention CloudWatch Logs accepts (${LOG_RETENTION_DAYS.join(', ')})`,
      })
      .meta({ enum: [...LOG_RETENTION_DAYS] }),
    'Retention of the Lambda log groups, in days (a value CloudWatch Logs accepts).',
  ).default(DEFAULT_LOG_RETENTION_DAYS),
  reportsPrefix: doc(prefix(), 'Key prefix of reports in the results bucket (ends with "/").').default(
    DEFAULT_REPORTS_PREFIX,
  ),
  alerts: AlertsSchema.prefault({}),
  feedbackStream: FeedbackStreamSchema.prefault({}),
  models: doc(list({ minLength: 1, item: ModelSchema }), 'The models watched, one entry each.'),
})
  .superRefine((config, ctx) => {
    // Unique names, and prefixes that never overlap: an incoming prefix over another one would send golden or
    // baseline uploads (or another model's data) to a drift check; overlapping golden/baseline prefixes would
    // mix models' files.
    const names = new Map<string, number>();
    const seen: { prefix: string; path: string }[] = [];
    (Array.isArray(config.models) ? config.models : []).forEach((raw, i) => {
      const model = objectOr(raw);
      if (typeof model['name'] === 'string') {
        const first = names.get(model['name']);
        if (first === undefined) names.set(model['name'], i);
        else
          ctx.addIssue({
            ...RULE,
            path: ['models', i, 'name'],
            message: `${JSON.stringify(model['name'])} is already the name of models[${first}]`,
          });
      }
      const prefixes: Record<string, unknown> = {
        ...objectOr(model['prefixes']),
        capture: objectOr(model['capture'])['prefix'],
        groundTruth: objectOr(objectOr(model['capture'])['groundTruth'])['prefix'],
      };
      for (const kind of ['incoming', 'golden', 'baselines', 'capture', 'groundTruth'] as const) {
        const prefix = prefixes[kind];
        if (typeof prefix !== 'string') continue;
        const fieldPath =
          kind === 'capture'
            ? ['capture', 'prefix']
            : kind === 'groundTruth'
              ? ['capture', 'groundTruth', 'prefix']
              : ['prefixes', kind];
        const path = `models[${i}].${fieldPath.join('.')}`;
        for (const other of seen) {
          if (prefix.startsWith(other.prefix) || other.prefix.startsWith(prefix))
            ctx.addIssue({
              ...RULE,
              path: ['models', i, ...fieldPath],
              message: `${JSON.stringify(prefix)} overlaps ${other.path} (${JSON.stringify(other.prefix)})`,
            });
        }
        seen.push({ prefix, path });
      }
    });
  }, ALWAYS)
  .transform(({ $schema: _schema, ...config }) => config);
