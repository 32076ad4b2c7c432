/**
 * Sorts float64 values ascending in place, in the order `Float64Array.prototype.sort` gives (-0 before 0;
 * NaN is not expected: missing values never reach the samples). An LSD radix sort over the IEEE 754 bit
 * patterns, mapped so that unsigned order is numeric order (negative: all bits flipped; positive: the sign
 * bit flipped): one pass counts all six 11-bit digits, then one pass per digit moves the values (a digit
 * that is the same for every value is skipped). `scratch` (at least twice as many words as values) saves an
 * allocation when many arrays are sorted in turn. Several times faster than the built-in sort on samples of
 * 250,000, which matters because every numeric feature sorts its sample once per side.
 */
const DIGITS = 6;
const RADIX = 2048;
const MASK = RADIX - 1;
/** Digit d is bits [SHIFTS[d], SHIFTS[d] + 11) of the low word (d < 3) or the high word. */
const SHIFTS = [0, 11, 22, 0, 11, 22];

export function sortFloat64(values: Float64Array, scratch?: Uint32Array): Float64Array {
  const n = values.length;
  if (n < 512) return values.sort();
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  // The keys are made in place and move between the values' own memory and one scratch array.
  let source = words;
  let target = scratch !== undefined && scratch.length >= n * 2 ? scratch : new Uint32Array(n * 2);
  const counts = new Uint32Array(DIGITS * RADIX);
  // Map to sortable keys (little-endian: word 2i is the low half, 2i+1 the high half) and count digits.
  for (let i = 0; i < n; i++) {
    let low = words[2 * i]!;
    let high = words[2 * i + 1]!;
    if (high & 0x80000000) {
      low = ~low >>> 0;
      high = ~high >>> 0;
    } else {
      high = (high | 0x80000000) >>> 0;
    }
    words[2 * i] = low;
    words[2 * i + 1] = high;
    counts[low & MASK]!++;
    counts[RADIX + ((low >>> 11) & MASK)]!++;
    counts[2 * RADIX + (low >>> 22)]!++;
    counts[3 * RADIX + (high & MASK)]!++;
    counts[4 * RADIX + ((high >>> 11) & MASK)]!++;
    counts[5 * RADIX + (high >>> 22)]!++;
  }
  for (let digit = 0; digit < DIGITS; digit++) {
    const base = digit * RADIX;
    const shift = SHIFTS[digit]!;
    const word = digit < 3 ? 0 : 1;
    // A digit that is the same for every value moves nothing.
    if (counts[base + ((source[word]! >>> shift) & MASK)] === n) continue;
    let offset = 0;
    for (let d = base; d < base + RADIX; d++) {
      const count = counts[d]!;
      counts[d] = offset;
      offset += count;
    }
    for (let i = 0; i < n; i++) {
      const low = source[2 * i]!;
      const high = source[2 * i + 1]!;
      const at = counts[base + (((word === 0 ? low : high) >>> shift) & MASK)]!++;
      target[2 * at] = low;
      target[2 * at + 1] = high;
    }
    const swap = source;
    source = target;
    target = swap;
  }
  for (let i = 0; i < n; i++) {
    const low = source[2 * i]!;
    const high = source[2 * i + 1]!;
    if (high & 0x80000000) {
      words[2 * i] = low;
      words[2 * i + 1] = (high & 0x7fffffff) >>> 0;
    } else {
      words[2 * i] = ~low >>> 0;
      words[2 * i + 1] = ~high >>> 0;
    }
  }
  return values;
}
