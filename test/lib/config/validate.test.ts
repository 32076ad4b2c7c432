import { readFileSync } from 'node:fs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import { ConfigValidationError } from '../../../lib/config/errors.ts';
import { driftRuntimeConfig } from '../../../lib/config/runtime.ts';
import {
  DEFAULT_DRIFT_MEMORY_MB,
  DEFAULT_MAX_OBJECT_BYTES,
  LOG_RETENTION_DAYS,
  validateConfig,
} from '../../../lib/config/validate.ts';
import { configProblems, rawConfig, testConfig } from '../../helpers/cdk.ts';

type Raw = ReturnType<typeof rawConfig>;
type Json = Record<string, unknown>;

/** The problems of the base config after `change`. */
function problemsAfter(change: (raw: Raw, model: Json) => void) {
  const raw = rawConfig();
  change(raw, raw.models[0]!);
  return configProblems(raw);
}

const drift = (model: Json) => model['drift'] as Json;
const performance = (extra: Json = {}): Json => ({
  schedule: 'rate(1 day)',
  goldenDataset: 'latest.csv',
  labelColumn: 'label',
  positiveClass: 'yes',
  scoreColumn: 'score',
  limits: [{ metric: 'accuracy', min: 0.85 }],
  ...extra,
});
const retraining = (extra: Json = {}): Json => ({
  triggers: ['drift'],
  monthlyBudgetUsd: 100,
  instanceType: 'ml.m5.xlarge',
  instancePricePerHourUsd: 0.23,
  image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-train:1.0',
  ...extra,
});

