import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CaptureRecord,
  capturePath,
  csvInput,
  csvOutput,
  jsonInput,
  jsonOutput,
  record,
  writeCaptureFile,
} from '../helpers/capture-files.ts';
import { runCli, tempDir } from '../helpers/cli.ts';

/**
 * SageMaker Data Capture files read wherever a table is read: capture files written from a CSV (every
 * payload shape: CSV, JSON instances as objects and arrays, base64, several rows per request, gzip files,
 * two variants, nested hour directories) give the same drift report and the same CBPE estimate as the CSV.
 */
const DATA = new URL('../fixtures/data/mlc_churn.csv', import.meta.url).pathname;
const SCORES = new URL('../fixtures/performance/churn/churn.csv', import.meta.url).pathname;

let work: Awaited<ReturnType<typeof tempDir>>;
let features: string[];
const paths = { baseline: '', current: '', capture: '', reference: '' };

/** A drift report without its metadata (input names, timings, time of day), which differ by input. */
function findings(stdout: string): Record<string, unknown> {
  const { metadata: _, ...rest } = JSON.parse(stdout) as Record<string, unknown>;
  return rest;
}

/** A CSV field as a JSON value: a number when it round-trips exactly, else its text; empty is null. */
const jsonValue = (text: string) =>
  text === '' ? null : String(Number(text)) === text ? Number(text) : text;

beforeAll(async () => {
  work = await tempDir('driftwatch-capture-');
  const unquote = (line: string) => line.split(',').map((field) => field.replace(/^"(.*)"$/, '$1'));
  const [header, ...rows] = (await readFile(DATA, 'utf8')).trimEnd().split('\n').map(unquote);
  const scoreLines = (await readFile(SCORES, 'utf8')).trimEnd().split('\n').slice(1);
  const churnAt = header!.indexOf('churn');
  features = header!.filter((_, i) => i !== churnAt);
  const table = rows.map((row, i) => ({
    features: row.filter((_, j) => j !== churnAt),
    churn: row[churnAt]!,
    score: scoreLines[i]!.split(',')[1]!,
  }));
  const half = 2500;
  const csv = (part: typeof table, label: boolean) =>
    [
      [...features, 'score', ...(label ? ['churn'] : [])].join(','),
      ...part.map((row) => [...row.features, row.score, ...(label ? [row.churn] : [])].join(',')),
    ].join('\n') + '\n';
  paths.baseline = join(work.dir, 'baseline.csv');
  paths.current = join(work.dir, 'current.csv');
  paths.reference = join(work.dir, 'reference.csv');
  await writeFile(paths.baseline, csv(table.slice(0, half), false));
  await writeFile(paths.reference, csv(table.slice(0, half), true));
  const current = table.slice(half);
  await writeFile(paths.current, csv(current, false));

  // The current half as captured traffic: requests of 1 to 4 rows in turn, in six payload shapes, 60
  // requests per file, files a minute apart in hour directories, every fourth file gzip-compressed.
  paths.capture = join(work.dir, 'capture');
  const start = Date.UTC(2026, 11, 7, 0, 0, 0);
  let at = 0;
  let request = 0;
  let file = 0;
  let records: CaptureRecord[] = [];
  const flush = async () => {
    if (records.length === 0) return;
    const time = new Date(start + file * 60_000 * 7);
    const variant = file % 2 === 0 ? 'AllTraffic' : 'Canary';
    const gz = file % 4 === 3;
    await writeCaptureFile(
      capturePath(paths.capture, 'churn-endpoint', variant, time, `f${file}`, gz ? 'jsonl.gz' : 'jsonl'),
      records,
    );
    records = [];
    file++;
  };
  while (at < current.length) {
    const rows = current.slice(at, at + 1 + (request % 4));
    at += rows.length;
    const scores = rows.map((row) => row.score);
    const objects = rows.map((row) =>
      Object.fromEntries(features.map((name, j) => [name, jsonValue(row.features[j]!)])),
    );
    const arrays = rows.map((row) => row.features.map(jsonValue));
    const shapes: [ReturnType<typeof csvInput>, ReturnType<typeof csvOutput>][] = [
      [csvInput(rows.map((row) => row.features)), csvOutput(scores)],
      [
        jsonInput({ instances: objects }),
        jsonOutput({ predictions: scores.map((s) => ({ score: Number(s) })) }),
      ],
      [jsonInput({ instances: arrays }, 'BASE64'), jsonOutput(scores.map(Number), 'BASE64')],
      [
        {
          ...csvInput(rows.map((row) => row.features)),
          encoding: 'BASE64',
          data: Buffer.from(rows.map((row) => row.features.join(',')).join('\n')).toString('base64'),
        },
        csvOutput(scores),
      ],
      [
        jsonInput(rows.length === 1 ? objects[0] : objects),
        jsonOutput(rows.length === 1 ? Number(scores[0]) : scores.map(Number)),
      ],
      [
        jsonInput(arrays.map((values) => ({ features: values }))),
        jsonOutput(scores.map((s) => ({ score: s }))),
      ],
    ];
    const [input, output] = shapes[request % shapes.length]!;
    records.push(
      record(
        input,
        output,
        `event-${request}`,
        new Date(start + request * 1000).toISOString(),
        `id-${request}`,
      ),
    );
    request++;
    if (request % 60 === 0) await flush();
  }
  await flush();
});
afterAll(async () => work?.cleanup());

