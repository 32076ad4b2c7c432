import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { Alerting } from '../../lib/alerting.ts';
import type { ModelConfig, PerformanceConfig } from '../../lib/config/model-config.ts';
import { driftRuntimeConfig, performanceRuntimeConfig } from '../../lib/config/runtime.ts';
import { DriftDetector } from '../../lib/drift-detector.ts';
import { ModelDashboard } from '../../lib/model-dashboard.ts';
import { PerformanceMonitor } from '../../lib/performance-monitor.ts';
import { onlyResource, rawConfig, testConfig, testStack } from '../helpers/cdk.ts';

interface Widget {
  type: string;
  properties: { title?: string; markdown?: string; alarms?: unknown[]; metrics?: unknown[][] };
}
let widgets: Widget[];
let dashboard: Record<string, unknown>;

beforeAll(() => {
  const stack = testStack();
  const table = (name: string) =>
    new dynamodb.Table(stack, name, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
  const detector = new DriftDetector(stack, 'Detector', {
    model: driftRuntimeConfig(testConfig().models[0]!),
    landingBucket: new s3.Bucket(stack, 'Landing'),
    resultsBucket: new s3.Bucket(stack, 'Results'),
    historyTable: table('History'),
    idempotencyTable: table('Idempotency'),
  });
  const alarms = new Alerting(stack, 'Alerting').alarmOnDriftDetector(detector);
  new ModelDashboard(stack, 'Dashboard', { detector, alarms: Object.values(alarms) });
  dashboard = onlyResource(Template.fromStack(stack), 'AWS::CloudWatch::Dashboard').properties;
  // The body is a Fn::Join of JSON text and tokens, each token inside a JSON string (an ARN, a region).
  const parts = (dashboard['DashboardBody'] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const body = parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  widgets = (JSON.parse(body) as { widgets: Widget[] }).widgets;
});

describe('ModelDashboard', () => {
  it('is named after the stack and the model', () => {
    expect(dashboard['DashboardName']).toBe('Test-churn');
  });

  it('describes the model and shows its alarms first', () => {
    expect(widgets[0]!.properties.markdown).toContain('# driftwatch: churn');
    expect(widgets[0]!.properties.markdown).toContain('critical features: amount');
    expect(widgets[1]!.type).toBe('alarm');
    expect(widgets[1]!.properties.alarms).toHaveLength(5);
  });

  it('draws drift, feature scores, files, the function and the queues', () => {
    expect(widgets.map((widget) => widget.properties.title).filter(Boolean)).toEqual([
      'Alarms',
      'Dataset drift share',
      'Dataset and critical feature drift (1 = drifted)',
      'Feature drift scores (whole dataset)',
      'Drifted features by segment (1 = drifted)',
      'Files',
      'Drift Lambda',
      'Queues',
    ]);
  });

  it('finds the feature scores by SEARCH, with no feature listed', () => {
    const scores = widgets.find(
      (widget) => widget.properties.title === 'Feature drift scores (whole dataset)',
    )!;
    expect(JSON.stringify(scores.properties.metrics)).toContain(
      `SEARCH('{Driftwatch,Model,Feature,Segment} MetricName=\\"FeatureDriftScore\\" Model=\\"churn\\" Segment=\\"all\\"', 'Maximum', 300)`,
    );
  });

  it('marks the drift threshold on the drift share', () => {
    const share = widgets.find((widget) => widget.properties.title === 'Dataset drift share')!;
    expect(JSON.stringify(share.properties)).toContain(
      '"annotations":{"horizontal":[{"value":0.5,"label":"Drift threshold"',
    );
  });
});

describe('ModelDashboard.addPerformanceWidgets', () => {
  let performanceWidgets: Widget[];

  beforeAll(() => {
    const stack = testStack();
    const raw = rawConfig();
    Object.assign(raw.models[0]!, {
      performance: {
        schedule: 'rate(1 day)',
        goldenDataset: 'latest.csv',
        labelColumn: 'label',
        positiveClass: 'yes',
        scoreColumn: 'score',
        limits: [
          { metric: 'accuracy', min: 0.85 },
          { metric: 'gini', segment: 'north', maxDrop: 0.05 },
        ],
      },
    });
    const model = testConfig(raw).models[0]! as ModelConfig & { performance: PerformanceConfig };
    const table = (name: string) =>
      new dynamodb.Table(stack, name, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const landingBucket = new s3.Bucket(stack, 'Landing');
    const resultsBucket = new s3.Bucket(stack, 'Results');
    const detector = new DriftDetector(stack, 'Detector', {
      model: driftRuntimeConfig(model),
      landingBucket,
      resultsBucket,
      historyTable: table('History'),
      idempotencyTable: table('Idempotency'),
    });
    const monitor = new PerformanceMonitor(stack, 'Performance', {
      model: performanceRuntimeConfig(model),
      schedule: model.performance.schedule,
      landingBucket,
      resultsBucket,
      historyTable: table('PerformanceHistory'),
    });
    const alarms = new Alerting(stack, 'Alerting').alarmOnPerformanceMonitor(monitor);
    const board = new ModelDashboard(stack, 'Dashboard', { detector });
    board.addPerformanceWidgets(monitor, [...alarms.limits, alarms.checkErrors]);
    const properties = onlyResource(Template.fromStack(stack), 'AWS::CloudWatch::Dashboard').properties;
    const parts = (properties['DashboardBody'] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const body = parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
    performanceWidgets = (JSON.parse(body) as { widgets: Widget[] }).widgets.filter(
      (widget) =>
        widget.properties.title !== undefined && !/Drift|drift|Files|Queues/.test(widget.properties.title),
    );
  });

  it('shows the history of each limited metric for every segment, the drops, the checks and the Lambda', () => {
    expect(performanceWidgets.map((widget) => widget.properties.title)).toEqual([
      'Performance alarms',
      'accuracy by segment',
      'gini by segment',
      'Relative drop against the baseline report',
      'Performance checks',
      'Performance Lambda',
    ]);
    expect(performanceWidgets[0]!.properties.alarms).toHaveLength(3);
    const accuracy = JSON.stringify(performanceWidgets[1]!.properties);
    expect(accuracy).toContain(
      'SEARCH(\'{Driftwatch,Model,Metric,Segment} MetricName=\\"PerformanceMetric\\" Model=\\"churn\\" Metric=\\"accuracy\\"\'',
    );
    expect(accuracy).toContain('"value":0.85');
  });
});
