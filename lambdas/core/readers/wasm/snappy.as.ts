// AssemblyScript, not TypeScript: `npm run build:wasm` compiles it into snappy.wasm.ts, which snappy.ts
// loads. A test checks that the committed module is what this source compiles to.
//
// Snappy decompression (the raw format Parquet pages use): the codec most Parquet files are written with,
// and the largest cost of reading them in JavaScript. Bounds are checked on every element, so corrupt
// input gives an error code, never a read or write outside the two buffers.

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
      memory.copy(out, pos, n);
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
    if (offset >= length) {
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
