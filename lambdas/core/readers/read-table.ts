import { InputError } from '../errors.ts';
import { type CaptureAwareInput, isCaptureHead, readCapture } from './capture.ts';
import { CsvParser } from './csv.ts';
import { isGzip, maybeGunzip } from './decompress.ts';
import type { TableInput } from './input.ts';
import { JsonlParser } from './jsonl.ts';
import { type RangeSource, readParquetRanges, readParquetStream } from './parquet.ts';
import { peek } from './peek.ts';
import type { InputFormat, ReadOptions, ReadProgress, TableSink } from './types.ts';

/** Bytes looked at to recognise gzip and, when the name does not tell, the format. */
const SNIFF_BYTES = 4096;

/**
 * Compressed bytes between two progress reports. Local files arrive in 1 MiB chunks, so this reports about
 * once a chunk there and every few chunks for sources with smaller ones.
 */
export const PROGRESS_INTERVAL_BYTES = 256 * 1024;

const EXTENSIONS: Record<string, { format: InputFormat; delimiter?: string }> = {
  csv: { format: 'csv' },
  tsv: { format: 'csv', delimiter: '\t' },
  tab: { format: 'csv', delimiter: '\t' },
  jsonl: { format: 'jsonl' },
  ndjson: { format: 'jsonl' },
  json: { format: 'jsonl' },
  parquet: { format: 'parquet' },
  pq: { format: 'parquet' },
};

export type ReadTableOptions = Omit<ReadOptions, 'name'>;

export interface ReadTableResult {
  format: InputFormat;
  /** Whether the input was gzip-compressed (recognised by its magic number, not its name). */
  compressed: boolean;
  /** Data rows passed to the sink. */
  rows: number;
}

/**
 * The format a name implies: its extension once a `.gz` is stripped, case-insensitively (`x.CSV.gz` is
 * CSV). Undefined when the extension is not one of ours.
 */
export function formatFromName(name: string): { format: InputFormat; delimiter?: string } | undefined {
  let base = name.slice(name.lastIndexOf('/') + 1).toLowerCase();
  if (base.endsWith('.gz')) base = base.slice(0, -3);
  const dot = base.lastIndexOf('.');
  if (dot < 0) return undefined;
  const extension = base.slice(dot + 1);
  return Object.hasOwn(EXTENSIONS, extension) ? EXTENSIONS[extension] : undefined;
}

/**
 * The format of an input: by the name's extension after stripping `.gz` (`.csv`, `.tsv`, `.jsonl`,
 * `.ndjson`, `.json`, `.parquet`, `.pq`), otherwise by the first (decompressed) bytes: the `PAR1` magic
 * number is Parquet, a first non-blank character `{` is JSON Lines, anything else CSV.
 *
 * @example
 * ```ts
 * detectFormat('s3://bucket/current.parquet.gz', head); // 'parquet'
 * detectFormat('export', new TextEncoder().encode('{"a":1}\n')); // 'jsonl'
 * ```
 */
export function detectFormat(name: string, head: Uint8Array): InputFormat {
  return formatFromName(name)?.format ?? sniffFormat(head);
}

function sniffFormat(head: Uint8Array): InputFormat {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31) {
    return 'parquet';
  }
  let i = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d))
    i++;
  return i < head.length && head[i] === 0x7b ? 'jsonl' : 'csv';
}

/** Counts compressed bytes and reports progress at most every {@link PROGRESS_INTERVAL_BYTES}. */
class ProgressCounter {
  bytesRead = 0;
  rows: () => number = () => 0;
  private reported = -1;
  private reportedRows = 0;
  private readonly totalBytes: number | undefined;
  private readonly onProgress: ((progress: ReadProgress) => void) | undefined;

  constructor(totalBytes: number | undefined, onProgress: ((progress: ReadProgress) => void) | undefined) {
    this.totalBytes = totalBytes;
    this.onProgress = onProgress;
  }

  add(bytes: number): void {
    this.bytesRead += bytes;
    if (this.bytesRead - Math.max(this.reported, 0) >= PROGRESS_INTERVAL_BYTES) this.report();
  }

  /** A last report when anything changed since the previous one. */
  finish(): void {
    if (this.bytesRead !== this.reported || this.rows() !== this.reportedRows) this.report();
  }

  private report(): void {
    this.reported = this.bytesRead;
    this.reportedRows = this.rows();
    if (this.onProgress === undefined) return;
    const bytesRead =
      this.totalBytes === undefined ? this.bytesRead : Math.min(this.bytesRead, this.totalBytes);
    const progress: ReadProgress = { bytesRead, rows: this.reportedRows };
    if (this.totalBytes !== undefined) progress.totalBytes = this.totalBytes;
    this.onProgress(progress);
  }

