import { describe, expect, it } from 'vitest';
import { formatScores, PayloadError, parseInstances } from '../../../local/sagemaker/payload.ts';
import { type LogisticModel, MODEL_FORMAT } from '../../../local/trainers/model.ts';

const model: LogisticModel = {
  format: MODEL_FORMAT,
  version: 1,
  algorithm: 'logistic',
  label: 'y',
  positive: '1',
  features: [
    { name: 'minutes', kind: 'numeric', mean: 0, std: 1 },
    { name: 'plan, "tier"', kind: 'categorical', levels: ['a'] },
  ],
  weights: [1, 1],
  intercept: 0,
};
const bytes = (text: string) => new TextEncoder().encode(text);

describe('request bodies', () => {
  it('reads JSON instances as objects or arrays in feature order', () => {
    const body = bytes('{"instances": [{"minutes": 3}, [4, "a"]]}');
    expect(parseInstances(model, 'application/json; charset=utf-8', body)).toEqual([
      { minutes: 3 },
      { minutes: 4, 'plan, "tier"': 'a' },
    ]);
  });

  it('reads headerless CSV in feature order with quoting, and JSON Lines', () => {
    expect(parseInstances(model, 'text/csv', bytes('1.5,"a"\r\n,\n'))).toEqual([
      { minutes: '1.5', 'plan, "tier"': 'a' },
      { minutes: '', 'plan, "tier"': '' },
    ]);
    expect(parseInstances(model, 'text/csv', bytes('\n'))).toEqual([]);
    expect(parseInstances(model, 'application/jsonlines', bytes('{"minutes":1}\n\n{"minutes":2}\n'))).toEqual(
      [{ minutes: 1 }, { minutes: 2 }],
    );
  });

  it.each([
    ['application/json', '{"rows": []}', 400, 'the body must be {"instances": [...]}'],
    ['application/json', '{"instances": [[1]]}', 400, 'instances[0] has 1 values, the model has 2 features'],
    ['application/json', '{"instances": [1]}', 400, 'instances[0] must be an object'],
    ['application/jsonlines', '{"minutes":1}\nnope', 400, 'line 2 is not JSON'],
    ['text/csv', '1\n2,a,3\n', 400, 'CSV row 1: expected 2 fields, found 1'],
    ['application/x-recordio-protobuf', '', 415, 'unsupported content type'],
  ])('refuses %s %j with %i', (type, body, status, message) => {
    const attempt = () => parseInstances(model, type, bytes(body));
    expect(attempt).toThrow(PayloadError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect((error as PayloadError).status).toBe(status);
    }
  });
});

describe('response bodies', () => {
  it('writes scores in the accepted type, or the request type for */*', () => {
    expect(formatScores('application/json', 'text/csv', [0.25, 0.5]).body).toBe(
      '{"predictions":[{"score":0.25},{"score":0.5}]}',
    );
    expect(formatScores('*/*', 'text/csv', [0.25, 0.5])).toEqual({
      contentType: 'text/csv',
      body: '0.25\n0.5\n',
    });
    expect(formatScores(undefined, 'application/jsonlines', [1])).toEqual({
      contentType: 'application/jsonlines',
      body: '{"score":1}\n',
    });
    expect(() => formatScores('application/xml', 'text/csv', [1])).toThrow(
      expect.objectContaining({ status: 406 }),
    );
  });
});
