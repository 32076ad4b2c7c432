import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { ConfigError, InputError } from '../../../lambdas/core/errors.ts';
import {
  compareCodePoints,
  type EvaluateOptions,
  evaluateTable,
  MAX_LABELS,
  PerformanceAccumulator,
  resolveEvaluateOptions,
} from '../../../lambdas/core/performance/evaluate.ts';
import { computeMetrics } from '../../../lambdas/core/performance/metrics.ts';
import type { TableInput } from '../../../lambdas/core/readers/input.ts';
import { expectClose } from '../../helpers/close.ts';

function inline(name: string, content: string | Uint8Array): TableInput {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return {
    name,
    open: async function* () {
      yield bytes;
    },
  };
}

const BASE: EvaluateOptions = { label: 'y', score: 's' };

async function evaluateCsv(text: string, options: Partial<EvaluateOptions> = {}) {
  return evaluateTable(inline('data.csv', text), { ...BASE, ...options });
}

async function inputError(promise: Promise<unknown>): Promise<InputError> {
  const error = await promise.then(
    () => expect.fail('expected an InputError'),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

describe('evaluateTable', () => {
  it('computes the metrics of the rows with both a label and a score', async () => {
    const { report, rowsRead } = await evaluateCsv('y,s\n1,0.9\n0,0.2\n1,0.4\n0,0.6\n');
    expect(rowsRead).toBe(4);
    expect(report).toMatchObject({ rows: 4, skipped: 0, threshold: 0.5, segments: [] });
    expect(report.metrics).toEqual(computeMetrics([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.6], 0.5));
  });

  it('skips rows whose label or score is missing, by every missing token', async () => {
    const text = 'y,s\n1,0.9\n,0.5\nNA,0.5\nNaN,0.5\nnull,0.5\nNone,0.5\n0,\n0,NA\n0,None\n0,0.1\n';
    const { report } = await evaluateCsv(text);
    expect(report).toMatchObject({ rows: 2, skipped: 8 });
    expect(report.metrics.rocAuc).toBe(1);
  });

  it('still checks the score of a row skipped for its missing label', async () => {
    const error = await inputError(evaluateCsv('y,s\n1,0.5\nNA,1.5\n'));
    expect(error.location).toEqual({ file: 'data.csv', line: 3, column: 2, field: 's' });
    expect(error.message).toBe('data.csv: line 3, column 2 ("s"): the score is outside [0, 1]');
  });

  it.each([
    ['not a number', 'abc', 'the score is not a number'],
    ['infinite', 'inf', 'the score is not a number'],
    ['a hex number', '0x1', 'the score is not a number'],
    ['negative', '-0.01', 'the score is outside [0, 1]'],
    ['above 1', '1.0000001', 'the score is outside [0, 1]'],
  ])('rejects a score that is %s, naming the line and field', async (_, score, reason) => {
    const error = await inputError(evaluateCsv(`x,y,s\na,1,0.5\nb,0,${score}\n`));
    expect(error.location).toMatchObject({ line: 3, column: 3, field: 's' });
    expect(error.reason).toBe(reason);
    expect(error.message).not.toContain(score);
  });

  it('accepts the number forms of the spec and both ends of [0, 1]', async () => {
    const { report } = await evaluateCsv('y,s\n1,1\n1, .75 \n0,0\n0,-0\n1,5e-1\n0,+0.25\n');
    expect(report.rows).toBe(6);
    expect(report.metrics).toEqual(computeMetrics([1, 1, 0, 0, 1, 0], [1, 0.75, 0, 0, 0.5, 0.25]));
  });

  it('compares labels with the positive label as raw text', async () => {
    const { report, warnings } = await evaluateCsv('y,s\n1,0.9\n1.0,0.8\n" 1",0.7\n01,0.6\n0,0.1\n');
    expect(report.metrics.positiveRate).toBe(1 / 5);
    expect(warnings).toEqual([
      'the label has 5 distinct values (labels seen: "1", "1.0", " 1", "01", "0"); every label other than "1" counts as negative',
    ]);
  });

  it('warns when the positive label never occurs', async () => {
    const { report, warnings, labels } = await evaluateCsv('y,s\nyes,0.9\nno,0.1\n');
    expect(labels).toEqual(['yes', 'no']);
    expect(report.metrics).toMatchObject({ positiveRate: 0, rocAuc: null });
    expect(warnings).toEqual([
      'no row has the positive label "1" (labels seen: "yes", "no"); name the positive class with positive',
    ]);
    const named = await evaluateCsv('y,s\nyes,0.9\nno,0.1\n', {
      positive: 'yes',
      fields: { positive: '--positive' },
    });
    expect(named.warnings).toEqual([]);
    expect(named.report.metrics.rocAuc).toBe(1);
  });

  it('rejects a label outside the classes, naming the row and field', async () => {
    const options = { positive: 'yes', classes: ['no', 'yes'], fields: { classes: '--classes' } };
    const error = await inputError(evaluateCsv('s,y\n0.2,no\n0.4,yes\n0.3,Yes\n', options));
    expect(error.location).toMatchObject({ line: 4, column: 2, field: 'y' });
    expect(error.reason).toBe('the label is not one of --classes (no, yes)');
    // Missing labels are skipped, not rejected.
    const { report } = await evaluateCsv('s,y\n0.2,no\n0.4,yes\n0.3,\n', options);
    expect(report.skipped).toBe(1);
  });

  it('reads JSON numbers and booleans as their text, strings by the spec rules', async () => {
    const lines = [
      { y: true, s: 0.9, g: 1 },
      { y: false, s: '0.2', g: 2 },
      { y: 'true', s: 0.7, g: 1 },
      { y: null, s: 0.5, g: 1 },
      { y: false, g: 2 },
      { y: false, s: 'NA', g: 2 },
      { y: true, s: 0.4, g: null },
      { y: false, s: 0.3, g: 2.5 },
    ];
    const text = lines.map((line) => JSON.stringify(line)).join('\n');
    const { report } = await evaluateTable(inline('data.jsonl', text), {
      ...BASE,
      positive: 'true',
      segment: 'g',
    });
    expect(report).toMatchObject({ rows: 5, skipped: 3 });
    expect(report.metrics).toEqual(computeMetrics([1, 0, 1, 1, 0], [0.9, 0.2, 0.7, 0.4, 0.3]));
    expect(report.segments.map((s) => [s.value, s.rows])).toEqual([
      ['1', 2],
      ['2', 1],
      ['2.5', 1],
    ]);
  });

  it('rejects a JSON boolean or infinite score', async () => {
    const error = await inputError(evaluateTable(inline('d.jsonl', '{"y":1,"s":true}\n'), BASE));
    expect(error.location).toMatchObject({ line: 1, field: 's' });
    expect(error.reason).toBe('the score is not a number');
  });

  it('evaluates segments in code point order, leaving out values with no evaluated rows', async () => {
    const values = ['\u{1f600}', '\uff5a', 'b', 'B', 'é', 'only-skipped', ''];
    const lines = ['y,s,g'];
    values.forEach((value, i) => {
      const skip = value === 'only-skipped';
      lines.push(`${skip ? 'NA' : 1},0.${i + 1},${value}`, `${skip ? 'NA' : 0},0.${i},${value}`);
    });
    const { report } = await evaluateCsv(`${lines.join('\n')}\n`, { segment: 'g' });
    expect(report.segments.map((s) => s.value)).toEqual(['B', 'b', 'é', '\uff5a', '\u{1f600}']);
    expect(report.segments.every((s) => s.column === 'g' && s.rows === 2)).toBe(true);
    expect(report).toMatchObject({ rows: 12, skipped: 2 });
  });

  it('computes each segment from its rows in their original order', async () => {
    const lines = ['y,s,g'];
    const expected: Record<string, { y: number[]; s: number[] }> = {
      a: { y: [], s: [] },
      b: { y: [], s: [] },
    };
    for (let i = 0; i < 300; i++) {
      const g = (i * 7) % 3 === 0 ? 'a' : 'b';
      const y = (i * 13) % 5 < 2 ? 1 : 0;
      const s = ((i * 37) % 101) / 100;
      lines.push(`${y},${s},${g}`);
      expected[g]!.y.push(y);
      expected[g]!.s.push(s);
    }
    const { report } = await evaluateCsv(`${lines.join('\n')}\n`, { segment: 'g', threshold: 0.3 });
    for (const segment of report.segments) {
      const { y, s } = expected[segment.value]!;
      expect(segment.metrics).toEqual(computeMetrics(y, s, 0.3));
    }
  });

  it('grows its storage past the first blocks', async () => {
    const lines = ['y,s'];
    for (let i = 0; i < 5000; i++) lines.push(`${i % 3 === 0 ? 1 : 0},${(i % 1000) / 1000}`);
    const { report } = await evaluateTable(inline('big.csv.gz', gzipSync(`${lines.join('\n')}\n`)), BASE);
    expect(report.rows).toBe(5000);
    const y = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const s = Array.from({ length: 5000 }, (_, i) => (i % 1000) / 1000);
    const expected = computeMetrics(y, s);
    expectClose(report.metrics.logLoss, expected.logLoss, 'logLoss');
    expect(report.metrics.rocAuc).toBe(expected.rocAuc);
  });

  it('reads Parquet: typed scores, string labels, NaN and null as missing', async () => {
    const bytes = new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'y', data: ['1', '0', '1', null, '0'], type: 'STRING' },
          { name: 's', data: [0.8, 0.3, Number.NaN, 0.5, 0.6], type: 'DOUBLE' },
        ],
      }),
    );
    const { report, format } = await evaluateTable(inline('d.parquet', bytes), BASE);
    expect(format).toBe('parquet');
    expect(report).toMatchObject({ rows: 3, skipped: 2 });
    expect(report.metrics).toEqual(computeMetrics([1, 0, 0], [0.8, 0.3, 0.6]));
  });

  it('fails with a ConfigError naming the option when a column is not in the table', async () => {
    const fields = { label: '--label', score: '--score', segment: '--segment' };
    await expect(evaluateCsv('y,s\n1,0.5\n', { label: 'target', fields })).rejects.toThrow(
      new ConfigError('--label', 'column "target" is not in data.csv (columns: y, s)'),
    );
    await expect(evaluateCsv('y,s\n1,0.5\n', { segment: 'tier', fields })).rejects.toThrow(
      /^--segment: column "tier"/,
    );
  });

  it('fails when no row has both a label and a score', async () => {
    const error = await inputError(evaluateCsv('y,s\nNA,0.5\n1,\n'));
    expect(error.message).toBe('data.csv: no row has both a label and a score (2 rows skipped)');
  });

  it('limits the distinct labels and segment values', async () => {
    const lines = ['y,s,g'];
    for (let i = 0; i <= MAX_LABELS; i++) lines.push(`${i},0.5,${i % 4}`);
    const labels = await inputError(evaluateCsv(`${lines.join('\n')}\n`));
    expect(labels.reason).toMatch(/more than 1000 distinct values; is label the right column/);
    const segments = await inputError(
      evaluateCsv(`${lines.slice(0, 10).join('\n')}\n`, {
        label: 'g',
        score: 's',
        segment: 'y',
        maxSegments: 3,
      }),
    );
    expect(segments.location.line).toBe(5);
    expect(segments.reason).toMatch(/more than 3 distinct values/);
  });
});

