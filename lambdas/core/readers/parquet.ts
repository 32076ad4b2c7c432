import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import {
  type AsyncBuffer,
  type ColumnData,
  type Compressors,
  type FileMetaData,
  flatten,
  parquetMetadataAsync,
  parquetRead,
  parquetSchema,
  type RowGroup,
  type SchemaElement,
  type SchemaTree,
} from 'hyparquet';
import { InputError, type InputLocation, ValueError } from '../errors.ts';
import { readHandleRange, type TableInput } from './input.ts';
import {
  ColumnCursor,
  type ColumnKind,
  columnKind,
  decodesChunk,
  PageError,
  withRoom,
} from './parquet-pages.ts';
import { MISSING_TEXT, type NumberBatch, type TableSink } from './types.ts';

/** Where Parquet bytes come from: ranged reads of a source of known size. */
export interface RangeSource {
  size: number;
  readRange(start: number, end: number): Promise<Uint8Array>;
  /** Optional: bytes [start, end) into `into` from index `at`; how many were read (see TableInput). */
  readInto?(start: number, end: number, into: Uint8Array, at: number): Promise<number>;
}

export interface ParquetOptions {
  /** Name used in error messages. */
  name: string;
  /** Called after each row group with the rows read so far. */
  onRowGroup?: (rows: number) => void;
}

