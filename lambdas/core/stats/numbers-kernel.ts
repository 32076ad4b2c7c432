import { reserveMemory, type WasmMemory, wasmInstance } from '../wasm-instance.ts';
import { NUMBERS_WASM } from './wasm/numbers.wasm.ts';

interface Exports {
  memory: WasmMemory;
  heapBase(): number;
  countsBytes(): number;
  sort(values: number, n: number, scratch: number, counts: number): void;
  accumulate(
    values: number,
    rows: number,
    state: number,
    edges: number,
    edgeCount: number,
    bins: number,
  ): void;
}

/** Doubles in a column's running state: numbers counted, shift, shifted sum and sum of squares, min, max. */
export const NUMBERS_STATE = 6;
/** Edges up to this many are padded with +Infinity to it, for the kernel's vector comparisons. */
const PADDED_EDGES = 16;

/**
 * The WebAssembly loops over numeric columns (source: wasm/numbers.as.ts), one instance per thread: counting
 * a batch of values into a column's moments, range and bins, and sorting a sample. Values are copied into
 * its memory and the results back, which costs little next to the loops.
 */
class NumbersKernel {
  private readonly exports = wasmInstance<Exports>(NUMBERS_WASM, 'numbers kernel');
  private readonly base = Math.ceil(this.exports.heapBase() / 16) * 16;
  private doubles = new Float64Array(0);

  /** Sorts `values` ascending in place, as `Float64Array.prototype.sort` does (no NaN). */
  sort(values: Float64Array): void {
    const n = values.length;
    const counts = this.base;
    const at = counts + this.exports.countsBytes();
    this.reserve(at + 16 * n);
    this.doubles.set(values, at / 8);
    this.exports.sort(at, n, at + 8 * n, counts);
    values.set(this.doubles.subarray(at / 8, at / 8 + n));
  }

  /**
   * Counts `values[0..rows)` (NaN: no number) into `state` (see {@link NUMBERS_STATE}) and, with edges, into
   * `bins` (`edges.length + 1` counts) by the number of edges below each value.
   */
  accumulate(
    values: Float64Array,
    rows: number,
    state: Float64Array,
    edges: Float64Array | null,
    bins: Float64Array | null,
  ): void {
    const edgeCount = edges?.length ?? 0;
    const room = Math.max(PADDED_EDGES, edgeCount);
    const stateAt = this.base / 8;
    const edgesAt = stateAt + NUMBERS_STATE;
    const binsAt = edgesAt + room;
    const valuesAt = binsAt + room + 1;
    this.reserve(8 * (valuesAt + rows));
    const doubles = this.doubles;
    doubles.set(state, stateAt);
    if (edges !== null && bins !== null) {
      doubles.set(edges, edgesAt);
      doubles.fill(Number.POSITIVE_INFINITY, edgesAt + edgeCount, edgesAt + PADDED_EDGES);
      doubles.set(bins, binsAt);
    }
    doubles.set(values.subarray(0, rows), valuesAt);
    this.exports.accumulate(8 * valuesAt, rows, 8 * stateAt, 8 * edgesAt, edgeCount, 8 * binsAt);
    state.set(doubles.subarray(stateAt, stateAt + NUMBERS_STATE));
    if (bins !== null) bins.set(doubles.subarray(binsAt, binsAt + bins.length));
  }

  private reserve(end: number): void {
    const memory = this.exports.memory;
    if (reserveMemory(memory, end) || this.doubles.buffer !== memory.buffer) {
      this.doubles = new Float64Array(memory.buffer);
    }
  }
}

let kernel: NumbersKernel | undefined;

/** This thread's numbers kernel. */
export function numbersKernel(): NumbersKernel {
  kernel ??= new NumbersKernel();
  return kernel;
}
