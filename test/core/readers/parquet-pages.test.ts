import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { snappyUncompress as hyparquetSnappy } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { pageKernel, snappyUncompress } from '../../../lambdas/core/readers/parquet-kernel.ts';
import { decodeHybrid } from '../../../lambdas/core/readers/parquet-pages.ts';
import { compileKernel } from '../../../scripts/build-wasm.ts';

/** A small deterministic generator (LCG): the cases are the same on every run. */
function generator(seed: number) {
  let state = seed >>> 0;
  return (below: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * below);
  };
}

function varint(value: number, out: number[]): void {
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

/** A valid Snappy stream of random literals and copies (every tag form), and the bytes it stands for. */
function randomSnappy(random: (below: number) => number): { stream: Uint8Array; plain: Uint8Array } {
  const plain: number[] = [];
  const body: number[] = [];
  const elements = 1 + random(40);
  for (let e = 0; e < elements; e++) {
    if (plain.length === 0 || random(3) === 0) {
      const length = 1 + random(random(4) === 0 ? 300 : 60);
      const bytes = Array.from({ length }, () => random(256));
      if (length <= 60) body.push((length - 1) << 2);
      else if (length <= 256) body.push(60 << 2, length - 1);
      else body.push(61 << 2, (length - 1) & 0xff, (length - 1) >> 8);
      body.push(...bytes);
      plain.push(...bytes);
      continue;
    }
    const form = random(3);
    const offset = 1 + random(Math.min(plain.length, form === 0 ? 2047 : 65535));
    const length = form === 0 ? 4 + random(8) : 1 + random(64);
    if (form === 0) body.push(1 | ((length - 4) << 2) | ((offset >> 8) << 5), offset & 0xff);
    else if (form === 1) body.push(2 | ((length - 1) << 2), offset & 0xff, offset >> 8);
    else body.push(3 | ((length - 1) << 2), offset & 0xff, (offset >> 8) & 0xff, 0, 0);
    for (let i = 0; i < length; i++) plain.push(plain[plain.length - offset]!);
  }
  const head: number[] = [];
  varint(plain.length, head);
  return { stream: Uint8Array.from([...head, ...body]), plain: Uint8Array.from(plain) };
}

describe('Snappy kernel', () => {
  it('compiles to the committed module', async () => {
    const committed = readFileSync(
      join(import.meta.dirname, '../../../lambdas/core/readers/wasm/parquet-pages.wasm.ts'),
      'utf8',
    );
    expect(await compileKernel('readers/wasm/parquet-pages.as.ts', 'PARQUET_PAGES_WASM')).toBe(committed);
  });

  it('decodes literals and overlapping copies of every form as hyparquet does', () => {
    const random = generator(11);
    for (let trial = 0; trial < 100; trial++) {
      const { stream, plain } = randomSnappy(random);
      expect(Buffer.from(snappyUncompress(stream, plain.length)).equals(plain)).toBe(true);
      const reference = new Uint8Array(plain.length);
      hyparquetSnappy(stream, reference);
      expect(Buffer.from(reference).equals(plain)).toBe(true);
    }
  });

  it('rejects corrupt input and a wrong length, never writing past the output', () => {
    const random = generator(5);
    let rejected = 0;
    for (let trial = 0; trial < 300; trial++) {
      const { stream, plain } = randomSnappy(random);
      const corrupt = Uint8Array.from(stream);
      corrupt[random(corrupt.length)] = random(256);
      try {
        const out = snappyUncompress(corrupt, plain.length);
        expect(out.length).toBe(plain.length);
      } catch (error) {
        expect((error as Error).message).toBe('corrupt Snappy data');
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(10);
    const { stream, plain } = randomSnappy(generator(1));
    expect(() => snappyUncompress(stream, plain.length + 1)).toThrow('corrupt Snappy data');
    expect(() => snappyUncompress(stream.subarray(0, stream.length - 1), plain.length)).toThrow();
  });
});

/** The RLE / bit-packed hybrid encoding of `values` in random runs of either kind. */
function encodeHybrid(values: number[], width: number, random: (below: number) => number): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < values.length) {
    let run = 1;
    while (i + run < values.length && values[i + run] === values[i]) run++;
    if (run >= 8 || random(4) === 0) {
      varint(run * 2, out);
      for (let b = 0; b < (width + 7) >> 3; b++) out.push(Math.floor(values[i]! / 2 ** (8 * b)) & 0xff);
      i += run;
      continue;
    }
    const groups = 1 + random(3);
    varint(groups * 2 + 1, out);
    const bits: number[] = [];
    for (let k = 0; k < groups * 8; k++) {
      const value = values[i + k] ?? 0;
      for (let b = 0; b < width; b++) bits.push(Math.floor(value / 2 ** b) % 2);
    }
    for (let b = 0; b < bits.length; b += 8) {
      let byte = 0;
      for (let k = 0; k < 8; k++) byte |= (bits[b + k] ?? 0) << k;
      out.push(byte);
    }
    i += groups * 8;
  }
  return Uint8Array.from(out);
}

describe('decodeHybrid', () => {
  it('decodes runs and bit-packed groups of every width up to 32 bits', () => {
    const random = generator(3);
    for (let width = 0; width <= 32; width++) {
      for (let trial = 0; trial < 8; trial++) {
        const count = 1 + random(200);
        const values = Array.from({ length: count }, () =>
          width === 0 ? 0 : random(3) === 0 ? 1 : Math.floor((random(2 ** 16) / 2 ** 16) * 2 ** width),
        );
        const encoded = encodeHybrid(values, width, random);
        const out = new Int32Array(count + 2);
        decodeHybrid(encoded, 0, encoded.length, width, out, 1, count);
        expect(Array.from(out.subarray(1, count + 1), (v) => v >>> 0)).toEqual(values);
        expect(out[count + 1]).toBe(0);
      }
    }
  });

  it('decodes the same in the page kernel, with nulls spread over the rows by the levels', () => {
    const random = generator(5);
    const kernel = pageKernel();
    for (let width = 1; width <= 32; width++) {
      for (let trial = 0; trial < 4; trial++) {
        const rows = 1 + random(300);
        const levels = Array.from({ length: rows }, (): number => (random(4) === 0 ? 0 : 1));
        const present = levels.reduce((a: number, b) => a + b, 0);
        const values = Array.from({ length: present }, () =>
          Math.floor((random(2 ** 16) / 2 ** 16) * 2 ** Math.min(width, 31)),
        );
        const levelBytes = encodeHybrid(levels, 1, random);
        const valueBytes = encodeHybrid(values, width, random);
        const page = Uint8Array.from([...levelBytes, width, ...valueBytes]);
        kernel.load(page);
        expect(kernel.levels(0, levelBytes.length, rows)).toBe(present);
        const codes = kernel.dictionaryCodes(
          levelBytes.length + 1,
          page.length,
          width,
          present,
          rows,
          2 ** 31 - 1,
        );
        let next = 0;
        expect(Array.from(codes!)).toEqual(levels.map((level) => (level ? values[next++] : -1)));
        const dictionary = Float64Array.from({ length: 8 }, (_, i) => i / 2);
        const small = values.map((v) => v % 8);
        const smallBytes = encodeHybrid(small, 3, random);
        kernel.load(Uint8Array.from([...levelBytes, ...smallBytes]));
        kernel.levels(0, levelBytes.length, rows);
        next = 0;
        const numbers = kernel.dictionaryNumbers(
          levelBytes.length,
          levelBytes.length + smallBytes.length,
          3,
          present,
          rows,
          dictionary,
        );
        expect(Array.from(numbers!)).toEqual(
          levels.map((level) => (level ? small[next++]! / 2 : Number.NaN)),
        );
      }
    }
  });

  it('rejects malformed indices and indices past the dictionary in the page kernel', () => {
    const kernel = pageKernel();
    const encoded = encodeHybrid([1, 2, 3, 4, 5, 6, 7, 0], 3, () => 1);
    kernel.load(encoded);
    expect(kernel.dictionaryCodes(0, encoded.length - 1, 3, 24, 24, 8)).toBeNull();
    expect(kernel.dictionaryCodes(0, encoded.length, 3, 8, 8, 7)).toBeNull();
    expect(kernel.dictionaryNumbers(0, encoded.length, 3, 8, 8, new Float64Array(7))).toBeNull();
    expect(Array.from(kernel.dictionaryCodes(0, encoded.length, 3, 8, 8, 8)!)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 0,
    ]);
  });

  it('rejects values that end early', () => {
    const encoded = encodeHybrid([1, 2, 3, 4, 5, 6, 7, 0], 3, () => 1);
    expect(() => decodeHybrid(encoded, 0, encoded.length, 3, new Int32Array(24), 0, 24)).toThrow(
      'the encoded values end early',
    );
  });
});