describe('validateConfig', () => {
  it('accepts the example driftwatch.config.json', () => {
    const config = validateConfig(JSON.parse(readFileSync('driftwatch.config.json', 'utf8')));
    expect(config.models.map((model) => model.name)).toEqual(['churn', 'credit']);
    expect(config.models[1]!.performance?.limits).toContainEqual({
      metric: 'gini',
      segment: 'subprime',
      maxDrop: 0.05,
    });
    expect(config.models[0]!.performance?.limits).toContainEqual({ metric: 'accuracy', min: 0.85 });
  });

  it('fills in every default', () => {
    const config = validateConfig({
      models: [{ name: 'm', prefixes: { incoming: 'm/in/', golden: 'm/golden/', baselines: 'm/base/' } }],
    });
    expect(config).toEqual({
      stackName: 'Driftwatch',
      encryption: 'kms',
      logRetentionDays: 90,
      reportsPrefix: 'reports/',
      alerts: { emails: [], httpsEndpoints: [], renotifyMinutes: null },
      feedbackStream: {
        mode: 'provisioned',
        shards: 1,
        retentionHours: 24,
        batchSize: 1000,
        batchWindowSeconds: 1,
        retryAttempts: 5,
        parallelizationFactor: 1,
      },
      models: [
        {
          name: 'm',
          description: '',
          prefixes: { incoming: 'm/in/', golden: 'm/golden/', baselines: 'm/base/' },
          features: {},
          exclude: [],
          segment: null,
          drift: {
            method: null,
            featureMethods: {},
            driftShare: 0.5,
            criticalFeatures: [],
            fdr: null,
            minEffect: { ks: 0.1, chi2: 0.1 },
            persistence: { m: 1, n: 1 },
            baselineProfile: 'profile.json',
            maxObjectBytes: DEFAULT_MAX_OBJECT_BYTES,
            maxDecompressedBytes: 10 * 1024 ** 3,
            memoryMb: DEFAULT_DRIFT_MEMORY_MB,
            timeoutSeconds: 300,
            maxConcurrency: 5,
          },
        },
      ],
    });
  });

  it('parses methods with the CLI parser', () => {
    const raw = rawConfig();
    drift(raw.models[0]!)['method'] = 'psi:0.2';
    const config = validateConfig(raw);
    expect(config.models[0]!.drift.method).toEqual({ method: 'psi', threshold: 0.2 });
    expect(config.models[0]!.drift.featureMethods).toEqual({ plan: { method: 'chi2', threshold: 0.01 } });
  });

  it('fills in the defaults of the later sections', () => {
    const raw = rawConfig();
    Object.assign(raw.models[0]!, {
      endpointName: 'churn-prod',
      performance: performance({ scoreColumn: undefined }),
      retraining: retraining(),
      canary: {},
    });
    const model = validateConfig(raw).models[0]!;
    expect(model.performance).toMatchObject({
      timezone: 'UTC',
      threshold: 0.5,
      segmentColumn: 'region',
      classes: null,
      contentType: 'application/json',
      batchRows: 500,
      maxConcurrency: 4,
      memoryMb: 1769,
      timeoutSeconds: 600,
    });
    expect(model.performance?.scoreColumn).toBeUndefined();
    expect(model.retraining).toMatchObject({
      cooldownHours: 24,
      instanceCount: 1,
      maxRuntimeMinutes: 60,
      inferenceImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-train:1.0',
      dataWindowDays: 30,
      holdoutDataset: 'latest.csv',
      primaryMetric: 'rocAuc',
      minImprovement: 0.005,
      segmentTolerance: 0.02,
      transformInstanceType: 'ml.m5.large',
    });
    expect(model.retraining?.schedule).toBeUndefined();
    expect(model.canary).toEqual({
      steps: [5, 25, 100],
      bakeMinutes: 30,
      alpha: 0.05,
      minSamples: 500,
      shadow: false,
      deadlineMinutes: 120,
      maxErrorRate: 0.01,
      maxLatencyIncrease: 0.2,
      endpointWaitMinutes: 60,
      feedbackPrefix: 'churn/feedback/',
    });
  });

  it('needs an endpoint and performance checks to retrain', () => {
    const raw = rawConfig();
    raw.models[0]!['retraining'] = retraining();
    expect(configProblems(raw).map((problem) => problem.message)).toEqual([
      'models[0].retraining: retraining rolls the new model out on an endpoint: set models[0].endpointName',
      'models[0].retraining: retraining evaluates the new model with models[0].performance (label, positive class, floors): add that section',
      'models[0].retraining.holdoutDataset: is required',
    ]);
  });

  it('checks the retraining and canary fields of the pipeline', () => {
    const raw = rawConfig();
    Object.assign(raw.models[0]!, {
      endpointName: 'churn-prod',
      performance: performance(),
      retraining: retraining({ schedule: 'rate(30 day)', primaryMetric: 'positiveRate', minImprovement: -1 }),
      canary: { bakeMinutes: 60, deadlineMinutes: 30, maxErrorRate: 2, feedbackPrefix: 'fb' },
    });
    expect(configProblems(raw).map((problem) => problem.field)).toEqual([
      'models[0].retraining.schedule',
      'models[0].retraining.primaryMetric',
      'models[0].retraining.minImprovement',
      'models[0].canary.deadlineMinutes',
      'models[0].canary.maxErrorRate',
      'models[0].canary.feedbackPrefix',
    ]);
  });

  it('passes hyperparameters to SageMaker as strings', () => {
    const raw = rawConfig();
    Object.assign(raw.models[0]!, {
      endpointName: 'churn-prod',
      performance: performance(),
      retraining: retraining({ hyperparameters: { max_depth: 5, eta: 0.2, early: true, obj: 'x' } }),
    });
    expect(validateConfig(raw).models[0]!.retraining?.hyperparameters).toEqual({
      max_depth: '5',
      eta: '0.2',
      early: 'true',
      obj: 'x',
    });
  });

  it('knows exactly the retention periods CloudWatch Logs accepts', () => {
    const cdkValues = Object.values(RetentionDays).filter(
      (value): value is number => typeof value === 'number' && value !== RetentionDays.INFINITE,
    );
    expect([...LOG_RETENTION_DAYS].sort((a, b) => a - b)).toEqual(cdkValues.sort((a, b) => a - b));
  });
});

