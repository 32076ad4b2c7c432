/**
 * The false page measurement of docs/drift-spec.md ("How often it pages"): clean random 50/50 splits of a
 * shipped dataset (both halves from one population) and the same splits with one feature shifted in one
 * segment of the current half, each through the drift report; a split "pages" when any entry, whole-dataset
 * or (feature, segment), is drifted.
 */
import { readFileSync } from 'node:fs';
import { computeDriftReport } from '../../lambdas/core/drift/compute.ts';
import { type DecisionOptions, resolveColumnOptions } from '../../lambdas/core/drift/options.ts';
import { profileInOnePass, profileTable } from '../../lambdas/core/drift/run.ts';
import { binEdgesOf } from '../../lambdas/core/drift/table-accumulator.ts';
import type { DriftReport } from '../../lambdas/core/drift/types.ts';
import type { TableInput } from '../../lambdas/core/readers/input.ts';
import { mulberry32 } from '../../lambdas/core/stats/random.ts';

export interface Dataset {
  name: string;
  file: string;
  label: string;
  segment: string;
}

export const DATASETS: readonly Dataset[] = [
  { name: 'credit', file: 'credit_data.csv', label: 'Status', segment: 'Home' },
  { name: 'churn', file: 'mlc_churn.csv', label: 'churn', segment: 'area_code' },
];

/** Injected drift: this many standard deviations (of the feature within the segment) added to every value. */
export const SHIFT_STDS = 0.5;
/** Segments with fewer rows than this in the current half are not shifted (too few rows to see anything). */
export const MIN_SHIFTED_ROWS = 300;

interface Table {
  header: string;
  names: string[];
  rows: string[][];
}

/** The shipped CSV files are plain (no quoted commas): split on commas, keep the quoted text as is. */
function readTable(file: string): Table {
  const lines = readFileSync(new URL(`../fixtures/data/${file}`, import.meta.url), 'utf8')
    .trim()
    .split('\n');
  const header = lines[0]!;
  return {
    header,
    names: header.split(',').map((n) => n.replaceAll('"', '')),
    rows: lines.slice(1).map((l) => l.split(',')),
  };
}

function input(name: string, header: string, rows: string[][]): TableInput {
  const text = `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
  return {
    name,
    open: async function* () {
      yield Buffer.from(text);
    },
  };
}

/** What one split is: its halves, and the injected shift (feature, segment) when there is one. */
export interface Split {
  baseline: TableInput;
  current: TableInput;
  shifted?: { feature: string; segment: string; by: number };
}

/**
 * The i-th split of a dataset (seeded by i): clean, or with a shift of {@link SHIFT_STDS} standard
 * deviations in one numeric feature within one segment of the current half (features and large enough
 * segments taken in turn, so the 20 shifts cover them all, not a convenient one).
 */
export function makeSplit(dataset: Dataset, index: number, shift: boolean): Split {
  const table = readTable(dataset.file);
  const random = mulberry32(1000 + index);
  const rows = table.rows.map((r) => [...r]);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  const half = Math.floor(rows.length / 2);
  const baseline = rows.slice(0, half);
  const current = rows.slice(half);
  const split: Split = {
    baseline: input(`${dataset.name}-${index}-baseline.csv`, table.header, baseline),
    current: input(`${dataset.name}-${index}-current.csv`, table.header, current),
  };
  if (!shift) return split;
  const segmentColumn = table.names.indexOf(dataset.segment);
  const counts = new Map<string, number>();
  for (const row of current) counts.set(row[segmentColumn]!, (counts.get(row[segmentColumn]!) ?? 0) + 1);
  const segments = [...counts]
    .filter(([, n]) => n >= MIN_SHIFTED_ROWS)
    .map(([v]) => v)
    .sort();
  const numeric = table.names
    .map((name, column) => ({ name, column }))
    .filter(({ name, column }) => name !== dataset.label && column !== segmentColumn)
    .filter(({ column }) =>
      current.every(
        (row) => row[column] === '' || row[column] === 'NA' || Number.isFinite(Number(row[column])),
      ),
    );
  const feature = numeric[index % numeric.length]!;
  const segment = segments[index % segments.length]!;
  const inSegment = current.filter((row) => row[segmentColumn] === segment);
  const values = inSegment.map((row) => Number(row[feature.column])).filter((x) => Number.isFinite(x));
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length);
  const by = SHIFT_STDS * std;
  const shifted = current.map((row) => {
    if (row[segmentColumn] !== segment) return row;
    const x = Number(row[feature.column]);
    if (row[feature.column] === '' || !Number.isFinite(x)) return row;
    const copy = [...row];
    copy[feature.column] = String(x + by);
    return copy;
  });
  split.current = input(`${dataset.name}-${index}-current-shifted.csv`, table.header, shifted);
  split.shifted = { feature: feature.name, segment: segment.replaceAll('"', ''), by };
  return split;
}

/**
 * The reports of a split under each of the given decision options, from one reading of its halves (what
 * `runDrift` does, with the report computed once per decision).
 */
export async function splitReports(
  dataset: Dataset,
  split: Split,
  decisions: readonly DecisionOptions[],
): Promise<DriftReport[]> {
  const options = { exclude: [dataset.label], segment: dataset.segment };
  const resolved = resolveColumnOptions(options);
  const baseline = await profileTable(split.baseline, options);
  const current = await profileInOnePass(split.current, resolved, {
    name: split.current.name,
    expected: { columns: new Set(baseline.features), source: baseline.name },
    edges: binEdgesOf(baseline),
  });
  return decisions.map((decision) => computeDriftReport(baseline, current, decision, resolved));
}

/** Whether a report would page: any drifted entry. */
export const pages = (report: DriftReport) => report.features.some((entry) => entry.drifted);

/** Whether a report caught the shift: the shifted feature drifted in the shifted segment. */
export function caught(report: DriftReport, split: Split): boolean {
  const { feature, segment } = split.shifted!;
  return report.features.some(
    (entry) => entry.drifted && entry.feature === feature && entry.segment?.value === segment,
  );
}
