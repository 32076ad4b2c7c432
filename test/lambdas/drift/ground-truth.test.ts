import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FeedbackRecord, parseFeedbackRecord } from '../../../lambdas/core/concept-drift/feedback.ts';
import {
  evaluateWithGroundTruth,
  type JoinedPerformanceReport,
} from '../../../lambdas/core/performance/ground-truth.ts';
import { localTableInput } from '../../../lambdas/core/readers/capture.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import { labelledWindows } from '../../../lambdas/drift/ground-truth.ts';
import {
  captureWindowReportKey,
  DETAIL_TYPE,
  DRIFT_ENV,
  type DriftModelRuntimeConfig,
  type PerformanceDegradedDetail,
} from '../../../lambdas/shared/contract.ts';
import {
  arriveCaptureWindow,
  CHURN_CAPTURE,
  churnGroundTruth,
  churnRows,
  groundTruthLine,
} from '../../helpers/churn-capture.ts';
import { putEventEntries } from '../../helpers/lambda-harness.ts';
import { stubServingModels } from '../../helpers/serving-models.ts';
import {
  DriftEnvironment,
  MODEL,
  REPORTS_PREFIX,
  RESULTS_BUCKET,
  SCENARIOS,
  sqsRecord,
} from './environment.ts';

/**
 * Delayed ground truth in the engine, end to end through the real drift handler over s3rver and dynalite:
 * label files registered on arrival, each window joined (S3-side: its capture files listed and read again)
 * when the sweep finds it due, realized performance per variant and segment equal to the CLI's join of the
 * same files, limits with `Performance Degraded` events labelled with the window, late and duplicated
 * labels, labels of predictions never captured, bad label files to the dead-letter queue, and the window's
 * CBPE estimate side by side.
 */

const GROUND_TRUTH_MODEL: DriftModelRuntimeConfig = {
  ...MODEL,
  capture: { ...CHURN_CAPTURE, groundTruth: churnGroundTruth([{ metric: 'accuracy', min: 0.99 }]) },
};

const rows = churnRows(`${SCENARIOS}churn-shifted/current.csv`);
const FEEDBACK_STREAM = 'driftwatch-feedback';
const scratch = mkdtempSync(join(tmpdir(), 'driftwatch-ground-truth-'));
const hour = Date.UTC(2026, 11, 1, 1, 0, 0);
const windowStart = new Date(hour);

let env: DriftEnvironment;
const kinesis = mockClient(KinesisClient);
// The model each window records as serving its variant (realized reports name it).
const sagemaker = mockClient(SageMakerClient);
beforeAll(async () => {
  stubServingModels(sagemaker, { AllTraffic: ['churn-v1', 0.9], Canary: ['churn-v2', 0.1] });
  process.env[DRIFT_ENV.feedbackStreamName] = FEEDBACK_STREAM;
  env = await DriftEnvironment.start({ model: GROUND_TRUTH_MODEL, capture: true });
});
afterAll(async () => {
  delete process.env[DRIFT_ENV.feedbackStreamName];
  kinesis.restore();
  sagemaker.restore();
  await env?.stop();
});
beforeEach(() => {
  env.resetStubs();
  env.output.clear();
  kinesis.reset();
  kinesis.on(PutRecordsCommand).callsFake((input: { Records: unknown[] }) => ({
    FailedRecordCount: 0,
    Records: input.Records.map((_, i) => ({ SequenceNumber: String(i), ShardId: 'shardId-000000000000' })),
  }));
});

/** The outcomes put on the feedback stream, as the feedback consumer parses them. */
function fedOutcomes(): FeedbackRecord[] {
  return kinesis.commandCalls(PutRecordsCommand).flatMap((call) => {
    expect(call.args[0].input.StreamName).toBe(FEEDBACK_STREAM);
    return (call.args[0].input.Records ?? []).map((entry) => {
      expect(entry.PartitionKey).toBe('churn');
      return parseFeedbackRecord(new TextDecoder().decode(entry.Data));
    });
  });
}

/** Uploads a file (and a local copy under `scratch`) and runs the handler on its event. */
async function arrive(key: string, body: string) {
  const copy = join(scratch, key);
  mkdirSync(dirname(copy), { recursive: true });
  writeFileSync(copy, body);
  await env.arrive(key, body);
}

