/**
 * How raw field text becomes a value: the spec's missing tokens and its number grammar. Shared by every
 * reader path so CSV bytes and JSON strings classify the same way.
 */

/** Powers of ten that are exact doubles (10^0 to 10^22). */
const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);
const N = 0x4e;
const A = 0x41;
const a = 0x61;
const l = 0x6c;
const u = 0x75;
const o = 0x6f;
const e = 0x65;
const n = 0x6e;

/** True for an empty field or exactly `NA`, `NaN`, `null` or `None` (the spec's missing values). */
export function isMissingBytes(buf: Uint8Array, start: number, end: number): boolean {
  switch (end - start) {
    case 0:
      return true;
    case 2:
      return buf[start] === N && buf[start + 1] === A;
    case 3:
      return buf[start] === N && buf[start + 1] === a && buf[start + 2] === N;
    case 4: {
      const b0 = buf[start];
      if (b0 === n) return buf[start + 1] === u && buf[start + 2] === l && buf[start + 3] === l;
      if (b0 === N) return buf[start + 1] === o && buf[start + 2] === n && buf[start + 3] === e;
      return false;
    }
    default:
      return false;
  }
}

export function isMissingText(text: string): boolean {
  return text === '' || text === 'NA' || text === 'NaN' || text === 'null' || text === 'None';
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09;
}

const latin1 = new TextDecoder('latin1');

/**
 * mantissa x 10^power in one exact operation, so correctly rounded (Clinger's fast path): only for a mantissa
 * below {@link EXACT_INTEGER_LIMIT} and |power| <= 22.
 */
export function exactDecimal(mantissa: number, power: number): number {
  // Power 0 first: a caller's -0 (`-fraction` of a whole number) is no array index, and V8 deoptimizes on it.
  if (power === 0) return mantissa;
  return power > 0 ? mantissa * POW10[power]! : mantissa / POW10[-power]!;
}

/** 2^53: integers below it are exact doubles. */
export const EXACT_INTEGER_LIMIT = 9007199254740992;

/**
 * Parses a decimal number (optional sign, digits with an optional fraction, optional exponent, surrounding
 * blanks allowed, as Python's `float` does) straight from bytes. Returns NaN when the text is not such a
 * number or is not finite. When the digits form an integer below 2^53 and the power of ten is within 22,
 * one multiplication or division is exact and correctly rounded (Clinger's fast path); anything else goes
 * through `Number`, which is also correctly rounded.
 */
export function parseNumberBytes(buf: Uint8Array, start: number, end: number): number {
  if (start < end && isSpace(buf[start]!)) {
    while (start < end && isSpace(buf[start]!)) start++;
  }
  if (end > start && isSpace(buf[end - 1]!)) {
    while (end > start && isSpace(buf[end - 1]!)) end--;
  }
  if (start === end) return Number.NaN;
  let i = start;
  let negative = false;
  const first = buf[i]!;
  if (first === 0x2d || first === 0x2b) {
    negative = first === 0x2d;
    i++;
  }
  // The digits as one integer, exact while it stays below 2^53 (it only grows, so checking at the end is enough).
  let mantissa = 0;
  const integerStart = i;
  for (; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
  }
  let digits = i - integerStart;
  let fraction = 0;
  if (i < end && buf[i] === 0x2e) {
    const fractionStart = ++i;
    for (; i < end; i++) {
      const d = buf[i]! - 0x30;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
    }
    fraction = i - fractionStart;
    digits += fraction;
  }
  // No digit at all: "+", ".", "-.", "e5".
  if (digits === 0) return Number.NaN;
  let exponent = 0;
  if (i < end && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++;
    let expNegative = false;
    if (i < end && (buf[i] === 0x2d || buf[i] === 0x2b)) {
      expNegative = buf[i] === 0x2d;
      i++;
    }
    const expStart = i;
    for (; i < end; i++) {
      const d = buf[i]! - 0x30;
      if (d < 0 || d > 9) break;
      if (exponent < 100000) exponent = exponent * 10 + d;
    }
    if (i === expStart) return Number.NaN;
    if (expNegative) exponent = -exponent;
  }
  if (i !== end) return Number.NaN;
  const power = exponent - fraction;
  let value: number;
  if (mantissa === 0) {
    value = 0;
  } else if (mantissa < EXACT_INTEGER_LIMIT && power >= -22 && power <= 22) {
    value = exactDecimal(mantissa, power);
  } else {
    value = Number(latin1.decode(buf.subarray(start, end)));
    return Number.isFinite(value) ? value : Number.NaN;
  }
  return negative ? -value : value;
}

const NUMBER_PATTERN = /^[ \t]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t]*$/;

/** {@link parseNumberBytes} for text that is already a string (JSON Lines, Parquet). */
export function parseNumberText(text: string): number {
  if (!NUMBER_PATTERN.test(text)) return Number.NaN;
  const value = Number(text);
  return Number.isFinite(value) ? value : Number.NaN;
}
