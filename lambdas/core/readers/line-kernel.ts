import { reserveMemory, type WasmMemory } from '../wasm-instance.ts';

/** Lines per call: small output arrays, and the sink still sees rows in order as they come. */
export const KERNEL_ROWS = 256;
/**
 * `labels[f]` of a text field registered as a missing value ({@link LineKernel.registerMissing}): the
 * caller passes over it. Category labels stay below it (MISSING_LABEL of wasm/label-tables.as.ts).
 */
export const KERNEL_MISSING = 1023;

/** What the CSV and JSON Lines kernels' modules export besides their own scan. */
export interface LineKernelExports {
  memory: WasmMemory;
  heapBase(): number;
  consumedBytes(): number;
  tableBytes(): number;
  countsOffset(): number;
  register(table: number, bytes: number, length: number, id: number): number;
}

/**
 * The memory and label tables of a WebAssembly line kernel (the CSV and JSON Lines readers' hot loops), for
 * `slots` fields a line: the output arrays the caller reads, at `slot * KERNEL_ROWS + row`, then the
 * kernel's own bytes (`ownBytes` at {@link ownAt}), the label tables (one per column that gets one, at most
 * `maxTables`) and the input, last, so it can grow.
 */
export abstract class LineKernel<Exports extends LineKernelExports> {
  kinds = new Uint8Array(0);
  numbers = new Float64Array(0);
  /** Offsets (from the scan's start) of each text's first byte and of the byte after it. */
  starts = new Int32Array(0);
  ends = new Int32Array(0);
  /** Per slot, at least the number of its fields in the scan that are not numbers. */
  texts = new Int32Array(0);
  /**
   * For a text field: the id of its bytes in its column's label table (see {@link register}),
   * {@link KERNEL_MISSING}, or -1.
   */
  labels = new Int32Array(0);
  /** Bytes of the input the last scan took: its lines, each with its LF. */
  consumed = 0;
  protected readonly exports: Exports;
  protected readonly numbersAt: number;
  protected readonly startsAt: number;
  protected readonly endsAt: number;
  protected readonly textsAt: number;
  protected readonly labelsAt: number;
  protected readonly tablesAt: number;
  protected readonly skipsAt: number;
  /** Where the kernel's own bytes start (the JSON Lines kernel's keys). */
  protected readonly ownAt: number;
  protected readonly kindsAt: number;
  protected readonly inputAt: number;
  protected inputLength = 0;
  protected readonly countLabels: boolean;
  private readonly slots: number;
  private readonly tableAreaAt: number;
  private readonly tableBytes: number;
  private readonly maxTables: number;
  /** Per column with a label table: its address and how many label ids it may hold counts for. */
  private readonly tableOf = new Map<number, { table: number; ids: number }>();

  protected constructor(
    exports: Exports,
    slots: number,
    options: { maxTables: number; ownBytes: number; countLabels: boolean },
  ) {
    this.exports = exports;
    this.slots = slots;
    this.maxTables = options.maxTables;
    this.countLabels = options.countLabels;
    const fields = KERNEL_ROWS * slots;
    this.numbersAt = align(exports.heapBase());
    this.startsAt = this.numbersAt + 8 * fields;
    this.endsAt = this.startsAt + 4 * fields;
    this.textsAt = this.endsAt + 4 * fields;
    this.labelsAt = this.textsAt + 4 * slots;
    this.tablesAt = this.labelsAt + 4 * fields;
    this.skipsAt = this.tablesAt + 4 * slots;
    this.ownAt = this.skipsAt + 4 * slots;
    this.kindsAt = this.ownAt + options.ownBytes;
    // Label tables before the input, so the input can grow; pages stay untouched until a table is used.
    this.tableBytes = align(exports.tableBytes());
    this.tableAreaAt = align(this.kindsAt + fields);
    this.inputAt = this.tableAreaAt + options.maxTables * this.tableBytes;
    this.reserve(this.inputAt);
  }

  /** The column whose label table serves the fields of `slot`. */
  protected abstract columnOf(slot: number): number;

  /**
   * Adds label `id` of the column in `slot` with the bytes [offset, offset + length) of the input, so later
   * text fields of the column with those bytes get it in {@link labels}. Does nothing for ids from
   * {@link KERNEL_MISSING} on, or once the column's table, or the tables, are full.
   */
  register(slot: number, offset: number, length: number, id: number): void {
    if (id >= KERNEL_MISSING) return;
    const entry = this.add(slot, offset, length, id);
    if (entry !== undefined) entry.ids = Math.max(entry.ids, id + 1);
  }

  /** Marks later text fields of the column in `slot` with these bytes {@link KERNEL_MISSING}, never counted. */
  registerMissing(slot: number, offset: number, length: number): void {
    this.add(slot, offset, length, KERNEL_MISSING);
  }

  /** The label table of a column, when it has one. */
  protected tableOfColumn(column: number): number {
    return this.tableOf.get(column)?.table ?? 0;
  }

  private add(slot: number, offset: number, length: number, id: number) {
    const column = this.columnOf(slot);
    let entry = this.tableOf.get(column);
    if (entry === undefined) {
      if (this.tableOf.size === this.maxTables) return undefined;
      entry = { table: this.tableAreaAt + this.tableOf.size * this.tableBytes, ids: 0 };
      this.tableOf.set(column, entry);
      new Int32Array(this.exports.memory.buffer, this.tablesAt, this.slots)[slot] = entry.table;
    }
    return this.exports.register(entry.table, this.inputAt + offset, length, id) !== 0 ? entry : undefined;
  }

  /** Hands over the label counts gathered by the scans since the last call (with `countLabels`), then zeroes them. */
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

  /** Copies `buf[from, to)` in, the memory grown to reach `end` first: the input of the following scans. */
  protected copyIn(buf: Uint8Array, from: number, to: number, end: number): void {
    const length = to - from;
    this.reserve(end);
    new Uint8Array(this.exports.memory.buffer, this.inputAt, length).set(buf.subarray(from, to));
    this.inputLength = length;
  }

  /** Grows the memory to reach `end` (and a little past it). */
  private reserve(end: number): void {
    const memory = this.exports.memory;
    reserveMemory(memory, end + INPUT_SLACK);
    if (this.kinds.buffer !== memory.buffer) {
      const fields = KERNEL_ROWS * this.slots;
      this.kinds = new Uint8Array(memory.buffer, this.kindsAt, fields);
      this.numbers = new Float64Array(memory.buffer, this.numbersAt, fields);
      this.starts = new Int32Array(memory.buffer, this.startsAt, fields);
      this.ends = new Int32Array(memory.buffer, this.endsAt, fields);
      this.texts = new Int32Array(memory.buffer, this.textsAt, this.slots);
      this.labels = new Int32Array(memory.buffer, this.labelsAt, fields);
    }
  }
}

export const align = (offset: number) => Math.ceil(offset / 8) * 8;
/** Bytes past the input that the kernels read, 16 at a time (they count for nothing). */
export const INPUT_SLACK = 64;
