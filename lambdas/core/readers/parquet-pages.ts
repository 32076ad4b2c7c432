import * as zlib from 'node:zlib';
import { type ColumnMetaData, type SchemaElement, snappyUncompress } from 'hyparquet';
import { firstInvalidUtf8 } from './jsonl.ts';
import { pageKernel } from './parquet-kernel.ts';

/**
 * Decoding of flat Parquet column chunks into what the drift engine takes, page by page: numbers into a
 * Float64Array (NaN where the value is null) and text into category codes of the chunk (an Int32Array, -1
 * where null) with each distinct text once as bytes, so no value costs an object. It covers the encodings
 * Parquet writers use by default (PLAIN, dictionary, RLE levels, data pages v1 and v2); `parquet.ts` hands
 * chunks with other encodings (DELTA_*, BYTE_STREAM_SPLIT) to hyparquet.
 */

/** A content problem in a column chunk; the reader adds the file, row group and column. */
export class PageError extends Error {}

/** How a flat column's values reach the sink. */
export type ColumnKind = { kind: 'number'; toNumber: NumberScale } | { kind: 'text' } | { kind: 'boolean' };

/** A numeric column's values as doubles: a physical value times `factor` (decimals, time units). */
export interface NumberScale {
  /** Multiplier of the stored integer: 10^-scale for decimals, a time unit's seconds for times. */
  factor: number;
  /** INT32/INT64 stored as unsigned (UINT_32, UINT_64). */
  unsigned: boolean;
  /** A decimal stored as big-endian bytes (FIXED_LEN_BYTE_ARRAY or BYTE_ARRAY). */
  decimalBytes: boolean;
  /** FLOAT16 in a 2-byte FIXED_LEN_BYTE_ARRAY. */
  half: boolean;
  /** INT96 (legacy Spark/Impala timestamps): nanoseconds of the day and a Julian day, as epoch seconds. */
  int96: boolean;
}

/**
 * What a top-level schema element is to the engine: numbers (integers, floats, decimals, dates, times and
 * timestamps as epoch seconds), text (strings, enums, JSON, untyped binary), booleans (text `true`/`false`),
 * or a reason it is not supported.
 */
export function columnKind(element: SchemaElement): ColumnKind | { unsupported: string } {
  const logical = element.logical_type;
  const converted = element.converted_type;
  const scale = (factor: number, extra: Partial<NumberScale> = {}): ColumnKind => ({
    kind: 'number',
    toNumber: { factor, unsigned: false, decimalBytes: false, half: false, int96: false, ...extra },
  });
  if (logical?.type === 'DECIMAL' || converted === 'DECIMAL') {
    const decimals = logical?.type === 'DECIMAL' ? logical.scale : (element.scale ?? 0);
    const factor = 10 ** -decimals;
    if (element.type === 'INT32' || element.type === 'INT64') return scale(factor);
    if (element.type === 'FIXED_LEN_BYTE_ARRAY' || element.type === 'BYTE_ARRAY')
      return scale(factor, { decimalBytes: true });
  }
  if (logical?.type === 'TIMESTAMP' || logical?.type === 'TIME') {
    return scale(logical.unit === 'MILLIS' ? 1e-3 : logical.unit === 'MICROS' ? 1e-6 : 1e-9);
  }
  if (converted === 'TIMESTAMP_MILLIS' || converted === 'TIME_MILLIS') return scale(1e-3);
  if (converted === 'TIMESTAMP_MICROS' || converted === 'TIME_MICROS') return scale(1e-6);
  if (logical?.type === 'DATE' || converted === 'DATE') return scale(86_400);
  const unsigned =
    (logical?.type === 'INTEGER' && !logical.isSigned) || converted === 'UINT_32' || converted === 'UINT_64';
  switch (element.type) {
    case 'INT32':
    case 'INT64':
      return scale(1, { unsigned });
    case 'FLOAT':
    case 'DOUBLE':
      return scale(1);
    case 'INT96':
      return scale(1, { int96: true });
    case 'BOOLEAN':
      return { kind: 'boolean' };
    case 'BYTE_ARRAY':
      if (['VARIANT', 'GEOMETRY', 'GEOGRAPHY'].includes(logical?.type ?? ''))
        return { unsupported: `logical type ${logical?.type}` };
      return { kind: 'text' };
    case 'FIXED_LEN_BYTE_ARRAY':
      if (logical?.type === 'FLOAT16' && element.type_length === 2) return scale(1, { half: true });
      return { unsupported: `FIXED_LEN_BYTE_ARRAY${logical ? ` (${logical.type})` : ''}` };
    default:
      return { unsupported: `type ${element.type ?? 'group'}` };
  }
}

/** Encodings this module decodes; a chunk using any other goes to hyparquet. */
const OWN_ENCODINGS = new Set(['PLAIN', 'PLAIN_DICTIONARY', 'RLE_DICTIONARY', 'RLE']);

/** Whether every encoding a column chunk's metadata lists is one {@link ColumnCursor} decodes. */
export function decodesChunk(meta: ColumnMetaData): boolean {
  return (
    meta.encodings.every((encoding) => OWN_ENCODINGS.has(encoding)) &&
    ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD', 'BROTLI'].includes(meta.codec)
  );
}

