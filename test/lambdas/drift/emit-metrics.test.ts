import { afterEach, describe, expect, it } from 'vitest';
import {
  createMetrics,
  driftMetricPoints,
  fileErrorPoints,
  publishMetricPoints,
} from '../../../lambdas/drift/emit-metrics.ts';
import { OutputCapture } from '../../helpers/emf.ts';
import { entry, report } from './report-fixture.ts';

const east = { column: 'region', value: 'east' };

describe('driftMetricPoints of a Data Capture window', () => {
  const window = report([
    entry('age', true, 0.4),
    entry('plan', false, Number.NaN),
    entry('age', true, 0.3, east),
  ]);
  const plain = driftMetricPoints(window, { model: 'churn', criticalFeatures: ['age'] });
  const points = driftMetricPoints(window, { model: 'churn', criticalFeatures: ['age'], variant: 'Canary' });

  it('keeps every Model value the alarms watch, and adds the whole-dataset values with the Variant', () => {
    expect(points.slice(0, plain.length)).toEqual(plain);
    expect(points.slice(plain.length)).toEqual([
      { name: 'RowsChecked', unit: 'Count', value: 90, dimensions: { Model: 'churn', Variant: 'Canary' } },
      { name: 'DatasetDrift', unit: 'Count', value: 0, dimensions: { Model: 'churn', Variant: 'Canary' } },
      {
        name: 'CriticalFeatureDrift',
        unit: 'Count',
        value: 1,
        dimensions: { Model: 'churn', Variant: 'Canary' },
      },
      {
        name: 'DatasetDriftShare',
        unit: 'None',
        value: 0.5,
        dimensions: { Model: 'churn', Variant: 'Canary' },
      },
      // Whole dataset only, finite scores only: no segment per variant, no NaN.
      {
        name: 'FeatureDriftScore',
        unit: 'None',
        value: 0.4,
        dimensions: { Model: 'churn', Variant: 'Canary', Feature: 'age' },
      },
    ]);
  });
});

describe('driftMetricPoints', () => {
  const points = driftMetricPoints(
    report([entry('age', true, 0.4), entry('plan', false, 0.02), entry('age', false, 0.05, east)]),
    { model: 'churn', criticalFeatures: ['age'] },
  );

  it('has the per-file metrics with the Model dimension', () => {
    expect(points.slice(0, 5)).toEqual([
      { name: 'FilesChecked', unit: 'Count', value: 1, dimensions: { Model: 'churn' } },
      { name: 'RowsChecked', unit: 'Count', value: 90, dimensions: { Model: 'churn' } },
      { name: 'DatasetDrift', unit: 'Count', value: 0, dimensions: { Model: 'churn' } },
      { name: 'CriticalFeatureDrift', unit: 'Count', value: 1, dimensions: { Model: 'churn' } },
      { name: 'DatasetDriftShare', unit: 'None', value: 0.5, dimensions: { Model: 'churn', Segment: 'all' } },
    ]);
  });

  it('has a score and a drifted flag per report entry, segments as column=value', () => {
    expect(points.slice(5)).toEqual([
      {
        name: 'FeatureDriftScore',
        unit: 'None',
        value: 0.4,
        dimensions: { Model: 'churn', Feature: 'age', Segment: 'all' },
      },
      {
        name: 'FeatureDrifted',
        unit: 'Count',
        value: 1,
        dimensions: { Model: 'churn', Feature: 'age', Segment: 'all' },
      },
      {
        name: 'FeatureDriftScore',
        unit: 'None',
        value: 0.02,
        dimensions: { Model: 'churn', Feature: 'plan', Segment: 'all' },
      },
      {
        name: 'FeatureDrifted',
        unit: 'Count',
        value: 0,
        dimensions: { Model: 'churn', Feature: 'plan', Segment: 'all' },
      },
      {
        name: 'FeatureDriftScore',
        unit: 'None',
        value: 0.05,
        dimensions: { Model: 'churn', Feature: 'age', Segment: 'region=east' },
      },
      {
        name: 'FeatureDrifted',
        unit: 'Count',
        value: 0,
        dimensions: { Model: 'churn', Feature: 'age', Segment: 'region=east' },
      },
    ]);
  });

  it('leaves out scores CloudWatch would refuse, keeping the flag', () => {
    const infinite = driftMetricPoints(report([entry('x', true, Number.POSITIVE_INFINITY)]), {
      model: 'm',
      criticalFeatures: [],
    });
    expect(
      infinite.filter((point) => point.dimensions['Feature'] === 'x').map((point) => point.name),
    ).toEqual(['FeatureDrifted']);
    expect(infinite.find((point) => point.name === 'CriticalFeatureDrift')?.value).toBe(0);
  });

  it('has FileErrors for a file that could not be checked', () => {
    expect(fileErrorPoints('churn')).toEqual([
      { name: 'FileErrors', unit: 'Count', value: 1, dimensions: { Model: 'churn' } },
    ]);
  });
});

describe('publishMetricPoints', () => {
  let output: OutputCapture | undefined;
  afterEach(() => output?.restore());

  it('writes EMF with exactly the points’ dimensions', () => {
    output = new OutputCapture();
    const metrics = createMetrics();
    metrics.setDefaultDimensions({ Model: 'churn' });
    const points = driftMetricPoints(report([entry('age', true, 0.4, east)]), {
      model: 'churn',
      criticalFeatures: [],
    });
    publishMetricPoints(metrics, points);
    // Points with other dimensions are out at once; the Model-only ones wait for the flush.
    expect(output.metrics().map((metric) => metric.name)).toEqual([
      'DatasetDriftShare',
      'FeatureDriftScore',
      'FeatureDrifted',
    ]);
    metrics.publishStoredMetrics();
    const emitted = output.metrics();
    expect(emitted).toHaveLength(points.length);
    for (const point of points) {
      expect(emitted).toContainEqual({
        namespace: 'Driftwatch',
        name: point.name,
        unit: point.unit,
        value: point.value,
        dimensions: point.dimensions,
      });
    }
    // No Powertools `service` key anywhere.
    expect(output.emf().every((document) => !('service' in document))).toBe(true);
  });

  it('collects the Model-only values of several files into one document', () => {
    output = new OutputCapture();
    const metrics = createMetrics();
    metrics.setDefaultDimensions({ Model: 'churn' });
    publishMetricPoints(metrics, fileErrorPoints('churn'));
    publishMetricPoints(metrics, fileErrorPoints('churn'));
    metrics.publishStoredMetrics();
    expect(output.emf()).toHaveLength(1);
    expect(output.metrics()).toEqual([
      {
        namespace: 'Driftwatch',
        name: 'FileErrors',
        unit: 'Count',
        value: [1, 1],
        dimensions: { Model: 'churn' },
      },
    ]);
  });
});
