// AssemblyScript, not TypeScript: `npm run build:wasm` compiles it into jsonl-lines.wasm.ts, which the JSON
// Lines reader loads (see jsonl-kernel.ts). A test checks that the committed module is what this source
// compiles to.
//
// The JSON Lines reader's hot loop for the common case: objects whose keys are the caller's keys in the
// caller's order (those of the object the reader read last), each value a number of at most 15 significant
// digits and a power of ten within 1e±22 (the reader's exact fast path, so the values are the same doubles),
// a string of printable ASCII without escapes, true, false or null; spaces and tabs between the tokens; LF or
// CRLF line ends. For each such line it writes every value's kind, the offsets of a string's text and a
// number's value, as the CSV kernel does. Anything else (another key, another order, a nested value, an
// escape, a byte >= 0x80, a number outside the fast path, a blank line, a line longer than the limit, a line
// cut by the end of the input, any syntax error) stops it before that line, which the JavaScript parser then
// takes, with its errors.

import { countLabel, labelOf } from './label-tables.as';
// PLAIN_WHOLE here: a number whose value is a whole number from 0 to 1e21.
import { CR, DOT, LF, MINUS, NUMBER, PLAIN_WHOLE, POW10, QUOTE, TEXT } from './line-kernel.as';

export { countsOffset, register, tableBytes } from './label-tables.as';
export { heapBase } from './line-kernel.as';

const TRUE: u8 = 3;
const FALSE: u8 = 4;
const NULL: u8 = 5;
const TAB: u8 = 9;
const SPACE: u8 = 32;
const COMMA: u8 = 44;
const PLUS: u8 = 43;
const COLON: u8 = 58;
const BACKSLASH: u8 = 92;
const OPEN_BRACE: u8 = 123;
const CLOSE_BRACE: u8 = 125;
/** "true", "fals" and "null" as little-endian words; "false" ends with an 'e'. */
const TRUE_WORD: u32 = 0x65757274;
const FALS_WORD: u32 = 0x736c6166;
const NULL_WORD: u32 = 0x6c6c756e;

let consumed: i32 = 0;
/** Set by the value readers: the position after the value, or -1 when the line is not for this kernel. */
let valueEnd: i32 = 0;
let parsed: f64 = 0;

/** Bytes of the input taken by the last {@link scanLines} call (whole lines, each with its LF). */
export function consumedBytes(): i32 {
  return consumed;
}

function isSpace(byte: u8): bool {
  return byte === SPACE || byte === TAB;
}

/** The position of the first byte at or after `i` that is not a space or a tab. */
function skipSpace(input: usize, i: i32, end: i32): i32 {
  while (i < end && isSpace(load<u8>(input + <usize>i))) i++;
  return i;
}

/** Whether the `length` bytes at `a` and `b` are the same (reads up to 7 bytes past both). */
function sameBytes(a: usize, b: usize, length: i32): bool {
  let k: i32 = 0;
  while (k + 8 <= length) {
    if (load<u64>(a + <usize>k) !== load<u64>(b + <usize>k)) return false;
    k += 8;
  }
  if (k === length) return true;
  const mask = ((<u64>1) << (<u64>((length - k) << 3))) - 1;
  return ((load<u64>(a + <usize>k) ^ load<u64>(b + <usize>k)) & mask) === 0;
}

/** The closing quote of the string whose text starts at `i`, or -1 (an escape, a control or non-ASCII byte). */
function stringEnd(input: usize, i: i32, end: i32): i32 {
  while (i < end) {
    const byte = load<u8>(input + <usize>i);
    if (byte === QUOTE) return i;
    if (byte === BACKSLASH || byte < SPACE || byte >= 0x7f) return -1;
    i++;
  }
  return -1;
}