/**
 * Decompresses a page into this thread's page kernel (parquet-kernel.ts), where its values are decoded; LZ4
 * and LZO are not supported (hyparquet has them neither). The page is a view of the kernel's memory that the
 * next page overwrites: each page is decoded before the next is read.
 */
export function decompress(codec: string, input: Uint8Array, size: number): Uint8Array {
  const kernel = pageKernel();
  if (codec === 'SNAPPY') {
    const page = kernel.snappy(input, size);
    if (page === null) throw new PageError('corrupt Snappy data');
    return page;
  }
  return kernel.load(decompressElsewhere(codec, input));
}

function decompressElsewhere(codec: string, input: Uint8Array): Uint8Array {
  switch (codec) {
    case 'UNCOMPRESSED':
      return input;
    case 'GZIP':
      return zlib.gunzipSync(input);
    case 'BROTLI':
      return zlib.brotliDecompressSync(input);
    case 'ZSTD':
      if (typeof zlib.zstdDecompressSync !== 'function')
        throw new PageError('ZSTD needs Node.js 22.15 or later');
      return zlib.zstdDecompressSync(input);
    default:
      throw new PageError(`compression ${codec} is not supported`);
  }
}

// ---- Thrift compact protocol: just enough for page headers -------------------------------------------

/** A Thrift struct as field id -> value (numbers, booleans, nested structs; binaries and lists skipped). */
type Struct = Map<number, number | boolean | Struct>;

class ThriftReader {
  readonly buf: Uint8Array;
  pos: number;

  constructor(buf: Uint8Array, pos: number) {
    this.buf = buf;
    this.pos = pos;
  }

  private byte(): number {
    if (this.pos >= this.buf.length) throw new PageError('a page header runs past the column chunk');
    return this.buf[this.pos++]!;
  }

  varint(): number {
    let result = 0;
    let multiplier = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * multiplier;
      if ((b & 0x80) === 0) return result;
      multiplier *= 128;
      if (multiplier > 2 ** 63) throw new PageError('a page header has a malformed number');
    }
  }

  zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  struct(depth = 0): Struct {
    if (depth > 8) throw new PageError('a page header is nested too deeply');
    const fields: Struct = new Map();
    let id = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return fields;
      const type = header & 0x0f;
      const delta = header >> 4;
      id = delta === 0 ? this.zigzag() : id + delta;
      fields.set(id, this.value(type, depth));
    }
  }

  private value(type: number, depth: number): number | boolean | Struct {
    switch (type) {
      case 1:
        return true;
      case 2:
        return false;
      case 3:
        return this.byte();
      case 4:
      case 5:
      case 6:
        return this.zigzag();
      case 7:
        this.skip(8);
        return 0;
      case 8:
        this.skip(this.varint());
        return 0;
      case 9:
      case 10: {
        const head = this.byte();
        const size = head >> 4 === 15 ? this.varint() : head >> 4;
        for (let i = 0; i < size; i++) this.value(head & 0x0f, depth + 1);
        return 0;
      }
      case 11: {
        const size = this.varint();
        if (size > 0) {
          const types = this.byte();
          for (let i = 0; i < size; i++) {
            this.value(types >> 4, depth + 1);
            this.value(types & 0x0f, depth + 1);
          }
        }
        return 0;
      }
      case 12:
        return this.struct(depth + 1);
      default:
        throw new PageError(`a page header has an unknown field type ${type}`);
    }
  }

  private skip(bytes: number): void {
    if (this.pos + bytes > this.buf.length) throw new PageError('a page header runs past the column chunk');
    this.pos += bytes;
  }
}

const num = (struct: Struct | undefined, id: number): number => {
  const value = struct?.get(id);
  return typeof value === 'number' ? value : 0;
};
const sub = (struct: Struct, id: number): Struct | undefined => {
  const value = struct.get(id);
  return value instanceof Map ? value : undefined;
};

// Enum values of parquet.thrift.
const DATA_PAGE = 0;
const DICTIONARY_PAGE = 2;
const DATA_PAGE_V2 = 3;
const PLAIN = 0;
const PLAIN_DICTIONARY = 2;
const RLE = 3;
const RLE_DICTIONARY = 8;

// ---- RLE / bit-packed hybrid ------------------------------------------------------------------------

/**
 * Decodes `count` values of the RLE / bit-packed hybrid encoding from bytes [pos, end) of `buf` into
 * `out[at..at+count)`. Returns the position after the last run read.
 */
export function decodeHybrid(
  buf: Uint8Array,
  pos: number,
  end: number,
  width: number,
  out: Int32Array | Uint8Array,
  at: number,
  count: number,
): number {
  const stop = at + count;
  const valueBytes = (width + 7) >> 3;
  while (at < stop) {
    if (pos >= end) throw new PageError('the encoded values end early');
    let header = 0;
    let shift = 0;
    for (;;) {
      const b = buf[pos++]!;
      header += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (pos >= end || shift > 35) throw new PageError('the encoded values are malformed');
    }
    if (header % 2 === 0) {
      const run = header / 2;
      let value = 0;
      for (let i = 0; i < valueBytes; i++) value |= buf[pos + i]! << (8 * i);
      pos += valueBytes;
      const n = Math.min(run, stop - at);
      out.fill(value, at, at + n);
      at += n;
    } else {
      const values = ((header - 1) / 2) * 8;
      const bytes = ((header - 1) / 2) * width;
      if (pos + bytes > end && at + values <= stop) throw new PageError('the encoded values end early');
      const n = Math.min(values, stop - at);
      unpack(buf, pos, Math.min(end, pos + bytes), width, out, at, n);
      at += n;
      pos += bytes;
    }
  }
  return pos;
}