/**
 * Codecs for the column chunks hyparquet decodes (those with DELTA_* or BYTE_STREAM_SPLIT pages), beyond its
 * own uncompressed and Snappy: the ones Node's zlib has, as for the chunks parquet-pages.ts decodes.
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
 * Reads Parquet through ranged reads, one row group at a time: the footer first, then for each row group the
 * column chunks the sink takes (one ranged read per run of adjacent chunks), decoded page by page in blocks
 * of rows: numbers straight into the sink's number batch, text as codes counted per block. A row group's
 * chunks are released before the next is fetched, so memory stays at about one row group's compressed bytes.
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
  const readRange = async (start: number, end: number): Promise<Uint8Array> => {
    try {
      return await source.readRange(start, Math.min(end, source.size));
    } catch (error) {
      sourceError = { error };
      throw error;
    }
  };
  // Row groups' column chunks, read into one reused buffer when the source can (see openCursors); the last
  // file's, if no other file is being read (see `kept`).
  const spare = kept.splice(0, kept.length);
  const chunks = { buffer: spare.length > 0 ? spare[0]!.chunks : new Uint8Array(0) };
  const readInto =
    source.readInto &&
    (async (start: number, end: number, into: Uint8Array, at: number): Promise<number> => {
      try {
        return await source.readInto!(start, Math.min(end, source.size), into, at);
      } catch (error) {
        sourceError = { error };
        throw error;
      }
    });
  const file: AsyncBuffer = {
    byteLength: source.size,
    slice: async (start: number, end?: number) => toArrayBuffer(await readRange(start, end ?? source.size)),
  };
  const contentError = (error: unknown, location: InputLocation, reason: string): unknown => {
    if (sourceError !== null && sourceError.error === error) return error;
    if (error instanceof InputError) return error;
    const detail = error instanceof Error ? error.message : String(error);
    return new InputError(location, `${reason} (${detail})`);
  };

  let metadata: FileMetaData;
  let children: SchemaTree[];
  try {
    metadata = await parquetMetadataAsync(file);
    children = parquetSchema(metadata).children;
  } catch (error) {
    throw contentError(error, { file: name }, 'not a Parquet file, or its footer is corrupt');
  }

  const leaves = leafIndexes(children);
  const plans: ColumnPlan[] = [];
  children.forEach((child, ordinal) => {
    const column = child.element.name;
    let id: number;
    try {
      id = sink.column(column);
    } catch (error) {
      throw error instanceof ValueError
        ? new InputError({ file: name, field: column }, error.message)
        : error;
    }
    plans[ordinal] = { id, column, element: child.element, leaf: leaves[ordinal]!, kind: null };
  });
  const selected: ColumnPlan[] = [];
  for (const [ordinal, plan] of plans.entries()) {
    if (sink.ignores?.(plan.id)) continue;
    const child = children[ordinal]!;
    if (child.children.length > 0 || plan.element.repetition_type === 'REPEATED') {
      throw new InputError(
        { file: name, field: plan.column },
        'unsupported column: nested or repeated (a list, map or struct); driftwatch reads flat columns, ' +
          'so exclude it (--exclude)',
      );
    }
    const kind = columnKind(plan.element);
    if ('unsupported' in kind) {
      throw new InputError(
        { file: name, field: plan.column },
        `unsupported column: ${kind.unsupported}; exclude it (--exclude)`,
      );
    }
    plan.kind = kind;
    selected.push(plan);
  }
  // The last file's cursors hand their page buffers over, a number column's to a number column.
  const cursors = spare[0]?.cursors ?? [];
  for (const plan of selected) {
    const isNumber = plan.kind!.kind === 'number';
    const at = cursors.findIndex((cursor) => cursor.isNumber === isNumber);
    if (at >= 0) plan.cursor = cursors.splice(at, 1)[0];
  }

  const emitter = new BlockEmitter(sink, name);
  let rows = 0;
  for (let group = 0; group < metadata.row_groups.length; group++) {
    const rowGroup = metadata.row_groups[group]!;
    const groupRows = Number(rowGroup.num_rows);
    if (groupRows === 0) continue;
    const where = (plan?: ColumnPlan): InputLocation =>
      plan ? { file: name, field: plan.column } : { file: name };
    let cursors: Cursor[];
    try {
      cursors = await openCursors(
        rowGroup,
        selected,
        source.size,
        { readRange, readInto, chunks },
        emitter.block,
        (plan, error) => contentError(error, where(plan), `row group ${group + 1} cannot be read`),
      );
    } catch (error) {
      throw contentError(error, where(), `row group ${group + 1} cannot be read`);
    }
    // Chunks with encodings of their own (DELTA_*, BYTE_STREAM_SPLIT) are decoded by hyparquet.
    for (let i = 0; i < selected.length; i++) {
      if (cursors[i] !== undefined) continue;
      const plan = selected[i]!;
      try {
        cursors[i] = await hyparquetCursor(file, metadata, plan, rows, groupRows, emitter.block);
      } catch (error) {
        throw contentError(error, where(plan), `row group ${group + 1} cannot be read`);
      }
    }
    emitter.emit(selected, cursors, rows, groupRows, (plan, error) =>
      contentError(error, where(plan), `row group ${group + 1} cannot be read`),
    );
    rows += groupRows;
    options.onRowGroup?.(rows);
  }
  // As for CSV and JSON Lines: a table without rows has nothing to compare, and is most likely a mistake.
  if (rows === 0) throw new InputError({ file: name }, 'the file has no data rows');
  kept.splice(0, kept.length, {
    chunks: chunks.buffer,
    cursors: selected.flatMap((plan) => (plan.cursor ? [plan.cursor] : [])),
  });
  return rows;
}

/**
 * The buffers of the last Parquet file this thread read (its row groups' chunks buffer and its columns'
 * cursors, which hold the decoded pages), for the next file: the current data's after the baseline's.
 * Fresh memory costs a page fault per 4 KB when first written, which on the benchmark's machine cost more
 * than the copies the buffers save. A file takes them while it is read, so two files read at once never
 * share them.
 */
const kept: { chunks: Uint8Array; cursors: ColumnCursor[] }[] = [];

interface ColumnPlan {
  id: number;
  column: string;
  element: SchemaElement;
  /** Index of the column's (first) chunk in each row group. */
  leaf: number;
  kind: ColumnKind | null;
  /** The cursor of the last row group, whose buffers the next one reuses. */
  cursor?: ColumnCursor;
}

/** Each top-level column's first leaf among the row group's column chunks (schema order, depth first). */
function leafIndexes(children: SchemaTree[]): number[] {
  const count = (tree: SchemaTree): number =>
    tree.children.length === 0 ? 1 : tree.children.reduce((sum, child) => sum + count(child), 0);
  let next = 0;
  return children.map((child) => {
    const first = next;
    next += count(child);
    return first;
  });
}

/**
 * Fetches the selected columns' chunks of a row group, adjacent ones in one read, and opens a cursor on
 * each chunk this module decodes (undefined for the others). Each read's cursors decode their first page
 * (and keep any later pages) before the next read, which reuses the buffer: memory holds one read's chunks
 * (one column's, when the columns read are not adjacent) rather than the row group's, which matters for
 * large row groups (a 1M-row group's chunk is up to 8 MB per column).
 */
