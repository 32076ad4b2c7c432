import { ConfigError } from '../errors.ts';
import type { TableInput } from '../readers/input.ts';
import { type ReadTableOptions, readTable } from '../readers/read-table.ts';
import type { ReadProgress } from '../readers/types.ts';
import {
  computeDriftReport,
  computeNumericResults,
  type NumericResults,
  type TestsAhead,
} from './compute.ts';
import {
  type ColumnOptions,
  checkColumnsExist,
  DEFAULT_DRIFT_SHARE,
  type DriftOptions,
  type ResolvedColumnOptions,
  resolveColumnOptions,
} from './options.ts';
import type { TableProfile } from './profile.ts';
import { checkSignificanceOptions, DEFAULT_MIN_EFFECT } from './significance.ts';
import {
  type AccumulatorContext,
  binEdgesOf,
  type ColumnShare,
  TableAccumulator,
} from './table-accumulator.ts';
import type { DriftReport } from './types.ts';

/**
 * Profiles an input some faster way (the CLI reads large local CSV files on several threads), or returns
 * null to leave it to {@link profileInOnePass}, which then also produces any error with its exact line.
 * With `ahead` (the current side of a drift run) it computes the numeric tests of each share of the features
 * it reads apart as soon as that share is ready, on the thread that read it.
 */
export type Profiler = (
  input: TableInput,
  options: ResolvedColumnOptions,
  context: AccumulatorContext,
  read: ReadTableOptions,
  ahead?: TestsAhead,
) => Promise<TableProfile | null>;

/** The profiles of a drift run's two data inputs, read in shares of columns by {@link profilePairShare}. */
export interface ProfiledPair {
  baseline: TableProfile;
  current: TableProfile;
  /** When the baseline was read (on the main thread). */
  baselineMs: number;
}

/**
 * Reads a drift run's baseline and current data some faster way (the CLI: every thread reads its share of the
 * columns of both, see {@link profilePairShare}), computing the numeric tests of each share `into` the map;
 * or returns null to leave both to {@link Profiler} and {@link profileInOnePass}.
 */
export type PairProfiler = (
  baseline: TableInput,
  current: TableInput,
  options: ResolvedColumnOptions,
  read: ReadSettings,
  into: NumericResults,
) => Promise<ProfiledPair | null>;

/** How inputs are read, shared by profile and drift runs. */
export interface ReadSettings {
  /** @default 10 GiB */
  maxDecompressedBytes?: number;
  onProgress?: (input: string, progress: ReadProgress) => void;
  profiler?: Profiler;
  pairProfiler?: PairProfiler;
}

/**
 * One thread's part of a drift run when threads share the columns: its share of the baseline's features,
 * then of the current data's (binned on its own share's edges, so it need not wait for the other threads),
 * then those features' numeric tests.
 */
export async function profilePairShare(
  baselineInput: TableInput,
  currentInput: TableInput,
  options: ResolvedColumnOptions,
  columnShare: ColumnShare,
  read: ReadSettings,
): Promise<ProfiledPair & { results: NumericResults }> {
  const started = performance.now();
  const baseline = await profileInOnePass(
    baselineInput,
    options,
    { name: baselineInput.name, columnShare },
    readOptionsFor(baselineInput, read),
  );
  const baselineMs = performance.now() - started;
  // Every feature of the baseline, the shares' own or not, is expected in the current data.
  const features = baseline.columns.filter((name) => !options.exclude.has(name) && name !== options.segment);
  const current = await profileInOnePass(
    currentInput,
    options,
    {
      name: currentInput.name,
      columnShare,
      expected: { columns: new Set(features), source: baseline.name },
      edges: binEdgesOf(baseline),
    },
    readOptionsFor(currentInput, read),
  );
  const results: NumericResults = new Map();
  computeNumericResults(baseline, current, options, results);
  return { baseline, current, baselineMs, results };
}

/** A baseline is either data read now or a profile built earlier by `driftwatch profile`. */
export type BaselineSource = { kind: 'data'; input: TableInput } | { kind: 'profile'; profile: TableProfile };

async function profileInput(
  input: TableInput,
  options: ResolvedColumnOptions,
  context: Omit<AccumulatorContext, 'name'>,
  read: ReadSettings,
  ahead?: TestsAhead,
): Promise<TableProfile> {
  const named = { ...context, name: input.name };
  const readOptions = readOptionsFor(input, read);
  return (
    (await read.profiler?.(input, options, named, readOptions, ahead)) ??
    profileInOnePass(input, options, named, readOptions)
  );
}

/** What reading `input` takes from the run's settings: the size limit and its own progress reports. */
function readOptionsFor(input: TableInput, read: ReadSettings): ReadTableOptions {
  const onProgress = read.onProgress;
  return {
    maxDecompressedBytes: read.maxDecompressedBytes,
    ...(onProgress ? { onProgress: (update: ReadProgress) => onProgress(input.name, update) } : {}),
  };
}