/** Little-endian bit-unpacking of `count` values of `width` bits. */
function unpack(
  buf: Uint8Array,
  pos: number,
  end: number,
  width: number,
  out: Int32Array | Uint8Array,
  at: number,
  count: number,
): void {
  if (width === 0) {
    out.fill(0, at, at + count);
    return;
  }
  if (width <= 24) {
    const mask = (1 << width) - 1;
    // Each value from the 4 bytes that hold it, while 4 bytes are left; the last few bit by bit below.
    const safe = Math.max(0, Math.min(count, Math.floor(((end - pos - 4) * 8) / width) + 1));
    let i = 0;
    for (let bit = 0; i < safe; i++, bit += width) {
      const byte = pos + (bit >>> 3);
      const word = buf[byte]! | (buf[byte + 1]! << 8) | (buf[byte + 2]! << 16) | (buf[byte + 3]! << 24);
      out[at + i] = (word >>> (bit & 7)) & mask;
    }
    if (i === count) return;
    pos += (i * width) >>> 3;
    let acc = 0;
    let bits = 0;
    // Whatever bits of the byte holding value i's start come before it.
    const skip = (i * width) & 7;
    for (let k = i; k < count; k++) {
      while (bits < width + (k === i ? skip : 0)) {
        acc |= (pos < end ? buf[pos]! : 0) << bits;
        pos++;
        bits += 8;
      }
      if (k === i) {
        acc >>>= skip;
        bits -= skip;
      }
      out[at + k] = acc & mask;
      acc >>>= width;
      bits -= width;
    }
    return;
  }
  let bit = pos * 8;
  for (let i = 0; i < count; i++) {
    let value = 0;
    for (let b = 0; b < width; b++, bit++) {
      const byte = bit >> 3;
      if (byte < end && (buf[byte]! >> (bit & 7)) & 1) value += 2 ** b;
    }
    out[at + i] = value | 0;
  }
}

// ---- Column cursor -----------------------------------------------------------------------------------

const lenient = new TextDecoder('utf-8');

/** A data page v2's levels, decoded before its values are loaded into the kernel. */
let levelScratch = new Int32Array(0);
const encoder = new TextEncoder();
const FALSE = encoder.encode('false');
const TRUE = encoder.encode('true');

/**
 * Reads one flat column chunk page by page: {@link ColumnCursor.next} gives the next rows' values in
 * `numbers` (number columns) or `codes` (text and booleans; `entries[code]` is the text's UTF-8 bytes).
 * Only the current page's values are held besides the chunk's compressed bytes and its dictionary.
 */
export class ColumnCursor {
  /** Values of the rows the last {@link next} gave (number columns). */
  numbers: Float64Array;
  /** Codes of the rows the last {@link next} gave (text and boolean columns); -1 is null. */
  codes: Int32Array;
  /** Text of each code, as valid UTF-8. */
  readonly entries: Uint8Array[] = [];
  private readonly byText = new Map<string, number>();

  private pos: number;
  private readonly optional: boolean;
  /** The dictionary: doubles (numbers) or the first codes (text: code = dictionary index). */
  private dictionary: Float64Array | null = null;
  private dictionarySize = 0;
  /** The current page's rows, decoded, and how many of them were given. */
  private pageNumbers = new Float64Array(0);
  private pageCodes = new Int32Array(0);
  private pageRows = 0;
  private pageTaken = 0;
  /** Rows of a block that spans two pages, copied. */
  private blockNumbers: Float64Array;
  private blockCodes: Int32Array;
  /** A dictionary-encoded page of more than {@link LONG_PAGE_ROWS} rows, decoded a piece at a time. */
  private piece: Piece | null = null;
  /** Its encoded indices and its rows' definition levels, kept from page to page with room to spare. */
  private pieceBytes = new Uint8Array(0);
  private pieceLevels = new Uint8Array(0);

  private chunk: Uint8Array;
  /** The chunk's pages left after the first, copied by {@link readFirstPage}, with room to spare. */
  private ownPages = new Uint8Array(0);
  private readonly meta: ColumnMetaData;
  private readonly element: SchemaElement;
  private readonly kind: ColumnKind;

  /** Whether the column holds numbers (else codes). */
  get isNumber(): boolean {
    return this.kind.kind === 'number';
  }

