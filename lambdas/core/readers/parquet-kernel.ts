import { reserveMemory, type WasmMemory, wasmInstance } from '../wasm-instance.ts';
import { PARQUET_PAGES_WASM } from './wasm/parquet-pages.wasm.ts';

interface Exports {
  memory: WasmMemory;
  heapBase(): number;
  uncompress(input: number, inputLength: number, output: number, outputLength: number): number;
  hybrid(pos: number, end: number, width: number, out: number, count: number): number;
  hybridFrom(pos: number, end: number, width: number, out: number, count: number, skip: number): number;
  runOffset(): number;
  sum(at: number, count: number): number;
  gather(indices: number, count: number, dictionary: number, size: number, out: number): number;
  checkCodes(at: number, count: number, size: number): number;
  integers(at: number, count: number, width: number, unsigned: number, out: number): void;
  spread(values: number, levels: number, rows: number, present: number, doubles: number): void;
}

const align = (at: number) => Math.ceil(at / 16) * 16;

/**
 * The WebAssembly side of Parquet page decoding (source: wasm/parquet-pages.as.ts), one instance per thread.
 * A page is loaded into the kernel's memory (Snappy decompresses straight into it; other codecs' output is
 * copied in), and its levels, dictionary indices and values are decoded there, into regions after the page:
 *
 *   [compressed input] [page] [levels: i32 per row] [values: f64 per row] [indices: i32 per value] [dictionary]
 *
 * Views it returns are valid until the next call on this thread: copy what must outlive it.
 */
export class PageKernel {
  private readonly exports = wasmInstance<Exports>(PARQUET_PAGES_WASM, 'Parquet page kernel');
  private readonly base = align(this.exports.heapBase());
  private bytes = new Uint8Array(0);
  private pageAt = 0;
  private pageLength = 0;
  private rows = 0;

  /** A view of the whole memory, renewed when the memory grew. */
  private view(end: number): Uint8Array {
    const memory = this.exports.memory;
    if (reserveMemory(memory, end) || this.bytes.buffer !== memory.buffer) {
      this.bytes = new Uint8Array(memory.buffer);
    }
    return this.bytes;
  }

  /**
   * The `size` bytes `input` decompresses to with Snappy, as a view of the kernel's memory; null when the
   * input is corrupt or of another size.
   */
  snappy(input: Uint8Array, size: number): Uint8Array | null {
    const inputAt = this.base;
    const outputAt = align(inputAt + input.length);
    const bytes = this.view(outputAt + size + 16);
    bytes.set(input, inputAt);
    const written = this.exports.uncompress(inputAt, input.length, outputAt, size);
    if (written !== size) return null;
    this.pageAt = outputAt;
    this.pageLength = size;
    return this.bytes.subarray(outputAt, outputAt + size);
  }

  /** Copies a page decoded elsewhere into the kernel's memory; returns its view there. */
  load(page: Uint8Array): Uint8Array {
    const at = this.base;
    const bytes = this.view(at + page.length + 16);
    bytes.set(page, at);
    this.pageAt = at;
    this.pageLength = page.length;
    return bytes.subarray(at, at + page.length);
  }

  /** The page loaded last, as a view of the current memory (a view taken before the memory grew is empty). */
  page(): Uint8Array {
    return this.view(0).subarray(this.pageAt, this.pageAt + this.pageLength);
  }

  /** Where the regions after the loaded page start, for `rows` rows and `values` values. */
  private regions(rows: number, values = rows, dictionary = 0) {
    const levels = align(this.pageAt + this.pageLength);
    const numbers = align(levels + rows * 4);
    const indices = align(numbers + rows * 8);
    const table = align(indices + values * 4);
    this.view(table + dictionary * 8 + 16);
    return { levels, numbers, indices, table };
  }

  /**
   * Decodes the definition levels (0 or 1) of `rows` rows from page bytes [start, end); returns the number
   * of present values, or -1 when the levels are malformed.
   */
  levels(start: number, end: number, rows: number): number {
    const { levels } = this.regions(rows);
    this.rows = rows;
    const { pageAt } = this;
    if (this.exports.hybrid(pageAt + start, pageAt + end, 1, levels, rows) === 0 && rows > 0) return -1;
    return this.exports.sum(levels, rows);
  }

  /** Levels decoded elsewhere (a data page v2 keeps them outside its compressed values), for the page loaded. */
  setLevels(levels: Int32Array, rows: number): void {
    const at = this.regions(rows).levels;
    this.rows = rows;
    new Int32Array(this.bytes.buffer, at, rows).set(levels.subarray(0, rows));
  }

  /** The levels the last {@link levels} or {@link setLevels} call gave. */
  levelView(): Int32Array {
    const { levels } = this.regions(this.rows);
    return new Int32Array(this.bytes.buffer, levels, this.rows);
  }

