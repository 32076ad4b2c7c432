import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PerformanceReport } from '../../../lambdas/core/performance/report.ts';
import { METRIC_NAMESPACE } from '../../../lambdas/shared/contract.ts';
import { expectClose } from '../../helpers/close.ts';
import {
  CHURN,
  CREDIT,
  DATA_BUCKET,
  ENDPOINT_NAME,
  EVENT_BUS,
  PerformanceEnvironment,
  REPORTS_PREFIX,
} from './environment.ts';
import {
  CHURN_BASELINE_HALF,
  CHURN_SHIFTED,
  CREDIT_BASELINE,
  CREDIT_BASELINE_REPORT,
  CREDIT_CURRENT,
  CREDIT_CURRENT_REPORT,
  expectedChurnReport,
} from './golden-data.ts';

let env: PerformanceEnvironment;

beforeAll(async () => {
  env = await PerformanceEnvironment.start(CHURN);
});

afterAll(async () => {
  await env?.stop();
});

beforeEach(() => {
  env.resetStubs();
  env.output.clear();
});

/** Metrics of the last invocation with these exact dimensions. */
function metricsNamed(name: string, dimensions: Record<string, string>) {
  return env.output
    .metrics()
    .filter(
      (metric) => metric.name === name && JSON.stringify(metric.dimensions) === JSON.stringify(dimensions),
    );
}

