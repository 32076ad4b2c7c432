/**
 * Sorts float64 values ascending in place, in the order `Float64Array.prototype.sort` gives (-0 before 0;
 * NaN is not expected: missing values never reach the samples). An LSD radix sort over the IEEE 754 bit
 * patterns, mapped so that unsigned order is numeric order (negative: all bits flipped; positive: the sign
 * bit flipped), in eight byte-wide passes (a pass whose byte is the same for every value is skipped). Faster than the
 * built-in sort on samples of 250,000,
 * which matters because every numeric feature sorts its sample once per side.
 */
const PASSES = 8;
const RADIX = 256;
const MASK = 0xff;

export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < 512) return values.sort();
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  let source = new Uint32Array(n * 2);
  let target = new Uint32Array(n * 2);
  // Map to sortable keys: little-endian, so word 2i is the low half and 2i+1 the high half.
  for (let i = 0; i < n; i++) {
    const low = words[2 * i]!;
    const high = words[2 * i + 1]!;
    if (high & 0x80000000) {
      source[2 * i] = ~low >>> 0;
      source[2 * i + 1] = ~high >>> 0;
    } else {
      source[2 * i] = low;
      source[2 * i + 1] = (high | 0x80000000) >>> 0;
    }
  }
  const counts = new Uint32Array(RADIX);
  for (let pass = 0; pass < PASSES; pass++) {
    const word = pass >> 2;
    const shift = (pass & 3) * 8;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(source[2 * i + word]! >>> shift) & MASK]!++;
    // A pass whose digit is the same for every value moves nothing.
    if (counts[(source[word]! >>> shift) & MASK] === n) continue;
    let offset = 0;
    for (let digit = 0; digit < RADIX; digit++) {
      const count = counts[digit]!;
      counts[digit] = offset;
      offset += count;
    }
    for (let i = 0; i < n; i++) {
      const low = source[2 * i]!;
      const high = source[2 * i + 1]!;
      const at = counts[((word === 0 ? low : high) >>> shift) & MASK]!++;
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
