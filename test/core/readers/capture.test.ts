import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../lambdas/core/errors.ts';
import {
  type CaptureOptions,
  CaptureReader,
  capturePathParts,
  isCaptureHead,
  localTableInput,
} from '../../../lambdas/core/readers/capture.ts';
import { readTable } from '../../../lambdas/core/readers/read-table.ts';
import {
  base64,
  capturePath,
  csvInput,
  csvOutput,
  jsonInput,
  jsonOutput,
  record,
  writeCaptureFile,
} from '../../helpers/capture-files.ts';
import { tempDir } from '../../helpers/cli.ts';
import { RecordingSink } from '../../helpers/recording-sink.ts';

const FILE = 'capture/ep/AllTraffic/2026/12/07/01/00-00-000-a.jsonl';

async function* bytes(lines: unknown[]): AsyncGenerator<Uint8Array> {
  const text = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');
  yield new TextEncoder().encode(`${text}\n`);
}

async function read(lines: unknown[], options: CaptureOptions = {}, name = FILE) {
  const sink = new RecordingSink();
  const reader = new CaptureReader(sink, { maxBadShare: 1, ...options });
  const summary = await reader.readFile(name, bytes(lines), { name });
  return { sink, summary };
}

const good = record(csvInput([['1', 'a']]), csvOutput(['0.5']), 'e1');

describe('capture records', () => {
  it('gives one row per instance with score, variant and event metadata', async () => {
    const { sink, summary } = await read(
      [
        record(
          csvInput([
            ['1', 'a'],
            ['2', 'b'],
          ]),
          csvOutput(['0.25', '0.75']),
          'e1',
          '2026-12-07T01:00:00Z',
          'i1',
        ),
        record(
          jsonInput({ instances: [{ x: 3, y: 'c' }] }),
          jsonOutput({ predictions: [{ score: 0.5 }] }),
          'e2',
        ),
      ],
      { features: ['x', 'y'] },
    );
    expect(summary).toEqual({ file: FILE, records: 2, rows: 3, badRecords: 0, firstError: null });
    expect(sink.columns).toEqual(['x', 'y', 'score', 'variant', 'eventId', 'inferenceId', 'inferenceTime']);
    expect(sink.table()).toEqual([
      ['1', 'a', 0.25, 'AllTraffic', 'e1', 'i1', '2026-12-07T01:00:00Z'],
      ['2', 'b', 0.75, 'AllTraffic', 'e1', 'i1', '2026-12-07T01:00:00Z'],
      [3, 'c', 0.5, 'AllTraffic', 'e2', null, '2026-12-07T00:00:00Z'],
    ]);
  });

  it('names CSV fields _c0, _c1, ... without feature names, as Model Monitor does', async () => {
    const { sink } = await read([good]);
    expect(sink.columns).toEqual([
      'score',
      'variant',
      'eventId',
      'inferenceId',
      'inferenceTime',
      '_c0',
      '_c1',
    ]);
    expect(sink.rows[0]).toMatchObject({ _c0: '1', _c1: 'a', score: 0.5 });
  });

  it('decodes base64, JSON Lines payloads, bare objects and arrays, {"features": [...]}', async () => {
    const { sink, summary } = await read(
      [
        record(
          { ...csvInput([]), encoding: 'BASE64', data: base64('1,a\n2,b') },
          { ...csvOutput([]), encoding: 'BASE64', data: base64('0.1\n0.2') },
          'e1',
        ),
        record(
          {
            observedContentType: 'application/jsonlines',
            mode: 'INPUT',
            encoding: 'JSON',
            data: '{"x":1}\n{"x":2}',
          },
          jsonOutput([0.3, 0.4]),
          'e2',
        ),
        record(jsonInput({ x: 5, y: 'z' }, 'BASE64'), jsonOutput(0.9, 'BASE64'), 'e3'),
        record(jsonInput([{ features: [7, 'w'] }]), jsonOutput([{ probability: '0.6' }]), 'e4'),
      ],
      { features: ['x', 'y'] },
    );
    expect(summary.badRecords).toBe(0);
    expect(sink.rows.map((row) => [row['x'], row['y'] ?? null, row['score']])).toEqual([
      ['1', 'a', 0.1],
      ['2', 'b', 0.2],
      [1, null, 0.3],
      [2, null, 0.4],
      [5, 'z', 0.9],
      [7, 'w', 0.6],
    ]);
  });

  it('reads input-only and output-only captures', async () => {
    const { sink } = await read([
      record(csvInput([['1']]), undefined, 'e1'),
      record(undefined, csvOutput(['0.2']), 'e2'),
    ]);
    expect(sink.rows.map((row) => [row['_c0'], row['score']])).toEqual([
      ['1', null],
      [undefined, 0.2],
    ]);
  });

  it('takes the endpoint and variant from the path', () => {
    expect(capturePathParts('s3://b/prefix/my-ep/Canary/2026/12/07/23/59-59-999-x.jsonl')).toEqual({
      endpoint: 'my-ep',
      variant: 'Canary',
    });
    expect(capturePathParts('data/capture.jsonl')).toBeNull();
  });

  it('recognises a capture record by its first key', () => {
    const encode = (text: string) => new TextEncoder().encode(text);
    expect(isCaptureHead(encode(JSON.stringify(good)))).toBe(true);
    expect(isCaptureHead(encode('{"a": 1, "captureData": {}}'))).toBe(false);
    expect(isCaptureHead(encode('a,b\n1,2\n'))).toBe(false);
  });
});