describe('resolveEvaluateOptions', () => {
  it('fills in the spec defaults', () => {
    expect(resolveEvaluateOptions(BASE)).toMatchObject({
      positive: '1',
      threshold: 0.5,
      segment: null,
      classes: null,
      maxSegments: 100,
    });
  });

  it.each([
    [{ score: 'y' }, 'score: the same column as label ("y")'],
    [{ threshold: 1.5 }, 'threshold: expected a number in [0, 1], got 1.5'],
    [{ threshold: Number.NaN }, 'threshold: expected a number in [0, 1], got NaN'],
    [{ classes: ['1'] }, 'classes: expected at least two classes'],
    [{ classes: ['1', '1'] }, 'classes: a class is given twice'],
    [{ classes: ['no', 'yes'] }, 'positive: the positive label "1" is not one of classes (no, yes)'],
    [{ label: '' }, 'label: the column name is empty'],
    [{ maxSegments: 0 }, 'maxSegments: expected a whole number >= 1, got 0'],
  ] as [Partial<EvaluateOptions>, string][])('rejects %o', (options, message) => {
    expect(() => resolveEvaluateOptions({ ...BASE, ...options })).toThrow(ConfigError);
    expect(() => resolveEvaluateOptions({ ...BASE, ...options })).toThrow(message);
  });
});

describe('PerformanceAccumulator', () => {
  it('takes the label and the segment from the same column', () => {
    const sink = new PerformanceAccumulator(resolveEvaluateOptions({ ...BASE, segment: 'y' }), 'inline');
    const y = sink.column('y');
    const s = sink.column('s');
    for (const [label, score] of [
      ['1', 0.9],
      ['0', 0.1],
      ['1', 0.4],
    ] as const) {
      sink.value(y, label);
      sink.value(s, score);
      sink.endRow();
    }
    const { report } = sink.finish();
    expect(report.segments.map((segment) => [segment.value, segment.rows, segment.metrics.rocAuc])).toEqual([
      ['0', 1, null],
      ['1', 2, null],
    ]);
  });
});

describe('compareCodePoints', () => {
  it('orders by code point where UTF-16 order differs', () => {
    const values = ['\u{1f600}', '\uff5a', 'z', '\ud7ff', '\ue000', 'za', ''];
    expect([...values].sort(compareCodePoints)).toEqual([
      '',
      'z',
      'za',
      '\ud7ff',
      '\ue000',
      '\uff5a',
      '\u{1f600}',
    ]);
    const byBytes = [...values].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...values].sort(compareCodePoints)).toEqual(byBytes);
  });
});
