import { ConfigError, InputError } from '../errors.ts';
import { chiSquareHomogeneity } from '../stats/chi-square.ts';
import { jensenShannonDistance } from '../stats/jensen-shannon.ts';
import { ksTwoSample } from '../stats/ks.ts';
import { flooredProportions, populationStabilityIndex } from '../stats/psi.ts';
import { binCounts } from '../stats/quantile.ts';
import { MIN_WASSERSTEIN_SCALE, wassersteinDistance } from '../stats/wasserstein.ts';
import { chooseMethod, isDrifted } from './decision.ts';
import { DEFAULT_DRIFT_SHARE, type DecisionOptions } from './options.ts';
import { type FeatureProfile, isSampled, type TableProfile } from './profile.ts';
import { checkSignificanceOptions, decideWithFdr, rawSignificance } from './significance.ts';
import type {
  CategoricalTests,
  Distribution,
  DriftReport,
  FeatureDrift,
  FeatureType,
  NumericTests,
  SegmentRef,
} from './types.ts';

const HISTOGRAM_BINS = 20;
const CHART_CATEGORIES = 20;

/** Tests on a numeric feature, from the two sides' samples and the baseline's decile bins. */
export function numericTests(baseline: FeatureProfile, current: FeatureProfile): NumericTests {
  const edges = baseline.edges;
  const baselineP = flooredProportions(binCounts(edges, baseline.sample), baseline.sample.length);
  // Exact counts over the whole current side when it was streamed with the baseline's edges.
  const currentP = current.binCounts
    ? flooredProportions(current.binCounts, current.numericCount)
    : flooredProportions(binCounts(edges, current.sample), current.sample.length);
  const scale = Math.max(baseline.std, MIN_WASSERSTEIN_SCALE);
  return {
    ks: ksTwoSample(baseline.sample, current.sample),
    psi: { value: populationStabilityIndex(baselineP, currentP) },
    jensenShannon: { value: jensenShannonDistance(baselineP, currentP) },
    wasserstein: { value: wassersteinDistance(baseline.sample, current.sample) / scale },
  };
}

/** Category counts of both sides over the union of their categories, baseline's order first. */
export function alignCategories(
  baseline: Map<string, number>,
  current: Map<string, number>,
): { labels: string[]; baseline: Float64Array; current: Float64Array } {
  const labels = [...baseline.keys()];
  for (const label of current.keys()) if (!baseline.has(label)) labels.push(label);
  return {
    labels,
    baseline: Float64Array.from(labels, (label) => baseline.get(label) ?? 0),
    current: Float64Array.from(labels, (label) => current.get(label) ?? 0),
  };
}

export function categoricalTests(
  baseline: Map<string, number>,
  current: Map<string, number>,
): CategoricalTests {
  const aligned = alignCategories(baseline, current);
  const total = (counts: Float64Array) => counts.reduce((sum, count) => sum + count, 0);
  const baselineP = flooredProportions(aligned.baseline, total(aligned.baseline));
  const currentP = flooredProportions(aligned.current, total(aligned.current));
  return {
    chi2: chiSquareHomogeneity(aligned.baseline, aligned.current),
    psi: { value: populationStabilityIndex(baselineP, currentP) },
    jensenShannon: { value: jensenShannonDistance(baselineP, currentP) },
  };
}

function scoreOf(tests: NumericTests | CategoricalTests, method: string): number {
  const test = (tests as unknown as Record<string, { pValue?: number; value?: number }>)[method]!;
  return test.pValue ?? test.value!;
}

/** Columns the options declare numeric or categorical, whatever their values. */
export type DeclaredTypes = { numeric: ReadonlySet<string>; categorical: ReadonlySet<string> };

/** Whether a feature is numeric: declared, or every non-missing value on both sides is a number. */
export function featureType(
  feature: string,
  baseline: FeatureProfile,
  current: FeatureProfile,
  declared: DeclaredTypes,
): FeatureType {
  if (declared.categorical.has(feature)) return 'categorical';
  if (declared.numeric.has(feature)) return 'numeric';
  return baseline.textCount === 0 && current.textCount === 0 ? 'numeric' : 'categorical';
}

function categoriesOf(profile: FeatureProfile, feature: string, file: string): Map<string, number> {
  if (profile.categories !== null) return profile.categories;
  throw new InputError(
    { file, field: feature },
    'the column mixes numbers and text and has too many distinct numbers to count as categories; ' +
      'declare it with --categorical or --numeric, or --exclude it',
  );
}