  /**
   * `previous`: the same column's cursor of the last row group (or a column of the same kind of the last file),
   * whose buffers this one takes over.
   */
  constructor(
    chunk: Uint8Array,
    meta: ColumnMetaData,
    element: SchemaElement,
    kind: ColumnKind,
    block: number,
    previous?: ColumnCursor,
  ) {
    this.chunk = chunk;
    this.meta = meta;
    this.element = element;
    this.kind = kind;
    this.pos = 0;
    this.optional = element.repetition_type === 'OPTIONAL';
    this.blockNumbers = previous?.blockNumbers ?? new Float64Array(kind.kind === 'number' ? block : 0);
    this.blockCodes = previous?.blockCodes ?? new Int32Array(kind.kind === 'number' ? 0 : block);
    this.numbers = this.blockNumbers;
    this.codes = this.blockCodes;
    if (previous) {
      this.pageNumbers = previous.pageNumbers;
      this.pageCodes = previous.pageCodes;
      this.pieceBytes = previous.pieceBytes;
      this.pieceLevels = previous.pieceLevels;
      this.ownPages = previous.ownPages;
    }
    if (kind.kind === 'boolean') {
      this.entries.push(FALSE, TRUE);
      this.dictionarySize = 2;
    }
  }

  /**
   * Decodes the next `rows` rows into `numbers[0..rows)` or `codes[0..rows)`: a view of the decoded page when
   * they are all in the current page (no copy), else a copy into the cursor's own block.
   */
  next(rows: number): void {
    const isNumber = this.kind.kind === 'number';
    if (this.pageTaken === this.pageRows) this.readPage();
    if (rows <= this.pageRows - this.pageTaken) {
      const from = this.pageTaken;
      if (isNumber) this.numbers = this.pageNumbers.subarray(from, from + rows);
      else this.codes = this.pageCodes.subarray(from, from + rows);
      this.pageTaken += rows;
      return;
    }
    if (isNumber && this.blockNumbers.length < rows) this.blockNumbers = new Float64Array(rows);
    if (!isNumber && this.blockCodes.length < rows) this.blockCodes = new Int32Array(rows);
    this.numbers = this.blockNumbers;
    this.codes = this.blockCodes;
    let filled = 0;
    while (filled < rows) {
      if (this.pageTaken === this.pageRows) this.readPage();
      const n = Math.min(rows - filled, this.pageRows - this.pageTaken);
      if (isNumber) {
        this.numbers.set(this.pageNumbers.subarray(this.pageTaken, this.pageTaken + n), filled);
      } else {
        this.codes.set(this.pageCodes.subarray(this.pageTaken, this.pageTaken + n), filled);
      }
      this.pageTaken += n;
      filled += n;
    }
  }

  /**
   * Decodes the chunk's first data page now (its dictionary before it) and copies the pages after it, if
   * any, so the bytes the cursor was made with may be reused: a row group's chunks are then read one after
   * the other into one buffer rather than all at once.
   */
  readFirstPage(): void {
    this.readPage();
    const rest = this.chunk.length - this.pos;
    if (rest > 0) {
      if (this.ownPages.length < rest) this.ownPages = new Uint8Array(withRoom(rest));
      this.ownPages.set(this.chunk.subarray(this.pos));
      this.chunk = this.ownPages.subarray(0, rest);
    } else {
      this.chunk = this.chunk.subarray(0, 0);
    }
    this.pos = 0;
  }

  private readPage(): void {
    if (this.piece !== null) {
      this.nextPiece();
      return;
    }
    for (;;) {
      if (this.pos >= this.chunk.length) throw new PageError('the column chunk ends before its last row');
      const thrift = new ThriftReader(this.chunk, this.pos);
      const header = thrift.struct();
      const type = num(header, 1);
      const uncompressed = num(header, 2);
      const compressed = num(header, 3);
      const start = thrift.pos;
      const end = start + compressed;
      if (compressed < 0 || uncompressed < 0 || end > this.chunk.length) {
        throw new PageError('a page runs past the column chunk (a truncated or corrupt file)');
      }
      this.pos = end;
      const body = this.chunk.subarray(start, end);
      if (type === DICTIONARY_PAGE) {
        const dict = sub(header, 7);
        this.readDictionary(decompress(this.meta.codec, body, uncompressed), num(dict, 1), num(dict, 2));
        continue;
      }
      if (type === DATA_PAGE) {
        const data = sub(header, 5);
        if (data === undefined) throw new PageError('a data page has no header');
        const rows = num(data, 1);
        if (this.optional && num(data, 3) !== RLE)
          throw new PageError('definition levels are not RLE-encoded');
        if (rows > LONG_PAGE_ROWS && this.readLongPage(body, uncompressed, rows, num(data, 2))) return;
        const page = decompress(this.meta.codec, body, uncompressed);
        let at = 0;
        let nonNull = rows;
        if (this.optional) {
          const length = readUint32(page, 0);
          if (4 + length > page.length) throw new PageError('the definition levels run past the page');
          // A page without nulls (a single run of 1s) needs no levels: the kernel's memory is not touched.
          if (!allPresent(page, 4, 4 + length, rows)) {
            nonNull = pageKernel().levels(4, 4 + length, rows);
            if (nonNull < 0) throw new PageError('the encoded values are malformed');
          }
          at = 4 + length;
        }
        // The levels may have grown the kernel's memory, which detaches the view.
        const view = pageKernel().page();
        this.decodeValues(view, at, view.length, num(data, 2), rows, nonNull);
        return;
      }
      if (type === DATA_PAGE_V2) {
        const data = sub(header, 8);
        if (data === undefined) throw new PageError('a data page has no header');
        const rows = num(data, 3);
        const nulls = num(data, 2);
        const levelBytes = num(data, 5);
        if (num(data, 6) !== 0) throw new PageError('the column has repetition levels (a repeated column)');
        if (this.optional) this.readLevels(body, 0, levelBytes, rows);
        else if (nulls !== 0) throw new PageError('a required column has null values');
        const compressedValues = data.get(7) !== false;
        if (compressedValues)
          decompress(this.meta.codec, body.subarray(levelBytes), uncompressed - levelBytes);
        else pageKernel().load(body.subarray(levelBytes));
        if (this.optional) pageKernel().setLevels(levelScratch, rows);
        const view = pageKernel().page();
        this.decodeValues(view, 0, view.length, num(data, 4), rows, rows - nulls);
        return;
      }
      // Index pages and anything newer carry no rows.
    }
  }

