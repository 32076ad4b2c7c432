// AssemblyScript, not TypeScript: `npm run build:wasm` compiles it into parquet-pages.wasm.ts, which
// parquet-kernel.ts loads. A test checks that the committed module is what this source compiles to.
//
// The hot loops of reading Parquet pages, on a page decompressed into this module's memory: Snappy
// decompression (the codec most Parquet files are written with), the RLE / bit-packed hybrid encoding of
// definition levels and dictionary indices, dictionary lookups, integers to doubles, and spreading the
// present values over the rows. Bounds are checked on every element, so corrupt input gives an error code,
// never a read or write outside the buffers the caller named.

/** Where memory free for the caller starts. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * Decompresses the `inputLength` bytes at `input` into the `outputLength` bytes at `output`. Returns the
 * number of bytes written (the stream's declared length), or -1 when the input is corrupt or its declared
 * length is not `outputLength`.
 */
export function uncompress(input: usize, inputLength: i32, output: usize, outputLength: i32): i32 {
  const end = input + <usize>inputLength;
  let pos = input;
  // The uncompressed length, a varint of up to 32 bits.
  let declared: u32 = 0;
  let shift: u32 = 0;
  for (;;) {
    if (pos >= end || shift > 28) return -1;
    const b = <u32>load<u8>(pos++);
    declared |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  if (declared !== <u32>outputLength) return -1;
  const outEnd = output + <usize>outputLength;
  let out = output;
  while (pos < end) {
    const tag = <u32>load<u8>(pos++);
    const type = tag & 3;
    if (type === 0) {
      let length = tag >> 2;
      if (length >= 60) {
        const extra = <usize>(length - 59);
        if (pos + extra > end) return -1;
        length = 0;
        for (let i: usize = 0; i < extra; i++) length |= (<u32>load<u8>(pos + i)) << (<u32>i * 8);
        pos += extra;
      }
      const n = <usize>length + 1;
      if (n > end - pos || n > outEnd - out) return -1;
      // Short literals (most of them) as one 16-byte move when both buffers have room for it.
      if (n <= 16 && end - pos >= 16 && outEnd - out >= 16) v128.store(out, v128.load(pos));
      else memory.copy(out, pos, n);
      pos += n;
      out += n;
      continue;
    }
    let length: usize;
    let offset: usize;
    if (type === 1) {
      if (pos >= end) return -1;
      length = <usize>(((tag >> 2) & 7) + 4);
      offset = <usize>(((tag >> 5) << 8) | <u32>load<u8>(pos));
      pos += 1;
    } else if (type === 2) {
      if (pos + 2 > end) return -1;
      length = <usize>((tag >> 2) + 1);
      offset = <usize>load<u16>(pos);
      pos += 2;
    } else {
      if (pos + 4 > end) return -1;
      length = <usize>((tag >> 2) + 1);
      offset = <usize>load<u32>(pos);
      pos += 4;
    }
    if (offset === 0 || offset > out - output || length > outEnd - out) return -1;
    const from = out - offset;
    if (offset >= 16 && outEnd - out >= ((length + 15) & ~15)) {
      // 16 bytes at a time: each move reads bytes already written (offset >= 16), and what it writes past
      // `length` is overwritten by the next element (or makes the stream's length wrong).
      for (let i: usize = 0; i < length; i += 16) v128.store(out + i, v128.load(from + i));
    } else if (offset >= length) {
      memory.copy(out, from, length);
    } else if (offset >= 8) {
      // Overlapping copies repeat the last `offset` bytes: 8 bytes at a time stay behind the writes.
      for (let i: usize = 0; i < length; i += 8) {
        if (i + 8 <= length) store<u64>(out + i, load<u64>(from + i));
        else for (let k = i; k < length; k++) store<u8>(out + k, load<u8>(from + k));
      }
    } else {
      for (let i: usize = 0; i < length; i++) store<u8>(out + i, load<u8>(from + i));
    }
    out += length;
  }
  return out === outEnd ? <i32>(out - output) : -1;
}

/**
 * Decodes `count` values of the RLE / bit-packed hybrid encoding of `width` bits (0 to 32) from bytes
 * [pos, end) into the i32s at `out`. Returns the position after the last run read, or 0 when the values
 * end early or are malformed.
 */
export function hybrid(pos: usize, end: usize, width: i32, out: usize, count: i32): usize {
  if (width < 0 || width > 32) return 0;
  const valueBytes = <usize>((width + 7) >> 3);
  const mask: u64 = width === 32 ? 0xffffffff : ((<u64>1) << (<u64>width)) - 1;
  const stop = out + ((<usize>count) << 2);
  while (out < stop) {
    if (pos >= end) return 0;
    let header: u64 = 0;
    let shift: u64 = 0;
    for (;;) {
      if (pos >= end || shift > 35) return 0;
      const b = <u64>load<u8>(pos++);
      header |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
    }
    if ((header & 1) === 0) {
      const run = <usize>(header >> 1);
      if (pos + valueBytes > end) return 0;
      let value: u32 = 0;
      for (let i: usize = 0; i < valueBytes; i++) value |= (<u32>load<u8>(pos + i)) << (<u32>i * 8);
      pos += valueBytes;
      let n = (stop - out) >> 2;
      if (run < n) n = run;
      const splat = i32x4.splat(value);
      let i: usize = 0;
      for (; i + 4 <= n; i += 4) v128.store(out + (i << 2), splat);
      for (; i < n; i++) store<u32>(out + (i << 2), value);
      out += n << 2;
    } else {
      const groups = <usize>(header >> 1);
      const bytes = groups * <usize>width;
      let n = (stop - out) >> 2;
      if (groups * 8 < n) n = groups * 8;
      // Bits of value i start at bit i * width; the last group may be cut short by the end of the page
      // only if its values past `count` are not needed.
      if (pos + ((n * <usize>width + 7) >> 3) > end) return 0;
      const bitsEnd = (<u64>(end - pos)) << 3;
      for (let i: usize = 0; i < n; i++) {
        const bit = <u64>i * <u64>width;
        const byte = pos + <usize>(bit >> 3);
        let word: u64;
        if (byte + 8 <= end) word = load<u64>(byte);
        else {
          word = 0;
          for (let k: usize = 0; byte + k < end; k++) word |= (<u64>load<u8>(byte + k)) << (<u64>k * 8);
        }
        store<u32>(out + (i << 2), <u32>((word >> (bit & 7)) & mask));
        if (bit > bitsEnd) return 0;
      }
      out += n << 2;
      pos += bytes;
      if (pos > end) pos = end;
    }
  }
  return pos;
}

/** Values of its run that the last {@link hybridFrom} call took, when it stopped inside a run. */
let takenInRun: i32 = 0;

export function runOffset(): i32 {
  return takenInRun;
}

/**
 * {@link hybrid} resumed: from the run whose header is at `pos`, passes over `skip` values (whole runs without
 * decoding them), then decodes `count` values into `out`. Returns the header of the run where it stopped, with
 * the values of that run it took in {@link runOffset} (0 when it stopped at a run's end), so the next call
 * goes on from there: a long page is decoded a piece at a time. 0 when the input is malformed.
 */
export function hybridFrom(pos: usize, end: usize, width: i32, out: usize, count: i32, skip: i32): usize {
  if (width < 0 || width > 32) return 0;
  const valueBytes = <usize>((width + 7) >> 3);
  const mask: u64 = width === 32 ? 0xffffffff : ((<u64>1) << (<u64>width)) - 1;
  let left = count;
  let offset = <usize>skip;
  takenInRun = 0;
  while (left > 0 || offset > 0) {
    const runAt = pos;
    if (pos >= end) return 0;
    let header: u64 = 0;
    let shift: u64 = 0;
    for (;;) {
      if (pos >= end || shift > 35) return 0;
      const b = <u64>load<u8>(pos++);
      header |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
    }
    const rle = (header & 1) === 0;
    const runLength = rle ? <usize>(header >> 1) : <usize>(header >> 1) * 8;
    const dataBytes = rle ? valueBytes : <usize>(header >> 1) * <usize>width;
    if (offset >= runLength) {
      // A run wholly before the piece: passed over.
      offset -= runLength;
      pos += dataBytes;
      if (pos > end) {
        if (rle) return 0;
        pos = end;
      }
      continue;
    }
    let n = runLength - offset;
    if (<usize>left < n) n = <usize>left;
    if (rle) {
      if (pos + valueBytes > end) return 0;
      let value: u32 = 0;
      for (let i: usize = 0; i < valueBytes; i++) value |= (<u32>load<u8>(pos + i)) << (<u32>i * 8);
      for (let i: usize = 0; i < n; i++) store<u32>(out + (i << 2), value);
    } else {
      const last = offset + n;
      if (pos + ((last * <usize>width + 7) >> 3) > end) return 0;
      for (let i = offset; i < last; i++) {
        const bit = <u64>i * <u64>width;
        const byte = pos + <usize>(bit >> 3);
        let word: u64;
        if (byte + 8 <= end) word = load<u64>(byte);
        else {
          word = 0;
          for (let k: usize = 0; byte + k < end; k++) word |= (<u64>load<u8>(byte + k)) << (<u64>k * 8);
        }
        store<u32>(out + ((i - offset) << 2), <u32>((word >> (bit & 7)) & mask));
      }
    }
    out += n << 2;
    left -= <i32>n;
    if (offset + n < runLength) {
      takenInRun = <i32>(offset + n);
      return runAt;
    }
    offset = 0;
    pos += dataBytes;
    if (pos > end) pos = end;
  }
  return pos;
}

/** The sum of `count` i32s at `at` (present values among definition levels of 0 and 1). */
export function sum(at: usize, count: i32): i32 {
  let total: i32 = 0;
  for (let i: usize = 0; i < <usize>count; i++) total += load<i32>(at + (i << 2));
  return total;
}

/**
 * Looks up `count` dictionary indices (i32 at `indices`) in the `size` doubles at `dictionary`, into the
 * doubles at `out`. Returns 0, or -1 when an index is out of range.
 */
export function gather(indices: usize, count: i32, dictionary: usize, size: i32, out: usize): i32 {
  for (let i: usize = 0; i < <usize>count; i++) {
    const index = load<u32>(indices + (i << 2));
    if (index >= <u32>size) return -1;
    store<f64>(out + (i << 3), load<f64>(dictionary + ((<usize>index) << 3)));
  }
  return 0;
}

/** Checks that `count` i32 codes at `at` are below `size`: 0, or -1 when one is not. */
export function checkCodes(at: usize, count: i32, size: i32): i32 {
  for (let i: usize = 0; i < <usize>count; i++) if (load<u32>(at + (i << 2)) >= <u32>size) return -1;
  return 0;
}

/**
 * PLAIN integers (`width` 4 or 8 bytes, little-endian) at `at` as doubles at `out`, signed or not. 64-bit
 * ones go through i64/u64, which converts to the nearest double, as JavaScript's high * 2^32 + low does.
 */
export function integers(at: usize, count: i32, width: i32, unsigned: bool, out: usize): void {
  for (let i: usize = 0; i < <usize>count; i++) {
    let value: f64;
    if (width === 8) {
      value = unsigned ? <f64>load<u64>(at + (i << 3)) : <f64>load<i64>(at + (i << 3));
    } else {
      value = unsigned ? <f64>load<u32>(at + (i << 2)) : <f64>load<i32>(at + (i << 2));
    }
    store<f64>(out + (i << 3), value);
  }
}

/**
 * Moves the `present` values at the front of `values` (doubles when `doubles`, else i32 codes) to the rows
 * whose definition level (i32 at `levels`) is 1, back to front, and NaN (doubles) or -1 (codes) elsewhere.
 */
export function spread(values: usize, levels: usize, rows: i32, present: i32, doubles: bool): void {
  let value = present - 1;
  for (let row = rows - 1; row >= 0; row--) {
    const defined = load<i32>(levels + ((<usize>row) << 2)) !== 0;
    if (doubles) {
      store<f64>(values + ((<usize>row) << 3), defined ? load<f64>(values + ((<usize>value) << 3)) : NaN);
    } else {
      store<i32>(values + ((<usize>row) << 2), defined ? load<i32>(values + ((<usize>value) << 2)) : -1);
    }
    if (defined) value--;
  }
}
