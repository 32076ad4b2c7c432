// AssemblyScript, not TypeScript: `npm run build:wasm` compiles it into csv-lines.wasm.ts, which the CSV reader
// loads (see csv-kernel.ts). A test checks that the committed module is what this source compiles to.
//
// The reader's hot loop for the common case: lines of unquoted ASCII fields, each ended by the delimiter or
// an LF, with as many fields as the header. For each such line it writes every field's kind, its start and
// end offsets and, for a plain decimal number, its value (the arithmetic of the reader's own fast path, so the
// values are the same doubles); columns the reader skips get nothing. Anything else (a quote, a CR, a byte
// >= 0x80, a blank line, the wrong number of fields, a line cut by the end of the input) stops it before
// that line, which the JavaScript reader then takes.

import { countLabel, labelOf } from './label-tables.as';
// PLAIN_WHOLE here: a number written as digits alone, without a leading zero (`0` itself aside).
import { CR, DOT, LF, MINUS, NUMBER, PLAIN_WHOLE, POW10, QUOTE, TEXT } from './line-kernel.as';

export { countsOffset, register, tableBytes } from './label-tables.as';
export { heapBase } from './line-kernel.as';

/** 2^53: integers below it are exact doubles. */
const EXACT_INTEGER_LIMIT: u64 = 9007199254740992;

let consumed: i32 = 0;

// Byte-wise constants of the eight-byte number scan.
const ZERO_BYTES: u64 = 0x3030303030303030;
const SIX_BYTES: u64 = 0x0606060606060606;
const HIGH_NIBBLES: u64 = 0xf0f0f0f0f0f0f0f0;
const DOT_BYTES: u64 = 0x2e2e2e2e2e2e2e2e;
const LOW_7_BITS: u64 = 0x7f7f7f7f7f7f7f7f;

/** A word with its low `bytes` bytes set (0 to 8). */
function lowBytes(bytes: i32): u64 {
  return bytes >= 8 ? <u64>-1 : ((<u64>1) << (<u64>(bytes << 3))) - 1;
}

/** Bytes of the input taken by the last {@link scanLines} call (whole lines, each with its LF). */
export function consumedBytes(): i32 {
  return consumed;
}

/** Bytes {@link index} writes for `length` bytes of input: three bitmaps of 64-bit words. */
export function indexBytes(length: i32): i32 {
  return ((length + 63) >> 6) * 24;
}

/**
 * Maps `input[0..length)` for {@link scanLines}, 64 bytes to a word, 16 at a time, into three bitmaps (bit k
 * of word w is byte 64w + k): the field ends (delimiters and LFs), the LFs, and the bytes no plain line has
 * (a quote, a CR, a byte >= 0x80). Reads up to 63 bytes past the end (the caller leaves room), which count
 * for nothing.
 */
export function index(input: usize, length: i32, delimiter: u8, bitmap: usize): void {
  const words = (length + 63) >> 6;
  const lines = bitmap + ((<usize>words) << 3);
  const bad = lines + ((<usize>words) << 3);
  const delimiters = i8x16.splat(delimiter);
  const lineFeeds = i8x16.splat(LF);
  const quotes = i8x16.splat(QUOTE);
  const returns = i8x16.splat(CR);
  const zero = i8x16.splat(0);
  for (let w = 0; w < words; w++) {
    const at = input + ((<usize>w) << 6);
    let ends: u64 = 0;
    let feeds: u64 = 0;
    let others: u64 = 0;
    for (let k = 0; k < 4; k++) {
      const bytes = v128.load(at + ((<usize>k) << 4));
      const shift = <u64>(k << 4);
      const lf = i8x16.eq(bytes, lineFeeds);
      ends |= (<u64>i8x16.bitmask(v128.or(i8x16.eq(bytes, delimiters), lf))) << shift;
      feeds |= (<u64>i8x16.bitmask(lf)) << shift;
      const unusual = v128.or(
        v128.or(i8x16.eq(bytes, quotes), i8x16.eq(bytes, returns)),
        i8x16.lt_s(bytes, zero),
      );
      others |= (<u64>i8x16.bitmask(unusual)) << shift;
    }
    if (w === words - 1 && (length & 63) !== 0) {
      const keep = ((<u64>1) << (<u64>(length & 63))) - 1;
      ends &= keep;
      feeds &= keep;
      others &= keep;
    }
    store<u64>(bitmap + ((<usize>w) << 3), ends);
    store<u64>(lines + ((<usize>w) << 3), feeds);
    store<u64>(bad + ((<usize>w) << 3), others);
  }
  badFrom = -1;
}

