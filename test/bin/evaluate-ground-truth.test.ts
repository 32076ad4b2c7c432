import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.ts';
import { expectJsonClose, type Json } from '../helpers/compare-json.ts';

/**
 * `driftwatch evaluate CAPTURE --ground-truth GT` against the reference join of
 * scripts/golden/ground_truth.py (pandas + scikit-learn 1.2): SageMaker ground-truth records in every
 * encoding, requests of several rows, inferenceId and eventId keys, duplicated labels (the last wins),
 * labels of predictions never captured, a bad record, and a label table with label times.
 */
const DIR = new URL('../fixtures/ground-truth/churn/', import.meta.url).pathname;
const scenario = JSON.parse(readFileSync(join(DIR, 'args.json'), 'utf8')) as {
  capture: string;
  groundTruth: string;
  args: string[];
};
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Json;

let work: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  work = await tempDir('driftwatch-ground-truth-');
});
afterAll(async () => work.cleanup());

const run = (extra: string[]) =>
  runCli(['evaluate', scenario.capture, '--ground-truth', scenario.groundTruth, ...scenario.args, ...extra], {
    cwd: DIR,
  });

describe('driftwatch evaluate --ground-truth', () => {
  it('equals scikit-learn on the joined rows, with coverage, uncaptured, duplicated and bad labels and delays', async () => {
    const result = await run(['--format', 'json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      'driftwatch: warning: ground-truth/2026/12/07/00/labels-1.jsonl: 1 of 365 label records are bad and ' +
        'left out; the first, on line 17: groundTruthData.data: undecodable base64\n',
    );
    expectJsonClose(JSON.parse(result.stdout) as Json, expected, 'report', { keyOrder: true });
  });

  it('prints the join under the text report', async () => {
    const result = await run(['--format', 'text', '--quiet']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /Ground truth: 1,442 of 2,000 captured predictions labelled \(coverage 72\.1%\)/,
    );
    expect(result.stdout).toMatch(
      /never captured: 25; duplicated labels \(the last wins\): 40; bad label records: 1/,
    );
    expect(result.stdout).toMatch(/label delay \(37 labels\): p50 /);
  });

  it('puts an estimate made before the labels beside the realized values', async () => {
    const estimated = join(work.dir, 'estimated.json');
    const metrics = {
      accuracy: 0.9,
      precision: 0.5,
      recall: 0.25,
      f1: 0.3,
      rocAuc: 0.8,
      gini: 0.6,
      logLoss: 0.3,
      brier: 0.1,
      positiveRate: 0.12,
    };
    await writeFile(
      estimated,
      JSON.stringify({ rows: 2000, skipped: 0, threshold: 0.5, metrics, segments: [], estimated: true }),
    );
    const result = await run(['--estimated', estimated, '--format', 'json', '--quiet']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      metrics: Record<string, number>;
      estimate: { metrics: Record<string, { estimated: number; realized: number; difference: number }> };
    };
    const realized = (expected as { metrics: Record<string, number> }).metrics;
    for (const [metric, value] of Object.entries(metrics)) {
      const entry = report.estimate.metrics[metric]!;
      expect(entry.estimated).toBe(value);
      expect(entry.realized).toBe(report.metrics[metric]);
      expect(entry.difference).toBeCloseTo(realized[metric]! - value, 12);
    }
    const text = await run(['--estimated', estimated, '--format', 'text', '--quiet']);
    expect(text.stdout).toContain(`Estimated before the labels (CBPE, ${estimated}) and realized:`);
    expect(text.stdout).toMatch(/accuracy\s+0\.9000\s+0\.8599\s+-0\.0401/);
  });

  it('names the missing id column of a label table', async () => {
    const labels = join(work.dir, 'labels.csv');
    await writeFile(labels, 'prediction,label\na,yes\n');
    const result = runCli(
      [
        'evaluate',
        scenario.capture,
        '--ground-truth',
        labels,
        ...scenario.args.slice(0, 8),
        '--capture-features',
        'area_code,total_day_minutes',
      ],
      { cwd: DIR },
    );
    const { code, stderr } = await result;
    expect(code).not.toBe(0);
    expect(stderr).toContain('--ground-truth-id: column "inferenceId" is not in');
    const renamed = await runCli(
      [
        'evaluate',
        scenario.capture,
        '--ground-truth',
        labels,
        '--ground-truth-id',
        'prediction',
        ...scenario.args.slice(0, 8),
        '--capture-features',
        'area_code,total_day_minutes',
      ],
      { cwd: DIR },
    );
    expect(renamed.code).not.toBe(0);
    expect(renamed.stderr).toContain('no captured prediction has a label (2000 captured, 1 labelled ids');
  });

  it('fails a label file whose bad records pass the allowed share, naming file and line', async () => {
    const labels = join(work.dir, 'bad.jsonl');
    await writeFile(
      labels,
      '{"groundTruthData": {"data": "yes", "encoding": "CSV"}, "eventMetadata": {"eventId": "x"}, "eventVersion": "0"}\n' +
        '{"groundTruthData": {"data": "yes", "encoding": "XML"}, "eventMetadata": {"eventId": "y"}, "eventVersion": "0"}\n',
    );
    const result = await run(['--ground-truth', labels, '--format', 'json']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'bad.jsonl: 1 of 2 label records are bad (more than the 1% allowed); the first, on line 2: ' +
        'groundTruthData.encoding: expected CSV, JSON or BASE64, got "XML"',
    );
  });
});
