import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { type ColumnSource, parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../lambdas/core/errors.ts';
import { fileInput, type TableInput } from '../../../lambdas/core/readers/input.ts';
import { readParquet, toCellValue } from '../../../lambdas/core/readers/parquet.ts';
import { RecordingSink } from '../../helpers/recording-sink.ts';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'parquet-test-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function writeParquet(
  columnData: ColumnSource[],
  options: { rowGroupSize?: number; codec?: 'GZIP' | 'ZSTD' } = {},
) {
  return new Uint8Array(
    parquetWriteBuffer({
      columnData,
      rowGroupSize: options.rowGroupSize,
      codec: options.codec,
      compressors: { GZIP: (bytes) => gzipSync(bytes), ZSTD: (bytes) => zstdCompressSync(bytes) },
    }),
  );
}

/** An input over bytes in memory, with or without ranged reads, counting the ranges read. */
function memoryInput(bytes: Uint8Array, ranged: boolean, name = 'mem.parquet') {
  const input: TableInput & { ranges: [number, number][] } = {
    name,
    ranges: [],
    open: async function* () {
      for (let start = 0; start < bytes.length; start += 1000) yield bytes.slice(start, start + 1000);
    },
  };
  if (ranged) {
    input.size = bytes.length;
    input.readRange = async (start, end) => {
      input.ranges.push([start, end]);
      return bytes.slice(start, end);
    };
  }
  return input;
}

const typed: ColumnSource[] = [
  { name: 'i32', data: new Int32Array([1, 2, 3]), type: 'INT32' },
  { name: 'i64', data: [1n, null, -(2n ** 40n)], type: 'INT64' },
  { name: 'f64', data: [1.5, null, Number.NaN], type: 'DOUBLE' },
  { name: 'text', data: ['a', null, 'é'], type: 'STRING' },
  { name: 'flag', data: [true, false, null], type: 'BOOLEAN' },
  { name: 'at', data: [new Date('2024-01-02T03:04:05Z'), null, new Date(0)], type: 'TIMESTAMP' },
  { name: 'raw', data: [new Uint8Array([104, 105]), null, new Uint8Array([0x7b, 0x7d])], type: 'BYTE_ARRAY' },
  { name: 'nested', data: [{ a: 1, b: [1, 2] }, null, [1, 'x']], type: 'VARIANT' },
];

const typedRows = [
  {
    i32: 1,
    i64: 1,
    f64: 1.5,
    text: 'a',
    flag: true,
    at: '2024-01-02T03:04:05.000Z',
    raw: 'hi',
    nested: '{"a":1,"b":[1,2]}',
  },
  { i32: 2, i64: null, f64: null, text: null, flag: false, at: null, raw: null, nested: null },
  {
    i32: 3,
    i64: -(2 ** 40),
    f64: Number.NaN,
    text: 'é',
    flag: null,
    at: '1970-01-01T00:00:00.000Z',
    raw: '{}',
    nested: '[1,"x"]',
  },
];