describe('bad capture records are counted per file with the first error', () => {
  const cases: [string, unknown, RegExp][] = [
    ['a line that is not JSON', '{"captureData": ', /^not JSON$/],
    ['no captureData', { eventMetadata: {} }, /^captureData: expected an object$/],
    [
      'neither input nor output',
      { captureData: {}, eventMetadata: {} },
      /neither endpointInput nor endpointOutput/,
    ],
    [
      'undecodable base64',
      record({ ...csvInput([['1', 'a']]), encoding: 'BASE64', data: 'not base64!' }, csvOutput(['0.5']), 'e'),
      /endpointInput\.data: undecodable base64/,
    ],
    [
      'base64 that is not UTF-8',
      record(
        { ...csvInput([]), encoding: 'BASE64', data: Buffer.from([0xff, 0xfe, 0x31]).toString('base64') },
        csvOutput(['0.5']),
        'e',
      ),
      /not UTF-8 text/,
    ],
    [
      'an unknown encoding',
      record({ ...csvInput([['1', 'a']]), encoding: 'XML' as 'CSV' }, csvOutput(['0.5']), 'e'),
      /encoding: expected CSV, JSON or BASE64, got "XML"/,
    ],
    [
      'the wrong number of CSV fields',
      record(csvInput([['1', 'a', 'extra']]), csvOutput(['0.5']), 'e'),
      /CSV row 1 has 3 fields, expected 2/,
    ],
    [
      'the wrong number of array fields',
      record(jsonInput({ instances: [[1]] }), jsonOutput([0.5]), 'e'),
      /instance 1 has 1 fields, expected 2/,
    ],
    [
      'a nested feature value',
      record(jsonInput({ instances: [{ x: { deep: 1 } }] }), jsonOutput([0.5]), 'e'),
      /field "x" is not a number, string, boolean or null/,
    ],
    [
      'JSON input that is not JSON',
      record({ ...jsonInput({}), data: '{oops' }, jsonOutput([0.5]), 'e'),
      /endpointInput\.data: not JSON/,
    ],
    [
      'an output that is not a score',
      record(csvInput([['1', 'a']]), csvOutput(['yes']), 'e'),
      /value 1 is not a score/,
    ],
    [
      'a prediction without a score',
      record(csvInput([['1', 'a']]), jsonOutput({ predictions: [{ label: 'x' }] }), 'e'),
      /has no score, probability or prediction field/,
    ],
    [
      'fewer scores than rows',
      record(
        csvInput([
          ['1', 'a'],
          ['2', 'b'],
        ]),
        csvOutput(['0.5']),
        'e',
      ),
      /holds 1 score for 2 input rows/,
    ],
    [
      'undecodable base64 output',
      record(csvInput([['1', 'a']]), { ...csvOutput([]), encoding: 'BASE64', data: '@@@@' }, 'e'),
      /endpointOutput\.data: undecodable base64/,
    ],
  ];

  it.each(cases)('%s', async (_, bad, reason) => {
    const { sink, summary } = await read([good, bad, good, bad], { features: ['x', 'y'] });
    expect(summary.records).toBe(4);
    expect(summary.badRecords).toBe(2);
    expect(summary.rows).toBe(2);
    expect(summary.firstError?.line).toBe(2);
    expect(summary.firstError?.reason).toMatch(reason);
    // The bad records' rows are left out, the good ones kept.
    expect(sink.rows).toHaveLength(2);
  });

  it('fails a file whose bad share exceeds the limit, naming the file, the counts and the first error', async () => {
    const lines = [good, good, good, 'nope', good];
    const sink = new RecordingSink();
    await expect(
      new CaptureReader(sink, { maxBadShare: 0.2 }).readFile(FILE, bytes(lines), { name: FILE }),
    ).resolves.toMatchObject({
      badRecords: 1,
    });
    const strict = new CaptureReader(new RecordingSink(), { maxBadShare: 0.1 });
    const error = await strict.readFile(FILE, bytes(lines), { name: FILE }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      `${FILE}: 1 of 5 capture records are bad (more than the 10% allowed); the first, on line 4: not JSON`,
    );
    // The default allows 1%.
    const byDefault = new CaptureReader(new RecordingSink());
    await expect(byDefault.readFile(FILE, bytes(lines), { name: FILE })).rejects.toThrow(
      /more than the 1% allowed/,
    );
  });

  it('rejects a feature named like the score column', async () => {
    const { summary } = await read([record(jsonInput({ score: 1 }), jsonOutput(0.5), 'e')]);
    expect(summary.firstError?.reason).toMatch(/named like the score column "score"/);
  });

  it("relocates a sink's value error to the file, line and field", async () => {
    const sink = new RecordingSink((column) => column === 'x');
    const reader = new CaptureReader(sink, { features: ['x', 'y'] });
    await expect(reader.readFile(FILE, bytes([good]), { name: FILE })).rejects.toThrow(
      `${FILE}: line 1 ("x"): the value is not acceptable`,
    );
  });
});