describe('performance handler, churn scored by its SageMaker endpoint', () => {
  beforeAll(async () => {
    env.useModel(CHURN);
    await env.deleteObject(CHURN.baselineReportKey);
  });

  it('scores the golden dataset with the endpoint and stores the first report as the baseline', async () => {
    const golden = await env.upload(CHURN.goldenDatasetKey, CHURN_BASELINE_HALF);
    const outcome = await env.invoke({
      model: 'churn',
      executionId: 'exec-1',
      scheduledTime: '2025-01-02T05:00:00Z',
    });
    expect(outcome).toMatchObject({
      status: 'succeeded',
      runId: 'exec-1',
      key: CHURN.goldenDatasetKey,
      rows: 2500,
      breaches: 0,
      baselineReportKey: null,
      baselineCreated: true,
    });

    // The endpoint got every row, 500 a request (the config's batchRows), as JSON of the declared features.
    const requests = env.endpoint.requests;
    expect(requests.map((request) => request.rows)).toEqual([500, 500, 500, 500, 500]);
    expect(requests.every((request) => request.endpointName === ENDPOINT_NAME)).toBe(true);
    expect(requests.every((request) => request.contentType === 'application/json')).toBe(true);
    expect(requests.every((request) => request.accept === 'application/json')).toBe(true);
    expect(env.endpoint.maxConcurrent).toBeLessThanOrEqual(4);

    // The report is the one `driftwatch evaluate` gives for the same scores.
    const expected = await expectedChurnReport(CHURN_BASELINE_HALF);
    if (outcome.status !== 'succeeded') throw new Error('expected success');
    expect(outcome.reportKey).toMatch(/^reports\/churn\/performance\/\d{4}-\d\d-\d\dT[\d:.]+Z\.json$/);
    const stored = JSON.parse(await env.resultText(outcome.reportKey)) as PerformanceReport &
      Record<string, unknown>;
    expect({
      rows: stored.rows,
      skipped: stored.skipped,
      metrics: stored.metrics,
      segments: stored.segments,
    }).toEqual({
      rows: expected.rows,
      skipped: expected.skipped,
      metrics: expected.metrics,
      segments: expected.segments,
    });
    expectClose(stored.metrics.accuracy, 0.8736, 'accuracy', { relative: 1e-12, absolute: 1e-12 });
    expect(stored).toMatchObject({
      model: 'churn',
      runId: 'exec-1',
      scoring: 'endpoint',
      source: { bucket: DATA_BUCKET, key: CHURN.goldenDatasetKey, versionId: golden.versionId },
      baselineReportKey: null,
      breaches: [],
    });
    // The rocAuc drop has nothing to compare with on the first run.
    expect(stored['unchecked']).toEqual([
      expect.objectContaining({ metric: 'rocAuc', kind: 'maxDrop', reason: 'no baseline report was given' }),
    ]);

    // The baseline report is the same report, in the landing bucket where the next runs read it.
    const baseline = JSON.parse((await env.dataText(CHURN.baselineReportKey))!) as PerformanceReport;
    expect(baseline.metrics).toEqual(expected.metrics);
    expect(baseline.segments).toEqual(expected.segments);

    const [item, ...others] = (await env.history()).filter((entry) => entry.runId === 'exec-1');
    expect(others).toEqual([]);
    expect(item).toMatchObject({
      pk: 'MODEL#churn',
      model: 'churn',
      kind: 'performance',
      status: 'succeeded',
      bucket: DATA_BUCKET,
      key: CHURN.goldenDatasetKey,
      versionId: golden.versionId,
      reportKey: outcome.reportKey,
      evaluatedRows: 2500,
      skippedRows: 0,
      breaches: [],
      baselineReportKey: null,
      baselineCreated: true,
    });
    expect(item!.sk).toBe(`performance#${item!.checkedAt}#${CHURN.goldenDatasetKey}`);
    expect(item!.error).toBeUndefined();
    expect(env.putEvents()).toEqual([]);

    // EMF: one value per metric and segment, the check's counts; nothing but the contract's dimensions.
    const metrics = env.output.metrics();
    expect(metrics.every((metric) => metric.namespace === METRIC_NAMESPACE)).toBe(true);
    expect(metrics.every((metric) => !('service' in metric.dimensions))).toBe(true);
    expect(metricsNamed('PerformanceMetric', { Model: 'churn', Metric: 'accuracy', Segment: 'all' })).toEqual(
      [expect.objectContaining({ value: expected.metrics.accuracy, unit: 'None' })],
    );
    const segment = expected.segments[0]!;
    expect(
      metricsNamed('PerformanceMetric', {
        Model: 'churn',
        Metric: 'gini',
        Segment: `area_code=${segment.value}`,
      }),
    ).toEqual([expect.objectContaining({ value: segment.metrics.gini })]);
    expect(metrics.filter((metric) => metric.name === 'PerformanceMetric')).toHaveLength(9 * 4);
    expect(metricsNamed('PerformanceChecks', { Model: 'churn' })).toEqual([
      expect.objectContaining({ value: 1 }),
    ]);
    expect(metricsNamed('PerformanceBreaches', { Model: 'churn' })).toEqual([
      expect.objectContaining({ value: 0 }),
    ]);
    expect(metricsNamed('PerformanceRowsEvaluated', { Model: 'churn' })).toEqual([
      expect.objectContaining({ value: 2500 }),
    ]);
    expect(metrics.filter((metric) => metric.name === 'PerformanceCheckErrors')).toEqual([]);
    // Logs carry the run id and the model, never rows.
    const done = env.output.logs().find((line) => line['message'] === 'Performance checked')!;
    expect(done).toMatchObject({ model: 'churn', runId: 'exec-1', scheduledTime: '2025-01-02T05:00:00Z' });
  });

  it('seed scenario 1: churn accuracy below 0.85 puts a Performance Degraded event', async () => {
    const baselineText = await env.dataText(CHURN.baselineReportKey);
    expect(baselineText).not.toBeNull();
    const baseline = JSON.parse(baselineText!) as PerformanceReport;
    const golden = await env.upload(CHURN.goldenDatasetKey, CHURN_SHIFTED);
    const outcome = await env.invoke({ model: 'churn', executionId: 'exec-2' });
    expect(outcome).toMatchObject({
      status: 'succeeded',
      baselineReportKey: CHURN.baselineReportKey,
      baselineCreated: false,
    });
    if (outcome.status !== 'succeeded') throw new Error('expected success');
    const expected = await expectedChurnReport(CHURN_SHIFTED);
    expect(expected.metrics.accuracy).toBeLessThan(0.85);

    const events = env.putEvents();
    const accuracy = events.find((event) => event.detail.metric === 'accuracy');
    expect(accuracy).toEqual({
      source: 'driftwatch',
      detailType: 'Performance Degraded',
      bus: EVENT_BUS,
      detail: {
        model: 'churn',
        metric: 'accuracy',
        segment: null,
        limitKind: 'min',
        value: expected.metrics.accuracy,
        limit: 0.85,
        baseline: baseline.metrics.accuracy,
        drop: null,
        reportKey: outcome.reportKey,
        bucket: DATA_BUCKET,
        key: CHURN.goldenDatasetKey,
        versionId: golden.versionId,
        checkedAt: expect.any(String),
        runId: 'exec-2',
      },
    });
    // The baseline is the first run's, not replaced by this one.
    expect(JSON.parse((await env.dataText(CHURN.baselineReportKey))!)).toMatchObject({ runId: 'exec-1' });
    const item = (await env.history()).find((entry) => entry.runId === 'exec-2')!;
    expect(item.breaches).toContainEqual({
      metric: 'accuracy',
      segment: null,
      limitKind: 'min',
      value: expected.metrics.accuracy,
      limit: 0.85,
      baseline: baseline.metrics.accuracy,
    });
    expect(metricsNamed('PerformanceBreaches', { Model: 'churn' })).toEqual([
      expect.objectContaining({ value: events.length }),
    ]);
  });
});

