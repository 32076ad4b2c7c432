import { expect } from 'vitest';
import { expectClose } from './close.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Fails unless `actual` has the shape of `expected`: the same keys (in the same order when `keyOrder`), equal
 * strings, booleans and nulls, and numbers within the spec's tolerance (relative 1e-6, absolute 1e-9).
 */
export function expectJsonClose(
  actual: Json | undefined,
  expected: Json,
  path = '$',
  options: { keyOrder?: boolean } = {},
): void {
  if (typeof expected === 'number') {
    expect(typeof actual, `${path} type`).toBe('number');
    expectClose(actual as number, expected, path);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path} is an array`).toBe(true);
    expect((actual as Json[]).length, `${path} length`).toBe(expected.length);
    for (const [index, item] of expected.entries()) {
      expectJsonClose((actual as Json[])[index], item, `${path}[${index}]`, options);
    }
  } else if (expected !== null && typeof expected === 'object') {
    expect(
      actual !== null && typeof actual === 'object' && !Array.isArray(actual),
      `${path} is an object`,
    ).toBe(true);
    const object = actual as Record<string, Json>;
    const keys = (o: object) => (options.keyOrder ? Object.keys(o) : Object.keys(o).sort());
    expect(keys(object), `${path} keys`).toEqual(keys(expected));
    for (const [key, value] of Object.entries(expected))
      expectJsonClose(object[key], value, `${path}.${key}`, options);
  } else {
    expect(actual, path).toEqual(expected);
  }
}