  /**
   * A long page (more than {@link LONG_PAGE_ROWS} rows: a 1M-row group's) of a Snappy or uncompressed chunk,
   * decoded without the kernel, whose memory (it never shrinks) would otherwise hold the page's compressed and
   * decompressed bytes for as long as the thread lives: PLAIN DOUBLE or INT64 numbers are decompressed
   * straight into the page's own array and converted there; dictionary indices into the bytes kept for
   * decoding the page a piece at a time. False for any other page.
   */
  private readLongPage(body: Uint8Array, uncompressed: number, rows: number, encoding: number): boolean {
    const codec = this.meta.codec;
    if (codec !== 'SNAPPY' && codec !== 'UNCOMPRESSED') return false;
    if (encoding === PLAIN_DICTIONARY || encoding === RLE_DICTIONARY) {
      if (this.pieceBytes.length < uncompressed) this.pieceBytes = new Uint8Array(withRoom(uncompressed));
      const bytes = this.pieceBytes.subarray(0, uncompressed);
      inflateInto(codec, body, bytes);
      const { at, present } = this.longPageLevels(bytes, rows);
      if (this.dictionarySize === 0 && present > 0)
        throw new PageError('a dictionary-encoded page has no dictionary');
      if (present > 0 && at >= uncompressed) throw new PageError('the page ends early');
      const width = present > 0 ? bytes[at]! : 0;
      this.piece = { length: uncompressed, width, at: at + 1, skip: 0, row: 0, rows, levels: present < rows };
      this.nextPiece();
      return true;
    }
    const type = this.element.type;
    const scale = this.kind.kind === 'number' ? this.kind.toNumber : null;
    if (
      encoding !== PLAIN ||
      scale === null ||
      scale.factor !== 1 ||
      scale.unsigned ||
      (type !== 'DOUBLE' && type !== 'INT64')
    ) {
      return false;
    }
    const room = Math.ceil(Math.max(uncompressed, rows * 8) / 8);
    if (this.pageNumbers.length < room) this.pageNumbers = new Float64Array(withRoom(room));
    const out = new Float64Array(this.pageNumbers.buffer, 0, this.pageNumbers.length);
    const bytes = new Uint8Array(out.buffer, 0, uncompressed);
    inflateInto(codec, body, bytes);
    const { at, present } = this.longPageLevels(bytes, rows);
    if (at + 8 * present > uncompressed) throw new PageError('the page ends early');
    // The values to the front, where a Float64Array sees them (they follow the levels, at any byte).
    bytes.copyWithin(0, at, at + 8 * present);
    if (type === 'INT64') {
      // In place: each value's 8 bytes become its double's.
      const view = new DataView(out.buffer, 0, 8 * present);
      for (let i = 0; i < present; i++) {
        out[i] = view.getInt32(8 * i + 4, true) * 4294967296 + view.getUint32(8 * i, true);
      }
    }
    if (present < rows) {
      const levels = this.pieceLevels;
      let value = present - 1;
      for (let row = rows - 1; row >= 0; row--) out[row] = levels[row] ? out[value--]! : Number.NaN;
    }
    this.pageRows = rows;
    this.pageTaken = 0;
    return true;
  }

  /**
   * A long page's definition levels (a data page v1's, at its start): into `pieceLevels` (a byte per row)
   * unless the page has no nulls. Where the values start, and how many there are.
   */
  private longPageLevels(bytes: Uint8Array, rows: number): { at: number; present: number } {
    if (!this.optional) return { at: 0, present: rows };
    const length = readUint32(bytes, 0);
    const at = 4 + length;
    if (at > bytes.length) throw new PageError('the definition levels run past the page');
    if (allPresent(bytes, 4, at, rows)) return { at, present: rows };
    if (this.pieceLevels.length < rows) this.pieceLevels = new Uint8Array(withRoom(rows));
    decodeHybrid(bytes, 4, at, 1, this.pieceLevels, 0, rows);
    let present = 0;
    for (let row = 0; row < rows; row++) present += this.pieceLevels[row]!;
    return { at, present };
  }

