import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SAMPLE_CAP,
  defaultSampleCap,
  resolveColumnOptions,
} from '../../../lambdas/core/drift/options.ts';
import { TableAccumulator } from '../../../lambdas/core/drift/table-accumulator.ts';
import { ValueError } from '../../../lambdas/core/errors.ts';
import { CsvParser } from '../../../lambdas/core/readers/csv.ts';

const encoder = new TextEncoder();

/** Feeds rows of text fields through the byte path, as the CSV reader does. */
function feed(sink: TableAccumulator, header: string[], rows: string[][]): void {
  const indexes = header.map((name) => sink.column(name));
  for (const row of rows) {
    row.forEach((field, i) => {
      const bytes = encoder.encode(`"${field}"`);
      sink.bytes(indexes[i]!, bytes, 1, bytes.length - 1);
    });
    sink.endRow();
  }
}

describe('TableAccumulator', () => {
  it('samples a column first seen after some rows within each segment too (a JSON Lines key)', () => {
    const sink = new TableAccumulator(resolveColumnOptions({ segment: 'region' }), { name: 't.jsonl' });
    const region = sink.column('region');
    const x = sink.column('x');
    let late = -1;
    for (let row = 0; row < 6; row++) {
      sink.value(region, row % 2 === 0 ? 'north' : 'south');
      sink.value(x, row);
      // Both segments have rows before the key first appears.
      if (row === 3) late = sink.column('late');
      if (row >= 3) sink.value(late, row * 10);
      sink.endRow();
    }
    const profile = sink.finish({ format: 'jsonl' });
    const sample = (value: string) =>
      profile.segments.find((segment) => segment.value === value)!.features.get('late')!.sample;
    expect([...sample('north')]).toEqual([40]);
    expect([...sample('south')]).toEqual([30, 50]);
  });

  it('keeps its labels when the reader reuses one buffer for every chunk', () => {
    const sink = new TableAccumulator(resolveColumnOptions({}), { name: 't.csv' });
    const parser = new CsvParser(sink, { name: 't.csv' });
    const text = `tier,n\n${Array.from({ length: 400 }, (_, i) => `${['low', 'mid', 'high'][i % 3]},${i % 7}`).join('\n')}\n`;
    const bytes = encoder.encode(text);
    const chunk = Buffer.alloc(64);
    for (let at = 0; at < bytes.length; at += chunk.length) {
      const part = bytes.subarray(at, at + chunk.length);
      chunk.set(part);
      parser.push(chunk.subarray(0, part.length));
      // The caller may overwrite the chunk once push returns.
      chunk.fill(0x7a);
    }
    parser.finish();
    const profile = sink.finish({ format: 'csv' });
    expect(Object.fromEntries(profile.whole.get('tier')!.categories!)).toEqual({
      low: 134,
      mid: 133,
      high: 133,
    });
    expect(profile.whole.get('n')!.categories!.size).toBe(7);
  });

  it('counts missing values, infers types and keeps every value below the cap', () => {
    const sink = new TableAccumulator(resolveColumnOptions({}), { name: 't.csv' });
    feed(
      sink,
      ['x', 'c', 'mixed'],
      [
        ['1.5', 'a', '1'],
        ['NA', 'b', 'x'],
        ['', 'a', '2'],
        ['-2', 'None', '1'],
      ],
    );
    const profile = sink.finish({ format: 'csv' });
    expect(profile.rows).toBe(4);
    const x = profile.whole.get('x')!;
    expect([x.present, x.missing, x.textCount]).toEqual([2, 2, 0]);
    expect([...x.sample]).toEqual([-2, 1.5]);
    expect([x.min, x.max, x.mean]).toEqual([-2, 1.5, -0.25]);
    const c = profile.whole.get('c')!;
    expect([...c.categories!]).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(c.missing).toBe(1);
    const mixed = profile.whole.get('mixed')!;
    expect(mixed.textCount).toBe(1);
    expect(new Map(mixed.categories!)).toEqual(
      new Map([
        ['x', 1],
        ['1', 2],
        ['2', 1],
      ]),
    );
  });

  it('profiles each segment, skipping rows whose segment value is missing', () => {
    const sink = new TableAccumulator(resolveColumnOptions({ segment: 'tier' }), { name: 't.csv' });
    feed(
      sink,
      ['x', 'tier'],
      [
        ['1', 'prime'],
        ['2', 'sub'],
        ['3', 'prime'],
        ['4', ''],
      ],
    );
    const profile = sink.finish({});
    expect(profile.features).toEqual(['x']);
    expect(profile.segments.map((s) => [s.value, s.rows, [...s.features.get('x')!.sample]])).toEqual([
      ['prime', 2, [1, 3]],
      ['sub', 1, [2]],
    ]);
    expect(profile.whole.get('x')!.present).toBe(4);
  });

  it('keeps raw labels of declared categorical columns and skips excluded ones', () => {
    const sink = new TableAccumulator(resolveColumnOptions({ categorical: ['zip'], exclude: ['id'] }), {
      name: 't.csv',
    });
    feed(
      sink,
      ['id', 'zip'],
      [
        ['1', '02134'],
        ['2', '2134'],
        ['3', '02134'],
      ],
    );
    const profile = sink.finish({});
    expect(profile.features).toEqual(['zip']);
    expect([...profile.whole.get('zip')!.categories!]).toEqual([
      ['02134', 2],
      ['2134', 1],
    ]);
  });

  it('counts typed values from JSON Lines and Parquet the same way', () => {
    const sink = new TableAccumulator(resolveColumnOptions({}), { name: 't.jsonl' });
    const x = sink.column('x');
    const flag = sink.column('flag');
    for (const [a, b] of [
      [1, true],
      ['2.5', false],
      [null, true],
      [Number.NaN, null],
    ] as const) {
      sink.value(x, a);
      sink.value(flag, b);
      sink.endRow();
    }
    const late = sink.column('late');
    sink.value(late, 'v');
    sink.endRow();
    const profile = sink.finish({});
    expect([...profile.whole.get('x')!.sample]).toEqual([1, 2.5]);
    expect(profile.whole.get('x')!.missing).toBe(3);
    expect([...profile.whole.get('flag')!.categories!]).toEqual([
      ['true', 2],
      ['false', 1],
    ]);
    expect(profile.whole.get('late')!.missing).toBe(4);
  });

  it('rejects a schema that differs from the baseline, and text in a declared numeric column', () => {
    const current = new TableAccumulator(resolveColumnOptions({}), {
      name: 'cur.csv',
      expected: { columns: new Set(['x', 'y']), source: 'base.csv' },
    });
    expect(() => current.column('z')).toThrow(/column "z" is not in the baseline \(base\.csv\)/);
    current.column('x');
    expect(() => current.finish({})).toThrow(
      /cur\.csv \("y"\): column "y" of the baseline \(base\.csv\) is missing/,
    );

    const declared = new TableAccumulator(resolveColumnOptions({ numeric: ['x'] }), { name: 't.csv' });
    expect(() => feed(declared, ['x'], [['abc']])).toThrow(ValueError);
  });

  it('rejects identifier-like columns past the category limit', () => {
    const sink = new TableAccumulator(resolveColumnOptions({ maxCategories: 3 }), { name: 't.csv' });
    expect(() => feed(sink, ['id'], [['a'], ['b'], ['c'], ['d']])).toThrow(/more than 3 distinct values/);
  });

  it('bins the current side on the baseline edges as it streams', () => {
    const edges = Float64Array.from([1, 2]);
    const sink = new TableAccumulator(resolveColumnOptions({}), {
      name: 'cur.csv',
      edges: { whole: new Map([['x', edges]]), segments: new Map() },
    });
    feed(sink, ['x'], [['0'], ['1'], ['1.5'], ['2'], ['3'], ['9']]);
    expect([...sink.finish({}).whole.get('x')!.binCounts!]).toEqual([2, 2, 2]);
  });
});

