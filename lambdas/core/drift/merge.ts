import { decileEdges } from '../stats/quantile.ts';
import { mulberry32 } from '../stats/random.ts';
import { populationStd } from '../stats/wasserstein.ts';
import { NUMERIC_CATEGORY_LIMIT } from './column-stats.ts';
import { canonicalOrder, type FeatureProfile, type SegmentProfile, type TableProfile } from './profile.ts';

/**
 * Merging profiles of parts of a table into the profile of the whole: what a window of many small files
 * (Data Capture writes one every few seconds per instance) needs, so each file is profiled once on arrival
 * and a window is checked by merging its partial profiles.
 *
 * Exact: counts, missing values, min and max, the categories' counts and the current side's bin counts over
 * the baseline's edges (when every part was binned on the same edges, as a window's files are against one
 * baseline). Mean and standard deviation combine as Chan et al.'s parallel moments (equal to one pass up to
 * rounding). The KS/Wasserstein sample: while the parts hold fewer numbers than the sample cap in all, the
 * merged sample is every number, so the tests are exactly those of the whole; past the cap it is a uniform
 * sample of the union (a multivariate hypergeometric split of the cap over the parts, each part's share
 * drawn from its own uniform sample), reproducible from the seed. Decile edges and the exact standard
 * deviation are recomputed from the merged sample as a single pass would.
 */

export interface MergeOptions {
  /** Numbers per feature the merged sample may hold. @default the parts' sample cap */
  sampleCap?: number;
  /** Seed of the draw past the cap. @default the parts' seed */
  seed?: number;
  /** The merged profile's name (a window: `endpoint/variant 2026-12-07T01:00Z`). @default the parts' names joined */
  name?: string;
}

/**
 * The profile of the rows of every part, as if they had been read as one table in the parts' order.
 *
 * @throws RangeError without parts, or when the parts were built with different column options.
 */
