import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetector, updateDetector } from '../../lambdas/core/concept-drift/detector.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { bernoulliStream, gaussianStream } from '../helpers/streams.ts';

/**
 * `driftwatch detect` end to end: the real command over CSV, JSON Lines, Parquet and gzip gives the
 * detections of the core detector on the same values; then the text format, flags and bad input.
 */
let work: Awaited<ReturnType<typeof tempDir>>;
const temp = (name: string) => join(work.dir, name);

// Error rate 0.1, then 0.4 from row 3,000; the loss shifts from 0.5 to 0.9 at the same row.
const errors = bernoulliStream(11, 5000, 0.1, 0.4, 3000);
const losses = gaussianStream(12, 5000, 0.1, 0.5, 0.9, 3000).map((value) => Number(value.toFixed(6)));

beforeAll(async () => {
  work = await tempDir('driftwatch-detect-');
  const csv = ['id,error,loss', ...errors.map((error, i) => `${i},${error},${losses[i]}`)].join('\n');
  await writeFile(temp('feedback.csv'), `${csv}\n`);
  await writeFile(temp('feedback.csv.gz'), gzipSync(`${csv}\n`));
  await writeFile(
    temp('feedback.jsonl'),
    errors.map((error, i) => JSON.stringify({ id: i, error: error === 1, loss: losses[i] })).join('\n'),
  );
  const parquet = parquetWriteBuffer({
    columnData: [
      { name: 'error', data: Int32Array.from(errors), type: 'INT32' },
      { name: 'loss', data: Float64Array.from(losses), type: 'DOUBLE' },
    ],
  });
  await writeFile(temp('feedback.parquet'), new Uint8Array(parquet));
});
afterAll(async () => work.cleanup());

async function detect(args: string[]) {
  const result = await runCli(['detect', ...args]);
  return {
    ...result,
    json: result.code === 0 && result.stdout.startsWith('{') ? JSON.parse(result.stdout) : null,
  };
}

