import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { delayDistribution } from '../../../lambdas/core/performance/ground-truth.ts';
import { groundTruthPk, labelledWindows } from '../../../lambdas/drift/ground-truth.ts';
import type { DriftModelRuntimeConfig, LabelFileTally } from '../../../lambdas/shared/contract.ts';
import { capturePath } from '../../helpers/capture-files.ts';
import { CHURN_CAPTURE, churnCaptureText, churnGroundTruth, churnRows } from '../../helpers/churn-capture.ts';
import { stubServingModels } from '../../helpers/serving-models.ts';
import { DriftEnvironment, MODEL, SCENARIOS, sqsRecord } from './environment.ts';

/**
 * Label tables outside SageMaker's `yyyy/mm/dd/hh` layout, end to end through the real drift handler over
 * s3rver and dynalite: such a file may label any window of the last `maxDelayHours`, so its labels that
 * match no captured prediction are counted once per file (report, history item, `UncapturedLabels`), when
 * every one of those windows is joined, never per window and never twice; the label time column
 * (`groundTruth.timeColumn`) gives the label delay, the file's arrival standing in for an empty cell.
 */

const TALLY_MODEL: DriftModelRuntimeConfig = {
  ...MODEL,
  capture: {
    ...CHURN_CAPTURE,
    // Labels with the time they were given: the label delay is measured from it.
    groundTruth: { ...churnGroundTruth(), timeColumn: 'labelled_at', feedback: false },
  },
};

const rows = churnRows(`${SCENARIOS}churn-shifted/current.csv`);
// Two capture windows of the last day (the handler's clock is the real one): three and two hours ago.
const thisHour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const starts = [thisHour - 3 * 3_600_000, thisHour - 2 * 3_600_000];
const captured = [rows.slice(0, 200), rows.slice(200, 400)];
const idOf = (window: number, i: number) => `w${window}-${i}`;
const truth = (window: number, i: number) => String(captured[window]![i]!['churn']);
const inferenceTime = (window: number) => starts[window]! + 7 * 60_000;

let env: DriftEnvironment;
// The serving model each window records: AllTraffic serves churn-v1.
const sagemaker = mockClient(SageMakerClient);
beforeAll(async () => {
  stubServingModels(sagemaker, { AllTraffic: ['churn-v1', 1] });
  env = await DriftEnvironment.start({ model: TALLY_MODEL, capture: true });
  for (const [window, part] of captured.entries()) {
    const time = new Date(inferenceTime(window));
    await env.arrive(
      capturePath('capture', 'churn-endpoint', 'AllTraffic', time, `f${window}`),
      churnCaptureText(part, time, {
        rowsPerRequest: 'one',
        eventId: (i) => `event-${window}-${i}`,
        inferenceId: (i) => idOf(window, i),
      }),
    );
  }
});
afterAll(async () => {
  sagemaker.restore();
  await env?.stop();
});
beforeEach(() => {
  env.resetStubs();
  env.output.clear();
});

/**
 * Joins every window a label file arriving now may label: the sweep takes those that are due; the window of
 * this hour (due at its end) is joined by its message, as the sweep will send it then.
 */
async function joinAll() {
  await env.sweep();
  const { starts: windows } = labelledWindows(
    'x.csv',
    new Date(),
    { windowMinutes: 60 },
    { maxDelayHours: 24 },
  );
  for (const start of windows.slice(-2)) {
    const message = { driftwatch: 'ground-truth-join', model: 'churn', pk: groundTruthPk('churn', start) };
    expect((await env.invoke([sqsRecord(JSON.stringify(message))])).batchItemFailures).toEqual([]);
  }
}

const realized = (window: number) =>
  env.windowReport<{
    window: { version: number };
    groundTruth: {
      captured: number;
      joined: number;
      uncaptured: number;
      badRecords: number;
      firstBadRecord: { file: string; line: number; reason: string } | null;
      delaySeconds: { count: number; p50: number; p90: number; max: number } | null;
    };
  }>('AllTraffic', starts[window]!, 'realized');

const tallies = async () =>
  (await env.history()).filter((item) => item.kind === 'labels').map((item) => item.labelFile!);

const uncapturedPoints = () => env.output.metrics().filter((metric) => metric.name === 'UncapturedLabels');