function numericDistribution(baseline: FeatureProfile, current: FeatureProfile): Distribution {
  const low = Math.min(baseline.min, current.min);
  const high = Math.max(baseline.max, current.max);
  const bins = high > low ? HISTOGRAM_BINS : 1;
  const width = (high - low) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? high : low + i * width));
  const binOf = (x: number) => Math.min(bins - 1, Math.floor((x - low) / width));
  // Samples are sorted and binOf never decreases along them: each bin's run is found by binary search.
  const histogram = (sorted: Float64Array) => {
    const counts = new Array<number>(bins).fill(0);
    if (!(width > 0)) {
      counts[0] = sorted.length;
      return counts;
    }
    for (let from = 0; from < sorted.length; ) {
      const bin = binOf(sorted[from]!);
      let past = from + 1;
      let high = sorted.length;
      while (past < high) {
        const middle = (past + high) >>> 1;
        if (binOf(sorted[middle]!) === bin) past = middle + 1;
        else high = middle;
      }
      counts[bin]! += past - from;
      from = past;
    }
    return counts;
  };
  return { kind: 'bins', edges, baseline: histogram(baseline.sample), current: histogram(current.sample) };
}

function categoricalDistribution(baseline: Map<string, number>, current: Map<string, number>): Distribution {
  const aligned = alignCategories(baseline, current);
  const order = aligned.labels
    .map((label, i) => ({ label, b: aligned.baseline[i]!, c: aligned.current[i]! }))
    .sort((x, y) => y.b + y.c - (x.b + x.c));
  const shown = order.slice(0, CHART_CATEGORIES);
  const rest = order.slice(CHART_CATEGORIES);
  const distribution: Distribution = {
    kind: 'categories',
    categories: shown.map((entry) => entry.label),
    baseline: shown.map((entry) => entry.b),
    current: shown.map((entry) => entry.c),
    otherCategories: rest.length,
  };
  if (rest.length > 0) {
    distribution.categories.push('other');
    distribution.baseline.push(rest.reduce((sum, entry) => sum + entry.b, 0));
    distribution.current.push(rest.reduce((sum, entry) => sum + entry.c, 0));
  }
  return distribution;
}

/** A numeric feature's tests (with the histograms of an overall entry), computed ahead. */
export interface NumericResult {
  tests: NumericTests;
  distribution?: Distribution;
}
/** Numeric results computed ahead, by the current side's feature profile. */
export type NumericResults = Map<FeatureProfile, NumericResult>;

/**
 * A request to compute numeric tests ahead, against this baseline, for each share of the current profile as
 * soon as it is ready (see `Profiler`): the results go `into` the map, which {@link computeDriftReport} then
 * looks up.
 */
export interface TestsAhead {
  baseline: TableProfile;
  declared: DeclaredTypes;
  into: NumericResults;
}

/**
 * Computes ahead the numeric tests of the features in a share of the current profile (some of its columns,
 * ready before the others: see `AccumulatorContext.columnShare`), overall and per segment. A feature whose
 * tests fail is left for {@link computeDriftReport}, which then reports the failure where it always does.
 */
export function computeNumericResults(
  baseline: TableProfile,
  share: TableProfile,
  declared: DeclaredTypes,
  into: NumericResults,
): void {
  const baselineSegments = new Map(baseline.segments.map((segment) => [segment.value, segment]));
  const compute = (b: FeatureProfile | undefined, c: FeatureProfile | undefined, overall: boolean) => {
    if (!b || !c || b.present === 0 || c.present === 0) return;
    try {
      into.set(c, {
        tests: numericTests(b, c),
        ...(overall ? { distribution: numericDistribution(b, c) } : {}),
      });
    } catch {
      // Left for computeDriftReport.
    }
  };
  for (const feature of share.features) {
    const b = baseline.whole.get(feature);
    const c = share.whole.get(feature);
    if (!b || !c || featureType(feature, b, c, declared) !== 'numeric') continue;
    compute(b, c, true);
    for (const segment of share.segments) {
      compute(
        baselineSegments.get(segment.value)?.features.get(feature),
        segment.features.get(feature),
        false,
      );
    }
  }
}

interface EntryContext {
  feature: string;
  segment: SegmentRef | null;
  type: FeatureType;
  baseline: FeatureProfile;
  current: FeatureProfile;
  baselineName: string;
  currentName: string;
  decision: DecisionOptions;
  withDistribution: boolean;
  computed: NumericResults | undefined;
  /** Seed of the Wasserstein permutations (version 2). */
  seed: number;
}

