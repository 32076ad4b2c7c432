/**
 * A baseline profile replaced while a Data Capture window is open: the files profiled before are profiled
 * again against the new baseline when the window is checked (their partials' bins are over the old
 * baseline's edges), so the window's report is that of its rows against the new baseline, exactly.
 * Through the real handler over s3rver and dynalite.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileToJson } from '../../../lambdas/core/drift/profile.ts';
import { profileTable, runDrift } from '../../../lambdas/core/drift/run.ts';
import type { DriftReport } from '../../../lambdas/core/drift/types.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import { driftOptions } from '../../../lambdas/drift/config.ts';
import type { DriftModelRuntimeConfig } from '../../../lambdas/shared/contract.ts';
import { capturePath } from '../../helpers/capture-files.ts';
import {
  CHURN_CAPTURE,
  type ChurnRow,
  churnCaptureText,
  churnCsv,
  churnRows,
} from '../../helpers/churn-capture.ts';
import { DriftEnvironment, MODEL, SCENARIOS } from './environment.ts';

const CAPTURE_MODEL: DriftModelRuntimeConfig = {
  ...MODEL,
  capture: CHURN_CAPTURE,
};

const scratch = mkdtempSync(join(tmpdir(), 'driftwatch-capture-baseline-'));
const oldRows = churnRows(`${SCENARIOS}churn-halves/baseline.csv`);
const liveRows = churnRows(`${SCENARIOS}churn-shifted/current.csv`);
// The new baseline: other rows, so other bin edges.
const newRows = liveRows.slice(0, 1500);

let env: DriftEnvironment;

async function profileOf(rows: ChurnRow[], name: string) {
  const path = join(scratch, name);
  writeFileSync(path, churnCsv(rows));
  return profileTable(fileInput(path), { exclude: MODEL.exclude, segment: MODEL.segment });
}

beforeAll(async () => {
  env = await DriftEnvironment.start({ model: CAPTURE_MODEL, capture: true });
  await env.upload(MODEL.baselineProfileKey, gzipSync(profileToJson(await profileOf(oldRows, 'old.csv'))));
});

afterAll(async () => {
  await env?.stop();
});

describe('a baseline profile replaced while a capture window is open', () => {
  it('profiles the earlier files again against the new baseline: the report is that of the window on the new one', async () => {
    const hour = Date.UTC(2026, 11, 2, 3, 0, 0);
    const live = liveRows.slice(1500, 2400);
    const arrive = async (i: number) => {
      const time = new Date(hour + i * 10 * 60_000);
      const key = capturePath('capture', 'churn-endpoint', 'AllTraffic', time, `f${i}`);
      await env.arrive(
        key,
        churnCaptureText(live.slice(i * 300, (i + 1) * 300), time, { rowsPerRequest: 'one' }),
      );
    };
    await arrive(0);
    await arrive(1);
    const newProfile = await profileOf(newRows, 'new.csv');
    await env.upload(MODEL.baselineProfileKey, gzipSync(profileToJson(newProfile)));
    await arrive(2);
    env.output.clear();

    // The sweep queues the window; its check merges the three partials.
    await env.sweep();
    const again = env.output
      .logs()
      .filter((line) => line['message'] === 'Capture file profiled again: the baseline profile changed');
    // A window's files are profiled again concurrently: their lines come in any order.
    expect(again.map((line) => String(line['key'])).sort()).toEqual([
      expect.stringMatching(/-f0\.jsonl$/),
      expect.stringMatching(/-f1\.jsonl$/),
    ]);

    const [item, ...others] = (await env.history()).filter((entry) => entry.window !== undefined);
    expect(others).toEqual([]);
    expect(item!.status).toBe('succeeded');
    const report = JSON.parse(await env.resultText(item!.reportKey!)) as DriftReport;
    const csv = join(scratch, 'window.csv');
    writeFileSync(csv, churnCsv(live));
    const expected = await runDrift(
      { kind: 'profile', profile: newProfile },
      fileInput(csv),
      driftOptions(CAPTURE_MODEL),
    );
    expect(
      report.features.map((entry) => [entry.feature, entry.segment?.value ?? null, entry.drifted]),
    ).toEqual(expected.features.map((entry) => [entry.feature, entry.segment?.value ?? null, entry.drifted]));
    // Every test's numbers: PSI and Jensen-Shannon come from the bin counts over the baseline's edges.
    const numbers = (of: DriftReport) =>
      of.features.flatMap((entry) =>
        Object.entries(entry.tests).flatMap(([test, result]) =>
          Object.entries(result as Record<string, number>).map(
            ([name, value]) =>
              [`${entry.feature}@${entry.segment?.value ?? 'all'}.${test}.${name}`, value] as const,
          ),
        ),
      );
    const got = new Map(numbers(report));
    const want = numbers(expected);
    expect([...got.keys()]).toEqual(want.map(([name]) => name));
    expect(want.some(([name]) => name.endsWith('.psi.value'))).toBe(true);
    for (const [name, value] of want)
      expect(Math.abs(got.get(name)! - value), name).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(value)));
    expect(report.rows).toEqual({ baseline: newRows.length, current: 900 });
  });
});