describe('labels of predictions never captured, in label files outside the hourly layout', () => {
  const first = 'ground-truth/exports/labels-day-1.csv';

  it('counts them once per file, when every window the file may label is joined', async () => {
    // 150 labels of each window (ids spanning both), 5 ids never captured, one id twice (the last wins).
    // Window 0's labels say when they were known (i minutes after the prediction); window 1's cells are
    // empty (the file's arrival stands in); one time is no time (a bad record).
    const lines = ['inferenceId,label,labelled_at'];
    for (let i = 0; i < 150; i++) {
      lines.push(
        `${idOf(0, i)},${truth(0, i)},${new Date(inferenceTime(0) + (i + 1) * 60_000).toISOString()}`,
      );
      lines.push(`${idOf(1, i)},${truth(1, i)},`);
    }
    for (let n = 0; n < 5; n++) lines.push(`never-captured-${n},no,`);
    lines.push(`${idOf(1, 0)},${truth(1, 0)},`);
    lines.push(`${idOf(1, 199)},yes,yesterday`);
    const arrivedBefore = Date.now();
    await env.arrive(first, `${lines.join('\n')}\n`);
    expect(env.deadLetters()).toEqual([]);
    await joinAll();

    const [zero, one] = [await realized(0), await realized(1)];
    expect(zero.groundTruth).toMatchObject({ captured: 200, joined: 150, badRecords: 1 });
    expect(one.groundTruth).toMatchObject({ captured: 200, joined: 150 });
    expect(zero.groundTruth.firstBadRecord).toEqual({
      file: first,
      line: 307,
      reason: 'labelled_at: "yesterday" is not a time (ISO 8601 or epoch seconds)',
    });
    // Neither window can tell that a label of a file spanning windows was never captured: not counted there.
    expect(zero.groundTruth.uncaptured).toBe(0);
    expect(one.groundTruth.uncaptured).toBe(0);

    // The label time column: delays of 1..150 minutes, as numpy's percentiles of them.
    const minutes = Array.from({ length: 150 }, (_, i) => (i + 1) * 60);
    expect(zero.groundTruth.delaySeconds).toEqual(delayDistribution(minutes));
    expect(zero.groundTruth.delaySeconds).toMatchObject({ p50: 75.5 * 60, max: 150 * 60 });
    // Empty cells: the file's arrival, two hours and some after the predictions.
    const arrival = one.groundTruth.delaySeconds!;
    expect(arrival.count).toBe(150);
    expect(arrival.p50).toBeGreaterThanOrEqual((arrivedBefore - inferenceTime(1)) / 1000);
    expect(arrival.max - arrival.p50).toBeLessThan(5);

    // Counted once, for the file: 5 labels never captured, 300 matched.
    const counted = await tallies();
    expect(counted).toHaveLength(1);
    expect(counted[0]).toMatchObject({
      labelFile: { key: first },
      windows: 25,
      records: 306,
      ids: 305,
      labels: 305,
      matched: 300,
      uncaptured: 5,
      uncapturedIds: 5,
      duplicates: 1,
    });
    const report = JSON.parse(await env.resultText(counted[0]!.reportKey)) as LabelFileTally;
    expect(report).toEqual(counted[0]);
    expect(uncapturedPoints().map((point) => point.value)).toEqual([5]);
  });

  it('does not count a file again when its windows are joined again, and counts a late file once', async () => {
    // A late file: the other 50 labels of window 0, 2 never captured. Every window of the last day is
    // joined again (with both files): the first file is not counted twice.
    const lines = ['inferenceId,label,labelled_at'];
    for (let i = 150; i < 200; i++) lines.push(`${idOf(0, i)},${truth(0, i)},`);
    lines.push('never-captured-late-1,yes,', 'never-captured-late-2,no,');
    const late = 'ground-truth/exports/labels-day-1-late.csv';
    await env.arrive(late, `${lines.join('\n')}\n`);
    await joinAll();

    const zero = await realized(0);
    expect(zero.window.version).toBe(2);
    expect(zero.groundTruth).toMatchObject({ captured: 200, joined: 200, uncaptured: 0 });
    const counted = await tallies();
    expect(counted.map((tally) => [tally.labelFile.key, tally.uncaptured, tally.matched]).sort()).toEqual([
      [late, 2, 50],
      [first, 5, 300],
    ]);
    expect(uncapturedPoints().map((point) => point.value)).toEqual([2]);
  });

  // A file in the hourly layout of window 1, with one label of a prediction not captured (yet).
  const hourly = `ground-truth/${new Date(starts[1]!).toISOString().slice(0, 13).replace(/[-T]/g, '/')}/labels.csv`;

  it('a file in the hourly layout labels its window only: counted there and in its tally', async () => {
    const key = hourly;
    await env.arrive(
      key,
      `inferenceId,label,labelled_at\n${idOf(1, 180)},${truth(1, 180)},\nnot-captured,no,\n`,
    );
    await joinAll();
    expect((await realized(1)).groundTruth.uncaptured).toBe(1);
    const counted = (await tallies()).filter((tally) => tally.labelFile.key === key);
    expect(counted).toMatchObject([{ windows: 1, labels: 2, matched: 1, uncaptured: 1 }]);
    expect(uncapturedPoints().map((point) => point.value)).toEqual([1]);
  });
  it('joins a window again when a capture file comes after its labels were joined', async () => {
    const before = await realized(1);
    // A late request of window 1, whose id a label file of the window holds ("not-captured" until now).
    const time = new Date(inferenceTime(1) + 60_000);
    await env.arrive(
      capturePath('capture', 'churn-endpoint', 'AllTraffic', time, 'late'),
      churnCaptureText(captured[1]!.slice(0, 1), time, {
        eventId: () => 'event-late',
        inferenceId: () => 'not-captured',
      }),
    );
    await joinAll();
    const after = await realized(1);
    expect(after.window.version).toBe(before.window.version + 1);
    expect(after.groundTruth.captured).toBe(before.groundTruth.captured + 1);
    expect(after.groundTruth.joined).toBe(before.groundTruth.joined + 1);
    expect(after.groundTruth.uncaptured).toBe(0);
    // The layout file's "not-captured" label, counted as uncaptured, matched now: the file is recounted (its
    // report and a history item corrected) without a second UncapturedLabels point.
    const recounts = (await tallies()).filter((tally) => tally.recountedAt !== undefined);
    expect(recounts).toMatchObject([{ labelFile: { key: hourly }, labels: 2, matched: 2, uncaptured: 0 }]);
    expect(JSON.parse(await env.resultText(recounts[0]!.reportKey))).toEqual(recounts[0]);
    expect(uncapturedPoints()).toEqual([]);
    // The daily files matched nothing new in window 1: not recounted, however often it is joined again.
    await joinAll();
    expect((await tallies()).filter((tally) => tally.recountedAt !== undefined)).toHaveLength(1);
  });
});