  /**
   * Dictionary-encoded numbers: `present` indices of `width` bits from page bytes [start, end), looked up in
   * `dictionary` and spread over `rows` rows by the levels (NaN where null). Null when the indices are
   * malformed or out of range.
   */
  dictionaryNumbers(
    start: number,
    end: number,
    width: number,
    present: number,
    rows: number,
    dictionary: Float64Array,
  ): Float64Array | null {
    const { levels, numbers, indices, table } = this.regions(rows, present, dictionary.length);
    const { pageAt, exports } = this;
    if (present > 0) {
      if (exports.hybrid(pageAt + start, pageAt + end, width, indices, present) === 0) return null;
      new Float64Array(this.bytes.buffer, table, dictionary.length).set(dictionary);
      if (exports.gather(indices, present, table, dictionary.length, numbers) !== 0) return null;
    }
    if (present < rows) exports.spread(numbers, levels, rows, present, 1);
    return new Float64Array(this.bytes.buffer, numbers, rows);
  }

  /**
   * A piece of a dictionary-encoded page loaded whole ({@link load}) from the run at its start: passes over
   * `skip` values of that run, then takes `count` indices, looked up in `dictionary` (numbers) or checked to be
   * below `size` (codes, when `dictionary` is null). Where the next piece starts is then {@link pieceEnd}
   * (bytes from the loaded start) and {@link pieceSkip}. Null when the indices are malformed or out of range.
   */
  dictionaryPiece(
    width: number,
    count: number,
    skip: number,
    dictionary: Float64Array | null,
    size: number,
  ): Float64Array | Int32Array | null {
    const { numbers, indices, table } = this.regions(count, count, dictionary?.length ?? 0);
    const { pageAt, exports } = this;
    const end = exports.hybridFrom(pageAt, pageAt + this.pageLength, width, indices, count, skip);
    if (end === 0 && count > 0) return null;
    this.pieceEnd = end === 0 ? 0 : end - pageAt;
    this.pieceSkip = exports.runOffset();
    if (dictionary === null) {
      if (exports.checkCodes(indices, count, size) !== 0) return null;
      return new Int32Array(this.bytes.buffer, indices, count);
    }
    new Float64Array(this.bytes.buffer, table, dictionary.length).set(dictionary);
    if (exports.gather(indices, count, table, dictionary.length, numbers) !== 0) return null;
    return new Float64Array(this.bytes.buffer, numbers, count);
  }

  /** After {@link dictionaryPiece}: the byte (from the loaded start) of the run where the next piece starts. */
  pieceEnd = 0;
  /** After {@link dictionaryPiece}: the values of that run the piece took. */
  pieceSkip = 0;

  /**
   * Dictionary-encoded text: `present` indices as codes, each below `size`, spread over `rows` rows (-1
   * where null). Null when the indices are malformed or out of range.
   */
  dictionaryCodes(
    start: number,
    end: number,
    width: number,
    present: number,
    rows: number,
    size: number,
  ): Int32Array | null {
    const { levels, indices } = this.regions(rows, Math.max(rows, present));
    const { pageAt, exports } = this;
    if (present > 0) {
      if (exports.hybrid(pageAt + start, pageAt + end, width, indices, present) === 0) return null;
      if (exports.checkCodes(indices, present, size) !== 0) return null;
    }
    if (present < rows) exports.spread(indices, levels, rows, present, 0);
    return new Int32Array(this.bytes.buffer, indices, rows);
  }

  /**
   * PLAIN integers of `width` bytes (4 or 8) at page byte `start`, `present` of them, as doubles spread over
   * `rows` rows (NaN where null). The caller checks that the page holds them.
   */
  integers(start: number, width: number, unsigned: boolean, present: number, rows: number): Float64Array {
    const { levels, numbers } = this.regions(rows);
    const { exports } = this;
    exports.integers(this.pageAt + start, present, width, unsigned ? 1 : 0, numbers);
    if (present < rows) exports.spread(numbers, levels, rows, present, 1);
    return new Float64Array(this.bytes.buffer, numbers, rows);
  }
}

let kernel: PageKernel | undefined;

/** This thread's page kernel. */
export function pageKernel(): PageKernel {
  kernel ??= new PageKernel();
  return kernel;
}

/**
 * Decompresses a raw Snappy block of known uncompressed `size` (as Parquet pages give it). The result is valid
 * until the next call on this thread: decode it, or copy it, before decompressing anything else.
 */
export function snappyUncompress(input: Uint8Array, size: number): Uint8Array {
  const page = pageKernel().snappy(input, size);
  if (page === null) throw new Error('corrupt Snappy data');
  return page;
}