  async *count(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.add(chunk.length);
      yield chunk;
    }
  }
}

/**
 * Reads a table of any supported format into `sink`, gunzipping it first when it starts with the gzip magic
 * number. Parquet is read through `input.readRange` when the input offers it and is not compressed, and
 * otherwise from a temporary copy; CSV and JSON Lines stream. An input without content (no bytes, only
 * blank lines, no CSV header) is an {@link InputError} saying the file is empty.
 *
 * @example
 * ```ts
 * const { format, rows } = await readTable(fileInput('current.csv.gz'), sink, { onProgress: console.log });
 * ```
 */
export async function readTable(
  input: TableInput,
  sink: TableSink,
  options: ReadTableOptions = {},
): Promise<ReadTableResult> {
  const { name } = input;
  // SageMaker Data Capture (capture.ts): a directory of capture files, or a JSON Lines file of capture records.
  if ((input as CaptureAwareInput).capture?.files.length) {
    return { format: 'jsonl', compressed: false, rows: await readCapture(input, sink, options) };
  }
  const byName = formatFromName(name);
  const progress = new ProgressCounter(input.size, options.onProgress);
  const empty = () => new InputError({ file: name }, 'the file is empty');

  const { readRange, size } = input;
  if (
    readRange !== undefined &&
    size !== undefined &&
    (byName === undefined || byName.format === 'parquet')
  ) {
    if (size === 0) throw empty();
    const head = await readRange.call(input, 0, Math.min(size, SNIFF_BYTES));
    if (!isGzip(head) && (byName?.format ?? sniffFormat(head)) === 'parquet') {
      let rows = 0;
      progress.rows = () => rows;
      const { readRangeInto } = input;
      const source: RangeSource = {
        size,
        readRange: async (start: number, end: number) => {
          const bytes = await readRange.call(input, start, end);
          progress.add(bytes.length);
          return bytes;
        },
        ...(readRangeInto && {
          readInto: async (start: number, end: number, into: Uint8Array, at: number) => {
            const read = await readRangeInto.call(input, start, end, into, at);
            progress.add(read);
            return read;
          },
        }),
      };
      rows = await readParquetRanges(source, sink, {
        name,
        onRowGroup: (count) => {
          rows = count;
        },
      });
      progress.finish();
      return { format: 'parquet', compressed: false, rows };
    }
  }

  // A local file is read through reused buffers (see TableInput.openReused): plain text by the parser, and
  // gzip by zlib, which asks for the next chunk only once it is done with the last.
  let source = () => input.open();
  if (readRange !== undefined && size !== undefined && input.openReused !== undefined && size > 0) {
    const head = await readRange.call(input, 0, Math.min(size, SNIFF_BYTES));
    const format = byName?.format ?? sniffFormat(head);
    if (isGzip(head)) {
      const { openReused } = input;
      source = () => openReused.call(input);
    } else if (format !== 'parquet' && !isCaptureHead(head)) {
      const parser =
        format === 'csv'
          ? new CsvParser(sink, { name, delimiter: byName?.delimiter })
          : new JsonlParser(sink, { name });
      progress.rows = () => parser.rows;
      for await (const chunk of progress.count(input.openReused())) parser.push(chunk);
      parser.finish();
      progress.finish();
      return { format, compressed: false, rows: parser.rows };
    }
  }

  const { compressed, stream, reuseBuffers } = await maybeGunzip(progress.count(source()), {
    name,
    maxDecompressedBytes: options.maxDecompressedBytes,
  });
  const { head, stream: data } = await peek(stream, SNIFF_BYTES);
  // A short head means the stream has ended, so nothing is left open.
  if (head.length === 0) throw empty();
  const format = byName?.format ?? sniffFormat(head);
  let rows: number;
  if (format === 'jsonl' && isCaptureHead(head)) {
    rows = await readCapture(input, sink, options, data);
  } else if (format === 'parquet') {
    let groupRows = 0;
    progress.rows = () => groupRows;
    rows = await readParquetStream(data, sink, {
      name,
      onRowGroup: (count) => {
        groupRows = count;
      },
    });
  } else {
    const parser =
      format === 'csv'
        ? new CsvParser(sink, { name, delimiter: byName?.delimiter })
        : new JsonlParser(sink, { name });
    progress.rows = () => parser.rows;
    // The parser is done with a chunk before it asks for the next (the peeked ones were fresh).
    reuseBuffers();
    for await (const chunk of data) parser.push(chunk);
    parser.finish();
    rows = parser.rows;
  }
  progress.finish();
  return { format, compressed, rows };
}