describe('readParquet', () => {
  it('maps every physical type to a sink value, in schema order', async () => {
    const sink = new RecordingSink();
    const rows = await readParquet(memoryInput(writeParquet(typed), true), sink, { name: 'mem.parquet' });
    expect(rows).toBe(3);
    expect(sink.columns).toEqual(typed.map((column) => column.name));
    expect(sink.rows.map((row) => ({ ...row }))).toEqual(typedRows);
  });

  it('reads row group by row group: rows of the first group reach the sink before later groups are fetched', async () => {
    const count = 1000;
    const bytes = writeParquet(
      [
        { name: 'id', data: Int32Array.from({ length: count }, (_, i) => i), type: 'INT32' },
        { name: 'label', data: Array.from({ length: count }, (_, i) => `v${i % 7}`), type: 'STRING' },
      ],
      { rowGroupSize: 100 },
    );
    const input = memoryInput(bytes, true);
    const rangesAtRow: number[] = [];
    const sink = new RecordingSink();
    const endRow = sink.endRow.bind(sink);
    sink.endRow = () => {
      rangesAtRow.push(input.ranges.length);
      endRow();
    };
    const groups: number[] = [];
    await readParquet(input, sink, { name: 'mem.parquet', onRowGroup: (rows) => groups.push(rows) });
    expect(sink.rows.map((row) => row['id'])).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(sink.rows[999]).toEqual({ id: 999, label: 'v5' });
    expect(groups).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * 100));
    expect(rangesAtRow[0]).toBeLessThan(rangesAtRow[999]!);
    // No single read covers more than one row group's data (the footer read aside).
    const footer = input.ranges[0]!;
    const largest = Math.max(...input.ranges.slice(1).map(([start, end]) => end - start));
    expect(footer[1]).toBe(bytes.length);
    expect(largest).toBeLessThan(bytes.length / 5);
  });

  it('spools a stream without ranged reads to a temporary file and removes it', async () => {
    const spoolDirectory = await mkdtemp(join(directory, 'spool-'));
    const previous = process.env['TMPDIR'];
    process.env['TMPDIR'] = spoolDirectory;
    try {
      const sink = new RecordingSink();
      const bytes = writeParquet(typed, { rowGroupSize: 2 });
      const input = memoryInput(bytes, false);
      const open = input.open;
      let spooled: string[] = [];
      input.open = async function* () {
        yield* open();
        spooled = await readdir(spoolDirectory, { recursive: true });
      };
      expect(await readParquet(input, sink, { name: 'mem.parquet' })).toBe(3);
      expect(spooled).toHaveLength(2);
      expect(sink.rows.map((row) => ({ ...row }))).toEqual(typedRows);
      // Also when the read fails.
      const failing = new RecordingSink((column) => column === 'text');
      await expect(readParquet(memoryInput(bytes, false), failing, { name: 'mem.parquet' })).rejects.toThrow(
        InputError,
      );
      expect(await readdir(spoolDirectory)).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = previous;
    }
  });

  it('reads a local file through ranges', async () => {
    const path = join(directory, 'local.parquet');
    await writeFile(path, writeParquet(typed));
    const sink = new RecordingSink();
    expect(await readParquet(fileInput(path), sink, { name: path })).toBe(3);
    expect(sink.rows[0]).toMatchObject({ i32: 1, text: 'a' });
  });

  it.each(['GZIP', 'ZSTD'] as const)('decodes %s-compressed column chunks', async (codec) => {
    const sink = new RecordingSink();
    await readParquet(memoryInput(writeParquet(typed, { codec }), true), sink, { name: 'mem.parquet' });
    expect(sink.rows.map((row) => ({ ...row }))).toEqual(typedRows);
  });
});

describe('readParquet: errors', () => {
  const read = (bytes: Uint8Array, sink = new RecordingSink()) =>
    readParquet(memoryInput(bytes, true, 'bad.parquet'), sink, { name: 'bad.parquet' });

  it('rejects bytes that are not Parquet, naming the file', async () => {
    await expect(read(new TextEncoder().encode('a,b\n1,2\n'))).rejects.toThrow(
      /^bad\.parquet: not a Parquet file, or its footer is corrupt \(/,
    );
    await expect(read(new TextEncoder().encode('PAR1'))).rejects.toThrow(InputError);
  });

  it('rejects a corrupt footer and corrupt column data', async () => {
    const bytes = writeParquet(typed);
    const footer = bytes.slice();
    // The metadata length just before the closing magic number.
    footer.set([0xff, 0xff, 0xff, 0x7f], footer.length - 8);
    await expect(read(footer)).rejects.toThrow(/^bad\.parquet: not a Parquet file, or its footer is corrupt/);
    const data = bytes.slice();
    data.fill(0xee, 4, 200);
    await expect(read(data)).rejects.toThrow(/^bad\.parquet: row group 1 cannot be read/);
  });

  it('passes errors of the source itself through unchanged', async () => {
    const input = memoryInput(writeParquet(typed), true);
    const failure = new Error('connection reset');
    input.readRange = async () => {
      throw failure;
    };
    await expect(readParquet(input, new RecordingSink(), { name: 'mem.parquet' })).rejects.toBe(failure);
  });

  it("places a sink's ValueError at the row and column", async () => {
    const sink = new RecordingSink((column, value) => column === 'text' && value === 'é');
    const error = await read(writeParquet(typed, { rowGroupSize: 2 }), sink).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe('bad.parquet: line 3 ("text"): the value is not acceptable');
  });

  it('rejects a file without rows', async () => {
    const bytes = writeParquet([{ name: 'a', data: new Int32Array(0), type: 'INT32' }]);
    await expect(read(bytes)).rejects.toThrow('bad.parquet: the file has no data rows');
  });
});

describe('toCellValue', () => {
  it('maps decoded values to sink values', () => {
    expect(toCellValue(undefined)).toBeNull();
    expect(toCellValue(null)).toBeNull();
    expect(toCellValue(2n ** 53n)).toBe(2 ** 53);
    expect(toCellValue(new Date(Number.NaN))).toBeNull();
    expect(toCellValue(new Uint8Array([0xe2, 0x82, 0xac]))).toBe('€');
    expect(toCellValue({ big: 1n, when: new Date(0), list: [null, undefined] })).toBe(
      '{"big":1,"when":"1970-01-01T00:00:00.000Z","list":[null,null]}',
    );
  });
});