  /** Definition levels (0 null, 1 present) of `rows` rows; returns the number of present values. */
  private readLevels(buf: Uint8Array, pos: number, end: number, rows: number): number {
    if (end > buf.length) throw new PageError('the definition levels run past the page');
    if (levelScratch.length < rows) levelScratch = new Int32Array(rows);
    decodeHybrid(buf, pos, end, 1, levelScratch, 0, rows);
    let present = 0;
    for (let i = 0; i < rows; i++) present += levelScratch[i]!;
    return present;
  }

  private readDictionary(page: Uint8Array, count: number, encoding: number): void {
    if (encoding !== PLAIN && encoding !== PLAIN_DICTIONARY)
      throw new PageError('the dictionary page is not PLAIN-encoded');
    if (this.kind.kind === 'number') {
      this.dictionary = new Float64Array(count);
      this.plainNumbers(page, 0, page.length, count, this.dictionary);
    } else if (this.kind.kind === 'text') {
      // Dictionary index i is code i: the chunk's one dictionary comes before its data pages.
      this.entries.length = 0;
      this.byText.clear();
      let pos = 0;
      for (let i = 0; i < count; i++) {
        const length = pos + 4 <= page.length ? readUint32(page, pos) : -1;
        if (length < 0 || pos + 4 + length > page.length)
          throw new PageError('the dictionary page is truncated');
        this.addEntry(page, pos + 4, pos + 4 + length, false);
        pos += 4 + length;
      }
    } else {
      throw new PageError('a BOOLEAN column has a dictionary page');
    }
    this.dictionarySize = count;
  }

  private decodeValues(
    page: Uint8Array,
    pos: number,
    end: number,
    encoding: number,
    rows: number,
    present: number,
  ): void {
    const isNumber = this.kind.kind === 'number';
    const dictionaryEncoded = encoding === PLAIN_DICTIONARY || encoding === RLE_DICTIONARY;
    if (dictionaryEncoded) {
      if (this.dictionarySize === 0 && present > 0)
        throw new PageError('a dictionary-encoded page has no dictionary');
      if (present > 0 && pos >= end) throw new PageError('the page ends early');
      if (rows > LONG_PAGE_ROWS) {
        this.startPieces(page, pos + 1, end, present > 0 ? page[pos]! : 0, rows, present);
        return;
      }
    }
    // With room to spare: row groups differ by a few rows, and each new array of a page's size is one more
    // large allocation for the process to place (which fragments its memory).
    if (isNumber && this.pageNumbers.length < rows) this.pageNumbers = new Float64Array(withRoom(rows));
    if (!isNumber && this.pageCodes.length < rows) this.pageCodes = new Int32Array(withRoom(rows));
    this.pageRows = rows;
    this.pageTaken = 0;
    // Values go to the front of the page's array, then are spread over the rows by the levels. The kernel
    // does both for dictionary indices and integers, in its memory, where the page is.
    if (dictionaryEncoded) {
      const width = present > 0 ? page[pos]! : 0;
      const decoded = isNumber
        ? pageKernel().dictionaryNumbers(pos + 1, end, width, present, rows, this.dictionary!)
        : pageKernel().dictionaryCodes(pos + 1, end, width, present, rows, this.dictionarySize);
      if (decoded === null) throw new PageError('the dictionary indices are malformed or out of range');
      if (isNumber) this.pageNumbers.set(decoded);
      else this.pageCodes.set(decoded);
      return;
    }
    const scale = isNumber ? (this.kind as { toNumber: NumberScale }).toNumber : null;
    const type = this.element.type;
    if (encoding === PLAIN && scale?.factor === 1 && (type === 'INT32' || type === 'INT64')) {
      const width = type === 'INT32' ? 4 : 8;
      if (pos + width * present > end) throw new PageError('the page ends early');
      this.pageNumbers.set(pageKernel().integers(pos, width, scale.unsigned, present, rows));
      return;
    }
    if (encoding === PLAIN) {
      if (isNumber) this.plainNumbers(page, pos, end, present, this.pageNumbers);
      else if (this.kind.kind === 'text') this.plainText(page, pos, end, present);
      else unpackBooleans(page, pos, end, present, this.pageCodes);
    } else if (encoding === RLE && this.kind.kind === 'boolean') {
      const length = readUint32(page, pos);
      decodeHybrid(page, pos + 4, Math.min(end, pos + 4 + length), 1, this.pageCodes, 0, present);
    } else {
      throw new PageError(`page encoding ${encoding} is not supported`);
    }
    if (present < rows) this.spread(rows, present);
  }

  /**
   * Starts decoding a long dictionary-encoded page (its indices at page bytes [start, end)) a piece of
   * {@link PIECE_ROWS} rows at a time: its indices and levels are kept (a few bits and a byte per row) rather
   * than its values (8 bytes per row), so memory stays that of a piece whatever the page's length.
   */
  private startPieces(
    page: Uint8Array,
    start: number,
    end: number,
    width: number,
    rows: number,
    present: number,
  ): void {
    const length = end - start;
    if (this.pieceBytes.length < length) this.pieceBytes = new Uint8Array(withRoom(length));
    this.pieceBytes.set(page.subarray(start, end));
    let levels = false;
    if (present < rows) {
      if (this.pieceLevels.length < rows) this.pieceLevels = new Uint8Array(withRoom(rows));
      this.pieceLevels.set(pageKernel().levelView());
      levels = true;
    }
    this.piece = { length, width, at: 0, skip: 0, row: 0, rows, levels };
    this.nextPiece();
  }

