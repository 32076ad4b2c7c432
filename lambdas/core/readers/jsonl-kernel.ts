import { reserveMemory, type WasmMemory, wasmInstance } from '../wasm-instance.ts';
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
export const JSONL_MISSING = 1023;
/** Lines per call: small output arrays, and the sink still sees rows in order as they come. */
export const JSONL_ROWS = 256;

interface Exports {
  memory: WasmMemory;
  heapBase(): number;
  consumedBytes(): number;
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
  tableBytes(): number;
  countsOffset(): number;
  register(table: number, bytes: number, length: number, id: number): number;
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
export class JsonlLinesKernel {
  kinds = new Uint8Array(0);
  numbers = new Float64Array(0);
  starts = new Int32Array(0);
  ends = new Int32Array(0);
  /** Per slot, the number of its values in the scan that are not numbers. */
  texts = new Int32Array(0);
  labels = new Int32Array(0);
  /** Bytes of the input the last {@link scan} took: its lines, each with its LF. */
  consumed = 0;
  /** Keys the kernel can hold; {@link setKeys} refuses more. */
  readonly capacity: number;
  /** The column of each slot, as last set. */
  columns: readonly number[] = [];
  private readonly exports: Exports;
  private readonly kindsAt: number;
  private readonly numbersAt: number;
  private readonly startsAt: number;
  private readonly endsAt: number;
  private readonly textsAt: number;
  private readonly labelsAt: number;
  private readonly tablesAt: number;
  private readonly skipsAt: number;
  private readonly keysAt: number;
  private readonly keyBytesAt: number;
  private readonly tableAreaAt: number;
  private readonly tableBytes: number;
  /** Per column with a label table: its address and how many label ids it may hold counts for. */
  private readonly tableOf = new Map<number, { table: number; ids: number }>();
  private readonly countLabels: boolean;
  private readonly maxLineBytes: number;
  private readonly inputAt: number;
  private inputLength = 0;

  /**
   * `capacity`: the most keys an object may have for the kernel. `countLabels`: strings with a label are
   * also counted in the kernel ({@link takeLabelCounts}). Lines longer than `maxLineBytes` are left out.
   */
  constructor(capacity: number, maxLineBytes: number, countLabels = false) {
    this.capacity = capacity;
    this.countLabels = countLabels;
    this.maxLineBytes = maxLineBytes;
    this.exports = wasmInstance<Exports>(JSONL_LINES_WASM, 'JSON Lines kernel');
    const fields = JSONL_ROWS * capacity;
    this.numbersAt = align(this.exports.heapBase());
    this.startsAt = this.numbersAt + 8 * fields;
    this.endsAt = this.startsAt + 4 * fields;
    this.textsAt = this.endsAt + 4 * fields;
    this.labelsAt = this.textsAt + 4 * capacity;
    this.tablesAt = this.labelsAt + 4 * fields;
    this.skipsAt = this.tablesAt + 4 * capacity;
    this.keysAt = this.skipsAt + 4 * capacity;
    this.keyBytesAt = this.keysAt + 8 * capacity;
    this.kindsAt = this.keyBytesAt + KEY_BYTES;
    this.tableBytes = align(this.exports.tableBytes());
    this.tableAreaAt = align(this.kindsAt + fields);
    this.inputAt = this.tableAreaAt + MAX_TABLES * this.tableBytes;
    this.reserve(this.inputAt);
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
      tables[slot] = this.tableOf.get(columns[slot]!)?.table ?? 0;
      skips[slot] = skipped[slot] ? 1 : 0;
    }
    this.columns = [...columns];
    this.skipped = skipped.slice(0, keys.length);
    return true;
  }

  /** Per slot, whether its values are left out (as last set). */
  skipped: readonly boolean[] = [];

  /**
   * Adds label `id` of the column in `slot` with the bytes [offset, offset + length) of the input, so later
   * strings of the column with those bytes get it in {@link labels}. Does nothing for ids from
   * {@link JSONL_MISSING} on, or once the column's table, or the tables, are full.
   */
  register(slot: number, offset: number, length: number, id: number): void {
    if (id >= JSONL_MISSING) return;
    const entry = this.add(slot, offset, length, id);
    if (entry !== undefined) entry.ids = Math.max(entry.ids, id + 1);
  }

  /** Marks later strings of the column in `slot` with these bytes {@link JSONL_MISSING}, never counted. */
  registerMissing(slot: number, offset: number, length: number): void {
    this.add(slot, offset, length, JSONL_MISSING);
  }

  private add(slot: number, offset: number, length: number, id: number) {
    const column = this.columns[slot]!;
    let entry = this.tableOf.get(column);
    if (entry === undefined) {
      if (this.tableOf.size === MAX_TABLES) return undefined;
      entry = { table: this.tableAreaAt + this.tableOf.size * this.tableBytes, ids: 0 };
      this.tableOf.set(column, entry);
      new Int32Array(this.exports.memory.buffer, this.tablesAt, this.columns.length)[slot] = entry.table;
    }
    return this.exports.register(entry.table, this.inputAt + offset, length, id) !== 0 ? entry : undefined;
  }

  /** Hands over the label counts gathered since the last call (with `countLabels`), then zeroes them. */
  takeLabelCounts(take: (column: number, label: number, count: number) => void): void {
    const offset = this.exports.countsOffset();
    for (const [column, { table, ids }] of this.tableOf) {
      const counts = new Int32Array(this.exports.memory.buffer, table + offset, ids);
      for (let label = 0; label < ids; label++) {
        const count = counts[label]!;
        if (count === 0) continue;
        counts[label] = 0;
        take(column, label, count);
      }
    }
  }

  /** Copies `buf[from, to)` in: the input of the following scans. */
  load(buf: Uint8Array, from: number, to: number): void {
    const length = to - from;
    this.reserve(this.inputAt + length);
    new Uint8Array(this.exports.memory.buffer, this.inputAt, length).set(buf.subarray(from, to));
    this.inputLength = length;
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

  /** Grows the memory to reach `end` (and a little past it). */
  private reserve(end: number): void {
    const memory = this.exports.memory;
    reserveMemory(memory, end + 64);
    if (this.kinds.buffer !== memory.buffer) {
      const fields = JSONL_ROWS * this.capacity;
      this.kinds = new Uint8Array(memory.buffer, this.kindsAt, fields);
      this.numbers = new Float64Array(memory.buffer, this.numbersAt, fields);
      this.starts = new Int32Array(memory.buffer, this.startsAt, fields);
      this.ends = new Int32Array(memory.buffer, this.endsAt, fields);
      this.texts = new Int32Array(memory.buffer, this.textsAt, this.capacity);
      this.labels = new Int32Array(memory.buffer, this.labelsAt, fields);
    }
  }
}

const align = (offset: number) => Math.ceil(offset / 8) * 8;