async function openCursors(
  rowGroup: RowGroup,
  selected: ColumnPlan[],
  fileSize: number,
  reads: {
    readRange: (start: number, end: number) => Promise<Uint8Array>;
    readInto: RangeSource['readInto'];
    /** The buffer reused by readInto: the last row group's chunks are done with when the next is read. */
    chunks: { buffer: Uint8Array };
  },
  block: number,
  relocate: (plan: ColumnPlan, error: unknown) => unknown,
): Promise<Cursor[]> {
  const spans = selected.map((plan) => {
    const meta = rowGroup.columns[plan.leaf]?.meta_data;
    if (meta === undefined) throw new PageError(`column ${JSON.stringify(plan.column)} has no chunk`);
    const data = Number(meta.data_page_offset);
    const dictionary = meta.dictionary_page_offset === undefined ? data : Number(meta.dictionary_page_offset);
    // Some writers put 0 in dictionary_page_offset when there is none.
    const start = dictionary > 0 && dictionary < data ? dictionary : data;
    const end = start + Number(meta.total_compressed_size);
    if (!(start >= 0 && end <= fileSize && end > start)) {
      throw new PageError(
        `column ${JSON.stringify(plan.column)}'s chunk lies outside the file (a truncated or corrupt file)`,
      );
    }
    return { plan, meta, start, end };
  });
  const order = spans.map((_, i) => i).sort((a, b) => spans[a]!.start - spans[b]!.start);
  // Runs of chunks with small gaps between them: one read each (fewer GETs over S3).
  const runs: { start: number; end: number; first: number; last: number }[] = [];
  for (let k = 0; k < order.length; ) {
    const first = spans[order[k]!]!;
    let end = first.end;
    let last = k + 1;
    while (last < order.length && spans[order[last]!]!.start - end <= MERGE_GAP_BYTES) {
      end = Math.max(end, spans[order[last]!]!.end);
      last++;
    }
    runs.push({ start: first.start, end, first: k, last });
    k = last;
  }
  const { readInto, chunks } = reads;
  const largest = runs.reduce((most, run) => Math.max(most, run.end - run.start), 0);
  if (readInto && chunks.buffer.length < largest) chunks.buffer = new Uint8Array(withRoom(largest));
  const cursors: Cursor[] = [];
  for (const run of runs) {
    const length = run.end - run.start;
    let data: Uint8Array;
    if (readInto) {
      data = chunks.buffer.subarray(0, await readInto(run.start, run.end, chunks.buffer, 0));
    } else {
      data = await reads.readRange(run.start, run.end);
    }
    if (data.length < length) throw new PageError('the file ends inside a column chunk (truncated)');
    for (let k = run.first; k < run.last; k++) {
      const i = order[k]!;
      const { plan, meta, start, end } = spans[i]!;
      if (!decodesChunk(meta)) continue;
      const chunk = data.subarray(start - run.start, end - run.start);
      plan.cursor = new ColumnCursor(chunk, meta, plan.element, plan.kind!, block, plan.cursor);
      try {
        plan.cursor.readFirstPage();
      } catch (error) {
        throw relocate(plan, error);
      }
      cursors[i] = plan.cursor;
    }
  }
  cursors.length = spans.length;
  return cursors;
}

/** Gaps up to this between two chunks are read rather than split into two reads. */
const MERGE_GAP_BYTES = 64 * 1024;

/** What {@link BlockEmitter} needs of a cursor (see {@link ColumnCursor}). */
interface Cursor {
  numbers: Float64Array;
  codes: Int32Array;
  readonly entries: Uint8Array[];
  next(rows: number): void;
}

/**
 * A chunk hyparquet decodes (encodings {@link ColumnCursor} does not), read whole into the same shape: numbers
 * (timestamps from Dates as epoch seconds, INT64 from bigint) or codes of distinct texts.
 */
