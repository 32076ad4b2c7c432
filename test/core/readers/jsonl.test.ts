import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError, LimitExceededError } from '../../../lambdas/core/errors.ts';
import { firstInvalidUtf8, JsonlParser } from '../../../lambdas/core/readers/jsonl.ts';
import { RecordingSink } from '../../helpers/recording-sink.ts';

const encoder = new TextEncoder();

function parse(
  input: string | Uint8Array,
  options: { cuts?: number[]; sink?: RecordingSink; maxLineBytes?: number } = {},
): RecordingSink {
  const bytes = typeof input === 'string' ? encoder.encode(input) : input;
  const sink = options.sink ?? new RecordingSink();
  const parser = new JsonlParser(sink, { name: 't.jsonl', maxLineBytes: options.maxLineBytes });
  let start = 0;
  for (const cut of [...(options.cuts ?? []), bytes.length]) {
    parser.push(bytes.slice(start, cut));
    start = cut;
  }
  parser.finish();
  expect(parser.rows).toBe(sink.rows.length);
  return sink;
}

function parseError(
  input: string | Uint8Array,
  options: { cuts?: number[]; sink?: RecordingSink; maxLineBytes?: number } = {},
): InputError {
  try {
    parse(input, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('JsonlParser', () => {
  it('declares keys on first sight and passes typed values', () => {
    const sink = parse('{"a":1,"b":"x"}\n{"b":"y","c":true}\n{"a":null,"c":false,"d":-2.5e3}\n');
    expect(sink.columns).toEqual(['a', 'b', 'c', 'd']);
    expect(sink.rows).toEqual([
      { a: 1, b: 'x' },
      { b: 'y', c: true },
      { a: null, c: false, d: -2500 },
    ]);
  });

  it('rejects nested objects and arrays naming the line and key, and passes over those of ignored keys', () => {
    expect(parseError('{"a":1}\n{"a":2,"o":{"k":[1,2]}}\n').message).toBe(
      't.jsonl: line 2 ("o"): the value is a nested object; driftwatch reads flat records, so exclude the key (--exclude)',
    );
    expect(parseError('{"l":[]}\n').reason).toMatch(/^the value is a nested array/);
    const sink = new RecordingSink();
    sink.ignores = (column) => sink.columns[column] !== 's';
    parse('{"o":{"k":[1,"]}"]},"l":[],"s":"NA"}\n', { sink });
    expect(sink.rows).toEqual([{ s: 'NA' }]);
  });

  it('passes over numbers of ignored keys, still checking them', () => {
    const ignoring = () => {
      const sink = new RecordingSink();
      sink.ignores = (column) => sink.columns[column] !== 's';
      return sink;
    };
    const sink = parse('{"n":-12.5e+3,"s":"x","m":0,"e":1E-2}\n', { sink: ignoring() });
    expect(sink.rows).toEqual([{ s: 'x' }]);
    for (const bad of ['01', '1.', '1e', '-', '1.e5']) {
      expect(parseError(`{"n":${bad},"s":"x"}\n`, { sink: ignoring() }).reason).toMatch(
        /^invalid JSON: expected/,
      );
    }
  });

  it('reads keys in any order, missing keys, exponents and escapes', () => {
    const sink = parse(
      '{"a":1,"b":"x","c":2}\n{"c":3,"a":-1.5e2}\n{"b":"\\u00e9\\n","a":1E-3,"c":0.1}\n{"a":12345678901234567890e0,"c":5e-324}\n',
    );
    expect(sink.columns).toEqual(['a', 'b', 'c']);
    expect(sink.rows).toEqual([
      { a: 1, b: 'x', c: 2 },
      { c: 3, a: -150 },
      { b: 'é\n', a: 0.001, c: 0.1 },
      { a: 1.2345678901234567e19, c: 5e-324 },
    ]);
  });

  it('rejects a key given twice in one object', () => {
    expect(parseError('{"a":1,"a":2}\n').message).toBe(
      't.jsonl: line 1 ("a"): the key appears twice in the object',
    );
  });

  it('accepts CRLF, a BOM, blank and blank-looking lines, and a missing final line break', () => {
    const sink = parse('\ufeff{"a":1}\r\n\r\n  \n\t\r\n{"a":2}\n\n{"a":3}');
    expect(sink.table()).toEqual([[1], [2], [3]]);
  });

  it('keeps a key named __proto__ as a column', () => {
    const sink = parse('{"__proto__":1,"x":2}\n');
    expect(sink.columns).toEqual(['__proto__', 'x']);
  });

  it('gives the same result at every chunk boundary', () => {
    const text = '\ufeff{"id":1,"név":"é😀","n":"x\\ny"}\r\n\n{"id":2,"extra":null}\n{"id":3}';
    const bytes = encoder.encode(text);
    const expected = parse(bytes).rows;
    expect(expected).toEqual([{ id: 1, név: 'é😀', n: 'x\ny' }, { id: 2, extra: null }, { id: 3 }]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(parse(bytes, { cuts: [cut] }).rows, `cut at ${cut}`).toEqual(expected);
    }
    const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
    expect(parse(bytes, { cuts: everyByte }).rows).toEqual(expected);
  });

  it('parses back any list of flat objects, cut into chunks anywhere', () => {
    const scalar = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
    );
    const record = fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), scalar, { maxKeys: 4 });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 10 }), fc.array(fc.nat()), (records, seeds) => {
        const bytes = encoder.encode(records.map((r) => JSON.stringify(r)).join('\n'));
        const cuts = [...new Set(seeds.map((seed) => seed % (bytes.length + 1)))].sort((x, y) => x - y);
        const sink = parse(bytes, { cuts });
        // The expected rows go through JSON as well, which turns -0 into 0.
        expect(sink.rows.map((row) => ({ ...row }))).toEqual(
          records.map((r) => JSON.parse(JSON.stringify(r))),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('JsonlParser: errors', () => {
  it('names the line of malformed JSON without quoting the data', () => {
    const error = parseError('{"a":1}\n\n{"a": secret}\n');
    expect(error.message).toBe(
      't.jsonl: line 3: invalid JSON: expected a value at byte 7 of the line, found another character',
    );
    expect(error.location).toEqual({ file: 't.jsonl', line: 3 });
    expect(error.message).not.toContain('secret');
    expect(parseError('{"a":1').reason).toMatch(/^invalid JSON/);
  });

  it('requires an object on every line', () => {
    expect(parseError('{"a":1}\n[1,2]\n').message).toBe(
      't.jsonl: line 2: expected a JSON object (one per line), found an array',
    );
    expect(parseError('3\n').reason).toMatch(/found a number$/);
    expect(parseError('"x"\n').reason).toMatch(/found a string$/);
    expect(parseError('null\n').reason).toMatch(/found null$/);
  });

  it('rejects bytes that are not UTF-8, naming the line and the byte', () => {
    const bytes = new Uint8Array([
      ...encoder.encode('{"a":1}\n{"a":"x'),
      0xc3,
      0x28,
      ...encoder.encode('"}\n'),
    ]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(parseError(bytes, { cuts: [cut] }).message).toBe(
        't.jsonl: line 2: the line is not valid UTF-8 (byte 8 of the line)',
      );
    }
  });

  it('finds the first invalid UTF-8 byte', () => {
    const at = (bytes: number[]) => firstInvalidUtf8(new Uint8Array(bytes), 0, bytes.length);
    expect(at([0x61, 0xc3, 0xa9, 0x62])).toBe(4);
    expect(at([0x61, 0xe2, 0x82])).toBe(1); // truncated
    expect(at([0xc0, 0x80])).toBe(0); // overlong
    expect(at([0xed, 0xa0, 0x80])).toBe(0); // surrogate
    expect(at([0xf4, 0x90, 0x80, 0x80])).toBe(0); // past U+10FFFF
    expect(at([0xf0, 0x9f, 0x98, 0x80, 0xff])).toBe(4);
  });

  it('rejects a line longer than the limit, within a chunk or across chunks', () => {
    const line = `{"a":"${'x'.repeat(200)}"}`;
    const text = `{"a":1}\n${line}\n`;
    for (const cuts of [[], [20], [20, 100, 150]]) {
      const error = parseError(text, { cuts, maxLineBytes: 100 });
      expect(error).toBeInstanceOf(LimitExceededError);
      expect(error.message).toBe('t.jsonl: line 2: the line is longer than the limit of 100 bytes');
    }
    expect(parse(text, { maxLineBytes: line.length + 1 }).rows).toHaveLength(2);
  });

  it("places a sink's ValueError at the line and key", () => {
    const sink = new RecordingSink((column, value) => column === 'b' && value === 'bad');
    const error = parseError('{"b":"ok"}\n{"a":1,"b":"bad"}\n', { sink });
    expect(error.message).toBe('t.jsonl: line 2 ("b"): the value is not acceptable');
  });

  it('rejects an input without objects', () => {
    expect(parseError('').message).toBe('t.jsonl: the file is empty: JSON Lines needs at least one object');
    expect(parseError('\n \r\n').reason).toMatch(/^the file is empty/);
  });
});
