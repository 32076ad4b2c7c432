import { describe, expect, it } from 'vitest';
import { driftDetectedDetail } from '../../../lambdas/drift/drift-event.ts';
import { entry, report } from './report-fixture.ts';

const context = {
  model: 'churn',
  bucket: 'data',
  key: 'incoming/day 1.csv',
  versionId: 'v1',
  reportKey: 'reports/churn/2025-01-01T00:00:00.000Z/day 1.csv.json',
  criticalFeatures: ['age'],
};
const east = { column: 'region', value: 'east' };
const west = { column: 'region', value: 'west' };

describe('driftDetectedDetail', () => {
  it('is null when neither the dataset nor a critical feature drifted', () => {
    const clean = report([entry('age', false, 0.01), entry('income', true, 0.3), entry('plan', false, 0.02)]);
    expect(driftDetectedDetail(clean, context)).toBeNull();
  });

  it('ignores a critical feature that drifted only within a segment', () => {
    const segmentOnly = report([
      entry('age', false, 0.01),
      entry('age', true, 0.5, east),
      entry('x', false, 0),
    ]);
    expect(driftDetectedDetail(segmentOnly, context)).toBeNull();
  });

  it('reports a drifted critical feature even when the dataset did not drift', () => {
    const detail = driftDetectedDetail(
      report([entry('age', true, 0.4), entry('income', false, 0.01), entry('plan', false, 0.02)]),
      context,
    );
    expect(detail).toEqual({
      model: 'churn',
      bucket: 'data',
      key: 'incoming/day 1.csv',
      versionId: 'v1',
      reportKey: context.reportKey,
      datasetDrift: false,
      driftShare: 1 / 3,
      driftedFeatures: ['age'],
      criticalFeatures: ['age'],
      driftedSegments: [],
    });
  });

  it('reports dataset drift with the drifted segments grouped in report order', () => {
    const drifted = report(
      [
        entry('income', true, 0.3),
        entry('plan', true, 0.2),
        entry('age', false, 0.01),
        entry('income', true, 0.5, west),
        entry('income', false, 0.01, east),
        entry('plan', true, 0.3, east),
        entry('plan', true, 0.3, west),
      ],
      true,
    );
    const detail = driftDetectedDetail(drifted, { ...context, versionId: null, criticalFeatures: [] });
    expect(detail).toMatchObject({
      versionId: null,
      datasetDrift: true,
      driftedFeatures: ['income', 'plan'],
      criticalFeatures: [],
      driftedSegments: [
        { column: 'region', value: 'west', features: ['income', 'plan'] },
        { column: 'region', value: 'east', features: ['plan'] },
      ],
    });
  });
});