describe('Data Capture as a table', () => {
  it('gives the same drift report as the CSV it was captured from, score (prediction drift) included', async () => {
    const flags = ['--format', 'json', '-q', '--capture-features', features.join(',')];
    const fromCsv = await runCli(['drift', paths.baseline, paths.current, ...flags]);
    expect(fromCsv.stderr).toBe('');
    expect(fromCsv.code).toBe(0);
    const fromCapture = await runCli(['drift', paths.baseline, paths.capture, ...flags]);
    expect(fromCapture.stderr).toBe('');
    expect(fromCapture.code).toBe(0);
    const csvReport = findings(fromCsv.stdout) as { features: { feature: string }[] };
    const captureReport = findings(fromCapture.stdout) as typeof csvReport;
    expect(captureReport.features.map((f) => f.feature)).toContain('score');
    expect(captureReport.features.map((f) => f.feature)).not.toContain('eventId');
    expect(captureReport).toEqual(csvReport);
  });

  it('profiles capture files, and a profile of them checks drift as the files do', async () => {
    const profile = join(work.dir, 'capture-profile.json');
    const flags = ['-q', '--capture-features', features.join(',')];
    const made = await runCli(['profile', paths.capture, '-o', profile, ...flags]);
    expect(made.code).toBe(0);
    expect(made.stderr).toBe('');
    const fromProfile = await runCli(['drift', profile, paths.current, '--format', 'json', ...flags]);
    const fromFiles = await runCli(['drift', paths.capture, paths.current, '--format', 'json', ...flags]);
    expect(fromProfile.code).toBe(0);
    expect(fromFiles.code).toBe(0);
    expect(findings(fromProfile.stdout)).toEqual(findings(fromFiles.stdout));
  });

  it('segments by variant when asked', async () => {
    const result = await runCli([
      'drift',
      paths.capture,
      paths.capture,
      '--format',
      'json',
      '--segment',
      'variant',
      '--capture-features',
      features.join(','),
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { features: { segment: { value: string } | null }[] };
    const variants = new Set(report.features.map((f) => f.segment?.value ?? null));
    expect(variants).toEqual(new Set([null, 'AllTraffic', 'Canary']));
  });

  it('estimates performance on captured traffic (CBPE) as on the CSV', async () => {
    const args = ['--label', 'churn', '--score', 'score', '--positive', 'yes', '--format', 'json'];
    const features_ = ['--capture-features', features.join(',')];
    const fromCsv = await runCli(['estimate', paths.reference, paths.current, ...args]);
    const fromCapture = await runCli(['estimate', paths.reference, paths.capture, ...args, ...features_]);
    expect(fromCapture.stderr).toBe('');
    expect(fromCapture.code).toBe(0);
    expect(JSON.parse(fromCapture.stdout)).toEqual(JSON.parse(fromCsv.stdout));
  });

  it('evaluates capture files whose payload holds the label, as the CSV', async () => {
    const lines = (await readFile(paths.reference, 'utf8')).trimEnd().split('\n').slice(1, 401);
    const scoreAt = features.length;
    const rows = lines.map((line) => line.split(','));
    const csv = join(work.dir, 'labelled.csv');
    await writeFile(
      csv,
      `area_code,churn,score\n${rows.map((r) => [r[2], r[scoreAt + 1], r[scoreAt]].join(',')).join('\n')}\n`,
    );
    const dir = join(work.dir, 'labelled-capture');
    const records = rows.map((r, i) =>
      record(
        jsonInput({ instances: [{ area_code: r[2], churn: r[scoreAt + 1] }] }),
        csvOutput([r[scoreAt]!]),
        `e${i}`,
      ),
    );
    await writeCaptureFile(
      capturePath(dir, 'ep', 'AllTraffic', new Date(Date.UTC(2026, 11, 7)), 'a'),
      records,
    );
    const args = [
      '--label',
      'churn',
      '--score',
      'score',
      '--positive',
      'yes',
      '--segment',
      'area_code',
      '--format',
      'json',
    ];
    const fromCsv = await runCli(['evaluate', csv, ...args]);
    const fromCapture = await runCli(['evaluate', dir, ...args]);
    expect(fromCapture).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(fromCapture.stdout)).toEqual(JSON.parse(fromCsv.stdout));
  });

  it('warns about bad records and fails a file with too many, naming it', async () => {
    const dir = join(work.dir, 'bad-capture');
    const good = (i: number) => record(csvInput([['1', '2']]), csvOutput(['0.5']), `e${i}`);
    const file = capturePath(dir, 'ep', 'AllTraffic', new Date(Date.UTC(2026, 11, 7)), 'a');
    await writeCaptureFile(file, [
      good(0),
      good(1),
      record(csvInput([['1', '2']]), csvOutput(['high']), 'e2'),
      good(3),
    ]);
    const profile = join(work.dir, 'bad.json');
    const lenient = await runCli(['profile', dir, '-o', profile, '--capture-max-bad-share', '0.25']);
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toContain(
      `driftwatch: warning: ${file}: 1 of 4 capture records are bad and left out; the first, on line 3: captureData.endpointOutput: value 1 is not a score\n`,
    );
    const strict = await runCli(['profile', dir, '-o', profile]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toBe(
      `driftwatch: ${file}: 1 of 4 capture records are bad (more than the 1% allowed); the first, on line 3: captureData.endpointOutput: value 1 is not a score\n`,
    );
    const badFlag = await runCli(['profile', dir, '-o', profile, '--capture-max-bad-share', '2']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--capture-max-bad-share: expected a share in \[0, 1\]/);
  });
});