describe('the default sample cap', () => {
  it('grows for narrow tables, so they stay exact longer', () => {
    const narrow = new TableAccumulator(resolveColumnOptions({}), { name: 'narrow.csv' });
    feed(narrow, ['a', 'b'], [['1', '2']]);
    expect(narrow.finish({}).options.sampleCap).toBe(defaultSampleCap(2));
    expect(defaultSampleCap(2)).toBe(2_500_000);
    const wide = new TableAccumulator(resolveColumnOptions({}), { name: 'wide.csv' });
    const header = Array.from({ length: 40 }, (_, i) => `c${i}`);
    feed(wide, header, [header.map(() => '1')]);
    expect(wide.finish({}).options.sampleCap).toBe(DEFAULT_SAMPLE_CAP);
  });

  it('is left alone when set', () => {
    const sink = new TableAccumulator(resolveColumnOptions({ sampleCap: 100_000 }), { name: 'set.csv' });
    feed(sink, ['a'], [['1']]);
    expect(sink.finish({}).options.sampleCap).toBe(100_000);
  });
});

describe('TableAccumulator: numbers stored in batches', () => {
  /**
   * Profiles CSV text through the reader in 1000-byte chunks. With a segment column every value is counted
   * one by one (at the end of its row), which is what the batches must agree with.
   */
  const profileOf = (
    text: string,
    kernel: boolean,
    sampleCap: number | null = 100_000,
    segment: string | null = null,
    columnShare?: { part: number; parts: number },
  ) => {
    // Below the option's minimum, to sample 5000 rows: the accumulator takes any cap (null: the default).
    const options =
      sampleCap === null
        ? resolveColumnOptions({ segment })
        : { ...resolveColumnOptions({ segment }), sampleCap, sampleCapIsDefault: false };
    // Bin edges, as on the current side of a drift run, so the exact bin counts are compared too.
    const edges = { whole: new Map([['x', Float64Array.from([100, 300.5, 600])]]), segments: new Map() };
    const sink = new TableAccumulator(options, {
      name: 't.csv',
      edges,
      ...(columnShare ? { columnShare } : {}),
    });
    const parser = new CsvParser(sink, { name: 't.csv', kernel });
    const bytes = encoder.encode(text);
    for (let at = 0; at < bytes.length; at += 1000) parser.push(bytes.subarray(at, at + 1000));
    parser.finish();
    return sink.finish({ format: 'csv' });
  };

  // 5000 rows: x has many distinct numbers (so it is stored in batches once its labels stop), some NA and
  // some in exponent form (the general path); y turns to text after 3000 rows; z is a small category.
  // n and m are small integers, so their text is counted as labels too: n written plainly, with a leading
  // zero or a sign; m turns to text at row 4000, a category whose labels include its numbers' text.
  const mixedTable = () => {
    const rows = Array.from({ length: 5000 }, (_, i) => {
      const x = i % 97 === 0 ? 'NA' : i % 89 === 0 ? `${i}e-3` : String(((i * 7919) % 10007) / 8);
      const y = i === 3000 ? 'text' : String(i % 13 === 0 ? '' : -i / 4);
      const n = i % 5 === 0 ? '07' : i % 7 === 0 ? '-3' : i % 11 === 0 ? '0' : String(i % 20);
      const m = i === 4000 ? 'other' : String(i % 3);
      return `${x},${y},${i % 3},${n},${m}`;
    });
    return `x,y,z,n,m\n${rows.join('\n')}\n`;
  };

  it('profiles a share of the columns as one pass over all would, leaving the others out', () => {
    const text = mixedTable();
    for (const kernel of [true, false]) {
      for (const cap of [100_000, 1500, null]) {
        const all = profileOf(text, kernel, cap);
        // Features x, y, n, m (z is the segment when there is one): every other one, or every third.
        for (const [parts, segment, expected] of [
          [
            2,
            null,
            [
              ['x', 'z', 'm'],
              ['y', 'n'],
            ],
          ],
          [3, 'z', [['x', 'm'], ['y'], ['n']]],
        ] as const) {
          const whole = segment === null ? all : profileOf(text, kernel, cap, segment);
          for (let part = 0; part < parts; part++) {
            const share = profileOf(text, kernel, cap, segment, { part, parts });
            expect(share.features).toEqual(expected[part]);
            for (const feature of share.features)
              expect(share.whole.get(feature)).toEqual(whole.whole.get(feature));
            expect(share.segments.map((s) => [s.value, s.rows])).toEqual(
              whole.segments.map((s) => [s.value, s.rows]),
            );
            for (const [i, segmentShare] of share.segments.entries())
              for (const feature of share.features)
                expect(segmentShare.features.get(feature)).toEqual(whole.segments[i]!.features.get(feature));
            expect(share.options.sampleCap).toBe(whole.options.sampleCap);
            expect(share.rows).toBe(5000);
            expect(share.columns).toEqual(['x', 'y', 'z', 'n', 'm']);
          }
        }
      }
    }
  });

  it('counts what the value-by-value path counts: missing values, text, late text, a full sample', () => {
    const text = mixedTable();
    for (const cap of [100_000, 1500]) {
      const fast = profileOf(text, true, cap);
      const slow = profileOf(text, false, cap, 'z');
      for (const feature of ['x', 'y', 'n', 'm']) {
        expect(fast.whole.get(feature)).toEqual(slow.whole.get(feature));
      }
      expect(fast.whole.get('n')!.categories!.get('07')).toBe(1000);
      expect(fast.whole.get('m')!.categories!.get('other')).toBe(1);
      expect(profileOf(text, false, cap).whole).toEqual(fast.whole);
      expect(fast.whole.get('x')!.numericCount).toBe(5000 - 52);
      expect(fast.whole.get('y')!.textCount).toBe(1);
    }
    expect(profileOf(text, true).whole.get('x')!.sample).toHaveLength(5000 - 52);
    expect(
      profileOf(text, true)
        .whole.get('x')!
        .binCounts!.reduce((a, b) => a + b),
    ).toBe(5000 - 52);
  });
});
