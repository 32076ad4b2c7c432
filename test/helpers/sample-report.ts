/**
 * Drift reports for the report renderers' tests. `computedReport` runs the real core (profiling and the
 * spec's tests) over generated rows, without the file readers; `handBuiltReport` pins exact numbers for
 * formatting tests. Names, labels and file names are hostile on purpose: they must come out as text.
 */
import { computeDriftReport } from '../../lambdas/core/drift/compute.ts';
import { DEFAULT_DRIFT_SHARE, resolveColumnOptions } from '../../lambdas/core/drift/options.ts';
import type { TableProfile } from '../../lambdas/core/drift/profile.ts';
import { binEdgesOf, TableAccumulator } from '../../lambdas/core/drift/table-accumulator.ts';
import type { DriftReport, FeatureDrift } from '../../lambdas/core/drift/types.ts';
import type { CellValue } from '../../lambdas/core/readers/types.ts';

/** A feature name that runs script when parsed as HTML. */
export const HOSTILE_FEATURE = '<img src=x onerror=window.pwned=1>';
/** A category label that runs script when parsed as HTML. */
export const HOSTILE_CATEGORY = '<script>window.pwned=2</script>';
/** A segment value with quotes, an ampersand and markup. */
export const HOSTILE_SEGMENT = `west "&" <b>'east'</b>`;
export const BASELINE_NAME = 'train <2024> & "q1".csv';
export const CURRENT_NAME = "may's <data>.csv";
export const GENERATED_AT = '2024-06-01T08:30:00.000Z';