/** The first set bit at or after `from` in a bitmap of `words` words, or -1. */
function nextSet(bitmap: usize, from: i32, words: i32): i32 {
  let w = from >> 6;
  let bits = load<u64>(bitmap + ((<usize>w) << 3)) >> <u64>(from & 63);
  if (bits !== 0) return from + <i32>ctz(bits);
  while (++w < words) {
    bits = load<u64>(bitmap + ((<usize>w) << 3));
    if (bits !== 0) return (w << 6) + <i32>ctz(bits);
  }
  return -1;
}

/** The position of the n-th (n >= 1) set bit at or after `from`; the caller knows there are that many. */
function nthSet(bitmap: usize, from: i32, n: i32): i32 {
  let w = from >> 6;
  let bits = load<u64>(bitmap + ((<usize>w) << 3)) & ((<u64>-1) << (<u64>(from & 63)));
  let count = <i32>popcnt(bits);
  while (count < n) {
    n -= count;
    bits = load<u64>(bitmap + ((<usize>++w) << 3));
    count = <i32>popcnt(bits);
  }
  while (--n > 0) bits &= bits - 1;
  return (w << 6) + <i32>ctz(bits);
}

/** How many bits of [from, to) are set. */
function countSet(bitmap: usize, from: i32, to: i32): i32 {
  let w = from >> 6;
  const last = to >> 6;
  let bits = load<u64>(bitmap + ((<usize>w) << 3)) & ((<u64>-1) << (<u64>(from & 63)));
  let count: i32 = 0;
  while (w < last) {
    count += <i32>popcnt(bits);
    bits = load<u64>(bitmap + ((<usize>++w) << 3));
  }
  return count + <i32>popcnt(bits & (((<u64>1) << (<u64>(to & 63))) - 1));
}

/** Where the last search for an unusual byte started (-1: none since {@link index}), and what it found. */
let badFrom: i32 = -1;
let badAt: i32 = 0;

/**
 * Reads up to `maxRows` simple lines from `input[from..length)`, which {@link index} mapped into `bitmap`;
 * returns how many. The field in `row` and `column` is f = column * maxRows + row (column-major, so a column
 * of numbers is one run): `kinds[f]` (text, number, or a number written plainly as digits alone),
 * `starts[f]` and `ends[f]` (offsets from `from` of its first byte and of the delimiter or LF after it) and
 * `numbers[f]` (its value, NaN unless a number); `texts[column]` counts the column's fields that are not
 * numbers. A text field gets `labels[f]`: the id of its bytes in its column's label table (`tables[column]`,
 * 0 for none), or -1; with `countLabels` a field with a label (but the missing values' one) is also counted
 * in its table, and the caller takes the counts rather than the field. `skips[column]` > 0 leaves out that
 * many columns from there on: they get nothing.
 */
