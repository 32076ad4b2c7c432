import { InputError } from '../errors.ts';
import { decileEdges } from '../stats/quantile.ts';
import { populationStd } from '../stats/wasserstein.ts';
import type { CategoryDictionary } from './category-dictionary.ts';
import type { ColumnStats } from './column-stats.ts';

/** What a pass learned about one feature (overall or within one segment) on one side. */
export interface FeatureProfile {
  /** Non-missing values. */
  present: number;
  missing: number;
  numericCount: number;
  textCount: number;
  /** Moments and range over the numbers; NaN when there are none. */
  mean: number;
  /** Population standard deviation (ddof 0) over every number. */
  std: number;
  min: number;
  max: number;
  /** Sorted uniform sample of the numbers: all of them while `numericCount <= sampleCap`. */
  sample: Float64Array;
  /** Decile bin edges of the sample (the PSI bins when this side is the baseline). */
  edges: Float64Array;
  /** Exact counts of every number over the baseline's edges (current side only). */
  binCounts: Float64Array | null;
  /** Counts per category; null when the column had too many distinct numbers to count them. */
  categories: Map<string, number> | null;
}

export interface SegmentProfile {
  value: string;
  rows: number;
  features: Map<string, FeatureProfile>;
}

/** Column options a profile was built with; drift runs against it must agree. */
export interface ProfileOptions {
  numeric: string[];
  categorical: string[];
  exclude: string[];
  segment: string | null;
  sampleCap: number;
  seed: number;
}

/** One table summarised: what drift checks need of a baseline, or of the current data. */
export interface TableProfile {
  /** File name or object key it was built from. */
  name: string;
  format?: string | undefined;
  rows: number;
  /** Every column in input order, including excluded ones and the segment column. */
  columns: string[];
  /** Feature columns in input order. */
  features: string[];
  options: ProfileOptions;
  whole: Map<string, FeatureProfile>;
  /** Segments sorted by value. */
  segments: SegmentProfile[];
}

/** Freezes the stats of a finished pass into a profile entry. */
export function snapshotColumn(
  stats: ColumnStats,
  dictionary: CategoryDictionary,
  numbersLabelled: boolean,
  rows: number,
): FeatureProfile {
  const hasNumbers = stats.numericCount > 0;
  const feature: FeatureProfile = {
    present: stats.present,
    missing: rows - stats.present,
    numericCount: stats.numericCount,
    textCount: stats.textCount,
    mean: hasNumbers ? stats.mean : Number.NaN,
    std: hasNumbers ? stats.std : Number.NaN,
    min: hasNumbers ? stats.min : Number.NaN,
    max: hasNumbers ? stats.max : Number.NaN,
    sample: stats.takeSample(),
    edges: new Float64Array(0),
    binCounts: stats.binCounts,
    categories: canonicalOrder(stats.categories(dictionary, numbersLabelled)),
  };
  return withSampleStats(feature);
}

function withSampleStats(feature: FeatureProfile): FeatureProfile {
  const { sample } = feature;
  // No numbers, or a column with text whose sample was dropped: it is categorical.
  if (feature.numericCount === 0 || sample.length === 0) return feature;
  // numpy's std of every value when the sample holds them all; the streamed moments otherwise.
  if (feature.numericCount === sample.length) feature.std = populationStd(sample);
  feature.edges = decileEdges(sample);
  return feature;
}

/**
 * Categories by count (most frequent first), ties by label: one order whether the counts come from data or
 * from a stored profile, so sums over categories round the same way and both give identical numbers.
 */
