import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { parseNumberBytes } from '../../../lambdas/core/drift/values.ts';
import { InputError, LimitExceededError } from '../../../lambdas/core/errors.ts';
import { CsvParser } from '../../../lambdas/core/readers/csv.ts';
import { CsvLinesKernel } from '../../../lambdas/core/readers/csv-kernel.ts';
import { MISSING_TEXT } from '../../../lambdas/core/readers/types.ts';
import { RecordingSink } from '../../helpers/recording-sink.ts';

const encoder = new TextEncoder();

/** Parses `bytes` pushed as the given chunks (cut at `cuts`, sorted offsets) and returns the sink. */
function parse(
  input: string | Uint8Array,
  options: {
    cuts?: number[];
    delimiter?: string;
    sink?: RecordingSink;
    maxFieldBytes?: number;
    kernel?: boolean;
  } = {},
): RecordingSink {
  const bytes = typeof input === 'string' ? encoder.encode(input) : input;
  const sink = options.sink ?? new RecordingSink();
  const parser = new CsvParser(sink, {
    name: 't.csv',
    delimiter: options.delimiter,
    maxFieldBytes: options.maxFieldBytes,
    kernel: options.kernel,
  });
  let start = 0;
  for (const cut of [...(options.cuts ?? []), bytes.length]) {
    // A fresh copy per chunk: the parser must not keep references into a chunk after `push` returns.
    parser.push(bytes.slice(start, cut));
    start = cut;
  }
  parser.finish();
  expect(parser.rows).toBe(sink.rows.length);
  return sink;
}

