import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { profileToJson } from '../../../lambdas/core/drift/profile.ts';
import { profileTable, runDrift } from '../../../lambdas/core/drift/run.ts';
import type { DriftReport } from '../../../lambdas/core/drift/types.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import { driftOptions } from '../../../lambdas/drift/config.ts';
import type { CaptureWindowLabel, DriftModelRuntimeConfig } from '../../../lambdas/shared/contract.ts';
import { capturePath, captureText } from '../../helpers/capture-files.ts';
import {
  CHURN_CAPTURE,
  churnCaptureRecords,
  churnCaptureText,
  churnCsv,
  churnRows,
} from '../../helpers/churn-capture.ts';
import {
  DATA_BUCKET,
  DriftEnvironment,
  MODEL,
  objectCreatedEvent,
  REPORTS_PREFIX,
  SCENARIOS,
  sqsRecord,
} from './environment.ts';

/**
 * The engine's Data Capture windows, end to end through the real handler over s3rver and dynalite: files
 * profiled on arrival, a window checked by merging its partials when the sweep finds it due, late files,
 * bad records, duplicates.
 */

const CAPTURE_MODEL: DriftModelRuntimeConfig = {
  ...MODEL,
  fdr: 0.05,
  capture: CHURN_CAPTURE,
};

const baselineRows = churnRows(`${SCENARIOS}churn-halves/baseline.csv`);
const currentRows = churnRows(`${SCENARIOS}churn-shifted/current.csv`);
const scratch = mkdtempSync(join(tmpdir(), 'driftwatch-capture-'));

let env: DriftEnvironment;

beforeAll(async () => {
  env = await DriftEnvironment.start({ model: CAPTURE_MODEL, capture: true });
  const baselineCsv = join(scratch, 'baseline.csv');
  writeFileSync(baselineCsv, churnCsv(baselineRows));
  const profile = await profileTable(fileInput(baselineCsv), {
    exclude: MODEL.exclude,
    segment: MODEL.segment,
  });
  await env.upload(MODEL.baselineProfileKey, gzipSync(profileToJson(profile)));
});

afterAll(async () => {
  await env?.stop();
});

beforeEach(() => {
  env.resetStubs();
  env.output.clear();
});

/** Uploads a capture file and runs the handler on its event, as the landing queue would. */
async function arrive(variant: string, time: Date, id: string, body: string) {
  const key = capturePath('capture', 'churn-endpoint', variant, time, id);
  await env.arrive(key, body);
  return key;
}

const windowItems = async (variant: string) =>
  (await env.history()).filter((item) => item.window?.variant === variant && item.status === 'succeeded');

/** Every number of a report's entries (tests, score, p-values, effect), by entry, for comparing two reports. */
function numbersOf(report: DriftReport): Map<string, number> {
  const numbers = new Map<string, number>();
  for (const entry of report.features) {
    const id = `${entry.feature}@${entry.segment?.value ?? 'all'}`;
    numbers.set(`${id}.score`, entry.score);
    for (const field of ['pValue', 'pValueAdjusted', 'effect'] as const) {
      if (entry[field] !== undefined) numbers.set(`${id}.${field}`, entry[field]!);
    }
    for (const [test, result] of Object.entries(entry.tests)) {
      for (const [name, value] of Object.entries(result as Record<string, number>))
        numbers.set(`${id}.${test}.${name}`, value);
    }
  }
  return numbers;
}

/** What must be equal exactly: the entries, their methods, decisions and counts. */
const decisions = (report: DriftReport) =>
  report.features.map((entry) => ({
    feature: entry.feature,
    segment: entry.segment?.value ?? null,
    method: entry.method,
    drifted: entry.drifted,
    count: entry.count,
    missing: entry.missing,
    sampled: entry.sampled,
  }));