describe('performance handler, credit with a score column', () => {
  beforeAll(async () => {
    env.useModel(CREDIT);
    await env.deleteObject(CREDIT.baselineReportKey);
  });

  it('reads the scores from the file, never calls an endpoint, and stores the first report as baseline', async () => {
    await env.upload(CREDIT.goldenDatasetKey, CREDIT_BASELINE);
    const outcome = await env.invoke();
    expect(outcome).toMatchObject({ status: 'succeeded', breaches: 0, baselineCreated: true, rows: 2227 });
    expect(env.endpoint.requests).toEqual([]);
    const baseline = JSON.parse((await env.dataText(CREDIT.baselineReportKey))!) as PerformanceReport;
    expect(baseline.segments.map((segment) => segment.value)).toEqual(['prime', 'subprime']);
    expectClose(
      baseline.segments[1]!.metrics.gini!,
      CREDIT_BASELINE_REPORT.segments[1]!.metrics.gini!,
      'gini',
    );
  });

  it('seed scenario 2: the subprime Gini falls more than 5% below its baseline', async () => {
    await env.upload(CREDIT.goldenDatasetKey, CREDIT_CURRENT);
    const outcome = await env.invoke({ model: 'credit', executionId: 'credit-run-2' });
    expect(outcome).toMatchObject({ status: 'succeeded', breaches: 1, baselineCreated: false });
    if (outcome.status !== 'succeeded') throw new Error('expected success');

    const [event, ...others] = env.putEvents();
    expect(others).toEqual([]);
    expect(event).toMatchObject({ source: 'driftwatch', detailType: 'Performance Degraded', bus: EVENT_BUS });
    const detail = event!.detail;
    expect(detail).toMatchObject({
      model: 'credit',
      metric: 'gini',
      segment: { column: 'tier', value: 'subprime' },
      limitKind: 'maxDrop',
      limit: 0.05,
      reportKey: outcome.reportKey,
      key: CREDIT.goldenDatasetKey,
      runId: 'credit-run-2',
    });
    const baselineGini = CREDIT_BASELINE_REPORT.segments.find((s) => s.value === 'subprime')!.metrics.gini!;
    const currentGini = CREDIT_CURRENT_REPORT.segments.find((s) => s.value === 'subprime')!.metrics.gini!;
    expectClose(detail.value, currentGini, 'subprime gini');
    expectClose(detail.baseline!, baselineGini, 'baseline subprime gini');
    expectClose(detail.drop!, (baselineGini - currentGini) / baselineGini, 'drop');
    expect(detail.drop!).toBeGreaterThan(0.05);
    // The whole-dataset rocAuc floor holds.
    expect(CREDIT_CURRENT_REPORT.metrics.rocAuc!).toBeGreaterThan(0.75);

    const [drop] = metricsNamed('PerformanceDrop', {
      Model: 'credit',
      Metric: 'gini',
      Segment: 'tier=subprime',
    });
    expectClose(drop!.value as number, detail.drop!, 'PerformanceDrop');
    expect(metricsNamed('PerformanceBreaches', { Model: 'credit' })).toEqual([
      expect.objectContaining({ value: 1 }),
    ]);
  });

  it('compares with a baseline report uploaded by hand (the output of driftwatch evaluate)', async () => {
    await env.upload(CREDIT.baselineReportKey, JSON.stringify(CREDIT_BASELINE_REPORT));
    await env.upload(CREDIT.goldenDatasetKey, CREDIT_CURRENT);
    const outcome = await env.invoke();
    expect(outcome).toMatchObject({ status: 'succeeded', breaches: 1, baselineCreated: false });
    const [event] = env.putEvents();
    expect(event!.detail).toMatchObject({
      metric: 'gini',
      segment: { column: 'tier', value: 'subprime' },
      baseline: CREDIT_BASELINE_REPORT.segments[1]!.metrics.gini,
    });
    // Nothing in the stored baseline changed.
    expect(JSON.parse((await env.dataText(CREDIT.baselineReportKey))!)).toEqual(CREDIT_BASELINE_REPORT);
    expect(REPORTS_PREFIX).toBe('reports/');
  });
});