type Realized = JoinedPerformanceReport & {
  servingModel: string | null;
  window: { variant: string; version: number };
  estimate?: { metrics: Record<string, { estimated: number; realized: number; difference: number }> };
  breaches: unknown[];
};

const realized = (variant: string) => env.windowReport<Realized>(variant, hour, 'realized');

/** The CLI's join of the local copies: one variant's capture files and the label files. */
async function cliJoin(variant: string, labelFiles: string[]) {
  const { input } = await localTableInput(join(scratch, 'capture', 'churn-endpoint', variant));
  const { report } = await evaluateWithGroundTruth(
    input,
    labelFiles.map((file) => fileInput(join(scratch, file))),
    { label: '(label)', score: 'score', positive: 'yes', segment: 'area_code' },
  );
  return report;
}

const allTraffic = rows.slice(0, 600);
const canary = rows.slice(600, 800);
const ids: Record<string, string[]> = {};

describe('ground truth joined per capture window in the engine', () => {
  it('joins a window once its labels settle: per variant and segment, as the CLI joins the same files', async () => {
    const variants = { AllTraffic: [allTraffic, 3], Canary: [canary, 1] } as const;
    Object.assign(ids, await arriveCaptureWindow(hour, variants, arrive));
    // The estimate another check stored for the AllTraffic window, to sit beside the realized values.
    const estimateKey = captureWindowReportKey(
      REPORTS_PREFIX,
      'churn',
      { endpoint: 'churn-endpoint', variant: 'AllTraffic', start: windowStart },
      'estimated',
    );
    const estimatedMetrics = {
      accuracy: 0.7,
      precision: 0.5,
      recall: 0.5,
      f1: 0.5,
      rocAuc: 0.75,
      gini: 0.5,
      logLoss: 0.5,
      brier: 0.2,
      positiveRate: 0.2,
    };
    await env.aws.s3.send(
      new PutObjectCommand({
        Bucket: RESULTS_BUCKET,
        Key: estimateKey,
        Body: JSON.stringify({
          rows: 600,
          skipped: 0,
          threshold: 0.5,
          metrics: estimatedMetrics,
          segments: [],
          estimated: true,
        }),
      }),
    );

    // Labels: two thirds of AllTraffic, half of the canary, every encoding; 3 ids never captured; one
    // id labelled twice (the opposite label first: the last wins); one bad record in 400.
    const truth = (variant: string, i: number) =>
      String((variant === 'AllTraffic' ? allTraffic : canary)[i]!['churn']);
    const lines: string[] = [];
    const encodings = ['CSV', 'JSON', 'BASE64'] as const;
    ids['AllTraffic']!.forEach((id, i) => {
      if (i % 3 !== 2) lines.push(groundTruthLine(id, truth('AllTraffic', i), encodings[i % 3]));
    });
    ids['Canary']!.forEach((id, i) => {
      if (i % 2 === 0) lines.push(groundTruthLine(id, truth('Canary', i)));
    });
    lines.unshift(groundTruthLine(ids['AllTraffic']![0]!, truth('AllTraffic', 0) === 'yes' ? 'no' : 'yes'));
    lines.push(
      groundTruthLine('never-captured-1', 'yes'),
      groundTruthLine('never-captured-2', 'no'),
      groundTruthLine('never-captured-3', 'no'),
    );
    lines.splice(
      9,
      0,
      '{"groundTruthData": {"data": "%%%", "encoding": "BASE64"}, "eventMetadata": {"eventId": "x"}}',
    );
    const labelKey = 'ground-truth/2026/12/01/01/labels-1.jsonl';
    await arrive(labelKey, `${lines.join('\n')}\n`);
    expect(env.deadLetters()).toEqual([]);

    const messages = await env.sweep();
    // Two capture windows (drift) and one join.
    expect(messages.filter((m) => m.includes('ground-truth-join'))).toHaveLength(1);
    expect(messages.filter((m) => m.includes('capture-window'))).toHaveLength(2);

    for (const variant of ['AllTraffic', 'Canary']) {
      const report = await realized(variant);
      const expected = await cliJoin(variant, [labelKey]);
      expect(report.metrics).toEqual(expected.metrics);
      expect(report.segments).toEqual(expected.segments);
      expect(report.segments.map((s) => s.value).length).toBeGreaterThan(1);
      expect(report.rows).toBe(expected.rows);
      expect(report.window).toMatchObject({ endpoint: 'churn-endpoint', variant, version: 1 });
      expect(report.servingModel).toBe(variant === 'AllTraffic' ? 'churn-v1' : 'churn-v2');
      expect(report.groundTruth).toMatchObject({
        captured: variant === 'AllTraffic' ? 600 : 200,
        joined: variant === 'AllTraffic' ? 400 : 100,
        coverage: variant === 'AllTraffic' ? 400 / 600 : 0.5,
        uncaptured: 3,
        duplicates: 1,
        badRecords: 1,
        firstBadRecord: { file: labelKey, line: 10, reason: 'groundTruthData.data: undecodable base64' },
      });
      // The labels' time is their file's arrival; the predictions are of 2026-12-01.
      expect(report.groundTruth.delaySeconds!.count).toBe(report.groundTruth.joined);
      expect(report.groundTruth.delaySeconds!.p50).toBeGreaterThan(86_400);
    }
    const side = (await realized('AllTraffic')).estimate!.metrics;
    const accuracy = (await realized('AllTraffic')).metrics.accuracy;
    expect(side['accuracy']).toEqual({ estimated: 0.7, realized: accuracy, difference: accuracy - 0.7 });
    expect((await realized('Canary')).estimate).toBeUndefined();

    // The limit (accuracy >= 0.99) is breached per variant: events labelled with the window and variant.
    const events = putEventEntries<PerformanceDegradedDetail>(env.eventBridge).filter(
      (event) => event.detailType === DETAIL_TYPE.performanceDegraded,
    );
    expect(events.map((event) => event.detail.window?.variant).sort()).toEqual(['AllTraffic', 'Canary']);
    for (const { detail } of events) {
      // (`retrainingTrigger` is added when the model's catalog entry retrains on `performance`; a one-model
      // MODEL_CONFIG carries no triggers.)
      expect(detail).toMatchObject({ model: 'churn', metric: 'accuracy', limitKind: 'min' });
      expect(detail.window).toMatchObject({ endpoint: 'churn-endpoint', start: '2026-12-01T01:00:00.000Z' });
    }
    const history = (await env.history()).filter((item) => item.kind === 'performance');
    expect(history.map((item) => item.window?.variant).sort()).toEqual(['AllTraffic', 'Canary']);
    expect(history[0]!.breaches).toHaveLength(1);

    // Every joined outcome went to the feedback stream once (the model has conceptDrift), as a record the
    // feedback consumer accepts: the score, the label, the segment as cohort, the prediction's time.
    const fed = fedOutcomes();
    expect(fed).toHaveLength(500);
    const first = fed.find((outcome) => outcome.predictionId === ids['AllTraffic']![0])!;
    expect(first).toEqual({
      model: 'churn',
      label: String(allTraffic[0]!['churn']),
      prediction: { kind: 'score', value: allTraffic[0]!['score'] },
      predictionId: ids['AllTraffic']![0],
      cohort: { area_code: String(allTraffic[0]!['area_code']) },
      eventTime: hour + 2 * 60_000,
    });
    expect(env.output.metrics().map((metric) => metric.name)).toContain('PerformanceBreaches');
  });

  it('joins a window once: a second sweep and a repeated join message do nothing', async () => {
    const before = (await env.history()).length;
    expect(await env.sweep()).toEqual([]);
    await env.deliver({
      driftwatch: 'ground-truth-join',
      model: 'churn',
      pk: 'churn#ground-truth#20261201T0100Z',
    });
    expect(await env.history()).toHaveLength(before);
  });

  it('joins the window again when late labels arrive, with every label file of it', async () => {
    const truth = (i: number) => String(allTraffic[i]!['churn']);
    const late = ids['AllTraffic']!.flatMap((id, i) => (i % 3 === 2 ? [groundTruthLine(id, truth(i))] : []));
    // A table of labels too (id and label columns), in the same hour's folder.
    const table = `inferenceId,label\n${ids['Canary']!.flatMap((id, i) => (i % 2 === 1 ? [`${id},${String(canary[i]!['churn'])}`] : [])).join('\n')}\n`;
    await arrive('ground-truth/2026/12/01/01/labels-2.jsonl', `${late.join('\n')}\n`);
    await arrive('ground-truth/2026/12/01/01/labels-3.csv', table);
    const messages = await env.sweep();
    expect(messages).toHaveLength(1);
    const all = await realized('AllTraffic');
    expect(all.window.version).toBe(3);
    expect(all.groundTruth).toMatchObject({ captured: 600, joined: 600, coverage: 1, duplicates: 1 });
    const expected = await cliJoin('AllTraffic', [
      'ground-truth/2026/12/01/01/labels-1.jsonl',
      'ground-truth/2026/12/01/01/labels-2.jsonl',
      'ground-truth/2026/12/01/01/labels-3.csv',
    ]);
    expect(all.metrics).toEqual(expected.metrics);
    const canaryReport = await realized('Canary');
    expect(canaryReport.groundTruth).toMatchObject({ captured: 200, joined: 200, coverage: 1 });
    // Only the new labels' outcomes go to the detectors: 200 late AllTraffic labels, 100 canary ones.
    const fed = fedOutcomes();
    expect(fed).toHaveLength(300);
    expect(new Set(fed.map((outcome) => outcome.predictionId)).size).toBe(300);
  });

  it('joins a window again when its join message is moved back from the dead-letter queue', async () => {
    const before = (await realized('AllTraffic')).window.version;
    const record = sqsRecord(
      JSON.stringify({
        driftwatch: 'ground-truth-join',
        model: 'churn',
        pk: 'churn#ground-truth#20261201T0100Z',
      }),
    );
    record.messageAttributes = { errorName: { dataType: 'String', stringValue: 'InputError' } };
    expect((await env.invoke([record])).batchItemFailures).toEqual([]);
    expect((await realized('AllTraffic')).window.version).toBe(before + 1);
    // Its outcomes were fed before: none again.
    expect(fedOutcomes()).toEqual([]);
  });

  it('records a label file that cannot be used as failed and sends it to the dead-letter queue', async () => {
    const key = 'ground-truth/2026/12/01/01/broken.jsonl';
    await arrive(
      key,
      `${groundTruthLine('a', 'yes')}\n{"groundTruthData": {"data": "yes", "encoding": "XML"}, "eventMetadata": {"eventId": "b"}}\n`,
    );
    const failed = (await env.historyFor(key)).filter((item) => item.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error!.message).toContain(
      '1 of 2 label records are bad (more than the 1% allowed); the first, on line 2: groundTruthData.encoding',
    );
    const [letter, ...more] = env.deadLetters();
    expect(more).toEqual([]);
    expect(letter!.attributes['errorName']).toBe('InputError');
    // The window was not asked to join again.
    expect(await env.sweep()).toEqual([]);
  });
});

