// AssemblyScript, not TypeScript: what the CSV and JSON Lines kernels (csv-lines.as.ts, jsonl-lines.as.ts)
// share besides their label tables; each kernel's module holds its own copy.

/** Kinds of a field, as the readers take them (see csv-kernel.ts and jsonl-kernel.ts). */
export const TEXT: u8 = 0;
export const NUMBER: u8 = 1;
/** A number whose text is its value's as the reader labels it (a plain whole number). */
export const PLAIN_WHOLE: u8 = 2;

export const LF: u8 = 10;
export const CR: u8 = 13;
export const QUOTE: u8 = 34;
export const MINUS: u8 = 45;
export const DOT: u8 = 46;

/** The powers of ten that are exact doubles, for the readers' exact fast path of numbers. */
export const POW10 = memory.data<f64>([
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
]);

/** Where memory free for the caller starts. */
export function heapBase(): usize {
  return __heap_base;
}