/** Deterministic uniform numbers in [0, 1). */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function normal(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

const REGIONS = ['north', 'south', HOSTILE_SEGMENT] as const;
const CITIES = Array.from({ length: 24 }, (_, i) => (i === 5 ? HOSTILE_CATEGORY : `city_${i}`));

type Row = Record<string, CellValue>;

function rows(count: number, shifted: boolean, seed: number): Row[] {
  const next = uniform(seed);
  return Array.from({ length: count }, (_, i) => {
    const region = REGIONS[i % REGIONS.length]!;
    // The shift lives in one region, so the segment matrix has both drifted and clean cells.
    const inShift = shifted && region === 'north';
    const plan = next() < (inShift ? 0.7 : 0.2) ? 'premium' : next() < 0.5 ? 'basic' : 'free';
    return {
      age: 40 + 10 * normal(next) + (inShift ? 9 : 0),
      income: next() < 0.05 ? 'NA' : Math.round(50_000 + 15_000 * normal(next)),
      plan,
      [HOSTILE_FEATURE]: 3 * next(),
      city: CITIES[Math.floor(next() ** 2 * CITIES.length)]!,
      region,
      id: i,
    };
  });
}

function profile(
  name: string,
  data: readonly Row[],
  segment: string | null,
  baseline?: TableProfile,
): TableProfile {
  const options = resolveColumnOptions({ segment, exclude: segment === null ? ['id', 'region'] : ['id'] });
  const sink = new TableAccumulator(options, {
    name,
    ...(baseline && {
      expected: { columns: new Set(baseline.features), source: baseline.name },
      edges: binEdgesOf(baseline),
    }),
  });
  const header = Object.keys(data[0]!);
  const indexes = header.map((column) => sink.column(column));
  for (const row of data) {
    header.forEach((column, i) => {
      sink.value(indexes[i]!, row[column]!);
    });
    sink.endRow();
  }
  return sink.finish({ format: 'csv' });
}

/**
 * A report from the real core: 600 baseline and 600 current rows of five features (two of them shifted in
 * the `north` region), optionally segmented by region, with metadata as `runDrift` writes it; with `fdr`,
 * a version 2 report.
 */
export function computedReport(
  options: { segments?: boolean; fdr?: number; minEffect?: { ks?: number; chi2?: number } } = {},
): DriftReport {
  const segment = options.segments === false ? null : 'region';
  const baseline = profile(BASELINE_NAME, rows(600, false, 1), segment);
  const current = profile(CURRENT_NAME, rows(600, true, 2), segment, baseline);
  const decision = {
    ...(options.fdr === undefined ? {} : { fdr: options.fdr }),
    ...(options.minEffect === undefined ? {} : { minEffect: options.minEffect }),
  };
  const report = computeDriftReport(baseline, current, decision, resolveColumnOptions({ segment }));
  report.metadata = {
    specVersion: options.fdr === undefined ? 1 : 2,
    ...(options.fdr === undefined
      ? {}
      : { fdr: options.fdr, minEffect: { ks: 0.1, chi2: 0.1, ...options.minEffect } }),
    generatedAt: GENERATED_AT,
    baseline: { name: BASELINE_NAME, kind: 'data' },
    current: { name: CURRENT_NAME },
    driftShareThreshold: DEFAULT_DRIFT_SHARE,
    segmentColumn: segment,
    sampleCap: 250_000,
    sampleSeed: 42,
    timings: { baselineMs: 12, currentMs: 10, computeMs: 3 },
  };
  return report;
}

/** A whole-dataset numeric entry with plausible tests; override what a test is about. */
export function numericEntry(overrides: Partial<FeatureDrift> = {}): FeatureDrift {
  return {
    feature: 'age',
    segment: null,
    type: 'numeric',
    missing: { baseline: 0, current: 0 },
    method: 'ks',
    score: 0.41,
    threshold: 0.05,
    drifted: false,
    tests: {
      ks: { statistic: 0.052, pValue: 0.41 },
      psi: { value: 0.012 },
      jensenShannon: { value: 0.031 },
      wasserstein: { value: 0.044 },
    },
    count: { baseline: 800, current: 790 },
    sampled: false,
    distribution: {
      kind: 'bins',
      edges: [0, 25, 50, 75, 100],
      baseline: [100, 300, 300, 100],
      current: [90, 310, 290, 100],
    },
    ...overrides,
  };
}

/** A whole-dataset categorical entry with plausible tests; override what a test is about. */
export function categoricalEntry(overrides: Partial<FeatureDrift> = {}): FeatureDrift {
  return {
    feature: 'plan',
    segment: null,
    type: 'categorical',
    missing: { baseline: 0, current: 0 },
    method: 'jensenShannon',
    score: 0.31,
    threshold: 0.1,
    drifted: true,
    tests: {
      chi2: { statistic: 210.5, pValue: 3.2e-46 },
      psi: { value: 0.42 },
      jensenShannon: { value: 0.31 },
    },
    count: { baseline: 5000, current: 4800 },
    sampled: false,
    distribution: {
      kind: 'categories',
      categories: ['free', 'basic', 'premium'],
      baseline: [3000, 1500, 500],
      current: [1800, 1500, 1500],
      otherCategories: 0,
    },
    ...overrides,
  };
}

/**
 * Exact numbers for formatting tests: a p-value of 1.234e-8, a hostile feature name, a feature without a
 * distribution, and two segments of `tier`.
 */
export function handBuiltReport(): DriftReport {
  const overall: FeatureDrift[] = [
    numericEntry({ feature: 'income', missing: { baseline: 12, current: 1034 } }),
    numericEntry({
      feature: 'age',
      score: 1.234e-8,
      drifted: true,
      tests: {
        ks: { statistic: 0.2134, pValue: 1.234e-8 },
        psi: { value: 0.2718 },
        jensenShannon: { value: 0.1402 },
        wasserstein: { value: 0.3001 },
      },
    }),
    categoricalEntry(),
    numericEntry({
      feature: HOSTILE_FEATURE,
      method: 'wasserstein',
      score: 0.0123,
      threshold: 0.1,
      sampled: true,
    }),
    categoricalEntry({
      feature: 'no_chart',
      method: 'chi2',
      score: 0.5,
      threshold: 0.05,
      drifted: false,
      distribution: undefined,
    }),
  ];
  const segments: FeatureDrift[] = [
    numericEntry({ feature: 'age', segment: { column: 'tier', value: 'gold' }, score: 0.002, drifted: true }),
    numericEntry({ feature: 'age', segment: { column: 'tier', value: HOSTILE_SEGMENT }, score: 0.6 }),
    categoricalEntry({ segment: { column: 'tier', value: 'gold' }, score: 0.05, drifted: false }),
    categoricalEntry({ segment: { column: 'tier', value: HOSTILE_SEGMENT }, score: 0.45, drifted: true }),
  ];
  for (const entry of segments) delete entry.distribution;
  return {
    rows: { baseline: 5000, current: 4800 },
    datasetDrift: false,
    driftShare: 0.4,
    features: [...overall, ...segments],
    metadata: {
      specVersion: 1,
      generatedAt: GENERATED_AT,
      baseline: { name: BASELINE_NAME, kind: 'profile' },
      current: { name: CURRENT_NAME },
      driftShareThreshold: 0.5,
      segmentColumn: 'tier',
      sampleCap: 250_000,
      sampleSeed: 42,
    },
  };
}
