import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { InputError } from '../../../lambdas/core/errors.ts';
import { JsonlParser } from '../../../lambdas/core/readers/jsonl.ts';
import {
  JSONL_FALSE,
  JSONL_NULL,
  JSONL_NUMBER,
  JSONL_PLAIN_WHOLE,
  JSONL_ROWS,
  JSONL_TEXT,
  JSONL_TRUE,
  JsonlLinesKernel,
} from '../../../lambdas/core/readers/jsonl-kernel.ts';
import { type CellValue, MISSING_TEXT } from '../../../lambdas/core/readers/types.ts';
import { compileKernel } from '../../../scripts/build-wasm.ts';
import { RecordingSink } from '../../helpers/recording-sink.ts';

const WASM_DIR = join(import.meta.dirname, '..', '..', '..', 'lambdas', 'core', 'readers', 'wasm');
const encoder = new TextEncoder();

function kernelFor(keys: string[], skipped: boolean[] = [], maxLineBytes = 1 << 20): JsonlLinesKernel {
  const kernel = new JsonlLinesKernel(64, maxLineBytes);
  const columns = keys.map((_, i) => i);
  expect(
    kernel.setKeys(
      keys.map((key) => encoder.encode(key)),
      columns,
      skipped,
    ),
  ).toBe(true);
  return kernel;
}

/** Lines the kernel takes from the start of `text`. */
function taken(kernel: JsonlLinesKernel, text: string): number {
  const bytes = encoder.encode(text);
  kernel.load(bytes, 0, bytes.length);
  return kernel.scan(0);
}

describe('JsonlLinesKernel', () => {
  it('is what its AssemblyScript source compiles to', async () => {
    const committed = readFileSync(join(WASM_DIR, 'jsonl-lines.wasm.ts'), 'utf8');
    expect(await compileKernel('readers/wasm/jsonl-lines.as.ts', 'JSONL_LINES_WASM')).toBe(committed);
  }, 60_000);

  it('reads objects with its keys in order, value by value, and stops before a line it does not read', () => {
    const kernel = kernelFor(['a', 'b', 'c']);
    const text =
      '{"a":1,"b":"x","c":-2.5e2}\n' +
      '{ "a" : 0.125 , "b":true,\t"c":null }\r\n' +
      '{"a":3.0,"b":false,"c":"NA"}\n' +
      '{"b":1,"a":2,"c":3}\n';
    const bytes = encoder.encode(text);
    kernel.load(bytes, 0, bytes.length);
    expect(kernel.scan(0)).toBe(3);
    expect(kernel.consumed).toBe(text.indexOf('{"b":1'));
    const field = (row: number, slot: number) => slot * JSONL_ROWS + row;
    expect([0, 1, 2].map((row) => kernel.kinds[field(row, 0)])).toEqual([
      JSONL_PLAIN_WHOLE,
      JSONL_NUMBER,
      JSONL_PLAIN_WHOLE,
    ]);
    expect([0, 1, 2].map((row) => kernel.numbers[field(row, 0)])).toEqual([1, 0.125, 3]);
    expect([0, 1, 2].map((row) => kernel.kinds[field(row, 1)])).toEqual([
      JSONL_TEXT,
      JSONL_TRUE,
      JSONL_FALSE,
    ]);
    expect(text.slice(kernel.starts[field(0, 1)], kernel.ends[field(0, 1)])).toBe('x');
    expect(kernel.numbers[field(0, 2)]).toBe(-250);
    expect(kernel.kinds[field(1, 2)]).toBe(JSONL_NULL);
    expect([...kernel.texts.subarray(0, 3)]).toEqual([0, 3, 2]);
    expect(kernel.scan(kernel.consumed)).toBe(0);
  });

  it('leaves to the parser what it does not take: other keys, nested values, escapes, long numbers', () => {
    const kernel = kernelFor(['a', 'b']);
    const plain = '{"a":1,"b":2}\n';
    expect(taken(kernel, plain)).toBe(1);
    for (const line of [
      '{"a":1}',
      '{"a":1,"b":2,"c":3}',
      '{"b":2,"a":1}',
      '{"a":1,"bb":2}',
      '{"a":{"k":1},"b":2}',
      '{"a":[1],"b":2}',
      '{"a":"x\\"y","b":2}',
      '{"a":"é","b":2}',
      '{"a":1234567890123456,"b":2}',
      '{"a":1e23,"b":2}',
      '{"a":01,"b":2}',
      '{"a":1.,"b":2}',
      '{"a":-,"b":2}',
      '{"a":1x,"b":2}',
      '{"a":tru,"b":2}',
      '{"a":1,"b":2} x',
      '{"a":1,"b":2}\r\r',
      '',
      '  ',
      '[1,2]',
    ]) {
      expect(taken(kernel, `${plain}${line}\n${plain}`), line).toBe(1);
    }
    // A line cut by the end of the input is left too.
    expect(taken(kernel, `${plain}{"a":1,"b":2}`)).toBe(1);
  });

  it('takes exponents and 15 significant digits as the parser does, and checks the values of skipped keys', () => {
    const kernel = kernelFor(['a', 'b'], [false, true]);
    const numbers = ['1e5', '-2.5E-3', '123456789012345', '0.00000000000001', '1e22', '4.2e-21'];
    const text = numbers.map((n) => `{"a":${n},"b":${n}}\n`).join('');
    expect(taken(kernel, text)).toBe(numbers.length);
    expect(numbers.map((_, row) => kernel.numbers[row])).toEqual(numbers.map(Number));
    expect(taken(kernel, '{"a":1,"b":1}\n{"a":1,"b":1.}\n')).toBe(1);
    // Beyond the exact fast path (16 digits, a power of ten past 1e22) the parser converts.
    expect(taken(kernel, '{"a":1,"b":1}\n{"a":0.000000000000001,"b":1}\n')).toBe(1);
    expect(taken(kernel, '{"a":1,"b":1}\n{"a":4.2e-22,"b":1}\n')).toBe(1);
    expect(taken(kernel, '{"a":1,"b":{"x":1}}\n')).toBe(0);
  });

  it('leaves lines longer than the limit to the parser', () => {
    const kernel = kernelFor(['a'], [], 12);
    expect(taken(kernel, '{"a":"1234"}\n{"a":"12345"}\n')).toBe(1);
    expect(taken(kernel, '{"a":"123"}\r\n')).toBe(1);
  });
});

