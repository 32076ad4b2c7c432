import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PerformanceModelRuntimeConfig } from '../../../lambdas/shared/contract.ts';
import type { Fault } from '../../helpers/sagemaker-endpoint-stub.ts';
import { CHURN, CHURN_FEATURES, CREDIT, PerformanceEnvironment } from './environment.ts';
import { CHURN_BASELINE_HALF, CREDIT_BASELINE, parseSimpleCsv, toCsv } from './golden-data.ts';

/** Churn scored 50 rows a request, one request at a time, so faults hit known batches. */
const CHURN_SMALL: PerformanceModelRuntimeConfig = {
  ...CHURN,
  scoring: { ...CHURN_FEATURES, batchRows: 50, maxConcurrency: 1 },
};

const churn = parseSimpleCsv(CHURN_BASELINE_HALF);
/** The first 200 rows of the baseline half: four requests. */
const CHURN_200 = churn.rows.slice(0, 200);
const churnCsv = (rows: Record<string, unknown>[], header: string[] = churn.header) => toCsv(header, rows);

const creditLines = CREDIT_BASELINE.toString('utf8').trimEnd().split('\n');

let env: PerformanceEnvironment;
let counter = 0;

beforeAll(async () => {
  env = await PerformanceEnvironment.start(CHURN_SMALL);
});

afterAll(async () => {
  await env?.stop();
});

beforeEach(async () => {
  env.resetStubs();
  env.output.clear();
  env.aws.proxy.faults.length = 0;
  await env.deleteObject(env.model.baselineReportKey);
});

/**
 * Runs a check that must fail and asserts the failure record: a failed history item naming the error, the
 * `PerformanceCheckErrors` metric, and nothing of a success (no report, no baseline, no event, no metric).
 */
async function expectFailure(errorName: string, message: RegExp) {
  const runId = `failing-${++counter}`;
  const reportsBefore = await env.resultKeys();
  const outcome = await env.invoke({ model: env.model.name, executionId: runId });
  expect(outcome).toMatchObject({ status: 'failed', runId, error: { name: errorName } });
  if (outcome.status !== 'failed') throw new Error('expected a failure');
  expect(outcome.error.message).toMatch(message);

  const items = (await env.history()).filter((item) => item.runId === runId);
  expect(items).toEqual([
    expect.objectContaining({
      kind: 'performance',
      status: 'failed',
      model: env.model.name,
      key: env.model.goldenDatasetKey,
      error: outcome.error,
    }),
  ]);
  expect(items[0]!.reportKey).toBeUndefined();
  expect(items[0]!.sk).toBe(`performance#${items[0]!.checkedAt}#${env.model.goldenDatasetKey}`);
  expect(await env.resultKeys()).toEqual(reportsBefore);
  expect(await env.dataText(env.model.baselineReportKey)).toBeNull();
  expect(env.putEvents()).toEqual([]);

  const metrics = env.output.metrics();
  expect(metrics.filter((metric) => metric.name === 'PerformanceCheckErrors')).toEqual([
    expect.objectContaining({ value: 1, unit: 'Count', dimensions: { Model: env.model.name } }),
  ]);
  expect(metrics.filter((metric) => metric.name !== 'PerformanceCheckErrors')).toEqual([]);
  const logged = env.output.logs().find((line) => line['message'] === 'Performance check failed');
  expect(logged).toMatchObject({ level: 'ERROR', runId, model: env.model.name, error: outcome.error });
  return outcome.error;
}

