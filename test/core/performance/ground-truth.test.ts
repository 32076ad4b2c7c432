import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lambdas/core/errors.ts';
import {
  delayDistribution,
  evaluateWithGroundTruth,
  LabelIndex,
  parseTime,
  readLabelFile,
  sortLabelFiles,
} from '../../../lambdas/core/performance/ground-truth.ts';
import { captureDirectoryInput } from '../../../lambdas/core/readers/capture.ts';
import type { TableInput } from '../../../lambdas/core/readers/input.ts';

/** Labels joined to captured predictions, the rules one at a time (the golden join is test/bin/evaluate-ground-truth). */

const input = (name: string, text: string): TableInput => ({
  name,
  open: async function* () {
    yield new TextEncoder().encode(text);
  },
});

const captureLine = (eventId: string, rows: number[][], scores: number[], inferenceId?: string) =>
  JSON.stringify({
    captureData: {
      endpointInput: {
        observedContentType: 'text/csv',
        mode: 'INPUT',
        data: rows.map((r) => r.join(',')).join('\n'),
        encoding: 'CSV',
      },
      endpointOutput: {
        observedContentType: 'text/csv',
        mode: 'OUTPUT',
        data: scores.join('\n'),
        encoding: 'CSV',
      },
    },
    eventMetadata: { eventId, inferenceTime: '2026-12-07T00:00:00Z', ...(inferenceId && { inferenceId }) },
    eventVersion: '0',
  });

const label = (eventId: string, data: string, encoding = 'CSV') =>
  JSON.stringify({ groundTruthData: { data, encoding }, eventMetadata: { eventId }, eventVersion: '0' });

const capture = captureDirectoryInput('capture', [
  input(
    'capture/ep/AllTraffic/2026/12/07/00/00-00-000-a.jsonl',
    [
      captureLine('e1', [[1]], [0.9], 'i1'),
      captureLine('e2', [[2], [3]], [0.2, 0.7]),
      captureLine('e3', [[4]], [0.4]),
    ].join('\n'),
  ),
]);

describe('evaluateWithGroundTruth', () => {
  it('joins by inferenceId when the record has one, else eventId; a record labels its rows in order', async () => {
    const { report } = await evaluateWithGroundTruth(
      capture,
      [
        input(
          'gt/labels.jsonl',
          [label('i1', '1'), label('e2', '["0", "1"]', 'JSON'), label('e1', '0')].join('\n'),
        ),
      ],
      { label: 'y', score: 'score' },
    );
    // e1's label is not used: its record has an inferenceId (i1), so the label by eventId is uncaptured.
    expect(report.rows).toBe(3);
    expect(report.metrics.accuracy).toBe(1);
    expect(report.groundTruth).toMatchObject({
      captured: 4,
      joined: 3,
      coverage: 0.75,
      uncaptured: 1,
      duplicates: 0,
    });
  });

  it('keeps the last label of a duplicated id, by file order then line', async () => {
    const files = sortLabelFiles([
      input('gt/2026/12/07/02/b.jsonl', label('i1', '1')),
      input('gt/2026/12/07/01/a.jsonl', [label('i1', '1'), label('i1', '0')].join('\n')),
    ]);
    expect(files.map((file) => file.name)).toEqual(['gt/2026/12/07/01/a.jsonl', 'gt/2026/12/07/02/b.jsonl']);
    const { report } = await evaluateWithGroundTruth(capture, files, { label: 'y', score: 'score' });
    expect(report.groundTruth.duplicates).toBe(2);
    expect(report.metrics.accuracy).toBe(1);
  });

  it('fails on a label outside the classes, naming the prediction and not the value', async () => {
    const run = evaluateWithGroundTruth(capture, [input('gt/l.jsonl', label('e3', 'maybe'))], {
      label: 'y',
      score: 'score',
      classes: ['0', '1'],
      fields: { classes: 'performance.classes' },
    });
    await expect(run).rejects.toThrow(InputError);
    await expect(run).rejects.toThrow(/the label of prediction e3.*not one of performance\.classes \(0, 1\)/);
  });
});

describe('label files', () => {
  it('reads a table with id, label and time columns; rows without id or label are bad records', async () => {
    const index = new LabelIndex();
    const summary = await readLabelFile(
      input('labels.csv', 'inferenceId,label,known\na,1,2026-12-07T01:00:00Z\n,0,\nb,0,1796691600\n'),
      index,
      { timeColumn: 'known', maxBadShare: 0.5 },
    );
    expect(summary).toMatchObject({ format: 'csv', records: 3, labels: 2, badRecords: 1 });
    expect(summary.firstError).toEqual({ line: 2, reason: 'inferenceId is missing' });
    expect(index.entries.get('a')!.time).toBe(Date.parse('2026-12-07T01:00:00Z'));
    expect(index.entries.get('b')!.time).toBe(1796691600 * 1000);
  });

  it('parses times as ISO 8601 or epoch seconds', () => {
    expect(parseTime('2026-12-07T00:00:00Z')).toBe(Date.UTC(2026, 11, 7));
    expect(parseTime(60)).toBe(60_000);
    expect(parseTime('soon')).toBeNaN();
    expect(parseTime(null)).toBeNaN();
  });

  it('gives the delay distribution as numpy.percentile does', () => {
    // numpy.percentile([10, 20, 30, 40, 100], [50, 90]) == [30, 76]
    expect(delayDistribution([100, 10, 40, 20, 30])).toEqual({ count: 5, p50: 30, p90: 76, max: 100 });
    expect(delayDistribution([])).toBeNull();
  });
});