/** Reads the JSON number at `i` into `parsed` (sets `valueEnd`, -1 when it is not one the fast path takes). */
function readNumber(input: usize, i: i32, end: i32): void {
  const negative = load<u8>(input + <usize>i) === MINUS;
  if (negative) i++;
  const intStart = i;
  let mantissa: u64 = 0;
  while (i < end) {
    const digit = <u32>load<u8>(input + <usize>i) - 48;
    if (digit > 9) break;
    mantissa = mantissa * 10 + <u64>digit;
    i++;
  }
  let digits = i - intStart;
  if (digits === 0 || (digits > 1 && load<u8>(input + <usize>intStart) === 48)) {
    valueEnd = -1;
    return;
  }
  let scale: i32 = 0;
  if (i < end && load<u8>(input + <usize>i) === DOT) {
    const fractionStart = ++i;
    while (i < end) {
      const digit = <u32>load<u8>(input + <usize>i) - 48;
      if (digit > 9) break;
      mantissa = mantissa * 10 + <u64>digit;
      i++;
    }
    scale = i - fractionStart;
    if (scale === 0) {
      valueEnd = -1;
      return;
    }
    digits += scale;
  }
  let exponent: i32 = 0;
  if (i < end && (load<u8>(input + <usize>i) | 0x20) === 0x65) {
    i++;
    let sign: i32 = 1;
    if (i < end) {
      const byte = load<u8>(input + <usize>i);
      if (byte === MINUS || byte === PLUS) {
        if (byte === MINUS) sign = -1;
        i++;
      }
    }
    const exponentStart = i;
    while (i < end) {
      const digit = <i32>load<u8>(input + <usize>i) - 48;
      if (<u32>digit > 9) break;
      exponent = min(exponent * 10 + digit, 100000);
      i++;
    }
    if (i === exponentStart) {
      valueEnd = -1;
      return;
    }
    exponent *= sign;
  }
  const power = exponent - scale;
  // Clinger's fast path, as the JavaScript parser takes it: an exact integer of at most 15 digits times an
  // exact power of ten is correctly rounded. Other numbers are the JavaScript parser's.
  if (digits > 15 || power < -22 || power > 22) {
    valueEnd = -1;
    return;
  }
  const magnitude: f64 =
    power < 0
      ? <f64>mantissa / load<f64>(POW10 + ((<usize>-power) << 3))
      : <f64>mantissa * load<f64>(POW10 + ((<usize>power) << 3));
  parsed = negative ? -magnitude : magnitude;
  valueEnd = i;
}

/**
 * Reads up to `maxRows` lines from `input[from..length)` whose keys are the `slots` keys (slot s: bytes
 * [keys[2s], keys[2s] + keys[2s + 1]) of memory, in quotes, without escapes) in that order; returns how many. The value
 * in `row` and slot s is f = s * maxRows + row (slot-major, so a column of numbers is one run): `kinds[f]`,
 * `numbers[f]` (its value, NaN unless a number), `starts[f]` and `ends[f]` (for a string, offsets from
 * `from` of its text and of its closing quote); `texts[s]` counts the slot's values that are not numbers. A
 * string gets `labels[f]`: the id of its bytes in the slot's label table (`tables[s]`, 0 for none), or -1;
 * with `countLabels` a string with a label (but the missing values' one) is also counted in its table, and
 * the caller takes the counts rather than the value. `skips[s]` = 1: the slot's values are checked, and get
 * nothing.
 */
