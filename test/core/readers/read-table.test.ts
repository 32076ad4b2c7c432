import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, LimitExceededError } from '../../../lambdas/core/errors.ts';
import { fileInput, type TableInput } from '../../../lambdas/core/readers/input.ts';
import {
  detectFormat,
  PROGRESS_INTERVAL_BYTES,
  readTable,
} from '../../../lambdas/core/readers/read-table.ts';
import type { ReadProgress } from '../../../lambdas/core/readers/types.ts';
import { nullSink, RecordingSink } from '../../helpers/recording-sink.ts';

const encoder = new TextEncoder();
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'read-table-test-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function file(name: string, content: string | Uint8Array): Promise<TableInput> {
  const path = join(directory, name);
  await writeFile(path, content);
  return fileInput(path);
}

/** A stream-only input (no size, no ranges), as an HTTP body or a pipe would be. */
function streamInput(name: string, content: string | Uint8Array, chunkBytes = 7): TableInput {
  const bytes = typeof content === 'string' ? encoder.encode(content) : content;
  return {
    name,
    open: async function* () {
      for (let start = 0; start < bytes.length; start += chunkBytes)
        yield bytes.slice(start, start + chunkBytes);
    },
  };
}

const parquetBytes = new Uint8Array(
  parquetWriteBuffer({
    columnData: [
      { name: 'x', data: new Float64Array([1.5, 2.5]), type: 'DOUBLE' },
      { name: 'c', data: ['a', 'b'], type: 'STRING' },
    ],
  }),
);

describe('detectFormat', () => {
  const none = new Uint8Array(0);
  it.each([
    ['data.csv', 'csv'],
    ['s3://bucket/dir.v2/data.CSV.gz', 'csv'],
    ['data.tsv', 'csv'],
    ['events.jsonl', 'jsonl'],
    ['events.ndjson.gz', 'jsonl'],
    ['events.json', 'jsonl'],
    ['table.parquet', 'parquet'],
    ['table.pq.gz', 'parquet'],
  ])('knows %s by its extension', (name, format) => {
    expect(detectFormat(name, none)).toBe(format);
  });

  it('sniffs the first bytes when the extension says nothing', () => {
    expect(detectFormat('export', parquetBytes.subarray(0, 16))).toBe('parquet');
    expect(detectFormat('export.gz', encoder.encode('\ufeff \r\n {"a":1}'))).toBe('jsonl');
    expect(detectFormat('export.txt', encoder.encode('a,b\n'))).toBe('csv');
    expect(detectFormat('dir.json/export', encoder.encode('x\n'))).toBe('csv');
    expect(detectFormat('export', none)).toBe('csv');
  });

  it('lets the extension win over the content', () => {
    expect(detectFormat('data.csv', encoder.encode('{"a":1}'))).toBe('csv');
  });
});