describe('validateConfig errors name the field and say what is wrong', () => {
  const cases: [string, (raw: Raw, model: Json) => void, string, RegExp][] = [
    [
      'a root that is not an object',
      (raw) => Object.assign(raw, { models: 'x' }),
      'models',
      /must be an array/,
    ],
    ['an unknown root field', (raw) => Object.assign(raw, { modles: [] }), 'modles', /unknown field/],
    [
      'a stack name with a space',
      (raw) => Object.assign(raw, { stackName: 'my stack' }),
      'stackName',
      /letters, digits/,
    ],
    [
      'an unknown encryption',
      (raw) => Object.assign(raw, { encryption: 'aes' }),
      'encryption',
      /not one of kms, s3-managed/,
    ],
    [
      'an unknown log retention',
      (raw) => Object.assign(raw, { logRetentionDays: 42 }),
      'logRetentionDays',
      /not a retention/,
    ],
    [
      'a reports prefix without /',
      (raw) => Object.assign(raw, { reportsPrefix: 'reports' }),
      'reportsPrefix',
      /must end with "\/"/,
    ],
    [
      'a malformed email',
      (raw) => Object.assign(raw, { alerts: { emails: ['oncall.example.com'] } }),
      'alerts.emails[0]',
      /not an email address/,
    ],
    [
      'an http endpoint',
      (raw) => Object.assign(raw, { alerts: { httpsEndpoints: ['http://hooks.example.com'] } }),
      'alerts.httpsEndpoints[0]',
      /must use https/,
    ],
    [
      'an endpoint that is not a URL',
      (raw) => Object.assign(raw, { alerts: { httpsEndpoints: ['hooks'] } }),
      'alerts.httpsEndpoints[0]',
      /not a URL/,
    ],
    [
      'credentials in an endpoint',
      (raw) => Object.assign(raw, { alerts: { httpsEndpoints: ['https://user:pw@hooks.example.com'] } }),
      'alerts.httpsEndpoints[0]',
      /credentials/,
    ],
    [
      'a duplicate email',
      (raw) => Object.assign(raw, { alerts: { emails: ['a@b.io', 'a@b.io'] } }),
      'alerts.emails[1]',
      /listed twice/,
    ],
    ['no models', (raw) => Object.assign(raw, { models: [] }), 'models', /at least 1 entry/],
    [
      'a model that is not an object',
      (raw) => raw.models.push(3 as never),
      'models[1]',
      /must be an object, got number 3/,
    ],
    [
      'a model name with capitals',
      (_, model) => Object.assign(model, { name: 'Churn' }),
      'models[0].name',
      /lower-case/,
    ],
    ['a missing model name', (_, model) => delete model['name'], 'models[0].name', /is required/],
    [
      'a misspelt model field',
      (_, model) => Object.assign(model, { drfit: {} }),
      'models[0].drfit',
      /unknown field .*drift/,
    ],
    [
      'a prefix without a trailing /',
      (_, model) =>
        Object.assign(model, { prefixes: { incoming: 'churn/in', golden: 'g/', baselines: 'b/' } }),
      'models[0].prefixes.incoming',
      /must end with "\/"/,
    ],
    [
      'a prefix with a leading /',
      (_, model) =>
        Object.assign(model, { prefixes: { incoming: '/churn/', golden: 'g/', baselines: 'b/' } }),
      'models[0].prefixes.incoming',
      /must not start with "\/"/,
    ],
    [
      'a prefix with a wildcard',
      (_, model) =>
        Object.assign(model, { prefixes: { incoming: 'churn/*/', golden: 'g/', baselines: 'b/' } }),
      'models[0].prefixes.incoming',
      /wildcards/,
    ],
    [
      'overlapping prefixes in one model',
      (_, model) =>
        Object.assign(model, { prefixes: { incoming: 'churn/', golden: 'churn/golden/', baselines: 'b/' } }),
      'models[0].prefixes.golden',
      /overlaps models\[0\]\.prefixes\.incoming/,
    ],
    [
      'a feature of unknown type',
      (_, model) => Object.assign(model, { features: { amount: 'text' } }),
      'models[0].features.amount',
      /not one of numeric, categorical/,
    ],
    [
      'a column both feature and excluded',
      (_, model) => Object.assign(model, { exclude: ['amount'] }),
      'models[0].exclude[0]',
      /also declared in models\[0\]\.features/,
    ],
    [
      'a segment that is a feature',
      (_, model) => Object.assign(model, { segment: 'amount' }),
      'models[0].segment',
      /cannot also be in models\[0\]\.features/,
    ],
    [
      'a segment that is excluded',
      (_, model) => Object.assign(model, { segment: 'label' }),
      'models[0].segment',
      /also in models\[0\]\.exclude/,
    ],
    [
      'an unknown method',
      (_, model) => Object.assign(drift(model), { method: 'foo' }),
      'models[0].drift.method',
      /unknown method "foo"/,
    ],
    [
      'an unknown feature method',
      (_, model) => Object.assign(drift(model), { featureMethods: { amount: 'foo' } }),
      'models[0].drift.featureMethods.amount',
      /unknown method "foo"/,
    ],
    [
      'a p-value threshold above 1',
      (_, model) => Object.assign(drift(model), { featureMethods: { amount: 'ks:2' } }),
      'models[0].drift.featureMethods.amount',
      /p-value threshold in \[0, 1\]/,
    ],
    [
      'a method that does not apply to the feature type',
      (_, model) => Object.assign(drift(model), { featureMethods: { amount: 'chi2' } }),
      'models[0].drift.featureMethods.amount',
      /chi2 does not apply to "amount", a numeric feature/,
    ],
    [
      'a method for an undeclared feature',
      (_, model) => Object.assign(drift(model), { featureMethods: { income: 'psi' } }),
      'models[0].drift.featureMethods.income',
      /not among the declared features/,
    ],
    [
      'a feature name that needs quoting',
      (_, model) => Object.assign(drift(model), { featureMethods: { 'total amount': 'psi' } }),
      'models[0].drift.featureMethods["total amount"]',
      /not among the declared features/,
    ],
    [
      'a drift share of 0',
      (_, model) => Object.assign(drift(model), { driftShare: 0 }),
      'models[0].drift.driftShare',
      /must be above 0/,
    ],
    [
      'a drift share above 1',
      (_, model) => Object.assign(drift(model), { driftShare: 1.5 }),
      'models[0].drift.driftShare',
      /at most 1/,
    ],
    [
      'a drift share as text',
      (_, model) => Object.assign(drift(model), { driftShare: '0.5' }),
      'models[0].drift.driftShare',
      /must be a number, got string "0.5"/,
    ],
    [
      'an FDR level of 0',
      (_, model) => Object.assign(drift(model), { fdr: 0 }),
      'models[0].drift.fdr',
      /must be above 0/,
    ],
    [
      'a minimum effect without fdr',
      (_, model) => Object.assign(drift(model), { minEffect: { ks: 0.2 } }),
      'models[0].drift.minEffect',
      /applies only with fdr/,
    ],
    [
      'a minimum effect above 1',
      (_, model) => Object.assign(drift(model), { fdr: 0.05, minEffect: { chi2: 2 } }),
      'models[0].drift.minEffect.chi2',
      /at most 1/,
    ],
    [
      'a minimum effect for a distance',
      (_, model) => Object.assign(drift(model), { fdr: 0.05, minEffect: { psi: 0.2 } }),
      'models[0].drift.minEffect.psi',
      /unknown field/,
    ],
    [
      'persistence with m above n',
      (_, model) => Object.assign(drift(model), { persistence: { m: 3, n: 2 } }),
      'models[0].drift.persistence.m',
      /at most persistence\.n \(2\)/,
    ],
    [
      'persistence over more than 100 checks',
      (_, model) => Object.assign(drift(model), { persistence: { m: 1, n: 500 } }),
      'models[0].drift.persistence.n',
      /at most 100/,
    ],
    [
      'an undeclared critical feature',
      (_, model) => Object.assign(drift(model), { criticalFeatures: ['income'] }),
      'models[0].drift.criticalFeatures[0]',
      /"income" is not among the declared features \(amount, plan, calls\)/,
    ],
    [
      'an excluded critical feature',
      (_, model) => Object.assign(model, { features: {} }, { drift: { criticalFeatures: ['label'] } }),
      'models[0].drift.criticalFeatures[0]',
      /in models\[0\]\.exclude, so it is not a feature/,
    ],
    [
      'the segment as a critical feature',
      (_, model) => Object.assign(drift(model), { criticalFeatures: ['region'] }),
      'models[0].drift.criticalFeatures[0]',
      /the segment column/,
    ],
    [
      'a baseline key with a leading /',
      (_, model) => Object.assign(drift(model), { baselineProfile: '/p.json' }),
      'models[0].drift.baselineProfile',
      /relative/,
    ],
    [
      'a fractional object size',
      (_, model) => Object.assign(drift(model), { maxObjectBytes: 1.5 }),
      'models[0].drift.maxObjectBytes',
      /whole number/,
    ],
    [
      'too little memory',
      (_, model) => Object.assign(drift(model), { memoryMb: 64 }),
      'models[0].drift.memoryMb',
      /at least 128/,
    ],
    [
      "a timeout past Lambda's limit",
      (_, model) => Object.assign(drift(model), { timeoutSeconds: 901 }),
      'models[0].drift.timeoutSeconds',
      /at most 900/,
    ],
    [
      'a concurrency SQS cannot set',
      (_, model) => Object.assign(drift(model), { maxConcurrency: 1 }),
      'models[0].drift.maxConcurrency',
      /at least 2/,
    ],
    [
      'a bad endpoint name',
      (_, model) => Object.assign(model, { endpointName: 'churn_prod' }),
      'models[0].endpointName',
      /SageMaker endpoint name/,
    ],
    [
      'a schedule that is neither rate nor cron',
      (_, model) => Object.assign(model, { performance: performance({ schedule: 'daily' }) }),
      'models[0].performance.schedule',
      /neither rate/,
    ],
    [
      'a plural rate of one',
      (_, model) => Object.assign(model, { performance: performance({ schedule: 'rate(1 days)' }) }),
      'models[0].performance.schedule',
      /rate\(1 day\)/,
    ],
    [
      'a cron with five fields',
      (_, model) => Object.assign(model, { performance: performance({ schedule: 'cron(0 6 * * ?)' }) }),
      'models[0].performance.schedule',
      /6 fields/,
    ],
    [
      'an unknown time zone',
      (_, model) => Object.assign(model, { performance: performance({ timezone: 'Mars/Olympus' }) }),
      'models[0].performance.timezone',
      /IANA time zone/,
    ],
    [
      'a numeric positive class',
      (_, model) => Object.assign(model, { performance: performance({ positiveClass: 1 }) }),
      'models[0].performance.positiveClass',
      /as a string/,
    ],
    [
      'no score column and no endpoint',
      (_, model) => Object.assign(model, { performance: performance({ scoreColumn: undefined }) }),
      'models[0].performance.scoreColumn',
      /required when the model has no models\[0\]\.endpointName/,
    ],
    [
      'a label that is a feature',
      (_, model) => Object.assign(model, { performance: performance({ labelColumn: 'amount' }) }),
      'models[0].performance.labelColumn',
      /declared as a feature/,
    ],
    [
      'no limits',
      (_, model) => Object.assign(model, { performance: performance({ limits: [] }) }),
      'models[0].performance.limits',
      /at least 1 entry/,
    ],
    [
      'an unknown metric',
      (_, model) =>
        Object.assign(model, { performance: performance({ limits: [{ metric: 'auc', min: 0.7 }] }) }),
      'models[0].performance.limits[0].metric',
      /unknown metric "auc"; expected one of accuracy/,
    ],
    [
      'an accuracy floor above 1',
      (_, model) =>
        Object.assign(model, { performance: performance({ limits: [{ metric: 'accuracy', min: 85 }] }) }),
      'models[0].performance.limits[0].min',
      /at most 1/,
    ],
    [
      'a floor on a loss',
      (_, model) =>
        Object.assign(model, { performance: performance({ limits: [{ metric: 'logLoss', min: 0.1 }] }) }),
      'models[0].performance.limits[0].min',
      /logLoss is better when lower/,
    ],
    [
      'a ceiling on accuracy',
      (_, model) =>
        Object.assign(model, { performance: performance({ limits: [{ metric: 'accuracy', max: 0.9 }] }) }),
      'models[0].performance.limits[0].max',
      /better when higher, so a ceiling never warns; use min/,
    ],
    [
      'a limit with no bound',
      (_, model) => Object.assign(model, { performance: performance({ limits: [{ metric: 'gini' }] }) }),
      'models[0].performance.limits[0]',
      /expected at least one of min, max, maxDrop/,
    ],
    [
      'a relative drop above 1',
      (_, model) =>
        Object.assign(model, {
          performance: performance({ limits: [{ metric: 'gini', maxDrop: 5 }] }),
        }),
      'models[0].performance.limits[0].maxDrop',
      /at most 1, got 5 \(a share: 0\.05 is 5%\)/,
    ],
    [
      'a negative drop',
      (_, model) =>
        Object.assign(model, {
          performance: performance({ limits: [{ metric: 'gini', maxDrop: -0.05 }] }),
        }),
      'models[0].performance.limits[0].maxDrop',
      /a share >= 0/,
    ],
    [
      'a drop on the positive rate',
      (_, model) =>
        Object.assign(model, {
          performance: performance({ limits: [{ metric: 'positiveRate', maxDrop: 0.1 }] }),
        }),
      'models[0].performance.limits[0].maxDrop',
      /no better direction/,
    ],
    [
      'the old name of maxDrop',
      (_, model) =>
        Object.assign(model, {
          performance: performance({ limits: [{ metric: 'gini', maxRelativeDrop: 0.05 }] }),
        }),
      'models[0].performance.limits[0].maxRelativeDrop',
      /unknown key; expected metric, segment, min, max, maxDrop/,
    ],
    [
      'a ceiling below the floor',
      (_, model) =>
        Object.assign(model, {
          performance: performance({ limits: [{ metric: 'positiveRate', min: 0.4, max: 0.2 }] }),
        }),
      'models[0].performance.limits[0]',
      /min 0\.4 is above max 0\.2/,
    ],
    [
      'classes without the positive class',
      (_, model) => Object.assign(model, { performance: performance({ classes: ['no', 'maybe'] }) }),
      'models[0].performance.classes',
      /does not include the positive class "yes"/,
    ],
    [
      'a single class',
      (_, model) => Object.assign(model, { performance: performance({ classes: ['yes'] }) }),
      'models[0].performance.classes',
      /at least 2 entries/,
    ],
    [
      'the score column as label',
      (_, model) => Object.assign(model, { performance: performance({ scoreColumn: 'label' }) }),
      'models[0].performance.scoreColumn',
      /the same column as models\[0\]\.performance\.labelColumn/,
    ],
    [
      'endpoint settings with a score column',
      (_, model) => Object.assign(model, { performance: performance({ batchRows: 100 }) }),
      'models[0].performance.batchRows',
      /only applies when the golden dataset is scored by the endpoint/,
    ],
    [
      'endpoint scoring without declared features',
      (_, model) =>
        Object.assign(model, {
          features: {},
          drift: {},
          endpointName: 'churn-prod',
          performance: performance({ scoreColumn: undefined }),
        }),
      'models[0].features',
      /needs the features declared/,
    ],
    [
      'an unknown content type',
      (_, model) =>
        Object.assign(model, {
          endpointName: 'churn-prod',
          performance: performance({ scoreColumn: undefined, contentType: 'application/x-npy' }),
        }),
      'models[0].performance.contentType',
      /not one of application\/json, text\/csv/,
    ],
    [
      'too many rows per request',
      (_, model) =>
        Object.assign(model, {
          endpointName: 'churn-prod',
          performance: performance({ scoreColumn: undefined, batchRows: 1_000_000 }),
        }),
      'models[0].performance.batchRows',
      /at most 100000/,
    ],
    [
      'no concurrency',
      (_, model) =>
        Object.assign(model, {
          endpointName: 'churn-prod',
          performance: performance({ scoreColumn: undefined, maxConcurrency: 0 }),
        }),
      'models[0].performance.maxConcurrency',
      /at least 1/,
    ],
    [
      'a segment limit without a segment column',
      (_, model) =>
        Object.assign(model, {
          performance: performance({
            segmentColumn: null,
            limits: [{ metric: 'gini', segment: 'subprime', maxDrop: 0.05 }],
          }),
        }),
      'models[0].performance.limits[0].segment',
      /needs a segment column/,
    ],
    [
      'a repeated limit',
      (_, model) =>
        Object.assign(model, {
          performance: performance({
            limits: [
              { metric: 'accuracy', min: 0.8, maxDrop: 0.1 },
              { metric: 'accuracy', min: 0.85 },
            ],
          }),
        }),
      'models[0].performance.limits[1]',
      /min of accuracy \[all rows\] is also set by models\[0\]\.performance\.limits\[0\]/,
    ],
    [
      'an unknown trigger',
      (_, model) => Object.assign(model, { retraining: retraining({ triggers: ['always'] }) }),
      'models[0].retraining.triggers[0]',
      /not one of drift, criticalFeatureDrift, performance/,
    ],
    [
      'a performance trigger without performance checks',
      (_, model) => Object.assign(model, { retraining: retraining({ triggers: ['performance'] }) }),
      'models[0].retraining.triggers[0]',
      /needs a performance section/,
    ],
    [
      'a budget below one run',
      (_, model) =>
        Object.assign(model, {
          retraining: retraining({
            monthlyBudgetUsd: 1,
            instanceCount: 2,
            instancePricePerHourUsd: 1,
            maxRuntimeMinutes: 60,
          }),
        }),
      'models[0].retraining.monthlyBudgetUsd',
      /one run can cost up to \$2\.00 .*more than the budget of \$1/,
    ],
    [
      'an instance type without ml.',
      (_, model) => Object.assign(model, { retraining: retraining({ instanceType: 'm5.xlarge' }) }),
      'models[0].retraining.instanceType',
      /SageMaker training instance type/,
    ],
    [
      'an image outside ECR',
      (_, model) => Object.assign(model, { retraining: retraining({ image: 'docker.io/xgboost:latest' }) }),
      'models[0].retraining.image',
      /ECR image URI/,
    ],
    [
      "a runtime past SageMaker's limit",
      (_, model) =>
        Object.assign(model, {
          retraining: retraining({ maxRuntimeMinutes: 50_000, monthlyBudgetUsd: 1e6 }),
        }),
      'models[0].retraining.maxRuntimeMinutes',
      /at most 40320/,
    ],
    [
      'a hyperparameter object',
      (_, model) => Object.assign(model, { retraining: retraining({ hyperparameters: { layers: [1, 2] } }) }),
      'models[0].retraining.hyperparameters.layers',
      /string, number or boolean, got an array/,
    ],
    [
      'a canary without endpoint',
      (_, model) => Object.assign(model, { canary: {} }),
      'models[0].canary',
      /set models\[0\]\.endpointName/,
    ],
    [
      'canary steps that go down',
      (_, model) => Object.assign(model, { endpointName: 'e', canary: { steps: [25, 5, 100] } }),
      'models[0].canary.steps[1]',
      /does not increase/,
    ],
    [
      'canary steps that stop short',
      (_, model) => Object.assign(model, { endpointName: 'e', canary: { steps: [5, 50] } }),
      'models[0].canary.steps',
      /last step must be 100/,
    ],
    [
      'a canary alpha above 0.5',
      (_, model) => Object.assign(model, { endpointName: 'e', canary: { alpha: 0.7 } }),
      'models[0].canary.alpha',
      /at most 0.5/,
    ],
    [
      'a canary shadow that is not a boolean',
      (_, model) => Object.assign(model, { endpointName: 'e', canary: { shadow: 'yes' } }),
      'models[0].canary.shadow',
      /true or false/,
    ],
  ];

  it.each(cases)('%s', (_, change, field, reason) => {
    const problems = problemsAfter(change);
    expect(problems.map((problem) => problem.field)).toContain(field);
    const problem = problems.find((candidate) => candidate.field === field)!;
    expect(problem).toBeInstanceOf(ConfigError);
    expect(problem.message).toMatch(reason);
    expect(problem.message.startsWith(`${field}: `)).toBe(true);
  });

  it('finds a second model with the same name', () => {
    const raw = rawConfig();
    raw.models.push({
      ...structuredClone(raw.models[0]!),
      prefixes: { incoming: 'b/', golden: 'c/', baselines: 'd/' },
    });
    expect(configProblems(raw).map((problem) => problem.message)).toEqual([
      'models[1].name: "churn" is already the name of models[0]',
    ]);
  });

  it('finds prefixes that overlap across models', () => {
    const raw = rawConfig();
    raw.models.push({
      name: 'credit',
      prefixes: { incoming: 'churn/', golden: 'credit/g/', baselines: 'credit/b/' },
    });
    const messages = configProblems(raw).map((problem) => problem.message);
    expect(messages).toEqual([
      'models[1].prefixes.incoming: "churn/" overlaps models[0].prefixes.incoming ("churn/incoming/")',
      'models[1].prefixes.incoming: "churn/" overlaps models[0].prefixes.golden ("churn/golden/")',
      'models[1].prefixes.incoming: "churn/" overlaps models[0].prefixes.baselines ("churn/baselines/")',
    ]);
  });

  it('fills in capture.groundTruth and gives the drift function its join settings', () => {
    const raw = rawConfig();
    Object.assign(raw.models[0]!, {
      endpointName: 'churn-endpoint',
      performance: performance({ segmentColumn: 'area_code', threshold: 0.4 }),
      capture: { prefix: 'churn/capture/', groundTruth: { prefix: 'churn/ground-truth/' } },
    });
    const model = testConfig(raw).models[0]!;
    expect(model.capture!.groundTruth).toEqual({
      prefix: 'churn/ground-truth/',
      idColumn: 'inferenceId',
      labelColumn: 'label',
      timeColumn: null,
      settleMinutes: 15,
      maxDelayHours: 24,
    });
    expect(driftRuntimeConfig(model).capture!.groundTruth).toEqual({
      prefix: 'churn/ground-truth/',
      idColumn: 'inferenceId',
      labelColumn: 'label',
      timeColumn: null,
      settleMinutes: 15,
      maxDelayHours: 24,
      positiveClass: 'yes',
      classes: null,
      threshold: 0.4,
      segmentColumn: 'area_code',
      limits: [{ metric: 'accuracy', min: 0.85 }],
      baselineReportKey: 'churn/baselines/performance.json',
      feedback: false,
    });
  });

  it('finds a ground-truth prefix that overlaps another prefix', () => {
    const messages = problemsAfter((_, model) => {
      Object.assign(model, {
        endpointName: 'churn-endpoint',
        capture: { prefix: 'churn/capture/', groundTruth: { prefix: 'churn/capture/labels/' } },
      });
    }).map((problem) => problem.message);
    expect(messages).toEqual([
      'models[0].capture.groundTruth.prefix: "churn/capture/labels/" overlaps models[0].capture.prefix ("churn/capture/")',
    ]);
  });

  it('collects every problem in one error that lists them all', () => {
    const raw = rawConfig();
    Object.assign(raw, { encryption: 'none' });
    Object.assign(raw.models[0]!, { name: 'Bad Name', segment: 'label' });
    Object.assign(drift(raw.models[0]!), { driftShare: 2, method: 'nope' });
    let error: unknown;
    try {
      validateConfig(raw, 'my.config.json');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const { problems, message, source } = error as ConfigValidationError;
    expect(source).toBe('my.config.json');
    expect(problems.map((problem) => problem.field)).toEqual([
      'encryption',
      'models[0].name',
      'models[0].segment',
      'models[0].drift.method',
      'models[0].drift.driftShare',
    ]);
    expect(message.split('\n')[0]).toBe('my.config.json: 5 problems');
    for (const problem of problems) expect(message).toContain(`  - ${problem.message}`);
  });

  it('treats a column named like an Object property as any other column', () => {
    const raw = rawConfig();
    Object.assign(raw.models[0]!, { features: { amount: 'numeric' }, exclude: ['constructor'] });
    Object.assign(drift(raw.models[0]!), { criticalFeatures: ['toString'], featureMethods: {} });
    expect(configProblems(raw).map((problem) => problem.message)).toEqual([
      'models[0].drift.criticalFeatures[0]: "toString" is not among the declared features (amount)',
    ]);
  });

  it('rejects a config that is not an object', () => {
    expect(configProblems([]).map((problem) => problem.message)).toEqual([
      '(config root): must be an object, got an array',
    ]);
  });
});
