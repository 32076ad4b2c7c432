import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../lambdas/drift/config.ts';
import { parsePerformanceModelConfig } from '../../../lambdas/performance/config.ts';
import type { ModelConfig, PerformanceConfig } from '../../../lib/config/model-config.ts';
import {
  driftRuntimeConfig,
  performanceRuntimeConfig,
  retrainingRuntimeConfig,
} from '../../../lib/config/runtime.ts';
import { validateConfig } from '../../../lib/config/validate.ts';
import { rawConfig, testConfig } from '../../helpers/cdk.ts';

describe('driftRuntimeConfig', () => {
  it('maps a validated model to what the drift Lambda reads', () => {
    const raw = rawConfig();
    Object.assign(raw.models[0]!, {
      drift: {
        method: 'psi:0.2',
        featureMethods: { plan: 'chi2:0.01', calls: 'auto' },
        driftShare: 0.3,
        criticalFeatures: ['amount', 'plan'],
        fdr: 0.05,
        minEffect: { ks: 0.15 },
        persistence: { m: 2, n: 3 },
        baselineProfile: 'v2/profile.json.gz',
        maxObjectBytes: 1000,
        maxDecompressedBytes: 5000,
      },
    });
    expect(driftRuntimeConfig(testConfig(raw).models[0]!)).toEqual({
      name: 'churn',
      incomingPrefix: 'churn/incoming/',
      baselineProfileKey: 'churn/baselines/v2/profile.json.gz',
      numeric: ['amount', 'calls'],
      categorical: ['plan'],
      exclude: ['label'],
      segment: 'region',
      method: { method: 'psi', threshold: 0.2 },
      featureMethods: { plan: { method: 'chi2', threshold: 0.01 }, calls: { method: 'auto' } },
      driftShare: 0.3,
      criticalFeatures: ['amount', 'plan'],
      fdr: 0.05,
      minEffect: { ks: 0.15, chi2: 0.1 },
      persistence: { m: 2, n: 3 },
      maxObjectBytes: 1000,
      maxDecompressedBytes: 5000,
    });
  });

  it('passes auto as a null method and no features as empty lists', () => {
    const config = testConfig({
      models: [{ name: 'm', prefixes: { incoming: 'in/', golden: 'g/', baselines: 'b/' } }],
    });
    expect(driftRuntimeConfig(config.models[0]!)).toMatchObject({
      baselineProfileKey: 'b/profile.json',
      numeric: [],
      categorical: [],
      segment: null,
      method: null,
      featureMethods: {},
      // A config without fdr keeps version 1 decisions and pages on every drifted check.
      fdr: null,
      minEffect: { ks: 0.1, chi2: 0.1 },
      persistence: { m: 1, n: 1 },
    });
  });

  it('gives every model of the example config a runtime config the handler accepts unchanged', () => {
    const config = validateConfig(JSON.parse(readFileSync('driftwatch.config.json', 'utf8')));
    // The shipped config is what new configs start from: false discovery control at 0.05.
    expect(config.models.map((model) => model.drift.fdr)).toEqual(config.models.map(() => 0.05));
    for (const model of config.models) {
      const runtime = driftRuntimeConfig(model);
      expect(parseModelConfig(JSON.stringify(runtime))).toEqual(runtime);
    }
  });
});

