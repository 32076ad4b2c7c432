import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type EstimatedReport, estimateTables } from '../../../lambdas/core/performance/cbpe.ts';
import { METRIC_NAMES } from '../../../lambdas/core/performance/metrics.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import { estimatedDegradedDetails } from '../../../lambdas/drift/capture-estimate.ts';
import {
  CAPTURE,
  type CaptureWindowLabel,
  captureWindowReportKey,
  DETAIL_TYPE,
  type DriftModelRuntimeConfig,
  type EstimateWithheld,
  type PerformanceEstimatedDegradedDetail,
} from '../../../lambdas/shared/contract.ts';
import { capturePath } from '../../helpers/capture-files.ts';
import {
  CHURN_CAPTURE,
  CHURN_REFERENCE_KEY,
  type ChurnRow,
  churnCaptureText,
  churnCsv,
  churnEstimate,
  churnRows,
} from '../../helpers/churn-capture.ts';
import { stubServingModels } from '../../helpers/serving-models.ts';
import { DriftEnvironment, MODEL, REPORTS_PREFIX, SCENARIOS } from './environment.ts';

/**
 * Performance estimated before labels (CBPE) of Data Capture windows, end to end through the real drift
 * handler over s3rver and dynalite (SageMaker's Describe calls stubbed): every window gets an estimate equal
 * to `driftwatch estimate` on its rows, a breach is its own event and metric, no retraining starts from an
 * estimate by default, withheld estimates say why, late files redo the estimate.
 */

// Estimated accuracy of the shifted rows is about 0.85: a floor of 0.9 is breached, recall's is not.
const ESTIMATE = churnEstimate([
  { metric: 'accuracy', min: 0.9 },
  { metric: 'recall', min: 0 },
]);

const ESTIMATE_MODEL: DriftModelRuntimeConfig = {
  ...MODEL,
  // Retrains on measured performance: an estimate is not that.
  retrainingTriggers: ['performance'],
  capture: { ...CHURN_CAPTURE, estimate: ESTIMATE },
};

const referenceRows = churnRows(`${SCENARIOS}churn-halves/baseline.csv`);
const currentRows = churnRows(`${SCENARIOS}churn-shifted/current.csv`);
const scratch = mkdtempSync(join(tmpdir(), 'driftwatch-estimate-'));
const sagemaker = mockClient(SageMakerClient);

let env: DriftEnvironment;

/** The endpoint: AllTraffic serves churn-v1 (the champion, 90%), Canary a challenger, churn-v2. */
function stubEndpoint() {
  sagemaker.reset();
  stubServingModels(sagemaker, { AllTraffic: ['churn-v1', 0.9], Canary: ['churn-v2', 0.1] });
}

beforeAll(async () => {
  stubEndpoint();
  env = await DriftEnvironment.start({ model: ESTIMATE_MODEL, capture: true });
  writeFileSync(join(scratch, 'reference.csv'), churnCsv(referenceRows));
  await env.upload(CHURN_REFERENCE_KEY, churnCsv(referenceRows));
});

afterAll(async () => {
  sagemaker.restore();
  await env?.stop();
});

beforeEach(() => {
  env.resetStubs();
  env.output.clear();
});

async function arrive(variant: string, time: Date, id: string, rows: ChurnRow[]) {
  const key = capturePath('capture', 'churn-endpoint', variant, time, id);
  await env.arrive(key, churnCaptureText(rows, time));
}

type StoredEstimate = EstimatedReport & {
  withheld: EstimateWithheld | null;
  window: CaptureWindowLabel;
  endpoint: string;
  variant: string;
  windowStart: string;
  reference: EstimatedReport['reference'] & { key: string; scoredBy: string; calibratorKey: string };
  servingModel: string;
};

const reportKeyOf = (variant: string, start: number) =>
  captureWindowReportKey(
    REPORTS_PREFIX,
    'churn',
    { endpoint: 'churn-endpoint', variant, start: new Date(start) },
    'estimated',
  );

const estimateItems = async (variant: string) =>
  (await env.history()).filter((item) => item.kind === 'estimate' && item.window?.variant === variant);

const estimatedEvents = () =>
  (env.putEvents() as unknown as { detailType: string; detail: PerformanceEstimatedDegradedDetail }[])
    .filter((event) => event.detailType === DETAIL_TYPE.performanceEstimatedDegraded)
    .map((event) => event.detail);

const calibratorKeys = async () =>
  (await env.resultKeys()).filter((key) => key.startsWith(CAPTURE.calibratorsPrefix));

