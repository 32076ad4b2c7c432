import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PerformanceReport } from '../../../lambdas/core/performance/report.ts';
import { MAX_PAYLOAD_BYTES } from '../../../lambdas/performance/score-with-endpoint.ts';
import type { PerformanceModelRuntimeConfig } from '../../../lambdas/shared/contract.ts';
import type { Instance } from '../../helpers/sagemaker-endpoint-stub.ts';
import { CHURN, CHURN_FEATURES, churnScore, PerformanceEnvironment } from './environment.ts';
import { CHURN_BASELINE_HALF, expectedChurnReport, parseSimpleCsv, toCsv } from './golden-data.ts';

/** Only the scoring matters here: no limits to breach, no baseline to compare with. */
const model = (scoring: Partial<typeof CHURN_FEATURES>): PerformanceModelRuntimeConfig => ({
  ...CHURN,
  limits: [{ metric: 'accuracy', min: 0.5 }],
  scoring: { ...CHURN_FEATURES, ...scoring },
});

const churn = parseSimpleCsv(CHURN_BASELINE_HALF);
const NAMES = CHURN_FEATURES.features.map((feature) => feature.name);

let env: PerformanceEnvironment;
let expected: PerformanceReport;

beforeAll(async () => {
  env = await PerformanceEnvironment.start(model({}));
  expected = await expectedChurnReport(CHURN_BASELINE_HALF);
  await env.upload(CHURN.goldenDatasetKey, CHURN_BASELINE_HALF);
});

afterAll(async () => {
  await env?.stop();
});

beforeEach(async () => {
  env.resetStubs();
  env.output.clear();
  await env.deleteObject(CHURN.baselineReportKey);
});

async function storedReport(): Promise<PerformanceReport> {
  const outcome = await env.invoke();
  if (outcome.status !== 'succeeded') throw new Error(`check failed: ${JSON.stringify(outcome)}`);
  return JSON.parse(await env.resultText(outcome.reportKey)) as PerformanceReport;
}

const core = (report: PerformanceReport) => ({
  rows: report.rows,
  skipped: report.skipped,
  metrics: report.metrics,
  segments: report.segments,
});

describe('scoring with the endpoint', () => {
  it('sends text/csv rows in the order of the features and reads one score per line', async () => {
    env.useModel(model({ contentType: 'text/csv' }));
    env.endpoint.recordInstances = true;
    env.endpoint.score = (instance: Instance) => {
      const fields = instance as (string | null)[];
      const row = Object.fromEntries(
        NAMES.map((name, i) => [
          name,
          CHURN_FEATURES.features[i]!.type === 'numeric' ? Number(fields[i]) : fields[i],
        ]),
      );
      return churnScore(row);
    };
    expect(core(await storedReport())).toEqual(core(expected));
    expect(env.endpoint.requests.every((request) => request.contentType === 'text/csv')).toBe(true);
    expect(env.endpoint.requests.every((request) => request.accept === 'text/csv')).toBe(true);
    const first = churn.rows[0]!;
    expect(env.endpoint.instances[0]).toEqual(NAMES.map((name) => String(first[name])));
  });

  it('sends JSON instances with numbers as numbers and text as strings', async () => {
    env.useModel(model({}));
    env.endpoint.recordInstances = true;
    expect(core(await storedReport())).toEqual(core(expected));
    expect(env.endpoint.instances).toHaveLength(2500);
    const first = churn.rows[0]!;
    expect(env.endpoint.instances[0]).toEqual(Object.fromEntries(NAMES.map((name) => [name, first[name]])));
    expect(Object.keys(env.endpoint.instances[0]!)).toEqual(NAMES);
  });

  it('keeps file order with requests finishing out of order, at most maxConcurrency at once', async () => {
    env.useModel(model({ batchRows: 100, maxConcurrency: 3 }));
    env.endpoint.delayMs = () => Math.random() * 25;
    expect(core(await storedReport())).toEqual(core(expected));
    expect(env.endpoint.requests).toHaveLength(25);
    expect(env.endpoint.maxConcurrent).toBeLessThanOrEqual(3);
    expect(env.endpoint.maxConcurrent).toBeGreaterThanOrEqual(2);
  });

  it('splits a batch before its payload reaches 6 MB', async () => {
    env.useModel(model({ batchRows: 100_000, maxConcurrency: 2 }));
    // Ten copies of the baseline half: 25,000 rows, about 9 MB of JSON instances.
    const rows = Array.from({ length: 10 }, () => churn.rows).flat();
    await env.upload(CHURN.goldenDatasetKey, toCsv(churn.header, rows));
    try {
      const report = await storedReport();
      expect(report.rows).toBe(25_000);
      const requests = env.endpoint.requests;
      expect(requests.length).toBeGreaterThanOrEqual(2);
      expect(requests.reduce((sum, request) => sum + request.rows, 0)).toBe(25_000);
      for (const request of requests) expect(request.bytes).toBeLessThan(MAX_PAYLOAD_BYTES);
      expect(Math.max(...requests.map((request) => request.bytes))).toBeGreaterThan(MAX_PAYLOAD_BYTES * 0.99);
      expect(report.metrics.accuracy).toBe(expected.metrics.accuracy);
    } finally {
      await env.upload(CHURN.goldenDatasetKey, CHURN_BASELINE_HALF);
    }
  });

  it('sends missing features as null and no row without a label (those count as skipped)', async () => {
    env.useModel(model({ batchRows: 40 }));
    env.endpoint.recordInstances = true;
    env.endpoint.score = (instance) => {
      const row = instance as Record<string, unknown>;
      return row['total_day_minutes'] === null ? 0.25 : churnScore(row);
    };
    const rows = churn.rows.slice(0, 100).map((row, i) => ({
      ...row,
      ...(i % 10 === 0 && { total_day_minutes: null }),
      ...(i % 7 === 0 && { churn: null }),
      ...(i % 9 === 0 && { state: 'NA' }),
    }));
    await env.upload(CHURN.goldenDatasetKey, toCsv(churn.header, rows));
    try {
      const report = await storedReport();
      const labelled = rows.filter((row) => row.churn !== null);
      expect(report).toMatchObject({ rows: labelled.length, skipped: 100 - labelled.length });
      expect(env.endpoint.instances).toHaveLength(labelled.length);
      const sent = env.endpoint.instances as Record<string, unknown>[];
      expect(sent.filter((instance) => instance['total_day_minutes'] === null)).toHaveLength(
        labelled.filter((row) => row.total_day_minutes === null).length,
      );
      // `NA` is a missing value, as everywhere in driftwatch.
      expect(sent.filter((instance) => instance['state'] === null)).toHaveLength(
        labelled.filter((row) => row.state === 'NA').length,
      );
    } finally {
      await env.upload(CHURN.goldenDatasetKey, CHURN_BASELINE_HALF);
    }
  });

  it('scores a JSON Lines golden dataset, typed values passed through', async () => {
    const key = 'churn/golden/latest.jsonl';
    env.useModel({ ...model({}), goldenDatasetKey: key });
    const lines = churn.rows.map((row) => JSON.stringify(row)).join('\n');
    await env.upload(key, lines);
    expect(core(await storedReport())).toEqual(core(expected));
  });
});
