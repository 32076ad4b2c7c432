import { describe, expect, it } from 'vitest';
import { RowSample, seedFor } from '../../../lambdas/core/drift/row-sample.ts';

/** Rows i = 0..rows-1 with columns (i, -i), the second missing on every third row. */
function fill(sample: RowSample, rows: number): void {
  for (let i = 0; i < rows; i++) {
    sample.staging[0] = i;
    if (i % 3 !== 0) sample.staging[1] = -i;
    sample.endRow();
  }
}

describe('RowSample', () => {
  it('keeps every row below its capacity, missing values left out of a column', () => {
    const sample = new RowSample(5000, 1);
    sample.addColumn();
    sample.addColumn();
    fill(sample, 3000);
    expect(sample.size).toBe(3000);
    expect([...sample.sortedColumn(0)]).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    const second = [...sample.sortedColumn(1)];
    expect(second).toHaveLength(2000);
    expect(second.every((x) => x % 3 !== 0)).toBe(true);
    const rows = sample.rowColumn(1);
    expect(rows).toHaveLength(3000);
    expect(Number.isNaN(rows[0])).toBe(true);
    expect(rows[1]).toBe(-1);
  });

  it('samples rows uniformly above its capacity, the same rows for every column, reproducibly', () => {
    const run = (seed: number) => {
      const sample = new RowSample(1000, seed);
      sample.addColumn();
      sample.addColumn();
      fill(sample, 100_000);
      return sample;
    };
    const sample = run(7);
    const first = sample.rowColumn(0);
    const second = sample.rowColumn(1);
    expect(first).toHaveLength(1000);
    for (let row = 0; row < first.length; row++) {
      const i = first[row]!;
      if (i % 3 === 0) expect(Number.isNaN(second[row])).toBe(true);
      else expect(second[row]).toBe(-i);
    }
    expect(run(7).sortedColumn(0)).toEqual(sample.sortedColumn(0));
    expect(run(8).sortedColumn(0)).not.toEqual(sample.sortedColumn(0));
    // Each decile of the stream should hold about a tenth of the sample (binomial sd ~ 9.5).
    const deciles = new Array(10).fill(0);
    for (const value of first) deciles[Math.floor(value / 10_000)]++;
    for (const count of deciles) expect(Math.abs(count - 100)).toBeLessThan(45);
  });

  it('takes a column added after some rows as missing in those rows', () => {
    const sample = new RowSample(100, 1);
    sample.addColumn();
    sample.staging[0] = 1;
    sample.endRow();
    expect(sample.addColumn()).toBe(1);
    sample.staging[0] = 2;
    sample.staging[1] = 20;
    sample.endRow();
    expect([...sample.rowColumn(0)]).toEqual([1, 2]);
    expect([...sample.rowColumn(1)]).toEqual([Number.NaN, 20]);
  });

  it('drops a retired column, keeping the others whole', () => {
    const sample = new RowSample(10_000, 3);
    sample.addColumn();
    sample.addColumn();
    sample.retire(1);
    fill(sample, 5000);
    expect(sample.rowColumn(1)).toHaveLength(0);
    expect(sample.sortedColumn(0)).toHaveLength(5000);
    // Retired after rows are held: the room goes at the next growth, the other column is intact.
    const later = new RowSample(10_000, 3);
    later.addColumn();
    later.addColumn();
    fill(later, 1500);
    later.retire(0);
    fill(later, 3000);
    expect(later.sortedColumn(0)).toHaveLength(0);
    expect(later.rowColumn(1)).toHaveLength(4500);
  });

  it('derives distinct seeds per column and segment', () => {
    expect(seedFor(42, 'a')).not.toBe(seedFor(42, 'b'));
    expect(seedFor(42, 'a', 'x')).not.toBe(seedFor(42, 'a'));
    expect(seedFor(42, 'ab')).not.toBe(seedFor(42, 'a', 'b'));
    expect(seedFor(42, 'a')).toBe(seedFor(42, 'a'));
  });
});