describe('estimated performance of Data Capture windows (CBPE)', () => {
  const hour = Date.UTC(2026, 11, 1, 1, 0, 0);
  const window = currentRows.slice(0, 1000);

  it('estimates every window, equal to `driftwatch estimate` on its rows; a breach is its own event and metric', async () => {
    for (const i of [2, 0, 3, 1]) {
      const time = new Date(hour + i * 11 * 60_000 + 500);
      await arrive('AllTraffic', time, `a${i}`, window.slice(i * 250, (i + 1) * 250));
    }
    await arrive('Canary', new Date(hour + 30 * 60_000), 'c0', currentRows.slice(1000, 1300));
    await env.sweep();

    // The engine's report, at the key the realized report sits beside.
    const report = JSON.parse(await env.resultText(reportKeyOf('AllTraffic', hour))) as StoredEstimate;
    expect(report.estimated).toBe(true);
    expect(report.withheld).toBeNull();
    expect(report).toMatchObject({
      endpoint: 'churn-endpoint',
      variant: 'AllTraffic',
      windowStart: '2026-12-01T01:00:00.000Z',
      servingModel: 'churn-v1',
      reference: { key: CHURN_REFERENCE_KEY, scoredBy: 'churn-v1', rows: referenceRows.length },
    });
    expect(report.window).toMatchObject({ variant: 'AllTraffic', files: 4, rows: 1000, version: 1 });

    // `driftwatch estimate reference.csv window.csv --label churn --score score --positive yes --segment area_code`.
    writeFileSync(join(scratch, 'window.csv'), churnCsv(window));
    const { report: expected } = await estimateTables(
      fileInput(join(scratch, 'reference.csv')),
      fileInput(join(scratch, 'window.csv')),
      { label: 'churn', score: 'score', positive: 'yes', segment: 'area_code' },
    );
    expect(report.rows).toBe(expected.rows);
    expect(report.reference).toMatchObject(expected.reference);
    for (const name of METRIC_NAMES) {
      const want = expected.metrics[name];
      if (want === null) expect(report.metrics[name], name).toBeNull();
      else expect(Math.abs(report.metrics[name]! - want), name).toBeLessThanOrEqual(1e-12);
    }
    expect(report.segments.map((s) => [s.value, s.rows])).toEqual(
      expected.segments.map((s) => [s.value, s.rows]),
    );
    for (const [i, segment] of expected.segments.entries()) {
      expect(report.segments[i]!.metrics.accuracy! - segment.metrics.accuracy!).toBeCloseTo(0, 12);
      expect(report.segments[i]!.confusion.truePositives).toBeCloseTo(segment.confusion.truePositives, 9);
    }

    // The breach: a Performance Estimated Degraded event naming the window, without a retraining trigger.
    const events = estimatedEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      model: 'churn',
      estimated: true,
      metric: 'accuracy',
      limitKind: 'min',
      limit: 0.9,
      endpoint: 'churn-endpoint',
      variant: 'AllTraffic',
      reportKey: reportKeyOf('AllTraffic', hour),
    });
    expect(events[0]!.value).toBeCloseTo(expected.metrics.accuracy!, 12);
    expect(events[0]!.window.start).toBe('2026-12-01T01:00:00.000Z');
    expect(events[0]!.retrainingTrigger).toBeUndefined();
    expect(env.putEvents().filter((event) => event.detailType === DETAIL_TYPE.performanceDegraded)).toEqual(
      [],
    );

    // Its own metrics, never the measured PerformanceMetric.
    const metrics = env.output.metrics();
    expect(metrics.find((m) => m.name === 'EstimatedPerformanceBreaches')?.value).toBe(1);
    const accuracy = metrics.find(
      (m) =>
        m.name === 'EstimatedPerformanceMetric' &&
        m.dimensions['Metric'] === 'accuracy' &&
        m.dimensions['Segment'] === 'all',
    );
    expect(accuracy?.dimensions).toEqual({
      Model: 'churn',
      Metric: 'accuracy',
      Segment: 'all',
      Variant: 'churn-endpoint/AllTraffic',
    });
    expect(accuracy?.value).toBeCloseTo(expected.metrics.accuracy!, 12);
    expect(
      metrics.some(
        (m) =>
          m.name === 'EstimatedPerformanceMetric' && m.dimensions['Segment'] === 'area_code=area_code_415',
      ),
    ).toBe(true);
    expect(metrics.some((m) => m.name === 'PerformanceMetric')).toBe(false);

    // A history item of kind estimate, with the window and the breach.
    const [item] = await estimateItems('AllTraffic');
    expect(item).toMatchObject({
      kind: 'estimate',
      estimated: true,
      withheld: null,
      reportKey: reportKeyOf('AllTraffic', hour),
      breaches: [{ metric: 'accuracy', limitKind: 'min', limit: 0.9 }],
    });

    // The canary serves another model than the one that scored the reference: withheld, with the reason.
    const canary = JSON.parse(await env.resultText(reportKeyOf('Canary', hour))) as StoredEstimate;
    expect(canary.withheld?.code).toBe('model-changed');
    expect(canary.withheld?.reason).toContain('serves model churn-v2');
    expect(canary.metrics).toBeUndefined();
    const [canaryItem] = await estimateItems('Canary');
    expect(canaryItem?.withheld?.code).toBe('model-changed');
    expect(metrics.find((m) => m.name === 'EstimatesWithheld')?.value).toBe(1);

    // The calibrator was fitted once and stored: a few kilobytes of steps.
    const keys = await calibratorKeys();
    expect(keys).toEqual([report.reference.calibratorKey]);
    const stored = JSON.parse(await env.resultText(keys[0]!)) as {
      x: number[];
      y: number[];
      scoredBy: string;
    };
    expect(stored.scoredBy).toBe('churn-v1');
    expect(stored.x.length).toBe(stored.y.length);
  });

  it('re-estimates a window when a late file re-checks it, with the window version', async () => {
    await arrive('AllTraffic', new Date(hour + 55 * 60_000), 'late', currentRows.slice(1300, 1500));
    const report = JSON.parse(await env.resultText(reportKeyOf('AllTraffic', hour))) as StoredEstimate;
    expect(report.window).toMatchObject({ version: 2, closedBy: 'late', rows: 1200, files: 5 });
    expect(report.rows).toBe(1200);
    const items = await estimateItems('AllTraffic');
    expect(items.map((item) => item.window?.version).sort()).toEqual([1, 2]);
    // The calibrator is reused, not refitted.
    expect(await calibratorKeys()).toHaveLength(1);
    expect(sagemaker.commandCalls(DescribeEndpointCommand).length).toBeGreaterThan(0);
  });

  it('refits when the reference changes, and withholds the estimate of a one-class reference', async () => {
    const next = hour + 2 * 3_600_000;
    await env.upload(CHURN_REFERENCE_KEY, churnCsv(referenceRows.map((row) => ({ ...row, churn: 'no' }))));
    await arrive('AllTraffic', new Date(next + 5 * 60_000), 'b0', currentRows.slice(0, 300));
    await env.sweep();
    const report = JSON.parse(await env.resultText(reportKeyOf('AllTraffic', next))) as StoredEstimate;
    expect(report.withheld?.code).toBe('one-class-reference');
    expect(report.withheld?.reason).toContain('one class only');
    expect(await calibratorKeys()).toHaveLength(2);
    expect(estimatedEvents()).toEqual([]);
    const items = (await estimateItems('AllTraffic')).filter(
      (item) => item.window?.start === new Date(next).toISOString(),
    );
    expect(items.map((item) => item.withheld?.code)).toEqual(['one-class-reference']);
  });

  it("withholds, with the error, an estimate that cannot be made, and leaves the window's drift check as it was", async () => {
    const next = hour + 3 * 3_600_000;
    await env.upload(CHURN_REFERENCE_KEY, churnCsv(referenceRows));
    await env.upload(ESTIMATE.baselineReportKey, '{"not": "a performance report"');
    await arrive('AllTraffic', new Date(next + 5 * 60_000), 'd0', currentRows.slice(0, 300));
    await env.sweep();
    const report = JSON.parse(await env.resultText(reportKeyOf('AllTraffic', next))) as StoredEstimate;
    expect(report.withheld?.code).toBe('failed');
    expect(report.withheld?.reason).toContain('performance.json');
    const drift = (await env.history()).filter(
      (item) => item.kind === 'drift' && item.window?.start === new Date(next).toISOString(),
    );
    expect(drift.map((item) => item.status)).toEqual(['succeeded']);
    expect(env.deadLetters()).toEqual([]);
  });
});

describe('estimatedDegradedDetails', () => {
  const window: CaptureWindowLabel = {
    endpoint: 'e',
    variant: 'v',
    start: '2026-12-01T01:00:00.000Z',
    end: '2026-12-01T02:00:00.000Z',
    part: 0,
    version: 1,
    closedBy: 'time',
    files: 1,
    rows: 10,
    badRecords: 0,
    firstBadRecord: null,
  };
  const breach = {
    metric: 'accuracy' as const,
    segment: null,
    limitKind: 'min' as const,
    value: 0.7,
    limit: 0.8,
    baseline: null,
    drop: null,
  };
  const context = { model: 'churn', window, reportKey: 'k', checkedAt: 't' };

  it('starts a retraining only when the model names estimatedPerformance among its triggers', () => {
    expect(
      estimatedDegradedDetails([breach], { ...context, retrains: false })[0]!.retrainingTrigger,
    ).toBeUndefined();
    expect(estimatedDegradedDetails([breach], { ...context, retrains: true })[0]!.retrainingTrigger).toBe(
      'estimatedPerformance',
    );
  });
});
