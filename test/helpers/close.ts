import { expect } from 'vitest';

/** The drift spec's agreement with numpy / scipy: relative 1e-6, absolute 1e-9 near 0. */
export const SPEC_TOLERANCE = { relative: 1e-6, absolute: 1e-9 } as const;

export interface Tolerance {
  /** Largest allowed |actual - expected| / |expected|. */
  relative: number;
  /** Largest allowed |actual - expected| where the relative bound is smaller (values near 0). */
  absolute: number;
}

/** |actual - expected| / |expected| (0 when both are equal, including infinities; Infinity when only one is NaN). */
export function relativeError(actual: number, expected: number): number {
  if (actual === expected || (Number.isNaN(actual) && Number.isNaN(expected))) return 0;
  if (Number.isNaN(actual) || Number.isNaN(expected)) return Number.POSITIVE_INFINITY;
  return Math.abs(actual - expected) / Math.abs(expected);
}

/** Whether actual is within max(absolute, relative · |expected|) of expected; NaN matches only NaN. */
export function isClose(actual: number, expected: number, tolerance: Tolerance = SPEC_TOLERANCE): boolean {
  if (actual === expected) return true;
  if (Number.isNaN(actual) || Number.isNaN(expected)) return Number.isNaN(actual) && Number.isNaN(expected);
  const allowed = Math.max(tolerance.absolute, tolerance.relative * Math.abs(expected));
  return Math.abs(actual - expected) <= allowed;
}

/**
 * Fails with both numbers, their relative error and the label when actual is not close to expected
 * (by default the spec's relative 1e-6 / absolute 1e-9).
 */
export function expectClose(
  actual: number,
  expected: number,
  label = 'value',
  tolerance: Tolerance = SPEC_TOLERANCE,
): void {
  if (isClose(actual, expected, tolerance)) return;
  expect.fail(
    `${label}: expected ${expected}, got ${actual} (relative error ${relativeError(actual, expected)}, ` +
      `allowed relative ${tolerance.relative} / absolute ${tolerance.absolute})`,
  );
}

/**
 * Stricter check for values that may be far below 1e-9 (p-values of 1e-200): relative only, except for
 * subnormal expectations, where relative error is meaningless and the absolute bound is the smallest normal.
 */
export function expectRelativelyClose(
  actual: number,
  expected: number,
  label: string,
  relative: number,
): void {
  expectClose(actual, expected, label, { relative, absolute: 2.2250738585072014e-308 });
}
