import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortFloat64 } from '../../../lambdas/core/stats/radix-sort.ts';

const sameAsBuiltIn = (values: number[]) => {
  const expected = Float64Array.from(values).sort();
  const actual = sortFloat64(Float64Array.from(values));
  // Object.is tells -0 from 0.
  expect([...actual].map((x) => Object.is(x, -0))).toEqual([...expected].map((x) => Object.is(x, -0)));
  expect(actual).toEqual(expected);
};

describe('sortFloat64', () => {
  it('sorts as Float64Array.prototype.sort does, -0, infinities and subnormals included', () => {
    const special = [
      0,
      -0,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      5e-324,
      -5e-324,
      1e308,
      -1e308,
    ];
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(...special), fc.integer({ min: -3, max: 3 })),
          {
            minLength: 512,
            maxLength: 3000,
          },
        ),
        (values) => sameAsBuiltIn(values),
      ),
      { numRuns: 60 },
    );
  });

  it('handles values that share their high digits, and short arrays', () => {
    sameAsBuiltIn(Array.from({ length: 5000 }, (_, i) => 1 + ((i * 7919) % 5000) * 1e-12));
    sameAsBuiltIn(Array.from({ length: 4000 }, (_, i) => (i % 3) - 1));
    sameAsBuiltIn([3, -1, 2]);
    sameAsBuiltIn([]);
  });

  it('sorts arrays in turn, and a view in place, leaving the rest of the buffer alone', () => {
    for (const length of [600, 9000, 5000]) {
      sameAsBuiltIn(Array.from({ length }, (_, i) => Math.sin(i * 12.9898) * 1e3));
    }
    const buffer = Float64Array.from({ length: 3000 }, (_, i) => 3000 - i);
    sortFloat64(buffer.subarray(1000, 2000));
    expect(buffer[999]).toBe(2001);
    expect([...buffer.subarray(1000, 2000)]).toEqual(Array.from({ length: 1000 }, (_, i) => 1001 + i));
    expect(buffer[2000]).toBe(1000);
  });
});