async function hyparquetCursor(
  file: AsyncBuffer,
  metadata: FileMetaData,
  plan: ColumnPlan,
  groupStart: number,
  groupRows: number,
  block: number,
): Promise<Cursor> {
  const chunks: ColumnData[] = [];
  await parquetRead({
    file,
    metadata,
    columns: [plan.column],
    rowStart: groupStart,
    rowEnd: groupStart + groupRows,
    compressors: COMPRESSORS,
    onChunk: (chunk) => {
      chunks.push(chunk);
    },
  });
  chunks.sort((a, b) => a.rowStart - b.rowStart);
  const values: ArrayLike<unknown> = flatten(chunks.map((chunk) => chunk.columnData));
  if (values.length !== groupRows) throw new PageError(`${values.length} values for ${groupRows} rows`);
  const isNumber = plan.kind!.kind === 'number';
  const numbers = new Float64Array(isNumber ? groupRows : 0);
  const codes = new Int32Array(isNumber ? 0 : groupRows);
  const entries: Uint8Array[] = [];
  const known = new Map<string, number>();
  for (let row = 0; row < groupRows; row++) {
    const value = values[row];
    if (isNumber) {
      numbers[row] =
        typeof value === 'number'
          ? value
          : typeof value === 'bigint'
            ? Number(value)
            : value instanceof Date
              ? value.getTime() / 1000
              : Number.NaN;
      continue;
    }
    if (value === null || value === undefined) {
      codes[row] = -1;
      continue;
    }
    const text = value instanceof Uint8Array ? lenientUtf8.decode(value) : String(value);
    let code = known.get(text);
    if (code === undefined) {
      code = entries.length;
      entries.push(textEncoder.encode(text));
      known.set(text, code);
    }
    codes[row] = code;
  }
  let taken = 0;
  const cursor: Cursor = {
    numbers: new Float64Array(isNumber ? block : 0),
    codes: new Int32Array(isNumber ? 0 : block),
    entries,
    next(rows: number) {
      if (isNumber) cursor.numbers.set(numbers.subarray(taken, taken + rows));
      else cursor.codes.set(codes.subarray(taken, taken + rows));
      taken += rows;
    },
  };
  return cursor;
}

const textEncoder = new TextEncoder();

/** What the first field of a text code led to in the sink. */
const UNKNOWN = -3;
const SKIP = MISSING_TEXT;
const EACH_ROW = -1;

/**
 * Hands a row group's columns to the sink a block of rows at a time. Without a segment column (the sink has a
 * number batch and counts text labels in bulk), a block of numbers is copied into the batch in one step and
 * a block of text is counted per code, with a sink call only for the first row of each distinct text; other
 * columns, and every column of a segmented sink, get a call per value.
 */
class BlockEmitter {
  /** Rows per block: the sink's number batch, so a block never straddles two batches. */
  readonly block: number;
  private readonly batch: NumberBatch | undefined;
  private readonly counting: boolean;
  private readonly sink: TableSink;
  private readonly name: string;

  constructor(sink: TableSink, name: string) {
    this.sink = sink;
    this.name = name;
    this.batch = sink.numberBatch;
    this.block = this.batch?.size ?? 1024;
    this.counting = sink.textLabelCounts !== undefined && sink.lastTextLabel !== undefined;
  }

