import { describe, expect, it } from 'vitest';
import { RowSample, seedFor } from '../../../lambdas/core/drift/row-sample.ts';

/** Rows i = from..to-1 with columns (i, -i), the second missing on every third row. */
function fill(sample: RowSample, to: number, from = 0): void {
  for (let i = from; i < to; i++) {
    sample.put(0, i);
    if (i % 3 !== 0) sample.put(1, -i);
    sample.endRow();
  }
}

function twoColumns(capacity: number, seed: number): RowSample {
  const sample = new RowSample(capacity, seed);
  sample.addColumn();
  sample.addColumn();
  return sample;
}

describe('RowSample', () => {
  it('ends rows in bulk with the slots and draws of one endRow per row', () => {
    // Capacities below, at and above the first room (1,024 rows) and the rows filled at a time (8,192).
    for (const capacity of [1, 700, 1024, 5000, 20_000]) {
      const one = twoColumns(capacity, 3);
      const bulk = twoColumns(capacity, 3);
      const expected: number[] = [];
      const actual: number[] = [];
      const slots = new Int32Array(4096);
      let count = 1;
      for (let row = 0; row < 120_000; ) {
        const rows = Math.min(count, 120_000 - row);
        for (let k = 0; k < rows; k++) {
          expected.push(one.slot);
          one.endRow();
        }
        bulk.endRows(rows, slots, 7);
        actual.push(...slots.subarray(7, 7 + rows));
        row += rows;
        count = (count * 7 + 3) % 4000;
      }
      expect(actual).toEqual(expected);
      expect(bulk.slot).toBe(one.slot);
      expect(bulk.rows).toBe(one.rows);
    }
  });

  it('keeps every row below its capacity, missing values left out of a column', () => {
    const sample = twoColumns(5000, 1);
    fill(sample, 3000);
    expect(sample.size).toBe(3000);
    expect([...sample.takeSorted(0)]).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    const second = [...sample.takeSorted(1)];
    expect(second).toHaveLength(2000);
    expect(second.every((x) => x % 3 !== 0)).toBe(true);
    expect(second[0]).toBe(-2999);
    // Taken once: the column is handed over.
    expect(sample.takeSorted(0)).toHaveLength(0);
  });

  it('samples rows uniformly above its capacity, the same rows for every column, reproducibly', () => {
    const run = (seed: number) => {
      const sample = twoColumns(1000, seed);
      fill(sample, 100_000);
      return sample;
    };
    const sample = run(7);
    const first = sample.takeSorted(0);
    const second = sample.takeSorted(1);
    expect(first).toHaveLength(1000);
    // The second column's values are those of the rows the first one holds.
    const expected = [...first].filter((i) => i % 3 !== 0).map((i) => -i);
    expect([...second].sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    expect(run(7).takeSorted(0)).toEqual(first);
    expect(run(8).takeSorted(0)).not.toEqual(first);
    // Each decile of the stream should hold about a tenth of the sample (binomial sd ~ 9.5).
    const deciles = new Array(10).fill(0);
    for (const value of first) deciles[Math.floor(value / 10_000)]++;
    for (const count of deciles) expect(Math.abs(count - 100)).toBeLessThan(45);
  });

  it('does not let a replaced row keep a value where the new row has none', () => {
    const sample = twoColumns(10, 5);
    fill(sample, 10_000);
    // Slot by slot, the second column holds the value of the row the first one holds, or nothing.
    const first = sample.column(0).subarray(0, sample.size);
    const second = sample.column(1).subarray(0, sample.size);
    expect(first.some((i) => i >= 10)).toBe(true);
    for (const [slot, i] of first.entries()) expect(second[slot]).toBe(i % 3 !== 0 ? -i : Number.NaN);
  });

  it('holds the same values when the caller writes every row of a column (NaN where missing) instead', () => {
    const cleared = twoColumns(50, 9);
    fill(cleared, 1_000);
    const written = twoColumns(50, 9);
    written.writesEveryRow(1);
    for (let i = 0; i < 1_000; i++) {
      written.put(0, i);
      const slot = written.slot;
      if (slot >= 0) written.column(1)[slot] = i % 3 !== 0 ? -i : Number.NaN;
      written.endRow();
    }
    for (const position of [0, 1]) expect(written.column(position)).toEqual(cleared.column(position));
    expect(written.takeSorted(1)).toEqual(cleared.takeSorted(1));
  });

  it('takes a column added after some rows as missing in those rows', () => {
    const sample = new RowSample(100, 1);
    sample.addColumn();
    sample.put(0, 1);
    sample.endRow();
    expect(sample.addColumn()).toBe(1);
    sample.put(0, 2);
    sample.put(1, 20);
    sample.endRow();
    expect([...sample.takeSorted(0)]).toEqual([1, 2]);
    expect([...sample.column(1).subarray(0, 2)]).toEqual([Number.NaN, 20]);
    expect([...sample.takeSorted(1)]).toEqual([20]);
  });

  it('drops a retired column, keeping the others whole, across growth', () => {
    const sample = twoColumns(10_000, 3);
    sample.retire(1);
    fill(sample, 5000);
    expect(sample.takeSorted(1)).toHaveLength(0);
    expect(sample.takeSorted(0)).toHaveLength(5000);
    // Retired after rows are held: the other column is intact.
    const later = twoColumns(10_000, 3);
    fill(later, 1500);
    later.retire(0);
    fill(later, 4500, 1500);
    expect(later.takeSorted(0)).toHaveLength(0);
    expect(later.takeSorted(1)).toHaveLength(3000);
  });

  it('derives distinct seeds per column and segment', () => {
    expect(seedFor(42, 'a')).not.toBe(seedFor(42, 'b'));
    expect(seedFor(42, 'a', 'x')).not.toBe(seedFor(42, 'a'));
    expect(seedFor(42, 'ab')).not.toBe(seedFor(42, 'a', 'b'));
    expect(seedFor(42, 'a')).toBe(seedFor(42, 'a'));
  });
});