describe('performanceRuntimeConfig', () => {
  const config = validateConfig(JSON.parse(readFileSync('driftwatch.config.json', 'utf8')));
  const withPerformance = (name: string) =>
    config.models.find((model) => model.name === name) as ModelConfig & { performance: PerformanceConfig };

  it('scores churn with its endpoint, sending the declared features in their order', () => {
    const churn = withPerformance('churn');
    expect(performanceRuntimeConfig(churn)).toEqual({
      name: 'churn',
      goldenDatasetKey: 'churn/golden/latest.csv',
      baselineReportKey: 'churn/baselines/performance.json',
      labelColumn: 'churn',
      positiveClass: 'yes',
      classes: ['no', 'yes'],
      threshold: 0.5,
      segmentColumn: 'area_code',
      limits: [
        { metric: 'accuracy', min: 0.85 },
        { metric: 'rocAuc', maxDrop: 0.05 },
      ],
      scoring: {
        kind: 'endpoint',
        endpointName: 'churn-prod',
        contentType: 'application/json',
        features: Object.entries(churn.features).map(([name, type]) => ({ name, type })),
        batchRows: 500,
        maxConcurrency: 4,
      },
      maxDecompressedBytes: churn.drift.maxDecompressedBytes,
    });
  });

  it('reads credit scores from the golden dataset, the subprime Gini limited against the baseline', () => {
    expect(performanceRuntimeConfig(withPerformance('credit'))).toMatchObject({
      goldenDatasetKey: 'credit/golden/labelled.csv',
      segmentColumn: 'tier',
      limits: [
        { metric: 'rocAuc', min: 0.75 },
        { metric: 'gini', segment: 'subprime', maxDrop: 0.05 },
      ],
      scoring: { kind: 'column', scoreColumn: 'score' },
    });
  });

  it('gives every model of the example config a runtime config the handler accepts unchanged', () => {
    for (const model of config.models) {
      if (model.performance === undefined) continue;
      const runtime = performanceRuntimeConfig(model as ModelConfig & { performance: PerformanceConfig });
      expect(parsePerformanceModelConfig(JSON.stringify(runtime))).toEqual(runtime);
    }
  });
});

describe('retrainingRuntimeConfig: the images the shared state machine checks', () => {
  const config = validateConfig(JSON.parse(readFileSync('driftwatch.config.json', 'utf8')));
  const churn = () => structuredClone(config.models.find((model) => model.name === 'churn')!);

  it("defaults the champion's image to the inference image, and names the one region of the images", () => {
    const { sageMaker } = retrainingRuntimeConfig(churn(), config.stackName);
    expect(sageMaker.championImage).toBe(sageMaker.inferenceImage);
    expect(sageMaker.imageRegion).toBe('eu-west-1');
  });

  it('lists every region when the images are in several, so that no stack region matches', () => {
    const model = churn();
    model.retraining!.championImage = '123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-serve:0.9';
    const { sageMaker } = retrainingRuntimeConfig(model, config.stackName);
    expect(sageMaker.championImage).toBe(model.retraining!.championImage);
    expect(sageMaker.imageRegion).toBe('eu-west-1,us-east-1');
  });
});

describe('driftRuntimeConfig: capture windows estimated before labels (CBPE)', () => {
  const withCapture = (performance: Record<string, unknown>, estimate?: Record<string, unknown>) => {
    const raw = rawConfig();
    Object.assign(raw.models[0]!, {
      endpointName: 'churn-endpoint',
      performance: {
        schedule: 'rate(1 day)',
        goldenDataset: 'golden.csv',
        labelColumn: 'label',
        positiveClass: 'yes',
        limits: [{ metric: 'accuracy', min: 0.8 }],
        ...performance,
      },
      capture: { prefix: 'churn/capture/', ...(estimate && { estimate }) },
    });
    return driftRuntimeConfig(testConfig(raw).models[0]!);
  };

  it('estimates with the golden dataset as reference when it holds scores, the limits of performance', () => {
    const model = withCapture({ scoreColumn: 'p' });
    expect(model.capture?.estimate).toEqual({
      referenceKey: 'churn/golden/golden.csv',
      referenceScoreColumn: 'p',
      referenceModel: null,
      labelColumn: 'label',
      positiveClass: 'yes',
      classes: null,
      threshold: 0.5,
      segmentColumn: 'region',
      limits: [{ metric: 'accuracy', min: 0.8 }],
      baselineReportKey: 'churn/baselines/performance.json',
    });
    // What the handler parses back is what the config says.
    expect(parseModelConfig(JSON.stringify(model)).capture?.estimate).toEqual(model.capture?.estimate);
  });

  it('takes an explicit reference and its model; without one and without scores in the golden dataset, none', () => {
    const explicit = withCapture({}, { reference: 'scored/ref.csv', referenceModel: 'churn-v3' });
    expect(explicit.capture?.estimate).toMatchObject({
      referenceKey: 'churn/golden/scored/ref.csv',
      referenceScoreColumn: 'score',
      referenceModel: 'churn-v3',
    });
    // Estimates are then withheld with that reason (see the handler), never silently skipped.
    expect(withCapture({}).capture?.estimate?.referenceKey).toBe('');
    expect(withCapture({ scoreColumn: 'p' }, { enabled: false }).capture?.estimate).toBeUndefined();
  });
});
