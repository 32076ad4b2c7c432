import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isMissingBytes,
  isMissingText,
  parseNumberBytes,
  parseNumberText,
} from '../../../lambdas/core/drift/values.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const parse = (text: string) => {
  const b = bytes(`#${text}#`);
  return parseNumberBytes(b, 1, b.length - 1);
};

describe('isMissing', () => {
  it.each(['', 'NA', 'NaN', 'null', 'None'])('%j is missing', (token) => {
    expect(isMissingText(token)).toBe(true);
    const b = bytes(`x${token}x`);
    expect(isMissingBytes(b, 1, b.length - 1)).toBe(true);
  });
  it.each(['na', 'nan', 'NULL', 'none', ' ', 'N/A', 'Non', '0', 'Nonee'])('%j is a value', (token) => {
    expect(isMissingText(token)).toBe(false);
    const b = bytes(token);
    expect(isMissingBytes(b, 0, b.length)).toBe(false);
  });
});

describe('parseNumberBytes', () => {
  it.each([
    ['0', 0],
    ['-0', -0],
    ['42', 42],
    ['+7', 7],
    ['3.25', 3.25],
    ['.5', 0.5],
    ['5.', 5],
    ['1e3', 1000],
    ['1E-3', 0.001],
    ['-2.5e+2', -250],
    [' 12 ', 12],
    ['\t1.5', 1.5],
    ['0.1', 0.1],
    ['123456789012345678901234567890', 1.2345678901234568e29],
    ['0.000000000000000000000000001', 1e-27],
    ['4.9e-324', 5e-324],
    ['1.7976931348623157e308', 1.7976931348623157e308],
    ['00000000000000000000001.5', 1.5],
  ])('%j -> %d', (text, expected) => {
    expect(Object.is(parse(text), expected)).toBe(true);
  });

  it.each([
    '',
    ' ',
    'abc',
    '1.2.3',
    '1e',
    'e5',
    '--1',
    '1-',
    '0x10',
    'inf',
    'Infinity',
    'nan',
    '1e400',
    '.',
    '+',
    '1 2',
    '１',
  ])('%j is not a finite number', (text) => {
    expect(parse(text)).toBeNaN();
    expect(parseNumberText(text)).toBeNaN();
  });

  it('agrees with Number() on every decimal it accepts (correct rounding)', () => {
    const decimal = fc
      .tuple(
        fc.constantFrom('', '-', '+'),
        fc.stringMatching(/^\d{1,25}$/),
        fc.option(fc.stringMatching(/^\d{0,25}$/)),
        fc.option(fc.integer({ min: -330, max: 310 })),
      )
      .map(
        ([sign, whole, fraction, exponent]) =>
          `${sign}${whole}${fraction === null ? '' : `.${fraction}`}${exponent === null ? '' : `e${exponent}`}`,
      );
    fc.assert(
      fc.property(decimal, (text) => {
        const expected = Number(text);
        const fromBytes = parse(text);
        const fromText = parseNumberText(text);
        if (!Number.isFinite(expected)) return Number.isNaN(fromBytes) && Number.isNaN(fromText);
        return Object.is(fromBytes, expected) && Object.is(fromText, expected);
      }),
      { numRuns: 20000 },
    );
  });
});