/** A sink that takes repeated text by label, in bulk, and stores numbers in a batch, as the profiler does. */
class BatchSink extends RecordingSink {
  readonly ids = new Map<string, number>();
  readonly texts: string[] = [];
  private readonly lastText: number[] = [];
  private readonly counts = new Map<string, number>();
  readonly numberBatch = {
    row: 0,
    size: 16,
    values: [] as (Float64Array | null)[],
    plain: [] as (Uint8Array | null)[],
  };
  override column(name: string): number {
    const index = super.column(name);
    // Every other column's numbers in the batch; of those, every other one's plainly written ones marked.
    this.numberBatch.values.push(index % 2 === 0 ? new Float64Array(16).fill(Number.NaN) : null);
    this.numberBatch.plain.push(index % 4 === 0 ? new Uint8Array(16) : null);
    return index;
  }
  override bytes(column: number, buf: Uint8Array, start: number, end: number): void {
    const text = new TextDecoder().decode(buf.subarray(start, end));
    if (text === 'NA') {
      this.lastText[column] = MISSING_TEXT;
      return;
    }
    if (!this.ids.has(text)) {
      this.ids.set(text, this.texts.length);
      this.texts.push(text);
    }
    this.lastText[column] = this.ids.get(text)!;
    this.value(column, text);
  }
  /** A number of a batch column goes to the batch, as the profiler's addNumber does. */
  override value(column: number, value: CellValue): void {
    const stored = this.numberBatch.values[column];
    if (typeof value === 'number' && stored) stored[this.numberBatch.row] = value;
    else super.value(column, value);
  }
  lastTextLabel(column: number): number {
    const label = this.lastText[column] ?? -1;
    this.lastText[column] = -1;
    return label;
  }
  textLabel(column: number, label: number): void {
    this.value(column, this.texts[label]!);
  }
  readonly textLabelCounts = (column: number, label: number, count: number) => {
    const key = `${this.columns[column]}=${this.texts[label]}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + count);
  };
  override endRow(): void {
    const batch = this.numberBatch;
    batch.values.forEach((stored, column) => {
      const value = stored?.[batch.row];
      if (value !== undefined && !Number.isNaN(value)) {
        this.value(column, batch.plain[column]?.[batch.row] ? `plain ${value}` : value);
        stored![batch.row] = Number.NaN;
      }
      if (batch.plain[column]) batch.plain[column]![batch.row] = 0;
    });
    super.endRow();
    if (++batch.row === batch.size) batch.row = 0;
  }
  /** Every row's values, and how often each text came (one by one or counted). */
  summary() {
    const counts = new Map(this.counts);
    for (const row of this.rows) {
      for (const [key, value] of Object.entries(row)) {
        if (typeof value !== 'string' || value.startsWith('plain')) continue;
        counts.set(`${key}=${value}`, (counts.get(`${key}=${value}`) ?? 0) + 1);
      }
    }
    const rows = this.rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).filter(([, value]) => typeof value !== 'string' || value.startsWith('plain')),
      ),
    );
    return { rows, counts: Object.fromEntries([...counts].sort()) };
  }
}

function parseWith(bytes: Uint8Array, sink: RecordingSink, cuts: number[], kernel: boolean) {
  const parser = new JsonlParser(sink, { name: 't.jsonl', kernel });
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    parser.push(bytes.slice(start, cut));
    start = cut;
  }
  parser.finish();
  return parser.rows;
}

function errorOf(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('JsonlParser: lines read by the WebAssembly kernel', () => {
  const value = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer({ min: -1000, max: 1000 }),
    fc.constantFrom(0.5, 2.0, -0, 1e21, Number('12345678901234567')),
    fc.constantFrom('red', 'green', 'NA', '', '12', 'x"y', 'é'),
    fc.boolean(),
    fc.constant(null),
  );

  it('gives the same rows, values and text counts as the parser alone', () => {
    const input = fc.record({
      rows: fc.array(fc.tuple(value, value, value, value, value), { minLength: 1, maxLength: 80 }),
      // Some lines with their keys in another order, or one left out.
      odd: fc.uniqueArray(fc.nat(), { maxLength: 4 }),
      lineEnd: fc.constantFrom('\n', '\r\n'),
      cutSeeds: fc.uniqueArray(fc.nat(), { maxLength: 6 }),
    });
    const keys = ['a', 'b', 'c', 'd', 'e'];
    fc.assert(
      fc.property(input, ({ rows, odd, lineEnd, cutSeeds }) => {
        const lines = rows.map((row, i) => {
          const entries = keys.map((key, k) => [key, row[k]] as const);
          if (odd.some((seed) => seed % rows.length === i)) entries.reverse().pop();
          return JSON.stringify(Object.fromEntries(entries));
        });
        const bytes = encoder.encode(lines.join(lineEnd) + lineEnd);
        const cuts = [...new Set(cutSeeds.map((seed) => seed % (bytes.length + 1)))].sort((x, y) => x - y);
        const plain = [new RecordingSink(), new RecordingSink()];
        parseWith(bytes, plain[0]!, cuts, true);
        parseWith(bytes, plain[1]!, cuts, false);
        expect(plain[0]!.rows).toEqual(plain[1]!.rows);
        expect(plain[0]!.rows).toEqual(lines.map((line) => JSON.parse(line)));
        const batched = [new BatchSink(), new BatchSink()];
        expect(parseWith(bytes, batched[0]!, cuts, true)).toBe(rows.length);
        parseWith(bytes, batched[1]!, cuts, false);
        expect(batched[0]!.summary()).toEqual(batched[1]!.summary());
      }),
      { numRuns: 300 },
    );
  });

  it('reads long runs in the kernel, and gives errors after them the lines and keys the parser gives', () => {
    const lines = Array.from(
      { length: 700 },
      (_, i) => `{"n":${i * 0.25},"t":"t${i % 5}","b":${i % 2 === 0}}`,
    );
    const text = `${lines.join('\n')}\n`;
    const scans = vi.spyOn(JsonlLinesKernel.prototype, 'scan');
    const sinks = [new BatchSink(), new BatchSink()];
    parseWith(encoder.encode(text), sinks[0]!, [], true);
    parseWith(encoder.encode(text), sinks[1]!, [], false);
    expect(sinks[0]!.summary()).toEqual(sinks[1]!.summary());
    // The first line is the parser's (it declares the keys), then 256 lines a call.
    expect(scans).toHaveBeenCalledTimes(3);
    scans.mockRestore();
    for (const bad of [
      '{"n":1,"t":{"x":1},"b":true}',
      '{"n":1,"t":"x","t":"y"}',
      '{"n":1.,"t":"x","b":true}',
      '{"n":1,"t":"\xff","b":true}',
      '{"n":1,"t":"x","b":true',
    ]) {
      const bytes = encoder.encode(`${text}${bad}\n${text}`);
      if (bad.includes('\xff')) bytes[text.length + bad.indexOf('\xff') + 1] = 0xff;
      const errors = [true, false].map((kernel) =>
        errorOf(() => parseWith(bytes, new RecordingSink(), [], kernel)),
      );
      expect(errors[0]!.message, bad).toBe(errors[1]!.message);
      expect(errors[0]!.location.line).toBe(701);
    }
    // A sink's error on a line the kernel read names its line and key.
    const failing = new RecordingSink((column, value) => column === 't' && value === 't3');
    expect(errorOf(() => parseWith(encoder.encode(text), failing, [], true)).message).toBe(
      't.jsonl: line 4 ("t"): the value is not acceptable',
    );
  });
});