describe('labelledWindows', () => {
  const capture = { windowMinutes: 60 };
  const arrived = new Date(Date.UTC(2026, 11, 7, 8, 30));
  it("gives a layout file its hour's window only", () => {
    expect(labelledWindows('2026/12/01/01/a.jsonl', arrived, capture, { maxDelayHours: 24 })).toEqual({
      layout: true,
      starts: [new Date(Date.UTC(2026, 11, 1, 1))],
    });
    expect(
      labelledWindows('2026/12/01/01/a.jsonl', arrived, { windowMinutes: 30 }, { maxDelayHours: 24 }).starts,
    ).toEqual([new Date(Date.UTC(2026, 11, 1, 1)), new Date(Date.UTC(2026, 11, 1, 1, 30))]);
    expect(
      labelledWindows('2026/12/01/01/a.jsonl', arrived, { windowMinutes: 1440 }, { maxDelayHours: 24 })
        .starts,
    ).toEqual([new Date(Date.UTC(2026, 11, 1))]);
  });
  it('gives a file outside the layout every window of the last maxDelayHours', () => {
    const { layout, starts } = labelledWindows('labels/today.csv', arrived, capture, { maxDelayHours: 3 });
    expect(layout).toBe(false);
    expect(starts).toEqual([5, 6, 7, 8].map((h) => new Date(Date.UTC(2026, 11, 7, h))));
  });
});
