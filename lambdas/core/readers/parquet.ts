import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import {
  type AsyncBuffer,
  type ColumnData,
  type Compressors,
  type DecodedArray,
  type FileMetaData,
  flatten,
  parquetMetadataAsync,
  parquetRead,
  parquetSchema,
  toJson,
} from 'hyparquet';
import { InputError, ValueError } from '../errors.ts';
import { readHandleRange, type TableInput } from './input.ts';
import type { CellValue, TableSink } from './types.ts';

/** Where Parquet bytes come from: ranged reads of a source of known size. */
export interface RangeSource {
  size: number;
  readRange(start: number, end: number): Promise<Uint8Array>;
}

export interface ParquetOptions {
  /** Name used in error messages. */
  name: string;
  /** Called after each row group with the rows read so far. */
  onRowGroup?: (rows: number) => void;
}

/**
 * Codecs beyond hyparquet's own (uncompressed and Snappy) that Node's zlib decodes: pyarrow and Spark
 * users pick GZIP or ZSTD often enough. LZ4 stays unsupported and fails with hyparquet's message.
 */
const COMPRESSORS: Compressors = {
  GZIP: (input) => zlib.gunzipSync(input),
  BROTLI: (input) => zlib.brotliDecompressSync(input),
  ...(typeof zlib.zstdDecompressSync === 'function'
    ? { ZSTD: (input: Uint8Array) => zlib.zstdDecompressSync(input) }
    : {}),
};

const lenientUtf8 = new TextDecoder('utf-8');

/**
 * Reads a Parquet input into `sink`: through `readRange` when the input offers it with a size, otherwise by
 * spooling its stream to a temporary file. Returns the number of rows.
 *
 * @example
 * ```ts
 * const rows = await readParquet(fileInput('current.parquet'), sink, { name: 'current.parquet' });
 * ```
 */
export async function readParquet(
  input: TableInput,
  sink: TableSink,
  options: ParquetOptions,
): Promise<number> {
  const { readRange, size } = input;
  if (readRange !== undefined && size !== undefined) {
    return readParquetRanges(
      { size, readRange: (start, end) => readRange.call(input, start, end) },
      sink,
      options,
    );
  }
  return readParquetStream(input.open(), sink, options);
}

/**
 * Writes `stream` to a file in the system's temporary directory, reads that, and removes it: Parquet keeps
 * its schema in a footer, so a plain stream (a gunzipped `.parquet.gz`, a source without ranged reads) has
 * to land somewhere seekable first. Memory stays bounded by a row group.
 */