export function scanLines(
  input: usize,
  from: i32,
  length: i32,
  columns: i32,
  maxRows: i32,
  kinds: usize,
  numbers: usize,
  starts: usize,
  ends: usize,
  texts: usize,
  tables: usize,
  labels: usize,
  skips: usize,
  bitmap: usize,
  countLabels: bool,
): i32 {
  memory.fill(texts, 0, (<usize>columns) << 2);
  const words = (length + 63) >> 6;
  const lines = bitmap + ((<usize>words) << 3);
  // The first unusual byte from here on: a line that reaches it is not plain. Scans move forward, so one
  // search serves until they pass it.
  if (badFrom < 0 || from < badFrom || from > badAt) {
    badAt = nextSet(lines + ((<usize>words) << 3), from, words);
    if (badAt < 0) badAt = length;
    badFrom = from;
  }
  let i = from;
  let rows: i32 = 0;
  while (rows < maxRows && i < length) {
    const first = load<u8>(input + i);
    if (first === LF || first === CR) break;
    // A plain line: an LF before the input's end, no unusual byte before it, and one delimiter fewer than
    // there are columns. Then no field needs checking on its own.
    const lineEnd = nextSet(lines, i, words);
    if (lineEnd < 0 || badAt < lineEnd || countSet(bitmap, i, lineEnd) !== columns - 1) break;
    let column: i32 = 0;
    let field = rows;
    while (column < columns) {
      const skipped = load<i32>(skips + ((<usize>column) << 2));
      if (skipped > 0) {
        column += skipped;
        field += skipped * maxRows;
        if (column < columns) i = nthSet(bitmap, i, skipped) + 1;
        continue;
      }
      const fieldStart = i;
      const end = column === columns - 1 ? lineEnd : nextSet(bitmap, i, words);
      // A plain decimal number, `-?digits(.digits)?`, read as the reader's fast path reads it: the digits
      // as an integer, exact below 2^53, then one division by a power of ten.
      const negative = load<u8>(input + <usize>fieldStart) === MINUS;
      const digitsStart = negative ? fieldStart + 1 : fieldStart;
      const size = end - digitsStart;
      let mantissa: u64 = 0;
      let point: i32 = -1;
      let digits: i32 = 0;
      let isNumber = false;
      if (size >= 1 && size <= 8) {
        // Up to 8 bytes at once (SWAR): find the point, close the gap it leaves, check that the rest are
        // digits, and add them up in three multiplications (as fast_float does).
        const keep = lowBytes(size);
        const word = load<u64>(input + <usize>digitsStart) & keep;
        const notDots = word ^ DOT_BYTES;
        const dotBytes = ~(((notDots & LOW_7_BITS) + LOW_7_BITS) | notDots | LOW_7_BITS) & keep;
        const dots = <i32>popcnt(dotBytes);
        if (dots <= 1) {
          const dotAt = dots === 0 ? size : <i32>(ctz(dotBytes) >> 3);
          const below = lowBytes(dotAt);
          const above = dotAt >= 7 ? 0 : (word >> <u64>((dotAt + 1) << 3)) << (<u64>(dotAt << 3));
          const packed = dots === 0 ? word : (word & below) | above;
          digits = size - dots;
          const filled = packed | (ZERO_BYTES & ~lowBytes(digits));
          if (
            digits > 0 &&
            (filled & HIGH_NIBBLES) === ZERO_BYTES &&
            ((filled + SIX_BYTES) & HIGH_NIBBLES) === ZERO_BYTES
          ) {
            // The digits to the top bytes with '0's below them, then fast_float's eight-digit sum.
            let v =
              (digits === 8
                ? packed
                : (packed << (<u64>((8 - digits) << 3))) | (ZERO_BYTES >> <u64>(digits << 3))) - ZERO_BYTES;
            v = v * 10 + (v >> 8);
            v =
              (((v & 0x000000ff000000ff) * 0x000f424000000064 +
                ((v >> 16) & 0x000000ff000000ff) * 0x0000271000000001) >>
                32) &
              0xffffffff;
            mantissa = v;
            point = dots === 0 ? -1 : digitsStart + dotAt;
            isNumber = true;
          }
        }
      } else {
        // Longer fields digit by digit; once past 2^53 the field is not a fast-path number, so a later
        // wrap-around does not matter.
        let tooLong = false;
        let j = digitsStart;
        while (j < end) {
          const byte = load<u8>(input + <usize>j);
          const digit = <u32>byte - 48;
          if (digit <= 9) {
            mantissa = mantissa * 10 + <u64>digit;
            if (mantissa >= EXACT_INTEGER_LIMIT) tooLong = true;
          } else if (byte !== DOT || point >= 0) {
            break;
          } else {
            point = j;
          }
          j++;
        }
        digits = end - digitsStart - (point < 0 ? 0 : 1);
        isNumber = j === end && digits > 0 && !tooLong;
      }
      const fraction: i32 = point < 0 ? 0 : end - point - 1;
      let kind = TEXT;
      let value: f64 = NaN;
      if (isNumber && fraction <= 22) {
        value = <f64>mantissa;
        if (fraction !== 0) value /= load<f64>(POW10 + ((<usize>fraction) << 3));
        if (negative) value = -value;
        kind =
          !negative && point < 0 && (digits === 1 || load<u8>(input + <usize>digitsStart) !== 48)
            ? PLAIN_WHOLE
            : NUMBER;
      } else {
        const count = texts + ((<usize>column) << 2);
        store<i32>(count, load<i32>(count) + 1);
        const table = load<u32>(tables + ((<usize>column) << 2));
        const label = labelOf(table, input + <usize>fieldStart, end - fieldStart);
        if (countLabels) countLabel(table, label);
        store<i32>(labels + ((<usize>field) << 2), label);
      }
      store<u8>(kinds + <usize>field, kind);
      store<f64>(numbers + ((<usize>field) << 3), value);
      store<i32>(starts + ((<usize>field) << 2), fieldStart - from);
      store<i32>(ends + ((<usize>field) << 2), end - from);
      field += maxRows;
      column++;
      i = end + 1;
    }
    i = lineEnd + 1;
    rows++;
  }
  consumed = i - from;
  return rows;
}