function featureEntry(context: EntryContext): FeatureDrift | null {
  const { feature, type, baseline, current } = context;
  if (baseline.present === 0 || current.present === 0) return null;
  let tests: NumericTests | CategoricalTests;
  let distribution: Distribution | undefined;
  if (type === 'numeric') {
    const known = context.computed?.get(current);
    tests = known?.tests ?? numericTests(baseline, current);
    if (context.withDistribution)
      distribution = known?.distribution ?? numericDistribution(baseline, current);
  } else {
    const b = categoriesOf(baseline, feature, context.baselineName);
    const c = categoriesOf(current, feature, context.currentName);
    tests = categoricalTests(b, c);
    if (context.withDistribution) distribution = categoricalDistribution(b, c);
  }
  const { method, threshold } = chooseMethod(
    feature,
    type,
    baseline.present,
    context.decision.method,
    context.decision.features?.[feature],
  );
  const score = scoreOf(tests, method);
  const fdr = context.decision.fdr;
  const entry: FeatureDrift = {
    feature,
    segment: context.segment,
    type,
    missing: { baseline: baseline.missing, current: current.missing },
    method,
    score,
    threshold,
    drifted: isDrifted(method, score, threshold),
    tests,
    count: { baseline: baseline.present, current: current.present },
    sampled: type === 'numeric' && (isSampled(baseline) || isSampled(current)),
  };
  if (distribution) entry.distribution = distribution;
  if (fdr !== undefined) {
    const raw = rawSignificance(
      {
        method,
        threshold,
        tests,
        baseline,
        current,
        ...binsCompared(type, baseline, current),
        seed: context.seed,
      },
      { fdr, minEffect: context.decision.minEffect ?? {} },
    );
    Object.assign(entry, raw);
  }
  return entry;
}

/** How many bins or categories the binned tests compared, and how many values each side's came from. */
function binsCompared(
  type: FeatureType,
  baseline: FeatureProfile,
  current: FeatureProfile,
): { bins: number; binned: { baseline: number; current: number } } {
  if (type === 'numeric') {
    return {
      bins: baseline.edges.length + 1,
      binned: {
        baseline: baseline.sample.length,
        current: current.binCounts ? current.numericCount : current.sample.length,
      },
    };
  }
  const categories = new Set([...(baseline.categories?.keys() ?? []), ...(current.categories?.keys() ?? [])]);
  return { bins: categories.size, binned: { baseline: baseline.present, current: current.present } };
}

/**
 * The spec's report for two profiled tables: every feature overall, then within each segment value, and
 * the dataset verdict over the overall entries.
 */
export function computeDriftReport(
  baseline: TableProfile,
  current: TableProfile,
  decision: DecisionOptions,
  declared: DeclaredTypes,
  computed?: NumericResults,
): DriftReport {
  for (const feature of Object.keys(decision.features ?? {})) {
    if (!baseline.whole.has(feature)) {
      throw new ConfigError(
        '--feature-method',
        `${JSON.stringify(feature)} is not a feature of ${baseline.name}`,
      );
    }
  }
  checkSignificanceOptions(decision);
  const types = new Map<string, FeatureType>();
  const entries: FeatureDrift[] = [];
  const names = {
    baselineName: baseline.name,
    currentName: current.name,
    computed,
    seed: current.options.seed,
  };
  for (const feature of baseline.features) {
    const b = baseline.whole.get(feature)!;
    const c = current.whole.get(feature);
    if (!c) continue;
    const type = featureType(feature, b, c, declared);
    types.set(feature, type);
    const entry = featureEntry({
      feature,
      segment: null,
      type,
      baseline: b,
      current: c,
      ...names,
      decision,
      withDistribution: true,
    });
    if (entry) entries.push(entry);
  }
  const column = baseline.options.segment;
  if (column !== null) {
    const currentSegments = new Map(current.segments.map((segment) => [segment.value, segment]));
    const values = [...new Set([...baseline.segments.map((s) => s.value), ...currentSegments.keys()])].sort(
      (x, y) => (x < y ? -1 : x > y ? 1 : 0),
    );
    const baselineSegments = new Map(baseline.segments.map((segment) => [segment.value, segment]));
    for (const value of values) {
      const b = baselineSegments.get(value);
      const c = currentSegments.get(value);
      if (!b || !c) continue;
      for (const feature of baseline.features) {
        const type = types.get(feature);
        const bf = b.features.get(feature);
        const cf = c.features.get(feature);
        if (!type || !bf || !cf) continue;
        const segment = { column, value };
        const entry = featureEntry({
          feature,
          segment,
          type,
          baseline: bf,
          current: cf,
          ...names,
          decision,
          withDistribution: false,
        });
        if (entry) entries.push(entry);
      }
    }
  }
  if (decision.fdr !== undefined) decideWithFdr(entries, decision.fdr);
  const overall = entries.filter((entry) => entry.segment === null).length;
  const drifted = entries.filter((entry) => entry.segment === null && entry.drifted).length;
  const driftShare = overall === 0 ? 0 : drifted / overall;
  return {
    rows: { baseline: baseline.rows, current: current.rows },
    datasetDrift: overall > 0 && driftShare >= (decision.driftShare ?? DEFAULT_DRIFT_SHARE),
    driftShare,
    features: entries,
  };
}