  emit(
    plans: ColumnPlan[],
    cursors: Cursor[],
    groupStart: number,
    groupRows: number,
    relocate: (plan: ColumnPlan, error: unknown) => unknown,
  ): void {
    const { sink, batch } = this;
    const textStates = plans.map(() => ({ labels: new Int32Array(0), counts: new Float64Array(0) }));
    const eachRowNumbers: number[] = [];
    const texts: number[] = [];
    const textColumns = plans.flatMap((plan, i) => (plan.kind!.kind === 'number' ? [] : [i]));
    for (let done = 0; done < groupRows; ) {
      const rows = Math.min(groupRows - done, batch ? batch.size - batch.row : this.block);
      eachRowNumbers.length = 0;
      texts.length = 0;
      for (let i = 0; i < plans.length; i++) {
        const plan = plans[i]!;
        const cursor = cursors[i]!;
        try {
          cursor.next(rows);
        } catch (error) {
          throw relocate(plan, error);
        }
        if (plan.kind!.kind !== 'number') {
          texts.push(i);
          const state = textStates[i]!;
          const size = cursor.entries.length;
          if (state.labels.length < size) {
            const grown = new Int32Array(Math.max(size, state.labels.length * 2)).fill(UNKNOWN);
            grown.set(state.labels);
            state.labels = grown;
            const counts = new Float64Array(grown.length);
            counts.set(state.counts);
            state.counts = counts;
          }
        } else if (!this.storeNumbers(plan.id, cursor.numbers, rows)) {
          eachRowNumbers.push(i);
        }
      }
      // Codes whose label the sink gave are counted here, column by column, and left out of the row loop.
      if (this.counting) {
        let pending = 0;
        for (const k of texts) {
          const codes = cursors[k]!.codes;
          const { labels, counts } = textStates[k]!;
          let left = 0;
          for (let row = 0; row < rows; row++) {
            const code = codes[row]!;
            if (code < 0) continue;
            const label = labels[code]!;
            if (label >= 0) counts[code]!++;
            else if (label !== SKIP) {
              left++;
              continue;
            }
            codes[row] = -1;
          }
          if (left > 0) texts[pending++] = k;
        }
        texts.length = pending;
      }
      const numberCount = eachRowNumbers.length;
      const textCount = texts.length;
      if (numberCount === 0 && textCount === 0 && sink.endRows !== undefined) {
        // Every value of the block is in the batch or counted: its rows end in one call.
        sink.endRows(rows);
        done += rows;
        this.countLabels(plans, textColumns, textStates);
        continue;
      }
      for (let row = 0; row < rows; row++) {
        let i = -1;
        try {
          for (let n = 0; n < numberCount; n++) {
            i = eachRowNumbers[n]!;
            const value = cursors[i]!.numbers[row]!;
            if (!Number.isNaN(value)) sink.value(plans[i]!.id, value);
          }
          for (let t = 0; t < textCount; t++) {
            i = texts[t]!;
            const code = cursors[i]!.codes[row]!;
            if (code >= 0) this.text(plans[i]!.id, cursors[i]!, textStates[i]!, code);
          }
          i = -1;
          sink.endRow();
        } catch (error) {
          if (!(error instanceof ValueError)) throw error;
          const line = groupStart + done + row + 1;
          throw new InputError(
            i < 0 ? { file: this.name, line } : { file: this.name, line, field: plans[i]!.column },
            error.message,
          );
        }
      }
      this.countLabels(plans, textColumns, textStates);
      done += rows;
    }
  }

  /** Hands the text counted in the block to the sink, and starts the counts again. */
  private countLabels(
    plans: ColumnPlan[],
    textColumns: number[],
    textStates: { labels: Int32Array; counts: Float64Array }[],
  ): void {
    if (!this.counting) return;
    for (const k of textColumns) {
      const { labels, counts } = textStates[k]!;
      const id = plans[k]!.id;
      for (let code = 0; code < counts.length; code++) {
        if (counts[code]! > 0) {
          this.sink.textLabelCounts!(id, labels[code]!, counts[code]!);
          counts[code] = 0;
        }
      }
    }
  }

  /**
   * Copies a block of numbers into the sink's batch when it stores the column: as they are, marked `plain`
   * while the column still counts its numbers' text (a typed number's text is `String(value)`, as
   * `value()` takes it). False when the block needs a call per value (infinities, no batch yet).
   */
  private storeNumbers(id: number, values: Float64Array, rows: number): boolean {
    const batch = this.batch;
    const stored = batch?.values[id];
    if (batch === undefined || !stored) return false;
    const plain = batch.plain[id];
    for (let row = 0; row < rows; row++) {
      const value = values[row]!;
      // Infinities go to the sink's value(), which takes them as text, as JSON Lines' would be.
      if (value - value !== 0 && !Number.isNaN(value)) return false;
    }
    const at = batch.row;
    stored.set(values.subarray(0, rows), at);
    if (plain) for (let row = 0; row < rows; row++) plain[at + row] = Number.isNaN(values[row]!) ? 0 : 1;
    return true;
  }

  /** A text field: counted by code once the sink told its label, otherwise handed over as bytes. */
  private text(
    id: number,
    cursor: Cursor,
    state: { labels: Int32Array; counts: Float64Array },
    code: number,
  ): void {
    const label = state.labels[code]!;
    if (label >= 0) {
      if (this.counting) state.counts[code]!++;
      else this.sink.textLabel!(id, label);
      return;
    }
    if (label === SKIP) return;
    const bytes = cursor.entries[code]!;
    this.sink.bytes(id, bytes, 0, bytes.length);
    if (label === UNKNOWN) {
      const given = this.sink.lastTextLabel?.(id) ?? EACH_ROW;
      state.labels[code] = given >= 0 || given === SKIP ? given : EACH_ROW;
    }
  }
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