describe('failed performance checks of an endpoint-scored model', () => {
  beforeAll(() => env.useModel(CHURN_SMALL));

  it('records a missing golden dataset', async () => {
    await env.deleteObject(CHURN_SMALL.goldenDatasetKey);
    await expectFailure('ObjectNotFoundError', /churn\/golden\/latest\.csv does not exist/);
  });

  it('records a golden dataset without the label column, without calling the endpoint', async () => {
    const header = churn.header.filter((name) => name !== 'churn');
    await env.upload(CHURN_SMALL.goldenDatasetKey, churnCsv(CHURN_200, header));
    await expectFailure('ConfigError', /^performance\.labelColumn: column "churn" is not in the file/);
    expect(env.endpoint.requests).toEqual([]);
  });

  it('records a golden dataset without a feature the endpoint needs', async () => {
    const header = churn.header.filter((name) => name !== 'total_day_minutes');
    await env.upload(CHURN_SMALL.goldenDatasetKey, churnCsv(CHURN_200, header));
    await expectFailure(
      'ConfigError',
      /^features: the endpoint's feature "total_day_minutes" is not in the file/,
    );
  });

  it('records a label outside the declared classes, naming the line', async () => {
    const rows = CHURN_200.map((row, i) => (i === 3 ? { ...row, churn: 'maybe' } : row));
    await env.upload(CHURN_SMALL.goldenDatasetKey, churnCsv(rows));
    await expectFailure(
      'InputError',
      /^churn\/golden\/latest\.csv: line 5, column 20 \("churn"\): the label is not one of performance\.classes \(no, yes\)$/,
    );
  });

  it('records an endpoint that keeps failing, after the SDK retries and its own backoff', async () => {
    await env.upload(CHURN_SMALL.goldenDatasetKey, churnCsv(CHURN_200));
    env.endpoint.failNext(
      ...Array.from(
        { length: 20 },
        (): Fault => ({ kind: 'error', status: 500, errorType: 'InternalFailure' }),
      ),
    );
    await expectFailure(
      'EndpointInvocationError',
      /^endpoint churn-prod, batch 1 \(rows 1-50\): InternalFailure \(HTTP 500\) after 4 attempts: injected by the test$/,
    );
    // 4 attempts of ours, each the SDK's 3.
    expect(env.endpoint.requests).toHaveLength(12);
  });

  it("records a model's own error at once: it is not retried", async () => {
    await env.upload(CHURN_SMALL.goldenDatasetKey, churnCsv(CHURN_200));
    env.endpoint.failNext(
      { kind: 'pass' },
      {
        kind: 'error',
        status: 424,
        errorType: 'ModelError',
        message: 'Received server error (500) from model',
      },
    );
    await expectFailure(
      'EndpointInvocationError',
      /^endpoint churn-prod, batch 2 \(rows 51-100\): ModelError \(HTTP 424\) after 1 attempt: Received server error/,
    );
    expect(env.endpoint.requests).toHaveLength(2);
  });

  it('records an endpoint answering with the wrong number of predictions, even after good batches', async () => {
    await env.upload(CHURN_SMALL.goldenDatasetKey, churnCsv(CHURN_200));
    env.endpoint.failNext({ kind: 'pass' }, { kind: 'pass' }, { kind: 'wrongCount', delta: -1 });
    await expectFailure(
      'EndpointResponseError',
      /^endpoint churn-prod, batch 3 \(rows 101-150\): 50 rows sent, 49 scores returned$/,
    );
  });

  it.each([
    [
      { kind: 'badScore', score: 1.5 } as Fault,
      /batch 1 \(rows 1-50\): the score of row 1 is not a number in \[0, 1\]/,
    ],
    [{ kind: 'badScore', score: '0.5' } as Fault, /the score of row 1 is not a number in \[0, 1\]/],
    [
      { kind: 'body', contentType: 'text/html', body: '<html>oops</html>' } as Fault,
      /the response is not JSON/,
    ],
    [{ kind: 'body', contentType: 'application/json', body: '[0.5]' } as Fault, /no "predictions" array/],
  ])('records an endpoint answer that is not scores: %j', async (fault, message) => {
    await env.upload(CHURN_SMALL.goldenDatasetKey, churnCsv(CHURN_200));
    env.endpoint.failNext(fault);
    await expectFailure('EndpointResponseError', message);
  });

  it('records an endpoint that does not exist', async () => {
    env.useModel({
      ...CHURN_SMALL,
      scoring: { ...CHURN_SMALL.scoring, endpointName: 'churn-gone' } as never,
    });
    try {
      await env.upload(CHURN_SMALL.goldenDatasetKey, churnCsv(CHURN_200));
      await expectFailure(
        'EndpointInvocationError',
        /endpoint churn-gone, batch 1 .*ValidationError \(HTTP 400\) after 1 attempt/,
      );
    } finally {
      env.useModel(CHURN_SMALL);
    }
  });

  it('rides out throttling: SDK retries, then its own jittered backoff', async () => {
    await env.upload(CHURN_SMALL.goldenDatasetKey, churnCsv(CHURN_200));
    env.endpoint.failNext(
      { kind: 'error', status: 400, errorType: 'ThrottlingException', message: 'Rate exceeded' },
      { kind: 'error', status: 400, errorType: 'ThrottlingException', message: 'Rate exceeded' },
      { kind: 'error', status: 429, errorType: 'ModelNotReadyException', message: 'Model is loading' },
      { kind: 'error', status: 503, errorType: 'ServiceUnavailable', message: 'try later' },
    );
    const outcome = await env.invoke();
    expect(outcome).toMatchObject({ status: 'succeeded', rows: 200 });
    expect(env.endpoint.requests.map((request) => request.status)).toEqual([
      400, 400, 429, 503, 200, 200, 200, 200,
    ]);
    const retried = env.output.logs().filter((line) => line['message'] === 'Endpoint call retried');
    expect(retried).toEqual([
      expect.objectContaining({ level: 'WARN', batch: 1, attempt: 1, error: 'ModelNotReadyException' }),
    ]);
  });
});