describe('driftwatch detect', () => {
  it('is listed in the help', async () => {
    expect((await runCli(['--help'])).stdout).toMatch(/detect \[options\] <file>/);
  });

  it.each(['adwin', 'ddm', 'page-hinkley'] as const)(
    '%s: the detections of the core detector, in every format (JSON by default on a pipe)',
    async (method) => {
      const expected = updateDetector(createDetector(method), errors);
      expect(expected.detections.length).toBeGreaterThan(0);
      // DDM may also fire early, on the first few dozen values (s_min is still wide): see the README.
      expect(expected.detections.some((row) => row >= 3000)).toBe(true);
      for (const file of ['feedback.csv', 'feedback.csv.gz', 'feedback.jsonl', 'feedback.parquet']) {
        const result = await detect([temp(file), '--column', 'error', '--method', method]);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expect(result.json).toEqual({
          method,
          parameters: createDetector(method).parameters,
          n: 5000,
          skipped: 0,
          detections: expected.detections,
          ...(method === 'ddm' ? { warnings: expected.warnings } : {}),
        });
      }
    },
  );

  it('takes a real-valued loss and the parameter flags', async () => {
    const result = await detect([
      temp('feedback.csv'),
      '--column',
      'loss',
      '--method',
      'page-hinkley',
      '--delta',
      '0.01',
      '--threshold',
      '10',
      '--direction',
      'up',
    ]);
    const parameters = {
      minInstances: 30,
      delta: 0.01,
      threshold: 10,
      alpha: 0.9999,
      direction: 'up' as const,
    };
    expect(result.json).toMatchObject({
      parameters,
      detections: updateDetector(createDetector('page-hinkley', parameters), losses).detections,
    });
  });

  it('counts rows without a value and keeps row indices of the file', async () => {
    // A blank line is no row in CSV; an empty field or NA is a row without a value.
    await writeFile(temp('gaps.csv'), 'id,error\n0,0\n\n1,\n2,NA\n3,1\n');
    const result = await detect([temp('gaps.csv'), '--column', 'error', '--method', 'adwin']);
    expect(result.json).toMatchObject({ n: 2, skipped: 2, detections: [] });
  });

  it('prints text with --format text, and exits 3 with --fail-on-drift', async () => {
    const result = await runCli([
      'detect',
      temp('feedback.csv'),
      '--column',
      'error',
      '--method',
      'ddm',
      '--format',
      'text',
      '--fail-on-drift',
    ]);
    expect(result.code).toBe(3);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(
      `ddm over column "error" of ${temp('feedback.csv')} (minInstances 30, warningThreshold 2, driftThreshold 3)`,
    );
    expect(lines[1]).toBe('values: 5000');
    expect(lines[2]).toMatch(/^drifts: \d+ at rows (\d+, )*3\d{3}/);
    expect(lines[3]).toMatch(/^warnings: \d+ beginning at rows /);
  });

  it('names file, line and column of a value that is not a number, or not 0/1 for DDM (exit 1)', async () => {
    await writeFile(temp('bad.csv'), 'id,error\n1,0\n2,oops\n');
    expect(await runCli(['detect', temp('bad.csv'), '--column', 'error', '--method', 'adwin'])).toEqual({
      code: 1,
      stdout: '',
      stderr: `driftwatch: ${temp('bad.csv')}: line 3, column 2 ("error"): the value is not a number\n`,
    });
    await writeFile(temp('half.jsonl'), '{"error":0}\n{"error":0.5}\n');
    expect(
      await runCli(['detect', temp('half.jsonl'), '--column', 'error', '--method', 'ddm']),
    ).toMatchObject({
      code: 1,
      stderr: `driftwatch: ${temp('half.jsonl')}: line 2 ("error"): DDM takes 0 (right) or 1 (wrong) only\n`,
    });
  });

  it('fails on an empty file or a column without values (exit 1)', async () => {
    await writeFile(temp('empty.csv'), '');
    expect(
      await runCli(['detect', temp('empty.csv'), '--column', 'error', '--method', 'adwin']),
    ).toMatchObject({
      code: 1,
      stderr: `driftwatch: ${temp('empty.csv')}: the file is empty\n`,
    });
    await writeFile(temp('blank.csv'), 'id,error\n1,\n2,NA\n');
    expect(
      await runCli(['detect', temp('blank.csv'), '--column', 'error', '--method', 'adwin']),
    ).toMatchObject({
      code: 1,
      stderr: `driftwatch: ${temp('blank.csv')} ("error"): no row has a value in the column (2 rows)\n`,
    });
    expect(
      await runCli(['detect', temp('missing.csv'), '--column', 'error', '--method', 'adwin']),
    ).toMatchObject({
      code: 1,
      stderr: `driftwatch: ${temp('missing.csv')}: no such file\n`,
    });
  });

  it('names the flag at fault (exit 2)', async () => {
    const file = temp('feedback.csv');
    const cases: [string[], string][] = [
      [
        ['--column', 'err', '--method', 'adwin'],
        `--column: column "err" is not in ${file} (columns: id, error, loss)`,
      ],
      [
        ['--column', 'error', '--method', 'cusum'],
        '--method: expected one of adwin, ddm, page-hinkley, got "cusum"',
      ],
      [
        ['--column', 'error', '--method', 'ddm', '--delta', '0.1'],
        '--delta: does not apply to ddm (only to adwin and page-hinkley)',
      ],
      [
        ['--column', 'error', '--method', 'adwin', '--delta', '2'],
        '--delta: expected a number in (0, 1), got 2',
      ],
      [['--column', 'error', '--method', 'adwin', '--clock', 'x'], '--clock: expected a number, got "x"'],
      [
        ['--column', 'error', '--method', 'ddm', '--threshold', '1.5'],
        '--warning-threshold: must be below the drift threshold (1.5), got 2',
      ],
      [
        ['--column', 'error', '--method', 'adwin', '--format', 'html'],
        '--format: expected text or json, got "html"',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['detect', file, ...args]);
      expect(result).toMatchObject({ code: 2, stderr: `driftwatch: ${message}\n` });
    }
    const missing = await runCli(['detect', file, '--column', 'error']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--method <method>' not specified/);
  });
});