describe('capture directories', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir('driftwatch-capture-dir-');
  });
  afterAll(async () => work.cleanup());

  it('reads every file below, gzip included, in time order across variants', async () => {
    const root = join(work.dir, 'capture');
    const at = (hour: number, minute: number) => new Date(Date.UTC(2026, 11, 7, hour, minute));
    await writeCaptureFile(capturePath(root, 'ep', 'B', at(1, 0), 'x'), [
      record(csvInput([['3']]), csvOutput(['0.3']), 'e3'),
    ]);
    await writeCaptureFile(capturePath(root, 'ep', 'A', at(0, 30), 'y', 'jsonl.gz'), [
      record(csvInput([['2']]), csvOutput(['0.2']), 'e2'),
    ]);
    await writeCaptureFile(capturePath(root, 'ep', 'A', at(0, 5), 'z'), [
      record(csvInput([['1']]), csvOutput(['0.1']), 'e1'),
    ]);
    await writeCaptureFile(capturePath(root, 'ep', 'B', at(2, 0), 'w'), [
      record(csvInput([['4']]), csvOutput(['0.4']), 'e4'),
      'garbage',
    ]);
    const { input, capture } = await localTableInput(root, { maxBadShare: 0.5 });
    expect(capture).toBe(true);
    const sink = new RecordingSink();
    const result = await readTable(input, sink);
    expect(result.rows).toBe(4);
    expect(sink.rows.map((row) => [row['eventId'], row['variant']])).toEqual([
      ['e1', 'A'],
      ['e2', 'A'],
      ['e3', 'B'],
      ['e4', 'B'],
    ]);
    expect(input.capture!.summaries.map((s) => [s.records, s.badRecords])).toEqual([
      [1, 0],
      [1, 0],
      [1, 0],
      [2, 1],
    ]);
  });

  it('reads a single capture file through readTable, found by its content', async () => {
    const path = join(work.dir, 'one.jsonl');
    await writeCaptureFile(path, [record(csvInput([['1', '2']]), csvOutput(['0.5']), 'e1')]);
    const { input, capture } = await localTableInput(path);
    expect(capture).toBe(true);
    const sink = new RecordingSink();
    await readTable(input, sink);
    expect(sink.rows).toEqual([
      {
        _c0: '1',
        _c1: '2',
        score: 0.5,
        variant: null,
        eventId: 'e1',
        inferenceId: null,
        inferenceTime: '2026-12-07T00:00:00Z',
      },
    ]);
  });

  it('refuses a directory without capture files', async () => {
    const empty = join(work.dir, 'empty');
    await writeCaptureFile(join(empty, 'note.txt'), []);
    await expect(localTableInput(empty)).rejects.toThrow(/a directory without capture files/);
  });
});