  /** Decodes the next piece of the long page into the page arrays, as if it were a page of its own. */
  private nextPiece(): void {
    const piece = this.piece!;
    const rows = Math.min(PIECE_ROWS, piece.rows - piece.row);
    let present = rows;
    if (piece.levels) {
      present = 0;
      const levels = this.pieceLevels;
      for (let row = piece.row; row < piece.row + rows; row++) present += levels[row]!;
    }
    const isNumber = this.kind.kind === 'number';
    if (isNumber && this.pageNumbers.length < rows) this.pageNumbers = new Float64Array(withRoom(rows));
    if (!isNumber && this.pageCodes.length < rows) this.pageCodes = new Int32Array(withRoom(rows));
    const kernel = pageKernel();
    kernel.load(this.pieceBytes.subarray(piece.at, piece.length));
    const decoded = kernel.dictionaryPiece(
      piece.width,
      present,
      piece.skip,
      isNumber ? this.dictionary! : null,
      this.dictionarySize,
    );
    if (decoded === null) throw new PageError('the dictionary indices are malformed or out of range');
    piece.at += kernel.pieceEnd;
    piece.skip = kernel.pieceSkip;
    if (isNumber) this.pageNumbers.set(decoded);
    else this.pageCodes.set(decoded);
    if (piece.levels) {
      // Present values to their rows, back to front, NaN or -1 for nulls.
      const levels = this.pieceLevels;
      let value = present - 1;
      const from = piece.row;
      if (isNumber) {
        const out = this.pageNumbers;
        for (let row = rows - 1; row >= 0; row--) out[row] = levels[from + row] ? out[value--]! : Number.NaN;
      } else {
        const out = this.pageCodes;
        for (let row = rows - 1; row >= 0; row--) out[row] = levels[from + row] ? out[value--]! : -1;
      }
    }
    this.pageRows = rows;
    this.pageTaken = 0;
    piece.row += rows;
    if (piece.row === piece.rows) this.piece = null;
  }

  /** Moves the `present` values at the front to their rows (level 1), nulls elsewhere; back to front. */
  private spread(rows: number, present: number): void {
    const levels = pageKernel().levelView();
    let value = present - 1;
    if (this.kind.kind === 'number') {
      const out = this.pageNumbers;
      for (let row = rows - 1; row >= 0; row--) out[row] = levels[row] ? out[value--]! : Number.NaN;
    } else {
      const out = this.pageCodes;
      for (let row = rows - 1; row >= 0; row--) out[row] = levels[row] ? out[value--]! : -1;
    }
  }

  /** PLAIN numbers of the column's physical type into `out[0..count)`, scaled. */
  private plainNumbers(page: Uint8Array, pos: number, end: number, count: number, out: Float64Array): void {
    const scale = (this.kind as { toNumber: NumberScale }).toNumber;
    const type = this.element.type;
    const width =
      type === 'INT32' || type === 'FLOAT'
        ? 4
        : type === 'INT64' || type === 'DOUBLE'
          ? 8
          : type === 'INT96'
            ? 12
            : type === 'FIXED_LEN_BYTE_ARRAY'
              ? (this.element.type_length ?? 0)
              : -1;
    if (width >= 0 && pos + width * count > end) throw new PageError('the page ends early');
    const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    const factor = scale.factor;
    switch (type) {
      case 'DOUBLE':
        if ((page.byteOffset + pos) % 8 === 0) {
          out.set(new Float64Array(page.buffer, page.byteOffset + pos, count));
        } else {
          new Uint8Array(out.buffer, out.byteOffset, count * 8).set(page.subarray(pos, pos + count * 8));
        }
        if (factor !== 1) for (let i = 0; i < count; i++) out[i]! *= factor;
        return;
      case 'FLOAT':
        for (let i = 0; i < count; i++) out[i] = view.getFloat32(pos + 4 * i, true);
        return;
      case 'INT32':
        for (let i = 0; i < count; i++) {
          const v = scale.unsigned ? view.getUint32(pos + 4 * i, true) : view.getInt32(pos + 4 * i, true);
          out[i] = factor === 1 ? v : scaled(v, factor);
        }
        return;
      case 'INT64':
        for (let i = 0; i < count; i++) {
          const at = pos + 8 * i;
          const high = scale.unsigned ? view.getUint32(at + 4, true) : view.getInt32(at + 4, true);
          const v = high * 4294967296 + view.getUint32(at, true);
          out[i] = factor === 1 ? v : scaled(v, factor);
        }
        return;
      case 'INT96':
        for (let i = 0; i < count; i++) {
          const at = pos + 12 * i;
          const nanos = view.getUint32(at + 4, true) * 4294967296 + view.getUint32(at, true);
          const julianDay = view.getInt32(at + 8, true);
          out[i] = (julianDay - 2440588) * 86400 + nanos / 1e9;
        }
        return;
      case 'FIXED_LEN_BYTE_ARRAY':
        for (let i = 0; i < count; i++) {
          const at = pos + width * i;
          out[i] = scale.half
            ? halfFloat(view.getUint16(at, true))
            : scaled(bigEndian(page, at, at + width), factor);
        }
        return;
      case 'BYTE_ARRAY':
        for (let i = 0; i < count; i++) {
          const length = pos + 4 <= end ? readUint32(page, pos) : -1;
          if (length < 0 || pos + 4 + length > end) throw new PageError('the page ends early');
          out[i] = scaled(bigEndian(page, pos + 4, pos + 4 + length), factor);
          pos += 4 + length;
        }
        return;
      default:
        throw new PageError(`physical type ${type} is not a number`);
    }
  }