describe('Data Capture windows in the engine', () => {
  const hour = Date.UTC(2026, 11, 1, 1, 0, 0);
  const allTraffic = currentRows.slice(0, 2000);
  const canary = currentRows.slice(2000);

  it('checks a window by merging its files: the report of one file holding the same rows', async () => {
    // Eight files over the hour for AllTraffic, two for the canary variant, in no particular order.
    for (const i of [3, 0, 7, 1, 5, 2, 6, 4]) {
      const time = new Date(hour + i * 7 * 60_000 + 1234);
      await arrive(
        'AllTraffic',
        time,
        `a${i}`,
        churnCaptureText(allTraffic.slice(i * 250, (i + 1) * 250), time),
      );
    }
    for (const i of [0, 1]) {
      const time = new Date(hour + (20 + i) * 60_000);
      await arrive('Canary', time, `c${i}`, churnCaptureText(canary.slice(i * 250, (i + 1) * 250), time));
    }
    // Nothing is checked before the window closes.
    expect(await env.history()).toEqual([]);

    const messages = await env.sweep();
    expect(messages).toHaveLength(2);
    const [item, ...others] = await windowItems('AllTraffic');
    expect(others).toEqual([]);
    expect(item!.window).toEqual({
      endpoint: 'churn-endpoint',
      variant: 'AllTraffic',
      start: '2026-12-01T01:00:00.000Z',
      end: '2026-12-01T02:00:00.000Z',
      part: 0,
      version: 1,
      closedBy: 'time',
      files: 8,
      rows: 2000,
      badRecords: 0,
      firstBadRecord: null,
    } satisfies CaptureWindowLabel);
    expect(item!.rows).toEqual({ baseline: baselineRows.length, current: 2000 });
    expect(item!.key).toBe('capture/churn-endpoint/AllTraffic/window-20261201T0100Z');
    expect(item!.reportKey).toBe(`${REPORTS_PREFIX}churn/${item!.checkedAt}/window-20261201T0100Z.json`);

    // The same rows as one CSV file, checked by `runDrift` against the same baseline profile.
    const csv = join(scratch, 'all-traffic.csv');
    writeFileSync(csv, churnCsv(allTraffic));
    const baselineCsv = join(scratch, 'baseline.csv');
    const baseline = await profileTable(fileInput(baselineCsv), {
      exclude: MODEL.exclude,
      segment: MODEL.segment,
    });
    const expected = await runDrift(
      { kind: 'profile', profile: baseline },
      fileInput(csv),
      driftOptions(CAPTURE_MODEL),
    );
    const report = JSON.parse(await env.resultText(item!.reportKey!)) as DriftReport & {
      window: CaptureWindowLabel;
    };
    expect(report.window.variant).toBe('AllTraffic');
    expect(decisions(report)).toEqual(decisions(expected));
    const got = numbersOf(report);
    const want = numbersOf(expected);
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [name, value] of want) {
      // The drift spec's tolerance: 1e-9, relative for large statistics.
      expect(Math.abs(got.get(name)! - value), name).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(value)));
    }
    expect(report.driftShare).toBeCloseTo(expected.driftShare, 12);
    expect(report.datasetDrift).toBe(expected.datasetDrift);
    // Prediction drift: the score column is one of the features checked.
    expect(report.features.some((entry) => entry.feature === 'score' && entry.segment === null)).toBe(true);

    // Per variant: the canary's window is a report of its own.
    const [canaryItem] = await windowItems('Canary');
    expect(canaryItem!.window).toMatchObject({ variant: 'Canary', files: 2, rows: 500, version: 1 });
    // Each variant's drift is on its own metrics (Model, Variant), beside the model's.
    const byVariant = (name: string, variant: string) =>
      env.output
        .metrics()
        .filter(
          (metric) =>
            metric.name === name &&
            metric.dimensions['Variant'] === `churn-endpoint/${variant}` &&
            metric.dimensions['Model'] === 'churn',
        )
        .map((metric) => metric.value);
    expect(byVariant('DatasetDriftShare', 'AllTraffic')).toEqual([report.driftShare]);
    expect(byVariant('RowsChecked', 'Canary')).toEqual([500]);
    expect(byVariant('FeatureDriftScore', 'Canary')).toHaveLength(
      report.features.filter((entry) => entry.segment === null && Number.isFinite(entry.score)).length,
    );

    // The Drift Detected event names the window.
    const events = env.putEvents().filter((event) => event.detail.window?.variant === 'AllTraffic');
    expect(events).toHaveLength(1);
    expect(events[0]!.detail.window).toEqual(item!.window);
    expect(events[0]!.detail.driftedFeatures).toEqual(item!.driftedFeatures);
    expect(env.deadLetters()).toEqual([]);
  });

  it('checks a window once: a second sweep and a repeated window message do nothing', async () => {
    const before = (await env.history()).length;
    expect(await env.sweep()).toEqual([]);
    const message = JSON.stringify({
      driftwatch: 'capture-window',
      model: 'churn',
      pk: 'churn#churn-endpoint#AllTraffic#20261201T0100Z',
      part: 0,
    });
    expect((await env.invoke([sqsRecord(message)])).batchItemFailures).toEqual([]);
    expect(await env.history()).toHaveLength(before);
  });

  it('re-checks the window of a late file, with every file of it', async () => {
    const time = new Date(hour + 59 * 60_000);
    const late = currentRows.slice(0, 40);
    await arrive('AllTraffic', time, 'late', churnCaptureText(late, time));
    const items = await windowItems('AllTraffic');
    expect(items.map((item) => item.window!.version).sort()).toEqual([1, 2]);
    const recheck = items.find((item) => item.window!.version === 2)!;
    expect(recheck.window).toMatchObject({ closedBy: 'late', files: 9, rows: 2040 });
    expect(recheck.rows).toEqual({ baseline: baselineRows.length, current: 2040 });
    // The same file delivered again is not counted twice, nor checked again.
    const key = capturePath('capture', 'churn-endpoint', 'AllTraffic', time, 'late');
    const again = await env.upload(key, churnCaptureText(late, time));
    await env.invoke([sqsRecord(objectCreatedEvent(again))]);
    expect(await windowItems('AllTraffic')).toHaveLength(2);
  });

  it('counts bad records below the share and fails a file above it, with the first bad line', async () => {
    const hourTwo = hour + 3_600_000;
    const time = new Date(hourTwo + 60_000);
    const good = churnCaptureRecords(currentRows.slice(0, 300), time);
    // 1 bad record in 151: below the 1% allowed.
    const withOne = [
      ...good.slice(0, 50),
      '{"captureData": {"endpointInput": {"data": "%%%", "encoding": "BASE64"}}}',
      ...good.slice(50),
    ];
    await arrive('AllTraffic', time, 'one-bad', captureText(withOne));
    // 3 bad records in 13: the file fails.
    const failing = [...good.slice(0, 5), 'not json', ...good.slice(5, 10), 'not json', 'not json'];
    const failedKey = await arrive(
      'AllTraffic',
      new Date(hourTwo + 120_000),
      'many-bad',
      captureText(failing),
    );
    const [failed] = (await env.history()).filter((item) => item.key === failedKey);
    expect(failed).toMatchObject({ status: 'failed', error: { name: 'InputError' } });
    expect(failed!.error!.message).toContain(failedKey);
    expect(failed!.error!.message).toMatch(/3 of 13 capture records are bad .* line 6: not JSON/);
    expect(env.deadLetters()).toHaveLength(1);
    expect(env.deadLetters()[0]!.attributes['key']).toBe(failedKey);

    await env.sweep();
    const [window] = (await windowItems('AllTraffic')).filter((item) =>
      item.window!.start.startsWith('2026-12-01T02'),
    );
    expect(window!.window).toMatchObject({
      files: 1,
      rows: 300,
      badRecords: 1,
      firstBadRecord: {
        key: capturePath('capture', 'churn-endpoint', 'AllTraffic', time, 'one-bad'),
        line: 51,
        reason: 'captureData.endpointInput.data: undecodable base64',
      },
    });
  });

  it('records a window whose check fails for good, and checks it again when its message is redriven', async () => {
    const time = new Date(hour + 2 * 3_600_000 + 5 * 60_000);
    await arrive('AllTraffic', time, 'redrive', churnCaptureText(currentRows.slice(0, 100), time));
    const profileBytes = await env.aws.s3
      .send(new GetObjectCommand({ Bucket: DATA_BUCKET, Key: MODEL.baselineProfileKey }))
      .then((response) => response.Body!.transformToByteArray());
    await env.deleteObject(MODEL.baselineProfileKey);
    try {
      const [message] = await env.sweep();
      const windowKey = 'capture/churn-endpoint/AllTraffic/window-20261201T0300Z';
      const [failed] = (await env.history()).filter((item) => item.key === windowKey);
      expect(failed).toMatchObject({ status: 'failed', error: { name: 'BaselineProfileMissingError' } });
      expect(env.deadLetters().map((letter) => letter.body)).toEqual([message]);
      // Fixed, then moved back from the dead-letter queue: checked again.
      await env.upload(MODEL.baselineProfileKey, profileBytes);
      const redriven = sqsRecord(message!);
      redriven.messageAttributes = {
        errorName: { dataType: 'String', stringValue: 'BaselineProfileMissingError' },
      };
      expect((await env.invoke([redriven])).batchItemFailures).toEqual([]);
      const checked = (await env.history()).filter(
        (item) => item.key === windowKey && item.status === 'succeeded',
      );
      expect(checked.map((item) => [item.window!.closedBy, item.window!.version, item.window!.rows])).toEqual(
        [['redrive', 2, 100]],
      );
    } finally {
      await env.upload(MODEL.baselineProfileKey, profileBytes);
    }
  });

  it('records a file of an endpoint not watched, or outside the capture layout, as failed', async () => {
    const other = await env.upload(
      'capture/other-endpoint/AllTraffic/2026/12/01/01/00-00-000-x.jsonl',
      '{}\n',
    );
    const loose = await env.upload('capture/loose.jsonl', '{}\n');
    for (const object of [other, loose]) {
      expect((await env.invoke([sqsRecord(objectCreatedEvent(object))])).batchItemFailures).toEqual([]);
    }
    const failures = (await env.history()).filter((item) => item.key === other.key || item.key === loose.key);
    expect(failures.map((item) => item.error!.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('endpoint "other-endpoint" is not among'),
        expect.stringContaining('not a Data Capture file'),
      ]),
    );
    expect(env.deadLetters()).toHaveLength(2);
  });
});