describe('failed performance checks of a model with a score column', () => {
  beforeAll(() => env.useModel(CREDIT));

  it('records a golden dataset without the score column', async () => {
    const text = creditLines
      .map((line) =>
        line
          .split(',')
          .filter((_, i) => i !== 1)
          .join(','),
      )
      .join('\n');
    await env.upload(CREDIT.goldenDatasetKey, text);
    await expectFailure(
      'ConfigError',
      /^performance\.scoreColumn: column "score" is not in credit\/golden\/labelled\.csv/,
    );
  });

  it('records a score outside [0, 1], naming the line', async () => {
    const lines = [...creditLines];
    lines[10] = lines[10]!.replace(/,[0-9.]+,/, ',1.7,');
    await env.upload(CREDIT.goldenDatasetKey, lines.join('\n'));
    await expectFailure(
      'InputError',
      /^credit\/golden\/labelled\.csv: line 11, column 2 \("score"\): the score is outside \[0, 1\]$/,
    );
  });

  it('records a label outside the declared classes', async () => {
    const lines = [...creditLines];
    lines[2] = lines[2]!.replace(/^good|^bad/, 'unknown');
    await env.upload(CREDIT.goldenDatasetKey, lines.join('\n'));
    await expectFailure(
      'InputError',
      /line 3, column 1 \("Status"\): the label is not one of performance\.classes/,
    );
  });

  it('records a baseline report that is not a report', async () => {
    await env.upload(CREDIT.goldenDatasetKey, CREDIT_BASELINE);
    await env.upload(CREDIT.baselineReportKey, '{"rows": "many"}');
    const outcome = await env.invoke();
    expect(outcome).toMatchObject({ status: 'failed', error: { name: 'InputError' } });
    if (outcome.status !== 'failed') throw new Error('expected a failure');
    expect(outcome.error.message).toMatch(
      /^s3:\/\/driftwatch-data\/credit\/baselines\/performance\.json \("rows"\): expected a whole number/,
    );
    expect(env.putEvents()).toEqual([]);
  });

  it('keeps a baseline someone wrote while the check ran (conditional write)', async () => {
    await env.upload(CREDIT.goldenDatasetKey, CREDIT_BASELINE);
    // S3 answers the If-None-Match write as it does when the key appeared since the read.
    env.aws.proxy.faults.push({
      matches: (request) =>
        request.method === 'PUT' && (request.url ?? '').includes('baselines/performance.json'),
      status: 412,
      code: 'PreconditionFailed',
    });
    const outcome = await env.invoke();
    expect(outcome).toMatchObject({ status: 'succeeded', baselineCreated: false });
    const item = (await env.history()).find(
      (entry) => entry.reportKey === (outcome as { reportKey: string }).reportKey,
    );
    expect(item).toMatchObject({ status: 'succeeded', baselineCreated: false });
  });

  it('fails the invocation when the schedule names another model', async () => {
    await expect(env.invoke({ model: 'churn' })).rejects.toThrow(
      'event.model: this function checks model "credit", the event names "churn"',
    );
  });
});
