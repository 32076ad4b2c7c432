import { wasmInstance } from '../wasm-instance.ts';
import { KERNEL_MISSING, KERNEL_ROWS, LineKernel, type LineKernelExports } from './line-kernel.ts';
import { JSONL_LINES_WASM } from './wasm/jsonl-lines.wasm.ts';

/** `kinds[f]` of a string (its text is at `starts[f]`..`ends[f]`). */
export const JSONL_TEXT = 0;
/** `kinds[f]` of a number (`numbers[f]` holds it). */
export const JSONL_NUMBER = 1;
/** `kinds[f]` of a number whose value is a whole number from 0 to 1e21: its text, as labelled, is its value's. */
export const JSONL_PLAIN_WHOLE = 2;
export const JSONL_TRUE = 3;
export const JSONL_FALSE = 4;
export const JSONL_NULL = 5;
/** `labels[f]` of a string registered as a missing value ({@link JsonlLinesKernel.registerMissing}). */
export const JSONL_MISSING = KERNEL_MISSING;
/** Lines per call: small output arrays, and the sink still sees rows in order as they come. */
export const JSONL_ROWS = KERNEL_ROWS;

interface Exports extends LineKernelExports {
  scanLines(
    input: number,
    from: number,
    length: number,
    slots: number,
    maxRows: number,
    maxLineBytes: number,
    keys: number,
    kinds: number,
    numbers: number,
    starts: number,
    ends: number,
    texts: number,
    tables: number,
    labels: number,
    skips: number,
    countLabels: number,
  ): number;
}

/** Columns that may get a label table: the first ones that need one (a table takes 37 KB). */
const MAX_TABLES = 64;
/** Bytes for the keys of the objects the kernel reads. */
const KEY_BYTES = 64 * 1024;
const QUOTE = 0x22;

/**
 * The WebAssembly loop of the JSON Lines parser (source: wasm/jsonl-lines.as.ts): it reads the lines whose
 * objects have the keys of the object read last, in the same order, with plain values, and leaves anything
 * else to the parser. Set the keys with {@link setKeys}, copy a chunk in with {@link load}, then call
 * {@link scan} and read the values of the lines it took from {@link kinds}, {@link numbers}, {@link starts},
 * {@link ends} and {@link labels}: the value in `row` of the key in `slot` is at `slot * JSONL_ROWS + row`.
 * Label tables belong to columns (the sink's), so they stay when the keys change order.
 */
export class JsonlLinesKernel extends LineKernel<Exports> {
  /** Keys the kernel can hold; {@link setKeys} refuses more. */
  readonly capacity: number;
  /** The column of each slot, as last set. */
  columns: readonly number[] = [];
  /** Per slot, whether its values are left out (as last set). */
  skipped: readonly boolean[] = [];
  private readonly maxLineBytes: number;
  /** The keys' offsets and lengths, then their bytes, in the kernel's own bytes. */
  private readonly keysAt: number;
  private readonly keyBytesAt: number;

  /**
   * `capacity`: the most keys an object may have for the kernel. `countLabels`: strings with a label are
   * also counted in the kernel ({@link takeLabelCounts}). Lines longer than `maxLineBytes` are left out.
   */
  constructor(capacity: number, maxLineBytes: number, countLabels = false) {
    super(wasmInstance<Exports>(JSONL_LINES_WASM, 'JSON Lines kernel'), capacity, {
      maxTables: MAX_TABLES,
      ownBytes: 8 * capacity + KEY_BYTES,
      countLabels,
    });
    this.capacity = capacity;
    this.maxLineBytes = maxLineBytes;
    this.keysAt = this.ownAt;
    this.keyBytesAt = this.keysAt + 8 * capacity;
  }

  protected columnOf(slot: number): number {
    return this.columns[slot]!;
  }

  /**
   * The keys of the lines to read, in order: `keys[s]` (bytes without quotes or escapes) of column
   * `columns[s]`, whose values the kernel checks but does not give when `skipped[s]`. False (and the kernel
   * reads nothing) when they do not fit.
   */
  setKeys(keys: readonly Uint8Array[], columns: readonly number[], skipped: readonly boolean[]): boolean {
    if (keys.length === 0 || keys.length > this.capacity) return false;
    // Room for the quotes, and for the kernel's reads of up to 7 bytes past a key.
    if (keys.reduce((sum, key) => sum + key.length + 2, 8) > KEY_BYTES) return false;
    const memory = this.exports.memory.buffer;
    const index = new Int32Array(memory, this.keysAt, 2 * keys.length);
    const tables = new Int32Array(memory, this.tablesAt, keys.length);
    const skips = new Int32Array(memory, this.skipsAt, keys.length);
    const bytes = new Uint8Array(memory);
    let at = this.keyBytesAt;
    for (let slot = 0; slot < keys.length; slot++) {
      const key = keys[slot]!;
      // In quotes: the kernel compares them too.
      bytes[at] = QUOTE;
      bytes.set(key, at + 1);
      bytes[at + 1 + key.length] = QUOTE;
      index[2 * slot] = at;
      index[2 * slot + 1] = key.length + 2;
      at += key.length + 2;
      tables[slot] = this.tableOfColumn(columns[slot]!);
      skips[slot] = skipped[slot] ? 1 : 0;
    }
    this.columns = [...columns];
    this.skipped = skipped.slice(0, keys.length);
    return true;
  }

  /** Copies `buf[from, to)` in: the input of the following scans. */
  load(buf: Uint8Array, from: number, to: number): void {
    this.copyIn(buf, from, to, this.inputAt + (to - from));
  }

  /** Reads up to {@link JSONL_ROWS} lines from `offset` of the input; returns how many. */
  scan(offset: number): number {
    const rows = this.exports.scanLines(
      this.inputAt,
      offset,
      this.inputLength,
      this.columns.length,
      JSONL_ROWS,
      this.maxLineBytes,
      this.keysAt,
      this.kindsAt,
      this.numbersAt,
      this.startsAt,
      this.endsAt,
      this.textsAt,
      this.tablesAt,
      this.labelsAt,
      this.skipsAt,
      this.countLabels ? 1 : 0,
    );
    this.consumed = this.exports.consumedBytes();
    return rows;
  }
}