export function mergeTableProfiles(parts: readonly TableProfile[], options: MergeOptions = {}): TableProfile {
  const first = parts[0];
  if (first === undefined) throw new RangeError('nothing to merge');
  const built = JSON.stringify(first.options);
  for (const part of parts) {
    if (JSON.stringify(part.options) !== built) {
      throw new RangeError(`${part.name} was profiled with other column options than ${first.name}`);
    }
  }
  const sampleCap = options.sampleCap ?? first.options.sampleCap;
  const random = mulberry32((options.seed ?? first.options.seed) >>> 0 || 0x9e3779b9);
  const union = (lists: readonly (readonly string[])[]) => [...new Set(lists.flat())];
  const features = union(parts.map((part) => part.features));
  const mergeFeatures = (maps: { rows: number; features: Map<string, FeatureProfile> }[]) => {
    const merged = new Map<string, FeatureProfile>();
    for (const name of features) {
      const present = maps.filter((map) => map.features.has(name));
      if (present.length === 0) continue;
      // A part without the column (a JSON key it never saw) has all its rows missing there.
      const entries = maps.map((map) => map.features.get(name) ?? absent(map.rows));
      merged.set(name, mergeFeatureProfiles(entries, sampleCap, random));
    }
    return merged;
  };
  const segmentValues = [...new Set(parts.flatMap((part) => part.segments.map((s) => s.value)))].sort(
    (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  );
  const segments: SegmentProfile[] = segmentValues.map((value) => {
    const maps = parts.map((part) => {
      const segment = part.segments.find((s) => s.value === value);
      return { rows: segment?.rows ?? 0, features: segment?.features ?? new Map<string, FeatureProfile>() };
    });
    return { value, rows: maps.reduce((sum, map) => sum + map.rows, 0), features: mergeFeatures(maps) };
  });
  return {
    name: options.name ?? parts.map((part) => part.name).join(' + '),
    format: first.format,
    rows: parts.reduce((sum, part) => sum + part.rows, 0),
    columns: union(parts.map((part) => part.columns)),
    features,
    options: first.options,
    whole: mergeFeatures(parts.map((part) => ({ rows: part.rows, features: part.whole }))),
    segments,
  };
}

/** A feature of a part that never had the column: every row missing. */
function absent(rows: number): FeatureProfile {
  return {
    present: 0,
    missing: rows,
    numericCount: 0,
    textCount: 0,
    mean: Number.NaN,
    std: Number.NaN,
    min: Number.NaN,
    max: Number.NaN,
    sample: new Float64Array(0),
    edges: new Float64Array(0),
    binCounts: null,
    categories: new Map(),
  };
}

/** One feature's profiles of several parts as one (see the module comment). */
export function mergeFeatureProfiles(
  parts: readonly FeatureProfile[],
  sampleCap: number,
  random: () => number,
): FeatureProfile {
  let present = 0;
  let missing = 0;
  let numericCount = 0;
  let textCount = 0;
  let mean = 0;
  let squares = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let categories: Map<string, number> | null = new Map();
  let binCounts: Float64Array | null = null;
  let binned = true;
  let sampleDropped = false;
  for (const part of parts) {
    present += part.present;
    missing += part.missing;
    textCount += part.textCount;
    if (part.numericCount > 0) {
      // Chan, Golub and LeVeque: the combined mean and sum of squared deviations of two groups.
      const n = numericCount + part.numericCount;
      const delta = part.mean - mean;
      squares +=
        part.std * part.std * part.numericCount + (delta * delta * numericCount * part.numericCount) / n;
      mean += (delta * part.numericCount) / n;
      numericCount = n;
      min = Math.min(min, part.min);
      max = Math.max(max, part.max);
      if (part.sample.length === 0) sampleDropped = true;
    }
    if (categories !== null && part.categories !== null) {
      for (const [label, count] of part.categories)
        categories.set(label, (categories.get(label) ?? 0) + count);
    } else {
      categories = null;
    }
    if (part.binCounts !== null) {
      if (binCounts === null) binCounts = new Float64Array(part.binCounts.length);
      if (part.binCounts.length !== binCounts.length) binned = false;
      else for (let i = 0; i < binCounts.length; i++) binCounts[i]! += part.binCounts[i]!;
    } else if (part.numericCount > 0) {
      binned = false;
    }
  }
  const hasNumbers = numericCount > 0;
  // As a single pass: a column of numbers stops counting their text past this many distinct labels.
  if (hasNumbers && categories !== null && categories.size > NUMERIC_CATEGORY_LIMIT) categories = null;
  const sample = hasNumbers && !sampleDropped ? mergeSamples(parts, sampleCap, random) : new Float64Array(0);
  const feature: FeatureProfile = {
    present,
    missing,
    numericCount,
    textCount,
    mean: hasNumbers ? mean : Number.NaN,
    std: hasNumbers ? Math.sqrt(squares / numericCount) : Number.NaN,
    min: hasNumbers ? min : Number.NaN,
    max: hasNumbers ? max : Number.NaN,
    sample,
    edges: new Float64Array(0),
    binCounts: binned ? binCounts : null,
    categories: canonicalOrder(categories),
  };
  if (sample.length > 0) {
    // As a single pass: numpy's std of every value when the sample holds them all.
    if (sample.length === numericCount) feature.std = populationStd(sample);
    feature.edges = decileEdges(sample);
  }
  return feature;
}

/**
 * A sorted uniform sample of at most `cap` of the parts' numbers: all of them below the cap; past it, a
 * multivariate hypergeometric split of the cap over the parts (draw by draw, each part with probability
 * its numbers not yet drawn over all not yet drawn), each part's share taken at random from its sample.
 */
function mergeSamples(parts: readonly FeatureProfile[], cap: number, random: () => number): Float64Array {
  const total = parts.reduce((sum, part) => sum + part.numericCount, 0);
  let merged: Float64Array;
  if (total <= cap) {
    merged = new Float64Array(total);
    let at = 0;
    for (const part of parts) {
      merged.set(part.sample, at);
      at += part.sample.length;
    }
  } else {
    const remaining = parts.map((part) => part.numericCount);
    const take = parts.map(() => 0);
    let left = total;
    for (let draw = 0; draw < cap; draw++) {
      let pick = random() * left;
      let i = 0;
      while (i < remaining.length - 1 && pick >= remaining[i]!) pick -= remaining[i++]!;
      remaining[i]!--;
      take[i]!++;
      left--;
    }
    merged = new Float64Array(cap);
    let at = 0;
    parts.forEach((part, i) => {
      // A part's sample is a uniform sample of its numbers; a random subset of it is one too.
      const values = Float64Array.from(part.sample);
      for (let k = 0; k < take[i]!; k++) {
        const j = k + Math.floor(random() * (values.length - k));
        const chosen = values[j]!;
        values[j] = values[k]!;
        values[k] = chosen;
        merged[at++] = chosen;
      }
    });
  }
  return merged.sort();
}