describe('readTable', () => {
  it('reads CSV, TSV, JSON Lines and Parquet files', async () => {
    const cases: [TableInput, string][] = [
      [await file('a.csv', 'x,c\n1.5,a\n2.5,b\n'), 'csv'],
      [await file('a.tsv', 'x\tc\n1.5\ta\n2.5\tb\n'), 'csv'],
      [await file('a.jsonl', '{"x":1.5,"c":"a"}\n{"x":2.5,"c":"b"}\n'), 'jsonl'],
      [await file('a.parquet', parquetBytes), 'parquet'],
    ];
    for (const [input, format] of cases) {
      const sink = new RecordingSink();
      expect(await readTable(input, sink)).toEqual({ format, compressed: false, rows: 2 });
      expect(sink.columns).toEqual(['x', 'c']);
      expect(sink.table().map((row) => row.map(String))).toEqual([
        ['1.5', 'a'],
        ['2.5', 'b'],
      ]);
    }
  });

  it('sniffs the format of inputs with unknown names, from files and from streams', async () => {
    const contents: [string | Uint8Array, string][] = [
      ['x,c\n1,a\n', 'csv'],
      ['\n{"x":1,"c":"a"}\n', 'jsonl'],
      [parquetBytes, 'parquet'],
    ];
    for (const [index, [content, format]] of contents.entries()) {
      for (const input of [await file(`unnamed-${index}`, content), streamInput('body', content)]) {
        const result = await readTable(input, new RecordingSink());
        expect(result.format, `${input.name} as ${format}`).toBe(format);
      }
    }
  });

  it('gunzips by magic number, whatever the name, for every format', async () => {
    const contents: [string | Uint8Array, string][] = [
      ['x,c\n1,a\n2,b\n', 'csv'],
      ['{"x":1}\n{"x":2}\n', 'jsonl'],
      [parquetBytes, 'parquet'],
    ];
    for (const [index, [content, format]] of contents.entries()) {
      const gz = gzipSync(content);
      for (const input of [
        await file(`g${index}.${format}.gz`, gz),
        await file(`g${index}.${format}`, gz),
        await file(`g${index}`, gz),
        streamInput(`g${index}`, gz, 5),
      ]) {
        expect(await readTable(input, new RecordingSink()), input.name).toEqual({
          format,
          compressed: true,
          rows: 2,
        });
      }
    }
  });

  it('stops a gzip bomb at the decompressed-size limit', async () => {
    const bomb = gzipSync(encoder.encode(`a\n${'1\n'.repeat(1_000_000)}`));
    expect(bomb.length).toBeLessThan(10_000);
    const input = await file('bomb.csv.gz', bomb);
    const error = await readTable(input, nullSink(), { maxDecompressedBytes: 1_000_000 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(LimitExceededError);
    expect((error as LimitExceededError).limit).toBe(1_000_000);
    expect((error as Error).message).toMatch(/bomb\.csv\.gz: expands past the limit of 1000000 bytes/);
  });

  it('rejects a corrupt gzip stream', async () => {
    const gz = gzipSync('a\n1\n2\n');
    await expect(
      readTable(streamInput('t.csv.gz', gz.subarray(0, gz.length - 6)), new RecordingSink()),
    ).rejects.toThrow(/t\.csv\.gz: the gzip stream is (truncated|corrupt)/);
  });

  it('says an input without content is empty', async () => {
    const empties: TableInput[] = [
      await file('empty.csv', ''),
      await file('empty.parquet', ''),
      await file('empty', ''),
      await file('empty.jsonl.gz', gzipSync('')),
      streamInput('empty.parquet', ''),
      streamInput('empty.csv', '\n\n'),
    ];
    for (const input of empties) {
      const error = await readTable(input, new RecordingSink()).catch((caught: unknown) => caught);
      expect(error, input.name).toBeInstanceOf(InputError);
      expect((error as Error).message).toMatch(/^[^:]+: the file is empty/);
      expect((error as Error).message.startsWith(`${input.name}: the file is empty`)).toBe(true);
    }
  });

  it('reports an error in the content with the file name', async () => {
    await expect(readTable(await file('bad.parquet', 'a,b\n1,2\n'), new RecordingSink())).rejects.toThrow(
      /bad\.parquet: not a Parquet file/,
    );
    await expect(
      readTable(streamInput('bad.jsonl', '{"a":1}\n{oops}\n'), new RecordingSink()),
    ).rejects.toThrow(/^bad\.jsonl: line 2: invalid JSON/);
  });

  it('passes the system error through when the file does not exist', async () => {
    await expect(readTable(fileInput(join(directory, 'missing.csv')), new RecordingSink())).rejects.toThrow(
      /ENOENT/,
    );
  });
});

describe('readTable: progress', () => {
  const rows = 200_000;
  const csv = `id,value\n${Array.from({ length: rows }, (_, i) => `${i},${(i * 2654435761) % 1e9}`).join('\n')}\n`;

  function check(reports: ReadProgress[], totalBytes: number | undefined, compressedBytes: number): void {
    expect(reports.length).toBeGreaterThan(2);
    for (let i = 1; i < reports.length; i++) {
      const step = reports[i]!.bytesRead - reports[i - 1]!.bytesRead;
      if (i < reports.length - 1) expect(step).toBeGreaterThanOrEqual(PROGRESS_INTERVAL_BYTES);
      expect(step).toBeLessThanOrEqual(1 << 20);
      expect(reports[i]!.rows).toBeGreaterThanOrEqual(reports[i - 1]!.rows);
    }
    for (const report of reports) expect(report.totalBytes).toBe(totalBytes);
    expect(reports.at(-1)).toEqual({
      bytesRead: compressedBytes,
      rows,
      ...(totalBytes ? { totalBytes } : {}),
    });
  }

  it('reports compressed bytes and rows of a local file', async () => {
    // Stored, not deflated: a compressed size of a few MiB, so several reports of 1 MiB file chunks.
    const gz = gzipSync(csv, { level: 0 });
    const input = await file('progress.csv.gz', gz);
    const reports: ReadProgress[] = [];
    await readTable(input, new RecordingSink(), { onProgress: (progress) => reports.push(progress) });
    check(reports, gz.length, gz.length);
  });

  it('reports on a stream of small chunks without a known size', async () => {
    const reports: ReadProgress[] = [];
    await readTable(streamInput('progress.csv', csv, 16 * 1024), new RecordingSink(), {
      onProgress: (progress) => reports.push(progress),
    });
    check(reports, undefined, encoder.encode(csv).length);
    expect(reports.slice(0, -1).some((report) => report.rows > 0 && report.rows < rows)).toBe(true);
  });

  it('reports the bytes of ranged Parquet reads', async () => {
    const reports: ReadProgress[] = [];
    const input = await file('progress.parquet', parquetBytes);
    await readTable(input, new RecordingSink(), { onProgress: (progress) => reports.push(progress) });
    expect(reports).toEqual([{ bytesRead: parquetBytes.length, totalBytes: parquetBytes.length, rows: 2 }]);
  });
});

describe('readTable: local files through one reused buffer', () => {
  it('reads plain CSV and JSON Lines spanning many chunks as a stream of fresh chunks would', async () => {
    // Rows cut by the 1 MiB chunks at every place in a row, a quoted field with a line break, and JSON
    // Lines whose records cross chunks: the parsers must copy what they carry over, as the buffer is reused.
    const rows = Array.from(
      { length: 60_000 },
      (_, i) => `${i},${(i * 0.37).toFixed(3)},"t${i % 7}\nx",é${i % 3}`,
    );
    const csv = `id,value,note,tag\n${rows.join('\n')}\n`;
    const jsonl = rows
      .map((_, i) => JSON.stringify({ id: i, tag: `é${i % 3}`, pad: 'p'.repeat(i % 50) }))
      .join('\n');
    for (const [name, content] of [
      ['reused.csv', csv],
      ['reused.jsonl', jsonl],
    ] as const) {
      const input = await file(name, content);
      expect(input.openReused).toBeDefined();
      const reused = new RecordingSink();
      const streamed = new RecordingSink();
      await readTable(input, reused);
      await readTable({ ...input, openReused: undefined }, streamed);
      expect(reused.rows.length).toBe(60_000);
      expect(reused.table()).toEqual(streamed.table());
    }
  });
});