  /** PLAIN byte arrays as codes: repeated text gets the code of its first occurrence in the chunk. */
  private plainText(page: Uint8Array, pos: number, end: number, count: number): void {
    const codes = this.pageCodes;
    for (let i = 0; i < count; i++) {
      const length = pos + 4 <= end ? readUint32(page, pos) : -1;
      if (length < 0 || pos + 4 + length > end) throw new PageError('the page ends early');
      codes[i] = this.addEntry(page, pos + 4, pos + 4 + length, true);
      pos += 4 + length;
    }
  }

  /** The code of bytes [start, end): a new one unless `lookup` finds the same text already. */
  private addEntry(page: Uint8Array, start: number, end: number, lookup: boolean): number {
    const key = Buffer.from(page.buffer, page.byteOffset + start, end - start).toString('latin1');
    if (lookup) {
      const known = this.byText.get(key);
      if (known !== undefined) return known;
    }
    let bytes = page.slice(start, end);
    // Invalid UTF-8 becomes U+FFFD, as a lenient decoder reads it: sinks take valid UTF-8 only.
    if (firstInvalidUtf8(bytes, 0, bytes.length) < bytes.length)
      bytes = encoder.encode(lenient.decode(bytes));
    const code = this.entries.length;
    this.entries.push(bytes);
    if (!this.byText.has(key)) this.byText.set(key, code);
    return code;
  }
}

/** Rows of a piece of a long dictionary-encoded page (a page of a 1M-row group, say), decoded at a time. */
export const PIECE_ROWS = 32_768;

/**
 * Pages of more rows than this are long: decoded a piece at a time (dictionary-encoded) or without the
 * kernel (PLAIN numbers). DuckDB's pages of 122,880 rows are not.
 */
export const LONG_PAGE_ROWS = 131_072;

/** Where a page decoded a piece at a time is: the next piece starts `skip` values into the run at byte `at`. */
interface Piece {
  length: number;
  width: number;
  at: number;
  skip: number;
  /** Rows decoded so far, of `rows`. */
  row: number;
  rows: number;
  /** Whether the page has nulls (its levels are in pieceLevels). */
  levels: boolean;
}

/** Decompresses a Snappy or uncompressed page into `out`, which has its stated size. */
function inflateInto(codec: string, body: Uint8Array, out: Uint8Array): void {
  if (codec === 'SNAPPY') {
    try {
      snappyUncompress(body, out);
    } catch {
      throw new PageError('corrupt Snappy data');
    }
  } else if (body.length !== out.length) {
    throw new PageError('the page is not of its stated size');
  } else {
    out.set(body);
  }
}

/**
 * Whether the definition levels at bytes [start, end) begin with a run of 1s of at least `rows` (bit width 1):
 * every row has a value. A writer encodes a page without nulls so.
 */
function allPresent(buf: Uint8Array, start: number, end: number, rows: number): boolean {
  let header = 0;
  let shift = 0;
  let pos = start;
  while (pos < end && shift < 35) {
    const byte = buf[pos++]!;
    header += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return header % 2 === 0 && header / 2 >= rows && pos < end && buf[pos] === 1;
  }
  return false;
}

/** A size with an eighth more room, rounded up to 4096. */
export function withRoom(size: number): number {
  return Math.ceil((size + (size >> 3)) / 4096) * 4096;
}

function readUint32(buf: Uint8Array, pos: number): number {
  if (pos + 4 > buf.length) throw new PageError('the page ends early');
  return (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16)) + buf[pos + 3]! * 16777216;
}

function unpackBooleans(buf: Uint8Array, pos: number, end: number, count: number, out: Int32Array): void {
  if (pos + Math.ceil(count / 8) > end) throw new PageError('the page ends early');
  for (let i = 0; i < count; i++) out[i] = (buf[pos + (i >> 3)]! >> (i & 7)) & 1;
}

/**
 * An integer times a factor: for a power of ten below 1 (decimals, time units) a division by the exact power,
 * which IEEE rounds correctly, so 12345 at scale 2 is the double nearest 123.45, as the text would parse.
 */
function scaled(value: number, factor: number): number {
  if (factor >= 1) return value * factor;
  const divisor = Math.round(1 / factor);
  return value / divisor;
}

/** A big-endian two's complement integer (decimals in byte arrays). */
function bigEndian(buf: Uint8Array, start: number, end: number): number {
  if (end === start) return 0;
  let value = buf[start]! >= 0x80 ? buf[start]! - 256 : buf[start]!;
  for (let i = start + 1; i < end; i++) value = value * 256 + buf[i]!;
  return value;
}

function halfFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
