import { describe, expect, it } from 'vitest';
import { encodeRows, type FeatureSpec, inferFeatures } from '../../../local/trainers/encoding.ts';
import { ModelFormatError } from '../../../local/trainers/errors.ts';
import { type LogisticModel, MODEL_FORMAT, parseModel, scoreRows } from '../../../local/trainers/model.ts';
import { csvTable } from './table.ts';

const features: FeatureSpec[] = [
  { name: 'minutes', kind: 'numeric', mean: 100, std: 20 },
  { name: 'plan', kind: 'categorical', levels: ['basic', 'pro'] },
];
const model: LogisticModel = {
  format: MODEL_FORMAT,
  version: 1,
  algorithm: 'logistic',
  label: 'churn',
  positive: 'yes',
  features,
  weights: [0.5, -1, 2],
  intercept: -0.25,
};

describe('inferFeatures', () => {
  it('types a column numeric when every present value reads as a number', () => {
    const table = csvTable('a,b,c\n1,x,\n 2 ,1,\n,2,\n');
    const [a, b, c] = inferFeatures(table, ['a', 'b', 'c'], 10);
    expect(a).toEqual({ name: 'a', kind: 'numeric', mean: 1.5, std: 0.5 });
    expect(b).toEqual({ name: 'b', kind: 'categorical', levels: ['1', '2', 'x'] });
    // No value at all: nothing to learn, no inputs.
    expect(c).toEqual({ name: 'c', kind: 'categorical', levels: [] });
  });

  it('keeps the most frequent levels, ties by code point, and scales a constant column by 1', () => {
    const table = csvTable('k,z\nb,5\na,5\nc,5\nc,5\nB,5\n');
    const [k, z] = inferFeatures(table, ['k', 'z'], 3);
    expect(k).toEqual({ name: 'k', kind: 'categorical', levels: ['c', 'B', 'a'] });
    expect(z).toEqual({ name: 'z', kind: 'numeric', mean: 5, std: 1 });
  });
});

describe('scoreRows', () => {
  it('is σ(intercept + w · standardised one-hot inputs)', () => {
    const [score] = scoreRows(model, [{ minutes: 140, plan: 'pro' }]);
    expect(score).toBeCloseTo(1 / (1 + Math.exp(-(-0.25 + 0.5 * 2 + 2))), 12);
  });

  it('scores a missing numeric value as the mean and an unseen category as no level', () => {
    const [missing, mean, unseen, none, numericText] = scoreRows(model, [
      { plan: 'basic' },
      { minutes: 100, plan: 'basic' },
      { minutes: 100, plan: 'enterprise' },
      { minutes: 100, plan: null },
      { minutes: '100', plan: 'basic' },
    ]);
    expect(missing).toBe(mean);
    expect(unseen).toBe(none);
    expect(numericText).toBe(mean);
    expect(unseen).toBeCloseTo(1 / (1 + Math.exp(0.25)), 12);
  });

  it('ignores inherited keys such as __proto__ and constructor', () => {
    const rows = [JSON.parse('{"__proto__": {"minutes": 500}, "plan": "pro"}') as Record<string, unknown>];
    expect(scoreRows(model, rows)).toEqual(scoreRows(model, [{ plan: 'pro' }]));
  });

  it('encodes rows into a row-major matrix', () => {
    const matrix = encodeRows(
      features,
      2,
      (row, f) =>
        [
          [120, 'pro'],
          [null, 'basic'],
        ][row]![f],
    );
    expect(Array.from(matrix)).toEqual([1, 0, 1, 0, 1, 0]);
  });
});

describe('parseModel', () => {
  it('accepts a model that went through JSON', () => {
    expect(parseModel(JSON.parse(JSON.stringify(model)))).toEqual(model);
  });

  it.each([
    [{ ...model, format: 'other' }, 'format must be "driftwatch-model"'],
    [{ ...model, version: 2 }, 'version must be 1'],
    [{ ...model, weights: [1, 2] }, 'weights must be 3 numbers'],
    [{ ...model, algorithm: 'forest' }, 'algorithm must be "logistic" or "gbt"'],
    [{ ...model, features: [{ name: 'x', kind: 'numeric', mean: 0, std: 0 }] }, 'features[0] must have'],
    [
      {
        ...model,
        algorithm: 'gbt',
        trees: [{ feature: [0], threshold: [1], left: [0], right: [0], value: [0] }],
      },
      'trees[0] node 0 has an input or child out of range',
    ],
  ])('names the field at fault (%#)', (document, message) => {
    expect(() => parseModel(document)).toThrow(ModelFormatError);
    expect(() => parseModel(document)).toThrow(message);
  });
});
