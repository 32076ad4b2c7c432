/** Printing and summing up measurements, for the two parts of the benchmark. */

export interface Measurement {
  label: string;
  wallSeconds: number;
  peakRssMB: number;
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row, r) => {
      const line = row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ');
      return r === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

export const seconds = (s: number) => `${s.toFixed(2)} s`;
export const megabytes = (mb: number) => `${mb.toFixed(0)} MB`;
export const scientific = (x: number | undefined) =>
  x === undefined ? '-' : x === 0 ? '0' : x.toExponential(1);

/** The best wall time of several runs, with the highest peak RSS among them. */
export function best(runs: readonly Measurement[]): Measurement {
  return {
    label: runs[0]!.label,
    wallSeconds: Math.min(...runs.map((run) => run.wallSeconds)),
    peakRssMB: Math.max(...runs.map((run) => run.peakRssMB)),
  };
}

export function verdict(ok: boolean, text: string): string {
  return `  ${ok ? 'PASS' : 'FAIL'}  ${text}`;
}
