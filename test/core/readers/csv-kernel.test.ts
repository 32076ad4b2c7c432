import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CsvLinesKernel,
  KERNEL_MISSING,
  KERNEL_NUMBER,
  KERNEL_PLAIN_WHOLE,
  KERNEL_ROWS,
} from '../../../lambdas/core/readers/csv-kernel.ts';
import { compileKernel } from '../../../scripts/build-wasm.ts';

const WASM_DIR = join(import.meta.dirname, '..', '..', '..', 'lambdas', 'core', 'readers', 'wasm');

describe('CsvLinesKernel', () => {
  it('is what its AssemblyScript source compiles to', async () => {
    const committed = readFileSync(join(WASM_DIR, 'csv-lines.wasm.ts'), 'utf8');
    expect(await compileKernel('readers/wasm/csv-lines.as.ts', 'CSV_LINES_WASM')).toBe(committed);
  }, 60_000);

  it('reads plain lines column by column and stops before a line it does not read', () => {
    const kernel = new CsvLinesKernel(3, 0x2c);
    const text = '1,-2.5,x\n.5,,7.\n12,"q",3\n';
    kernel.load(new TextEncoder().encode(text), 0, text.length);
    expect(kernel.scan(0)).toBe(2);
    expect(kernel.consumed).toBe(text.indexOf('12'));
    const field = (row: number, column: number) => column * KERNEL_ROWS + row;
    // '1' is written plainly (its value gives its text), '-2.5' is a number, 'x' text; '7.' is not plain.
    expect([0, 1, 2].map((column) => kernel.kinds[field(0, column)])).toEqual([
      KERNEL_PLAIN_WHOLE,
      KERNEL_NUMBER,
      0,
    ]);
    expect(kernel.kinds[field(1, 2)]).toBe(KERNEL_NUMBER);
    expect([kernel.numbers[field(0, 0)], kernel.numbers[field(0, 1)], kernel.numbers[field(1, 0)]]).toEqual([
      1, -2.5, 0.5,
    ]);
    expect(kernel.numbers[field(1, 2)]).toBe(7);
    expect(Number.isNaN(kernel.numbers[field(1, 1)])).toBe(true);
    expect([...kernel.texts]).toEqual([0, 1, 1]);
    expect(kernel.ends[field(1, 1)]).toBe(text.indexOf(',7.'));
    // The quoted line, a line without its LF, and a blank line are left to the state machine.
    expect(kernel.scan(kernel.consumed)).toBe(0);
    kernel.load(new TextEncoder().encode('1,2,3'), 0, 5);
    expect(kernel.scan(0)).toBe(0);
    kernel.load(new TextEncoder().encode('\n1,2,3\n'), 0, 7);
    expect(kernel.scan(0)).toBe(0);
  });

  it('leaves skipped columns out, reading the others as it would, and still stops where it would', () => {
    const text = '1,-2.5,x,4\nab,z,,8\n3,"q",y,5\n';
    const bytes = new TextEncoder().encode(text);
    const whole = new CsvLinesKernel(4, 0x2c);
    const skipping = new CsvLinesKernel(4, 0x2c, [false, true, false, true]);
    for (const kernel of [whole, skipping]) kernel.load(bytes, 0, bytes.length);
    expect(skipping.scan(0)).toBe(whole.scan(0));
    expect(skipping.consumed).toBe(text.indexOf('3,"q"'));
    for (const column of [0, 2]) {
      for (const row of [0, 1]) {
        const field = column * KERNEL_ROWS + row;
        for (const output of ['kinds', 'numbers', 'starts', 'ends'] as const)
          expect(skipping[output][field]).toBe(whole[output][field]);
      }
    }
    expect(text.slice(skipping.starts[2 * KERNEL_ROWS + 1]!, skipping.ends[2 * KERNEL_ROWS + 1]!)).toBe('');
    expect(text.slice(skipping.starts[1]!, skipping.ends[1]!)).toBe('ab');
    // Skipped columns get nothing: not even their texts counted.
    expect([...whole.texts]).toEqual([1, 1, 2, 0]);
    expect([...skipping.texts]).toEqual([1, 0, 2, 0]);
    // A quote in a skipped column still stops the kernel before its line.
    expect(skipping.scan(skipping.consumed)).toBe(0);
  });

  it('counts the fields of known labels itself when asked', () => {
    const text = 'a,1\nb,2\na,3\nc,4\na,5\n';
    const bytes = new TextEncoder().encode(text);
    const kernel = new CsvLinesKernel(2, 0x2c, [], true);
    kernel.load(bytes, 0, bytes.length);
    kernel.register(0, 0, 1, 0); // 'a' is label 0
    kernel.register(0, 4, 1, 1); // 'b' is label 1
    expect(kernel.scan(0)).toBe(5);
    const counts: [number, number, number][] = [];
    kernel.takeLabelCounts((column, label, count) => counts.push([column, label, count]));
    expect(counts).toEqual([
      [0, 0, 3],
      [0, 1, 1],
    ]);
    // 'c' has no label; the counts were taken.
    expect(kernel.labels[3]).toBe(-1);
    kernel.takeLabelCounts(() => expect.unreachable());
  });

  it('marks text registered as missing, which it never counts, and keeps category ids below its mark', () => {
    const text = 'NA,1\na,2\nNA,3\na,4\n';
    const bytes = new TextEncoder().encode(text);
    const kernel = new CsvLinesKernel(2, 0x2c, [], true);
    kernel.load(bytes, 0, bytes.length);
    kernel.registerMissing(0, 0, 2);
    kernel.register(0, 5, 1, 0); // 'a' is label 0
    kernel.register(1, 2, 1, KERNEL_MISSING); // not a category id: ignored
    expect(kernel.scan(0)).toBe(4);
    expect([0, 1, 2, 3].map((row) => kernel.labels[row])).toEqual([KERNEL_MISSING, 0, KERNEL_MISSING, 0]);
    const counts: [number, number, number][] = [];
    kernel.takeLabelCounts((column, label, count) => counts.push([column, label, count]));
    expect(counts).toEqual([[0, 0, 2]]);
    expect([...kernel.texts]).toEqual([4, 0]);
  });
});