export function canonicalOrder(categories: Map<string, number> | null): Map<string, number> | null {
  if (categories === null) return null;
  return new Map([...categories].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** Whether KS and Wasserstein on this side ran on a sample rather than every value. */
export function isSampled(profile: FeatureProfile): boolean {
  return profile.numericCount > profile.sample.length;
}

// ---------------------------------------------------------------------------------------------------------
// Serialisation: `driftwatch profile` writes this, `driftwatch drift` and the Lambda read it.

export const PROFILE_FORMAT = 'driftwatch-profile';
export const PROFILE_VERSION = 1;

interface FeatureProfileJson {
  present: number;
  missing: number;
  numericCount: number;
  textCount: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  /** Little-endian float64 values, base64: exact and a third the size of decimal text. */
  sample: string;
  edges: number[];
  /**
   * The current side's exact counts over the baseline's edges, base64 float64 like `sample`: kept by partial
   * profiles (a Data Capture file's) so a window's merge stays exact; absent in baseline profiles.
   */
  binCounts?: string;
  categories: [string, number][] | null;
}

interface TableProfileJson {
  format: typeof PROFILE_FORMAT;
  version: typeof PROFILE_VERSION;
  createdAt: string;
  source: { name: string; format?: string | undefined };
  rows: number;
  columns: string[];
  features: string[];
  options: ProfileOptions;
  whole: Record<string, FeatureProfileJson>;
  segments: { value: string; rows: number; features: Record<string, FeatureProfileJson> }[];
}

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

function featureToJson(feature: FeatureProfile): FeatureProfileJson {
  const base64 = (values: Float64Array) =>
    Buffer.from(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).toString('base64');
  return {
    present: feature.present,
    missing: feature.missing,
    numericCount: feature.numericCount,
    textCount: feature.textCount,
    mean: finiteOrNull(feature.mean),
    std: finiteOrNull(feature.std),
    min: finiteOrNull(feature.min),
    max: finiteOrNull(feature.max),
    sample: base64(feature.sample),
    edges: [...feature.edges],
    ...(feature.binCounts !== null && { binCounts: base64(feature.binCounts) }),
    // Already in canonical order (see canonicalOrder), which a loaded profile keeps.
    categories: feature.categories === null ? null : [...feature.categories],
  };
}

function float64s(text: string): Float64Array {
  const raw = Buffer.from(text, 'base64');
  const values = new Float64Array(raw.byteLength / 8);
  new Uint8Array(values.buffer).set(raw);
  return values;
}

function featureFromJson(json: FeatureProfileJson): FeatureProfile {
  const sample = float64s(json.sample);
  return {
    present: json.present,
    missing: json.missing,
    numericCount: json.numericCount,
    textCount: json.textCount,
    mean: json.mean ?? Number.NaN,
    std: json.std ?? Number.NaN,
    min: json.min ?? Number.NaN,
    max: json.max ?? Number.NaN,
    sample,
    edges: Float64Array.from(json.edges),
    binCounts: json.binCounts === undefined ? null : float64s(json.binCounts),
    categories: json.categories === null ? null : new Map(json.categories),
  };
}

const mapToRecord = (map: Map<string, FeatureProfile>) =>
  Object.fromEntries([...map].map(([name, feature]) => [name, featureToJson(feature)]));

const recordToMap = (record: Record<string, FeatureProfileJson>) =>
  new Map(Object.entries(record).map(([name, feature]) => [name, featureFromJson(feature)]));

/** The profile as the JSON document `driftwatch profile` writes. */
export function profileToJson(profile: TableProfile, createdAt = new Date()): string {
  const json: TableProfileJson = {
    format: PROFILE_FORMAT,
    version: PROFILE_VERSION,
    createdAt: createdAt.toISOString(),
    source: { name: profile.name, format: profile.format },
    rows: profile.rows,
    columns: profile.columns,
    features: profile.features,
    options: profile.options,
    whole: mapToRecord(profile.whole),
    segments: profile.segments.map((s) => ({
      value: s.value,
      rows: s.rows,
      features: mapToRecord(s.features),
    })),
  };
  return JSON.stringify(json);
}

/** True when a parsed JSON document looks like a driftwatch profile (any version). */
export function isProfileDocument(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && (value as { format?: unknown }).format === PROFILE_FORMAT
  );
}

/** Reads a profile document; `file` names it in errors. */
export function profileFromJson(text: string, file: string): TableProfile {
  let json: TableProfileJson;
  try {
    json = JSON.parse(text) as TableProfileJson;
  } catch (error) {
    throw new InputError({ file }, `not a valid profile: ${(error as Error).message}`);
  }
  if (!isProfileDocument(json))
    throw new InputError({ file }, `not a driftwatch profile (no "format": "${PROFILE_FORMAT}")`);
  if (json.version !== PROFILE_VERSION) {
    throw new InputError(
      { file, field: 'version' },
      `profile version ${json.version} is not supported (expected ${PROFILE_VERSION})`,
    );
  }
  return {
    name: json.source.name,
    format: json.source.format,
    rows: json.rows,
    columns: json.columns,
    features: json.features,
    options: json.options,
    whole: recordToMap(json.whole),
    segments: json.segments.map((s) => ({ value: s.value, rows: s.rows, features: recordToMap(s.features) })),
  };
}