/** Reads an input once, in this thread, into a profile (of a share of its columns, if the context says so). */
export async function profileInOnePass(
  input: TableInput,
  options: ResolvedColumnOptions,
  context: AccumulatorContext,
  read: ReadTableOptions = {},
): Promise<TableProfile> {
  const sink = new TableAccumulator(options, context);
  const result = await readTable(input, sink, read);
  return sink.finish({ format: result.format });
}

/** Profiles one table: what `driftwatch profile` stores as a baseline. */
export async function profileTable(
  input: TableInput,
  options: ColumnOptions,
  read: ReadSettings = {},
): Promise<TableProfile> {
  const resolved = resolveColumnOptions(options);
  const profile = await profileInput(input, resolved, {}, read);
  checkColumnsExist(options, profile.columns, input.name);
  return profile;
}

/**
 * Column options for a drift run against a stored profile: the profile's choices stand, the run may add to
 * them, and anything that would need data the profile did not keep is an error naming the flag.
 */
export function mergeWithProfile(profile: TableProfile, options: ColumnOptions): ColumnOptions {
  const built = profile.options;
  if (options.segment !== undefined && options.segment !== null && options.segment !== built.segment) {
    throw new ConfigError(
      '--segment',
      `the baseline profile ${profile.name} was built ${built.segment === null ? 'without a segment column' : `with --segment ${built.segment}`}; rebuild it with --segment ${options.segment}`,
    );
  }
  for (const name of options.categorical ?? []) {
    if (!built.categorical.includes(name) && profile.whole.get(name)?.categories === null) {
      throw new ConfigError(
        '--categorical',
        `the baseline profile ${profile.name} did not keep the categories of ${JSON.stringify(name)}; rebuild it with --categorical ${name}`,
      );
    }
  }
  const union = (a: readonly string[], b: readonly string[] | undefined) => [
    ...new Set([...a, ...(b ?? [])]),
  ];
  return {
    ...options,
    numeric: union(built.numeric, options.numeric),
    categorical: union(built.categorical, options.categorical),
    exclude: union(built.exclude, options.exclude),
    segment: built.segment,
    sampleCap: options.sampleCap ?? built.sampleCap,
    seed: options.seed ?? built.seed,
  };
}

/** Drift of `current` against a baseline: reads what needs reading and computes the spec's report. */
export async function runDrift(
  baseline: BaselineSource,
  current: TableInput,
  options: DriftOptions,
  read: ReadSettings = {},
): Promise<DriftReport> {
  const started = performance.now();
  checkSignificanceOptions(options);
  let columnOptions: ColumnOptions = options;
  if (baseline.kind === 'profile') {
    columnOptions = mergeWithProfile(baseline.profile, options);
    checkColumnsExist(options, baseline.profile.columns, baseline.profile.name);
  }
  const resolved = resolveColumnOptions(columnOptions);
  // When threads share the columns, each computes the tests of its features once it has read them.
  const computed: NumericResults = new Map();
  const pair =
    baseline.kind === 'data' && read.pairProfiler
      ? await read.pairProfiler(baseline.input, current, resolved, read, computed)
      : null;
  let baselineProfile: TableProfile;
  let currentProfile: TableProfile;
  let baselineDone: number;
  if (pair) {
    checkColumnsExist(options, pair.baseline.columns, pair.baseline.name);
    baselineProfile = pair.baseline;
    currentProfile = pair.current;
    baselineDone = started + pair.baselineMs;
  } else {
    baselineProfile =
      baseline.kind === 'profile' ? baseline.profile : await profileTable(baseline.input, options, read);
    baselineDone = performance.now();
    currentProfile = await profileInput(
      current,
      resolved,
      {
        expected: { columns: new Set(baselineProfile.features), source: baselineProfile.name },
        edges: binEdgesOf(baselineProfile),
      },
      read,
      { baseline: baselineProfile, declared: resolved, into: computed },
    );
  }
  const currentDone = performance.now();
  const report = computeDriftReport(baselineProfile, currentProfile, options, resolved, computed);
  const finished = performance.now();
  report.metadata = {
    specVersion: options.fdr === undefined ? 1 : 2,
    ...(options.fdr === undefined
      ? {}
      : { fdr: options.fdr, minEffect: { ...DEFAULT_MIN_EFFECT, ...options.minEffect } }),
    generatedAt: new Date().toISOString(),
    baseline: { name: baselineProfile.name, kind: baseline.kind },
    current: { name: current.name },
    driftShareThreshold: options.driftShare ?? DEFAULT_DRIFT_SHARE,
    segmentColumn: resolved.segment,
    sampleCap: currentProfile.options.sampleCap,
    sampleSeed: resolved.seed,
    timings: {
      baselineMs: Math.round(baselineDone - started),
      currentMs: Math.round(currentDone - baselineDone),
      computeMs: Math.round(finished - currentDone),
    },
  };
  return report;
}
