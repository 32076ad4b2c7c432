// AssemblyScript, not TypeScript: `npm run build:wasm` compiles it into numbers.wasm.ts, which
// numbers-kernel.ts loads. A test checks that the committed module is what this source compiles to.
//
// The two loops over a numeric column's values that cost most in JavaScript: counting a batch of values
// (moments, range, bins over the baseline's edges) and sorting a sample. Same arithmetic in the same order as
// the JavaScript they replace, so the results are the same doubles.

const RADIX_BITS: u64 = 11;
const RADIX: i32 = 2048;
const MASK: u64 = 2047;
/** 64 bits in 11-bit digits: six of them (the last has 9 bits). */
const DIGITS: i32 = 6;
const SIGN: u64 = 0x8000000000000000;

/** Where memory free for the caller starts. */
export function heapBase(): usize {
  return __heap_base;
}

/** Bytes {@link sort} needs at `counts`. */
export function countsBytes(): i32 {
  return DIGITS * RADIX * 4;
}

/**
 * Sorts the `n` doubles at `values` ascending in place, as `Float64Array.prototype.sort` orders them (-0
 * before 0; no NaN): an LSD radix sort of their bit patterns mapped so that unsigned order is numeric order
 * (negative: every bit flipped; positive: the sign bit set). One pass counts every digit, then one pass per
 * digit moves the keys between `values` and `scratch` (n doubles); a digit the same in every key is skipped.
 */
export function sort(values: usize, n: i32, scratch: usize, counts: usize): void {
  memory.fill(counts, 0, <usize>(DIGITS * RADIX * 4));
  for (let i = 0; i < n; i++) {
    const at = values + ((<usize>i) << 3);
    const bits = load<u64>(at);
    const key = (bits & SIGN) !== 0 ? ~bits : bits | SIGN;
    store<u64>(at, key);
    for (let digit = 0; digit < DIGITS; digit++) {
      const slot =
        counts + ((<usize>(digit * RADIX + <i32>((key >> (<u64>digit * RADIX_BITS)) & MASK))) << 2);
      store<i32>(slot, load<i32>(slot) + 1);
    }
  }
  let source = values;
  let target = scratch;
  for (let digit = 0; digit < DIGITS; digit++) {
    const base = counts + ((<usize>(digit * RADIX)) << 2);
    const shift = <u64>digit * RADIX_BITS;
    if (load<i32>(base + ((<usize>((load<u64>(source) >> shift) & MASK)) << 2)) === n) continue;
    let offset: i32 = 0;
    for (let d = 0; d < RADIX; d++) {
      const slot = base + ((<usize>d) << 2);
      const count = load<i32>(slot);
      store<i32>(slot, offset);
      offset += count;
    }
    for (let i = 0; i < n; i++) {
      const key = load<u64>(source + ((<usize>i) << 3));
      const slot = base + ((<usize>((key >> shift) & MASK)) << 2);
      const at = load<i32>(slot);
      store<i32>(slot, at + 1);
      store<u64>(target + ((<usize>at) << 3), key);
    }
    const swap = source;
    source = target;
    target = swap;
  }
  for (let i = 0; i < n; i++) {
    const key = load<u64>(source + ((<usize>i) << 3));
    store<u64>(values + ((<usize>i) << 3), (key & SIGN) !== 0 ? key & ~SIGN : ~key);
  }
}

/**
 * Counts `values[0..rows)` (NaN: no number) into `state`: [numbers counted, shift (the first number), sum and
 * sum of squares of the numbers minus the shift, min, max], and into `bins` (one double per bin) the bin of
 * each over the `edgeCount` ascending `edges`: the number of edges below it (bins 0 for none). Up to 16
 * edges come padded to 16 with +Infinity, so the bin is 8 vector comparisons.
 */
export function accumulate(
  values: usize,
  rows: i32,
  state: usize,
  edges: usize,
  edgeCount: i32,
  bins: usize,
): void {
  let count = load<f64>(state);
  let shift = load<f64>(state, 8);
  let sum = load<f64>(state, 16);
  let sumOfSquares = load<f64>(state, 24);
  let min = load<f64>(state, 32);
  let max = load<f64>(state, 40);
  for (let row = 0; row < rows; row++) {
    const x = load<f64>(values + ((<usize>row) << 3));
    if (isNaN<f64>(x)) continue;
    if (count === 0) shift = x;
    count += 1;
    const d = x - shift;
    sum += d;
    sumOfSquares += d * d;
    if (x < min) min = x;
    if (x > max) max = x;
    if (edgeCount === 0) continue;
    let bin: i32 = 0;
    if (edgeCount <= 16) {
      const xs = f64x2.splat(x);
      let below = i64x2.splat(0);
      for (let k = 0; k < 8; k++)
        below = i64x2.sub(below, f64x2.lt(v128.load(edges + ((<usize>k) << 4)), xs));
      bin = <i32>(i64x2.extract_lane(below, 0) + i64x2.extract_lane(below, 1));
    } else {
      let high = edgeCount;
      while (bin < high) {
        const middle = (bin + high) >>> 1;
        if (load<f64>(edges + ((<usize>middle) << 3)) < x) bin = middle + 1;
        else high = middle;
      }
    }
    const slot = bins + ((<usize>bin) << 3);
    store<f64>(slot, load<f64>(slot) + 1);
  }
  store<f64>(state, count);
  store<f64>(state, shift, 8);
  store<f64>(state, sum, 16);
  store<f64>(state, sumOfSquares, 24);
  store<f64>(state, min, 32);
  store<f64>(state, max, 40);
}
