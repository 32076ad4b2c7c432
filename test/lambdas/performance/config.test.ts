import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import {
  loadPerformanceHandlerConfig,
  parsePerformanceModelConfig,
} from '../../../lambdas/performance/config.ts';
import { PERFORMANCE_ENV } from '../../../lambdas/shared/contract.ts';
import { CHURN, CREDIT } from './environment.ts';

const with_ = (change: Record<string, unknown>) => JSON.stringify({ ...CHURN, ...change });

describe('parsePerformanceModelConfig', () => {
  it('reads what performanceRuntimeConfig writes, for both ways of scoring', () => {
    expect(parsePerformanceModelConfig(JSON.stringify(CHURN))).toEqual(CHURN);
    expect(parsePerformanceModelConfig(JSON.stringify(CREDIT))).toEqual(CREDIT);
  });

  it.each([
    ['not JSON', '{', /^MODEL_CONFIG: not valid JSON/],
    ['no name', with_({ name: '' }), /^MODEL_CONFIG\.name: expected a non-empty string/],
    [
      'a threshold above 1',
      with_({ threshold: 2 }),
      /^MODEL_CONFIG\.threshold: expected a number in \[0, 1\]/,
    ],
    [
      'a limit of the old shape',
      with_({ limits: [{ metric: 'gini', maxRelativeDrop: 0.05 }] }),
      /^MODEL_CONFIG\.limits\[0\]\.maxRelativeDrop: unknown key/,
    ],
    ['an unknown scoring', with_({ scoring: { kind: 'magic' } }), /^MODEL_CONFIG\.scoring\.kind/],
    [
      'an unknown content type',
      with_({ scoring: { ...CHURN.scoring, contentType: 'application/x-npy' } }),
      /^MODEL_CONFIG\.scoring\.contentType: expected one of application\/json, text\/csv/,
    ],
    [
      'no concurrency',
      with_({ scoring: { ...CHURN.scoring, maxConcurrency: 0 } }),
      /^MODEL_CONFIG\.scoring\.maxConcurrency: expected a whole number >= 1/,
    ],
    [
      'a feature without a type',
      with_({ scoring: { ...CHURN.scoring, features: [{ name: 'x' }] } }),
      /^MODEL_CONFIG\.scoring\.features\[0\]\.type/,
    ],
  ])('refuses %s, naming the field', (_, text, message) => {
    expect(() => parsePerformanceModelConfig(text)).toThrow(ConfigError);
    expect(() => parsePerformanceModelConfig(text)).toThrow(message);
  });
});

describe('loadPerformanceHandlerConfig', () => {
  const env = {
    [PERFORMANCE_ENV.modelConfig]: JSON.stringify(CREDIT),
    [PERFORMANCE_ENV.dataBucket]: 'data',
    [PERFORMANCE_ENV.resultsBucket]: 'results',
    [PERFORMANCE_ENV.reportsPrefix]: '',
    [PERFORMANCE_ENV.historyTable]: 'history',
    [PERFORMANCE_ENV.eventBusName]: 'default',
  };

  it('reads every variable; an empty reports prefix is allowed', () => {
    expect(loadPerformanceHandlerConfig(env)).toEqual({
      model: CREDIT,
      dataBucket: 'data',
      resultsBucket: 'results',
      reportsPrefix: '',
      historyTable: 'history',
      eventBusName: 'default',
    });
  });

  it('names a missing variable', () => {
    expect(() => loadPerformanceHandlerConfig({ ...env, HISTORY_TABLE: undefined })).toThrow(
      'HISTORY_TABLE: the environment variable is not set',
    );
  });
});