export async function readParquetStream(
  stream: AsyncIterable<Uint8Array>,
  sink: TableSink,
  options: ParquetOptions,
): Promise<number> {
  const directory = await mkdtemp(join(tmpdir(), 'driftwatch-'));
  try {
    const handle = await open(join(directory, 'spool.parquet'), 'w+');
    try {
      let size = 0;
      for await (const chunk of stream) {
        let written = 0;
        while (written < chunk.length) {
          const { bytesWritten } = await handle.write(chunk, written, chunk.length - written, size + written);
          written += bytesWritten;
        }
        size += chunk.length;
      }
      const readRange = (start: number, end: number) => readHandleRange(handle, start, end);
      return await readParquetRanges({ size, readRange }, sink, options);
    } finally {
      await handle.close();
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/**
 * Reads Parquet through ranged reads, one row group at a time: the footer first, then each row group's
 * column chunks, which are handed to the sink row by row before the next group is fetched.
 */
export async function readParquetRanges(
  source: RangeSource,
  sink: TableSink,
  options: ParquetOptions,
): Promise<number> {
  const { name } = options;
  // Failures of the source itself (a network error, say) pass through unchanged: they are not about the
  // content, and may be worth a retry.
  let sourceError: { error: unknown } | null = null;
  const file: AsyncBuffer = {
    byteLength: source.size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      let bytes: Uint8Array;
      try {
        bytes = await source.readRange(start, Math.min(end ?? source.size, source.size));
      } catch (error) {
        sourceError = { error };
        throw error;
      }
      return toArrayBuffer(bytes);
    },
  };
  const contentError = (error: unknown, reason: string): unknown => {
    if (sourceError !== null && sourceError.error === error) return error;
    const detail = error instanceof Error ? error.message : String(error);
    return new InputError({ file: name }, `${reason} (${detail})`);
  };

  let metadata: FileMetaData;
  let columnNames: string[];
  try {
    metadata = await parquetMetadataAsync(file);
    columnNames = parquetSchema(metadata).children.map((child) => child.element.name);
  } catch (error) {
    throw contentError(error, 'not a Parquet file, or its footer is corrupt');
  }

  const ids = columnNames.map((column) => {
    try {
      return sink.column(column);
    } catch (error) {
      throw error instanceof ValueError
        ? new InputError({ file: name, field: column }, error.message)
        : error;
    }
  });
  const position = new Map(columnNames.map((column, index) => [column, index]));

  let rows = 0;
  for (let group = 0; group < metadata.row_groups.length; group++) {
    const groupRows = Number(metadata.row_groups[group]!.num_rows);
    if (groupRows === 0) continue;
    const groupStart = rows;
    const chunks: ColumnData[][] = columnNames.map(() => []);
    try {
      await parquetRead({
        file,
        metadata,
        rowStart: groupStart,
        rowEnd: groupStart + groupRows,
        compressors: COMPRESSORS,
        onChunk: (chunk) => {
          const index = position.get(chunk.columnName);
          if (index !== undefined) chunks[index]!.push(chunk);
        },
      });
    } catch (error) {
      throw contentError(error, `row group ${group + 1} cannot be read`);
    }
    const columns = chunks.map((list) => columnValues(list, groupStart, groupRows));
    emitRows(sink, ids, columns, columnNames, groupStart, groupRows, name);
    rows += groupRows;
    options.onRowGroup?.(rows);
  }
  // As for CSV and JSON Lines: a table without rows has nothing to compare, and is most likely a mistake.
  if (rows === 0) throw new InputError({ file: name }, 'the file has no data rows');
  return rows;
}

/** The values of one column for rows [groupStart, groupStart + groupRows), from its chunks in any order. */
function columnValues(chunks: ColumnData[], groupStart: number, groupRows: number): ArrayLike<unknown> {
  if (chunks.length === 1 && chunks[0]!.rowStart === groupStart) return chunks[0]!.columnData;
  chunks.sort((a, b) => a.rowStart - b.rowStart);
  const first = chunks[0]?.rowStart ?? groupStart;
  const flat: DecodedArray = flatten(chunks.map((chunk) => chunk.columnData));
  if (first === groupStart) return flat;
  // Rows before the first chunk (none are expected for a whole row group) are missing.
  const values: unknown[] = new Array(groupRows).fill(null);
  for (let row = 0; row < flat.length && first - groupStart + row < groupRows; row++) {
    values[first - groupStart + row] = flat[row];
  }
  return values;
}

function emitRows(
  sink: TableSink,
  ids: number[],
  columns: ArrayLike<unknown>[],
  names: string[],
  groupStart: number,
  groupRows: number,
  file: string,
): void {
  const count = columns.length;
  for (let row = 0; row < groupRows; row++) {
    let column = 0;
    try {
      for (; column < count; column++) sink.value(ids[column]!, toCellValue(columns[column]![row]));
      column = -1;
      sink.endRow();
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      const line = groupStart + row + 1;
      throw new InputError(
        column < 0 ? { file, line } : { file, line, field: names[column]! },
        error.message,
      );
    }
  }
}

/**
 * A decoded Parquet value as a sink value: integers of any width, floats and decimals as numbers (INT64
 * beyond 2^53 loses precision, as in pandas' float conversion), timestamps as ISO 8601 text, binary as
 * UTF-8 text, and lists, maps and structs as their JSON text.
 */
export function toCellValue(value: unknown): CellValue {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
      return value;
    case 'bigint':
      return Number(value);
    case 'undefined':
      return null;
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return lenientUtf8.decode(value);
  return JSON.stringify(toJson(value));
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
  ) {
    return bytes.buffer;
  }
  // A copy: Buffer's slice is a view, whose buffer may be a whole shared pool.
  return new Uint8Array(bytes).buffer as ArrayBuffer;
}