export function scanLines(
  input: usize,
  from: i32,
  length: i32,
  slots: i32,
  maxRows: i32,
  maxLineBytes: i32,
  keys: usize,
  kinds: usize,
  numbers: usize,
  starts: usize,
  ends: usize,
  texts: usize,
  tables: usize,
  labels: usize,
  skips: usize,
  countLabels: bool,
): i32 {
  memory.fill(texts, 0, (<usize>slots) << 2);
  let i = from;
  let rows: i32 = 0;
  while (rows < maxRows && i < length) {
    const lineStart = i;
    // Strings here hold no control bytes, so the line is parsed up to its LF without looking for it first.
    const end = length;
    i = skipSpace(input, i, end);
    if (i === end || load<u8>(input + <usize>i) !== OPEN_BRACE) break;
    i = skipSpace(input, i + 1, end);
    let slot: i32 = 0;
    let field = rows;
    let ok = true;
    while (slot < slots) {
      // The slot's key, in quotes (the caller's bytes have them), then a colon.
      const keyAt = keys + ((<usize>slot) << 3);
      const keyLength = load<i32>(keyAt + 4);
      if (i + keyLength > end || !sameBytes(input + <usize>i, <usize>load<i32>(keyAt), keyLength)) {
        ok = false;
        break;
      }
      i += keyLength;
      if (load<u8>(input + <usize>i) === COLON) {
        i++;
      } else {
        i = skipSpace(input, i, end);
        if (i === end || load<u8>(input + <usize>i) !== COLON) {
          ok = false;
          break;
        }
        i = skipSpace(input, i + 1, end);
      }
      if (i >= end) {
        ok = false;
        break;
      }
      if (isSpace(load<u8>(input + <usize>i))) i = skipSpace(input, i, end);
      const skipped = load<i32>(skips + ((<usize>slot) << 2)) !== 0;
      const first = load<u8>(input + <usize>i);
      let kind: u8 = TEXT;
      let value: f64 = NaN;
      let after: i32 = -1;
      if (first === QUOTE) {
        const close = stringEnd(input, i + 1, end);
        if (close >= 0) {
          after = close + 1;
          if (!skipped) {
            const table = load<u32>(tables + ((<usize>slot) << 2));
            const label = labelOf(table, input + <usize>(i + 1), close - i - 1);
            store<i32>(labels + ((<usize>field) << 2), label);
            store<i32>(starts + ((<usize>field) << 2), i + 1 - from);
            store<i32>(ends + ((<usize>field) << 2), close - from);
          }
        }
      } else if (first === MINUS || <u32>first - 48 <= 9) {
        readNumber(input, i, end);
        after = valueEnd;
        value = parsed;
        kind = value >= 0 && value < 1e21 && Math.floor(value) === value ? PLAIN_WHOLE : NUMBER;
      } else if (i + 4 <= end) {
        const word = load<u32>(input + <usize>i);
        if (word === TRUE_WORD) {
          kind = TRUE;
          after = i + 4;
        } else if (word === NULL_WORD) {
          kind = NULL;
          after = i + 4;
        } else if (word === FALS_WORD && i + 5 <= end && load<u8>(input + <usize>(i + 4)) === 0x65) {
          kind = FALSE;
          after = i + 5;
        }
      }
      if (after < 0) {
        ok = false;
        break;
      }
      if (!skipped) {
        store<u8>(kinds + <usize>field, kind);
        store<f64>(numbers + ((<usize>field) << 3), value);
      }
      // A comma before the next key, the closing brace after the last.
      i = skipSpace(input, after, end);
      if (i === end) {
        ok = false;
        break;
      }
      const next = load<u8>(input + <usize>i);
      slot++;
      field += maxRows;
      if (slot < slots) {
        if (next !== COMMA) {
          ok = false;
          break;
        }
        i = skipSpace(input, i + 1, end);
      } else if (next !== CLOSE_BRACE) {
        ok = false;
        break;
      } else {
        i++;
      }
    }
    if (ok) {
      i = skipSpace(input, i, end);
      if (i < end && load<u8>(input + <usize>i) === CR) i++;
      ok = i < end && load<u8>(input + <usize>i) === LF && i - lineStart <= maxLineBytes;
    }
    if (!ok) {
      // The JavaScript parser reads the line whole: nothing of it was counted.
      i = lineStart;
      break;
    }
    commit(rows, slots, maxRows, kinds, texts, tables, labels, skips, countLabels);
    i++;
    rows++;
  }
  consumed = i - from;
  return rows;
}

/** Counts the values of the line in `row` that are not numbers, and its strings' labels (`countLabels`). */
function commit(
  row: i32,
  slots: i32,
  maxRows: i32,
  kinds: usize,
  texts: usize,
  tables: usize,
  labels: usize,
  skips: usize,
  countLabels: bool,
): void {
  for (let slot = 0; slot < slots; slot++) {
    if (load<i32>(skips + ((<usize>slot) << 2)) !== 0) continue;
    const field = slot * maxRows + row;
    const kind = load<u8>(kinds + <usize>field);
    if (kind === NUMBER || kind === PLAIN_WHOLE) continue;
    const count = texts + ((<usize>slot) << 2);
    store<i32>(count, load<i32>(count) + 1);
    if (kind !== TEXT || !countLabels) continue;
    countLabel(load<u32>(tables + ((<usize>slot) << 2)), load<i32>(labels + ((<usize>field) << 2)));
  }
}
