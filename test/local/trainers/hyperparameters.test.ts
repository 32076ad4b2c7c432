import { describe, expect, it } from 'vitest';
import { HyperparameterError } from '../../../local/trainers/errors.ts';
import { parseHyperparameters } from '../../../local/trainers/hyperparameters.ts';

describe('parseHyperparameters', () => {
  it('fills defaults and reads SageMaker strings', () => {
    const parameters = parseHyperparameters('logistic', {
      label: 'churn',
      positive: 'yes',
      exclude: ' state , area_code,',
      l2: '0.01',
      sagemaker_program: 'ignored.py',
    });
    expect(parameters).toMatchObject({
      algorithm: 'logistic',
      label: 'churn',
      positive: 'yes',
      exclude: ['state', 'area_code'],
      maxLevels: 50,
      logistic: { solver: 'newton', l2: 0.01, epochs: 50, learningRate: 0.1 },
    });
    expect(parseHyperparameters('gbt', { label: 'y' })).toMatchObject({
      positive: '1',
      gbt: { rounds: 100, maxDepth: 3, eta: 0.1, l2: 1, subsample: 1, seed: 0 },
    });
  });

  it.each([
    ['logistic', {}, 'label', 'is required'],
    ['logistic', { label: 'y', learning_rate: '0' }, 'learning_rate', 'must be > 0'],
    ['logistic', { label: 'y', epochs: '1.5' }, 'epochs', 'must be an integer'],
    ['logistic', { label: 'y', l2: 'lots' }, 'l2', '"lots" is not a number'],
    ['logistic', { label: 'y', 'learning-rate': '0.1' }, 'learning-rate', 'unknown for logistic'],
    ['logistic', { label: 'y', num_round: '10' }, 'num_round', 'applies to the other algorithm'],
    [
      'gbt',
      { label: 'y', algorithm: 'logistic' },
      'algorithm',
      'is "logistic" but the training image is a gbt image',
    ],
    ['gbt', { label: 'y', subsample: '1.5' }, 'subsample', 'must be <= 1'],
    ['logistic', { label: 'y', solver: 'lbfgs' }, 'solver', 'must be newton or gd'],
  ] as const)('refuses %s %j naming %s', (algorithm, raw, field, reason) => {
    const attempt = () => parseHyperparameters(algorithm, raw as Record<string, string>);
    expect(attempt).toThrow(HyperparameterError);
    expect(attempt).toThrow(`hyperparameter ${field}: ${reason}`);
  });
});
