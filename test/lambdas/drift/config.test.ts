import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import { driftOptions, loadDriftHandlerConfig, parseModelConfig } from '../../../lambdas/drift/config.ts';
import { MODEL } from './environment.ts';

const ENV = {
  MODEL_CONFIG: JSON.stringify(MODEL),
  DATA_BUCKET: 'data',
  RESULTS_BUCKET: 'results',
  REPORTS_PREFIX: 'reports/',
  HISTORY_TABLE: 'history',
  IDEMPOTENCY_TABLE: 'idempotency',
  EVENT_BUS_NAME: 'bus',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.example/dlq',
};

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadDriftHandlerConfig', () => {
  it('reads every variable', () => {
    expect(loadDriftHandlerConfig(ENV)).toEqual({
      model: MODEL,
      dataBucket: 'data',
      resultsBucket: 'results',
      reportsPrefix: 'reports/',
      historyTable: 'history',
      idempotencyTable: 'idempotency',
      eventBusName: 'bus',
      deadLetterQueueUrl: 'https://sqs.example/dlq',
    });
  });

  it.each(Object.keys(ENV))('names %s when it is missing', (name) => {
    const error = configError(() => loadDriftHandlerConfig({ ...ENV, [name]: undefined }));
    expect(error.field).toBe(name);
    expect(error.message).toBe(`${name}: the environment variable is not set`);
  });

  it('allows an empty reports prefix', () => {
    expect(loadDriftHandlerConfig({ ...ENV, REPORTS_PREFIX: '' }).reportsPrefix).toBe('');
  });
});

describe('parseModelConfig', () => {
  const parse = (changes: Record<string, unknown>) =>
    parseModelConfig(JSON.stringify({ ...MODEL, ...changes }));

  it('names the field at fault', () => {
    expect(configError(() => parseModelConfig('{')).field).toBe('MODEL_CONFIG');
    expect(configError(() => parse({ name: '' })).field).toBe('MODEL_CONFIG.name');
    expect(configError(() => parse({ maxObjectBytes: -1 })).field).toBe('MODEL_CONFIG.maxObjectBytes');
    expect(configError(() => parse({ maxDecompressedBytes: '1GB' })).field).toBe(
      'MODEL_CONFIG.maxDecompressedBytes',
    );
    expect(configError(() => parse({ exclude: ['ok', 3] })).field).toBe('MODEL_CONFIG.exclude[1]');
    expect(configError(() => parse({ driftShare: 0 })).field).toBe('MODEL_CONFIG.driftShare');
    expect(configError(() => parse({ method: { method: 'magic' } })).field).toBe(
      'MODEL_CONFIG.method.method',
    );
    expect(
      configError(() => parse({ featureMethods: { age: { method: 'ks', threshold: 'x' } } })).field,
    ).toBe('MODEL_CONFIG.featureMethods.age.threshold');
  });

  it('reads fdr, minEffect and persistence, and passes the first two to the core', () => {
    const model = parse({ fdr: 0.05, minEffect: { ks: 0.2 }, persistence: { m: 2, n: 3 } });
    expect(model).toMatchObject({
      fdr: 0.05,
      minEffect: { ks: 0.2, chi2: 0.1 },
      persistence: { m: 2, n: 3 },
    });
    expect(driftOptions(model)).toMatchObject({ fdr: 0.05, minEffect: { ks: 0.2, chi2: 0.1 } });
    // Absent (a config from before them): version 1 decisions.
    const { fdr: _fdr, minEffect: _minEffect, persistence: _persistence, ...before } = MODEL;
    const old = parseModelConfig(JSON.stringify(before));
    expect(old).toMatchObject({ fdr: null, persistence: { m: 1, n: 1 } });
    expect(driftOptions(old)).not.toHaveProperty('fdr');
    expect(configError(() => parse({ fdr: 0 })).field).toBe('MODEL_CONFIG.fdr');
    expect(configError(() => parse({ fdr: 0.05, minEffect: { chi2: 3 } })).field).toBe(
      'MODEL_CONFIG.minEffect.chi2',
    );
    expect(configError(() => parse({ persistence: { m: 3, n: 2 } })).field).toBe(
      'MODEL_CONFIG.persistence.m',
    );
  });

  it('reads methods and turns the config into drift options', () => {
    const model = parse({
      method: { method: 'psi', threshold: 0.2 },
      featureMethods: { age: { method: 'ks' } },
    });
    expect(driftOptions(model)).toEqual({
      numeric: [],
      categorical: [],
      exclude: ['churn'],
      segment: 'area_code',
      method: { method: 'psi', threshold: 0.2 },
      features: { age: { method: 'ks' } },
      driftShare: 0.5,
    });
    expect(driftOptions(MODEL)).not.toHaveProperty('method');
  });
});
