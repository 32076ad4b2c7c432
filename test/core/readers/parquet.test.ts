import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { type ColumnSource, parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InputError } from '../../../lambdas/core/errors.ts';
import { fileInput, type TableInput } from '../../../lambdas/core/readers/input.ts';
import { readParquet } from '../../../lambdas/core/readers/parquet.ts';
import { PageKernel } from '../../../lambdas/core/readers/parquet-kernel.ts';
import { ColumnCursor, LONG_PAGE_ROWS, PIECE_ROWS } from '../../../lambdas/core/readers/parquet-pages.ts';
import { RecordingSink } from '../../helpers/recording-sink.ts';

let directory: string;

const fixture = (name: string) => join(import.meta.dirname, '..', '..', 'fixtures', 'parquet', name);

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
];

// Nulls (and NaN, a missing number) are not handed over: the column is missing in that row. Timestamps are
// epoch seconds, booleans and binary are text.
const typedRows = [
  { i32: 1, i64: 1, f64: 1.5, at: 1704164645, text: 'a', flag: 'true', raw: 'hi' },
  { i32: 2, flag: 'false' },
  { i32: 3, i64: -(2 ** 40), at: 0, text: 'é', raw: '{}' },
];

describe('readParquet', () => {
  it('maps every physical type to a sink value, in schema order', async () => {
    const sink = new RecordingSink();
    const rows = await readParquet(memoryInput(writeParquet(typed), true), sink, { name: 'mem.parquet' });
    expect(rows).toBe(3);
    expect(sink.columns).toEqual(typed.map((column) => column.name));
    expect(sink.rows.map((row) => ({ ...row }))).toEqual(typedRows);
  });

  it('reads data pages v1 (DuckDB) with every logical type: decimals as numbers, times as epoch seconds', async () => {
    const sink = new RecordingSink();
    expect(await readParquet(fileInput(fixture('types.parquet')), sink, { name: 'types.parquet' })).toBe(3);
    expect(sink.rows[0]).toEqual({
      i32: 1,
      i64: 10_000_000_000,
      f32: 1.5,
      f64: 0.1,
      flag: 'true',
      dec9: 123.45,
      dec18: 1.5,
      dec38: -0.0001,
      ts: 1704164645.25,
      ts_ms: 1704164645.5,
      ts_ns: 1.000000001,
      tstz: 1704164645,
      day: 1704153600,
      clock: 3630,
      text: 'a',
      u8: 200,
      u32: 4_000_000_000,
      u64: 18_000_000_000_000_000_000,
      raw: 'x',
      huge: 2,
    });
    expect(sink.rows[1]).toMatchObject({
      i32: -2,
      f64: -1e300,
      flag: 'false',
      dec9: -0.01,
      dec38: 12345678901234.568,
      ts: -1,
      day: -86400,
      clock: 86399.5,
      text: 'é',
      raw: '\uFFFD',
    });
    // Row 3 is null in every column.
    expect({ ...sink.rows[2] }).toEqual({});
  });

  it('reads nullable columns, and text dictionary-encoded in one row group and PLAIN in the next', async () => {
    const sink = new RecordingSink();
    const path = fixture('mixed-snappy.parquet');
    expect(await readParquet(fileInput(path), sink, { name: path })).toBe(4500);
    expect(sink.rows.map((row) => row['id'])).toEqual(Array.from({ length: 4500 }, (_, i) => i));
    expect(sink.rows[5]).toEqual({ id: 5, half: 2.5, colour: 'blue', label: 'k1', sparse: 5 });
    expect(sink.rows[10]).toEqual({ id: 10, half: 5, colour: 'green', label: 'k2' });
    expect(sink.rows[4499]).toEqual({ id: 4499, half: 2249.5, colour: 'blue', label: 'u4499', sparse: 5 });
  });

  it.each(['uncompressed', 'gzip', 'zstd'])(
    'reads %s column chunks as it reads Snappy ones',
    async (codec) => {
      const expected = new RecordingSink();
      await readParquet(fileInput(fixture('mixed-snappy.parquet')), expected, { name: 'snappy' });
      const sink = new RecordingSink();
      await readParquet(fileInput(fixture(`mixed-${codec}.parquet`)), sink, { name: codec });
      expect(sink.table()).toEqual(expected.table());
    },
  );

  it('reads row groups of one row', async () => {
    const count = 50;
    const bytes = writeParquet(
      [
        {
          name: 'n',
          data: Array.from({ length: count }, (_, i) => (i % 5 === 0 ? null : i / 4)),
          type: 'DOUBLE',
        },
        { name: 'c', data: Array.from({ length: count }, (_, i) => `c${i % 3}`), type: 'STRING' },
      ],
      { rowGroupSize: 1 },
    );
    const sink = new RecordingSink();
    expect(await readParquet(memoryInput(bytes, true), sink, { name: 'mem.parquet' })).toBe(count);
    expect(sink.rows.map((row) => ({ ...row }))).toEqual(
      Array.from({ length: count }, (_, i) =>
        i % 5 === 0 ? { c: `c${i % 3}` } : { n: i / 4, c: `c${i % 3}` },
      ),
    );
  });

  it('reads a row group of 1,000,000 rows, a block of rows at a time', async () => {
    const count = 1_000_000;
    // One dictionary-encoded column (hyparquet-writer is slow with text at this size).
    const data = Float64Array.from({ length: count }, (_, i) => (i % 1000) / 8);
    const bytes = writeParquet([{ name: 'n', data, type: 'DOUBLE' }], { rowGroupSize: count });
    let rows = 0;
    let sum = 0;
    let values = 0;
    const sink = {
      column: () => 0,
      bytes: () => {
        throw new Error('no text expected');
      },
      value: (_column: number, value: unknown) => {
        sum += value as number;
        values++;
      },
      endRow: () => {
        if (values !== 1) throw new Error(`row ${rows + 1} has ${values} values`);
        values = 0;
        rows++;
      },
    };
    expect(await readParquet(memoryInput(bytes, true), sink, { name: 'mem.parquet' })).toBe(count);
    expect(rows).toBe(count);
    expect(sum).toBe(data.reduce((a, b) => a + b, 0));
  });

  it('decodes a long dictionary-encoded page a piece at a time, nulls included, with the same values', async () => {
    const count = LONG_PAGE_ROWS + 3 * PIECE_ROWS + 12_345;
    const numbers = Array.from({ length: count }, (_, i) => (i % 7 === 3 ? null : (i % 977) / 4));
    const texts = Array.from({ length: count }, (_, i) => (i % 11 === 5 ? null : `t${i % 13}`));
    const bytes = writeParquet(
      [
        { name: 'n', data: numbers, type: 'DOUBLE' },
        { name: 's', data: texts, type: 'STRING' },
      ],
      { rowGroupSize: count },
    );
    const pieces = vi.spyOn(PageKernel.prototype, 'dictionaryPiece');
    const sink = new RecordingSink();
    expect(await readParquet(memoryInput(bytes, true), sink, { name: 'mem.parquet' })).toBe(count);
    // Pages of more than a piece's rows were decoded in pieces (how many depends on the writer's pages).
    expect(pieces.mock.calls.length).toBeGreaterThan(2);
    pieces.mockRestore();
    sink.rows.forEach((row, i) => {
      const expected: Record<string, unknown> = {};
      if (numbers[i] !== null) expected.n = numbers[i];
      if (texts[i] !== null) expected.s = texts[i];
      expect({ ...row }, `row ${i}`).toEqual(expected);
    });
  });

  it('decodes long pages (PLAIN doubles and 64-bit integers, dictionary-encoded numbers and text) without the kernel', async () => {
    // DuckDB's file (data pages v1): one row group of 140,000 rows, one page per column.
    const long = vi.spyOn(ColumnCursor.prototype as unknown as { readLongPage(): boolean }, 'readLongPage');
    const sink = new RecordingSink();
    const file = fixture('long-plain.parquet');
    expect(await readParquet(fileInput(file), sink, { name: 'long-plain.parquet' })).toBe(140_000);
    expect(long.mock.results.filter((result) => result.value === true)).toHaveLength(4);
    long.mockRestore();
    expect(LONG_PAGE_ROWS).toBeLessThan(140_000);
    sink.rows.forEach((row, i) => {
      const expected: Record<string, unknown> = { big: i - 99 + (i % 3) * 8589934592 };
      if (i % 9 !== 4) expected.d = i * 0.5 - 7e4;
      if (i % 11 !== 3) expected.few = (i % 500) / 4;
      if (i % 13 !== 6) expected.cat = `c${i % 17}`;
      expect({ ...row }, `row ${i}`).toEqual(expected);
    });
  });

  it('reads encodings of its own through hyparquet (DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT)', async () => {
    const bytes = writeParquet([
      { name: 'delta', data: new Int32Array([5, -3, 7]), type: 'INT32', encoding: 'DELTA_BINARY_PACKED' },
      { name: 'split', data: [1.25, null, -2], type: 'DOUBLE', encoding: 'BYTE_STREAM_SPLIT' },
      { name: 'words', data: ['x', 'yy', null], type: 'STRING', encoding: 'DELTA_LENGTH_BYTE_ARRAY' },
    ]);
    const sink = new RecordingSink();
    await readParquet(memoryInput(bytes, true), sink, { name: 'mem.parquet' });
    expect(sink.rows.map((row) => ({ ...row }))).toEqual([
      { delta: 5, split: 1.25, words: 'x' },
      { delta: -3, words: 'yy' },
      { delta: 7, split: -2 },
    ]);
  });

  it('reads only the column chunks the sink takes', async () => {
    const count = 5000;
    const bytes = writeParquet([
      { name: 'keep', data: Float64Array.from({ length: count }, (_, i) => i), type: 'DOUBLE' },
      { name: 'skip', data: Float64Array.from({ length: count }, (_, i) => Math.sin(i)), type: 'DOUBLE' },
    ]);
    const input = memoryInput(bytes, true);
    const sink = new RecordingSink();
    sink.ignores = (column: number) => sink.columns[column] === 'skip';
    await readParquet(input, sink, { name: 'mem.parquet' });
    expect(sink.rows[4999]).toEqual({ keep: 4999 });
    const read = input.ranges.slice(1).reduce((sum, [start, end]) => sum + end - start, 0);
    expect(read).toBeLessThan(bytes.length / 2);
  });

  it('leaves nested and repeated columns out when the sink ignores them', async () => {
    const sink = new RecordingSink();
    sink.ignores = (column: number) => sink.columns[column] !== 'id';
    await readParquet(fileInput(fixture('nested.parquet')), sink, { name: 'nested.parquet' });
    expect(sink.rows.map((row) => row['id'])).toEqual([0, 1, 2, 3, 4]);
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
    await expect(read(data)).rejects.toThrow(/^bad\.parquet \("i32"\): row group 1 cannot be read \(/);
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
    const path = fixture('empty.parquet');
    await expect(
      readParquet(fileInput(path), new RecordingSink(), { name: 'empty.parquet' }),
    ).rejects.toThrow('empty.parquet: the file has no data rows');
  });

  it('rejects nested and repeated columns, naming them', async () => {
    const path = fixture('nested.parquet');
    await expect(
      readParquet(fileInput(path), new RecordingSink(), { name: 'nested.parquet' }),
    ).rejects.toThrow(
      'nested.parquet ("pair"): unsupported column: nested or repeated (a list, map or struct); driftwatch ' +
        'reads flat columns, so exclude it (--exclude)',
    );
  });

  it('rejects a truncated file and corrupt pages with an error naming the row group and column', async () => {
    const bytes = await readFile(fixture('mixed-snappy.parquet'));
    // Cut in the middle: the footer is gone.
    await expect(read(bytes.subarray(0, bytes.length >> 1))).rejects.toThrow(
      /^bad\.parquet: not a Parquet file, or its footer is corrupt/,
    );
    // Every byte of the first column chunk's pages overwritten, one pattern at a time: never a hang, always
    // an InputError (or the right rows, when the damage misses what is read).
    for (const fill of [0x00, 0xff, 0x15, 0x80]) {
      const corrupt = Uint8Array.from(bytes);
      corrupt.fill(fill, 4, 4000);
      const error = await read(corrupt).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toMatch(/^bad\.parquet \("id"\): row group 1 cannot be read \(/);
    }
  });

  it('gives an InputError, never a hang or a crash, for random damage', async () => {
    const bytes = await readFile(fixture('mixed-snappy.parquet'));
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let trial = 0; trial < 40; trial++) {
      const corrupt = Uint8Array.from(bytes);
      for (let k = 0; k < 8; k++) corrupt[4 + Math.floor(random() * (bytes.length - 200))] = random() * 256;
      const outcome = await read(corrupt).then(
        () => 'read',
        (error: unknown) => error,
      );
      if (outcome !== 'read') expect(outcome).toBeInstanceOf(InputError);
    }
  });
});