function parseError(
  input: string | Uint8Array,
  options: { cuts?: number[]; sink?: RecordingSink; kernel?: boolean } = {},
): InputError {
  try {
    parse(input, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('CsvParser: RFC 4180', () => {
  it('reads a header and rows of plain fields', () => {
    const sink = parse('a,b,c\n1,2,3\n4,,6\n');
    expect(sink.columns).toEqual(['a', 'b', 'c']);
    expect(sink.table()).toEqual([
      ['1', '2', '3'],
      ['4', '', '6'],
    ]);
  });

  it('reads quoted fields with delimiters, doubled quotes and line breaks', () => {
    const sink = parse('name,note\n"Smith, J","said ""hi"""\n"multi\nline","a\r\nb"\n"",x\n');
    expect(sink.table()).toEqual([
      ['Smith, J', 'said "hi"'],
      ['multi\nline', 'a\r\nb'],
      ['', 'x'],
    ]);
  });

  it('accepts CRLF, a lone CR, a missing final line break and a trailing empty field', () => {
    expect(parse('a,b\r\n1,2\r\n3,4').table()).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(parse('a,b\r1,2\r').table()).toEqual([['1', '2']]);
    expect(parse('a,b\n1,').table()).toEqual([['1', '']]);
    expect(parse('a,b\n1,"x"').table()).toEqual([['1', 'x']]);
  });

  it('drops a leading UTF-8 BOM but keeps other non-ASCII text', () => {
    const sink = parse('\ufeffcité,b\nété,😀\n');
    expect(sink.columns).toEqual(['cité', 'b']);
    expect(sink.table()).toEqual([['été', '😀']]);
  });

  it('skips blank lines but keeps a row holding one empty quoted field', () => {
    expect(parse('a\n\n1\n\r\n\n2\n\n').table()).toEqual([['1'], ['2']]);
    expect(parse('a\n""\n1\n').table()).toEqual([[''], ['1']]);
  });

  it('keeps a quote inside an unquoted field as a character', () => {
    expect(parse('a,b\n5" disk,x\n').table()).toEqual([['5" disk', 'x']]);
  });

  it('uses another delimiter when asked', () => {
    expect(parse('a\tb\n1,5\t"x\ty"\n', { delimiter: '\t' }).table()).toEqual([['1,5', 'x\ty']]);
  });

  it('gives the same result whatever the chunk boundaries, including single bytes', () => {
    const text = '\ufeffid,"na""me",note\r\n1,"a,b","x\r\ny"\r\n\r\n2,é😀,""""\n3,,"last"';
    const bytes = encoder.encode(text);
    const expected = parse(bytes).table();
    expect(expected).toEqual([
      ['1', 'a,b', 'x\r\ny'],
      ['2', 'é😀', '"'],
      ['3', '', 'last'],
    ]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(parse(bytes, { cuts: [cut] }).table(), `cut at ${cut}`).toEqual(expected);
    }
    const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
    expect(parse(bytes, { cuts: everyByte }).table()).toEqual(expected);
  });
});

/** Serialises a table as RFC 4180 CSV: fields quoted when they need it, or when `quoteAll`. */
function toCsv(
  header: string[],
  rows: string[][],
  lineEnd: string,
  quoteAll: boolean,
  finalBreak: boolean,
): string {
  const field = (value: string) =>
    quoteAll || /[",\r\n]/.test(value) || (value === '' && header.length === 1)
      ? `"${value.replaceAll('"', '""')}"`
      : value;
  const lines = [header, ...rows].map((row) => row.map(field).join(','));
  return lines.join(lineEnd) + (finalBreak ? lineEnd : '');
}

describe('CsvParser: property', () => {
  const cell = fc.string({
    unit: fc.constantFrom('a', 'Z', '0', ' ', ',', '"', '\n', '\r', 'é', '😀', '\t', "'"),
    maxLength: 8,
  });

  const nameChar = fc.constantFrom('a', 'b', ' ', ',', '"', '\n', 'é');

  it('parses back any table serialised with quoting, cut into chunks anywhere', () => {
    const table = fc.integer({ min: 1, max: 5 }).chain((width) =>
      fc.record({
        header: fc.uniqueArray(fc.string({ unit: nameChar, minLength: 1, maxLength: 4 }), {
          minLength: width,
          maxLength: width,
        }),
        rows: fc.array(fc.array(cell, { minLength: width, maxLength: width }), {
          minLength: 1,
          maxLength: 12,
        }),
        lineEnd: fc.constantFrom('\n', '\r\n'),
        quoteAll: fc.boolean(),
        finalBreak: fc.boolean(),
        bom: fc.boolean(),
        cutSeeds: fc.uniqueArray(fc.nat(), { maxLength: 12 }),
      }),
    );
    fc.assert(
      fc.property(table, ({ header, rows, lineEnd, quoteAll, finalBreak, bom, cutSeeds }) => {
        const text = (bom ? '\ufeff' : '') + toCsv(header, rows, lineEnd, quoteAll, finalBreak);
        const bytes = encoder.encode(text);
        const cuts = [...new Set(cutSeeds.map((seed) => seed % (bytes.length + 1)))].sort((x, y) => x - y);
        const sink = parse(bytes, { cuts });
        expect(sink.columns).toEqual(header);
        expect(sink.table()).toEqual(rows);
      }),
      { numRuns: 500 },
    );
  });
});

describe('CsvParser: errors', () => {
  it('names the line and column of a row with too few or too many fields', () => {
    const few = parseError('a,b,c\n1,2,3\n4,5\n');
    // A short row is reported at its first missing column.
    expect(few.message).toBe('t.csv: line 3, column 3 ("c"): expected 3 fields, found 2');
    expect(few.location).toMatchObject({ line: 3, column: 3 });
    const many = parseError('a,b\n1,2\n3,"4\n",5\n');
    expect(many.location).toMatchObject({ file: 't.csv', line: 4, column: 3 });
    expect(many.reason).toBe('expected 2 fields, found 3');
  });

  it('reports an unterminated quote at the line where the field starts', () => {
    const error = parseError('a,b\n1,2\n3,"open\nmore\nstill\n');
    expect(error.location).toMatchObject({ line: 3, column: 2, field: 'b' });
    expect(error.reason).toMatch(/unterminated quoted field/);
  });

  it('rejects text after a closing quote', () => {
    const error = parseError('a,b\n"x"y,2\n');
    expect(error.location).toMatchObject({ line: 2, column: 1, field: 'a' });
    expect(error.reason).toMatch(/unexpected character "y" after the closing quote/);
  });

  it('rejects bytes that are not UTF-8, naming the line and column, at any chunk boundary', () => {
    const bytes = new Uint8Array([...encoder.encode('a,b\n1,x'), 0xe9, ...encoder.encode('t\n')]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const error = parseError(bytes, { cuts: [cut] });
      expect(error.message).toBe('t.csv: line 2, column 2 ("b"): the field is not valid UTF-8');
    }
    expect(parseError(new Uint8Array([0x61, 0xff, 0x0a, 0x31, 0x0a])).location).toMatchObject({
      line: 1,
      column: 1,
    });
  });

  it('rejects an empty file, a header without rows, and bad header names', () => {
    expect(parseError('').message).toBe('t.csv: the file is empty: a header row is required');
    expect(parseError('\n\r\n').reason).toMatch(/^the file is empty/);
    expect(parseError('a,b\n').reason).toBe('the file has a header but no data rows');
    expect(parseError('a,,b\n1,2,3\n').location).toMatchObject({ line: 1, column: 2 });
    expect(parseError('a,b,a\n1,2,3\n').message).toMatch(/line 1, column 3 \("a"\): duplicate column name/);
  });

  it('stops a field that grows past the limit', () => {
    const text = `a\n"${'x'.repeat(300_000)}`;
    const cuts = [100_000, 200_000];
    expect(() => parse(text, { cuts, maxFieldBytes: 150_000 })).toThrow(LimitExceededError);
    expect(() => parse(text, { cuts, maxFieldBytes: 150_000 })).toThrow(
      /line 2, column 1 \("a"\): the field is longer/,
    );
  });

  it("places a sink's ValueError at the line and column of the value", () => {
    const sink = new RecordingSink((column, value) => column === 'b' && value === 'bad');
    const error = parseError('a,b\n1,ok\n2,"multi\nline"\n3,bad\n', { sink });
    expect(error.message).toBe('t.csv: line 5, column 2 ("b"): the value is not acceptable');
  });
});

/** Records how each field arrived: parsed by a fast path (with its value) or as bytes. */
class NumberSink extends RecordingSink {
  readonly parsed: { text: string; value: number }[] = [];
  number(column: number, value: number, buf: Uint8Array, start: number, end: number): void {
    const text = new TextDecoder().decode(buf.subarray(start, end));
    this.parsed.push({ text, value });
    this.value(column, text);
  }
}

describe('CsvParser: number fast path', () => {
  const numberish = fc.string({
    unit: fc.constantFrom('0', '1', '5', '9', '-', '+', '.', 'e', ' ', 'x'),
    maxLength: 30,
  });

  it('gives every field the value parseNumberBytes gives its text, and the same rows as without it', () => {
    const table = fc.record({
      rows: fc.array(fc.array(numberish, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 10 }),
      cutSeeds: fc.uniqueArray(fc.nat(), { maxLength: 8 }),
    });
    fc.assert(
      fc.property(table, ({ rows, cutSeeds }) => {
        const bytes = encoder.encode(toCsv(['a', 'b', 'c'], rows, '\n', false, true));
        const cuts = [...new Set(cutSeeds.map((seed) => seed % (bytes.length + 1)))].sort((x, y) => x - y);
        const sink = new NumberSink();
        parse(bytes, { cuts, sink });
        expect(sink.table()).toEqual(rows);
        for (const { text, value } of sink.parsed) {
          const raw = encoder.encode(text);
          expect(Object.is(value, parseNumberBytes(raw, 0, raw.length)), text).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('takes plain decimals, and leaves signs, exponents, blanks and long digit strings to the sink', () => {
    const sink = new NumberSink();
    const fast = ['0', '-0', '12.5', '-3.25', '.5', '7.', '9007199254740991', '0.1234567890123456'];
    const slow = ['+1', '1e5', ' 2', '9007199254740993', '0.12345678901234567890123', '-', '.', '1.2.3'];
    parse(`a\n${[...fast, ...slow].join('\n')}\n`, { sink });
    expect(sink.parsed.map((entry) => entry.text)).toEqual(fast);
    expect(Object.is(sink.parsed[1]!.value, -0)).toBe(true);
    expect(sink.parsed.map((entry) => entry.value)).toEqual(fast.map(Number));
  });
});

/** A sink that takes repeated text by label: every text field is a category numbered in order of arrival. */
class LabelSink extends NumberSink {
  readonly ids = new Map<string, number>();
  readonly texts: string[] = [];
  readonly byLabel: { column: number; label: number }[] = [];
  private last = -1;
  override bytes(column: number, buf: Uint8Array, start: number, end: number): void {
    const text = new TextDecoder().decode(buf.subarray(start, end));
    if (!this.ids.has(text)) {
      this.ids.set(text, this.texts.length);
      this.texts.push(text);
    }
    this.last = this.ids.get(text)!;
    this.value(column, text);
  }
  lastTextLabel(): number {
    const label = this.last;
    this.last = -1;
    return label;
  }
  textLabel(column: number, label: number): void {
    this.byLabel.push({ column, label });
    this.value(column, this.texts[label]!);
  }
}

describe('CsvParser: plain lines read by the WebAssembly kernel', () => {
  const cell = fc.oneof(
    fc.string({ unit: fc.constantFrom('0', '1', '7', '-', '.', 'a', ' '), maxLength: 6 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
    fc.integer().map(String),
    fc.string({ unit: fc.constantFrom('a', '"', '\r', 'é', ','), maxLength: 3 }),
  );

  it('gives the same fields, numbers, rows and row count as the state machine alone', () => {
    const table = fc.record({
      rows: fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 40 }),
      lineEnd: fc.constantFrom('\n', '\n', '\r\n'),
      blankLines: fc.uniqueArray(fc.nat(), { maxLength: 3 }),
      cutSeeds: fc.uniqueArray(fc.nat(), { maxLength: 8 }),
    });
    fc.assert(
      fc.property(table, ({ rows, lineEnd, blankLines, cutSeeds }) => {
        const lines = toCsv(['a', 'b', 'c'], rows, lineEnd, false, true).split(lineEnd);
        for (const at of blankLines) lines.splice(1 + (at % lines.length), 0, '');
        const bytes = encoder.encode(lines.join(lineEnd));
        const cuts = [...new Set(cutSeeds.map((seed) => seed % (bytes.length + 1)))].sort((x, y) => x - y);
        const withKernel = parse(bytes, { cuts, sink: new NumberSink() }) as NumberSink;
        const without = parse(bytes, { cuts, sink: new NumberSink(), kernel: false }) as NumberSink;
        expect(withKernel.table()).toEqual(without.table());
        // Text known by label: the same table, whichever fields came by label.
        expect(parse(bytes, { cuts, sink: new LabelSink() }).table()).toEqual(rows);
        expect(withKernel.table()).toEqual(rows);
        expect(withKernel.parsed.length).toBe(without.parsed.length);
        withKernel.parsed.forEach((entry, i) => {
          expect(entry.text).toBe(without.parsed[i]!.text);
          expect(Object.is(entry.value, without.parsed[i]!.value), entry.text).toBe(true);
        });
      }),
      { numRuns: 400 },
    );
  });

  it('reads runs longer than one call of the kernel, and gives errors the lines the state machine gives', () => {
    const plain = Array.from({ length: 700 }, (_, i) => `${i},${i * 0.25},t${i % 5}`);
    const text = `a,b,c\n${plain.join('\n')}\n"q",1,2\n${plain.join('\n')}\n`;
    const scans = vi.spyOn(CsvLinesKernel.prototype, 'scan');
    const both = [
      parse(text, { sink: new NumberSink() }),
      parse(text, { sink: new NumberSink(), kernel: false }),
    ];
    expect(both[0]!.table()).toEqual(both[1]!.table());
    expect(both[0]!.rows).toHaveLength(1401);
    // 256 lines a call: 3 calls per run of 700 lines, and one that stops at the quoted line.
    expect(scans).toHaveBeenCalledTimes(7);
    scans.mockRestore();
    // A short row, a long row and bad UTF-8 after a run of plain lines.
    for (const bad of ['1,2', '1,2,3,4', '1,\xff,3']) {
      const bytes = encoder.encode(`a,b,c\n${plain.join('\n')}\n${bad}\n`);
      if (bad.includes('\xff')) bytes[bytes.length - 4] = 0xff;
      const errors = [parseError(bytes), parseError(bytes, { kernel: false })];
      expect(errors[0]!.message).toBe(errors[1]!.message);
      expect(errors[0]!.location).toEqual(errors[1]!.location);
      expect(errors[0]!.location.line).toBe(702);
    }
  });

  it('hands repeated text over by label once the sink has named it, and only text', () => {
    const lines = Array.from(
      { length: 600 },
      (_, i) => `${['a', 'bb', '7'][i % 3]},${['x', '', 'NA', 'x y'][i % 4]}`,
    );
    const sink = parse(`p,q\n${lines.join('\n')}\n`, { sink: new LabelSink() }) as LabelSink;
    expect(sink.table()).toEqual(lines.map((line) => line.split(',')));
    // '7' is a number (never a label); text is known from the second scan of 256 lines on.
    expect(sink.byLabel.length).toBeGreaterThan(500);
    expect(sink.byLabel.every(({ label }) => sink.texts[label] !== '7')).toBe(true);
  });

  it('passes over the missing values the sink named, and hands over the rest as before', () => {
    /** A sink that takes 'NA' as missing: nothing is kept for it, and the reader is told. */
    class MissingSink extends LabelSink {
      missingCalls = 0;
      private missing = false;
      override bytes(column: number, buf: Uint8Array, start: number, end: number): void {
        this.missing = new TextDecoder().decode(buf.subarray(start, end)) === 'NA';
        if (this.missing) this.missingCalls++;
        else super.bytes(column, buf, start, end);
      }
      override lastTextLabel(): number {
        const missing = this.missing;
        this.missing = false;
        return missing ? MISSING_TEXT : super.lastTextLabel();
      }
    }
    const lines = Array.from({ length: 600 }, (_, i) => `${i},${['x', 'NA', '2.5', 'y'][i % 4]}`);
    const sink = parse(`p,q\n${lines.join('\n')}\n`, { sink: new MissingSink() }) as MissingSink;
    const expected = lines.map((line) => line.split(',').filter((field) => field !== 'NA'));
    expect(sink.table().map((row) => row.filter((field) => field !== undefined))).toEqual(expected);
    // The first scan of 256 lines meets 64 of the 150: later scans know them.
    expect(sink.missingCalls).toBe(64);
  });

  it("places a sink's error inside a plain line at its line and column", () => {
    const text = `a,b\n${Array.from({ length: 300 }, (_, i) => `${i},x`).join('\n')}\n7,bad\n`;
    const error = parseError(text, { sink: new RecordingSink((_, value) => value === 'bad') });
    expect(error.location).toMatchObject({ line: 302, column: 2 });
  });
});
