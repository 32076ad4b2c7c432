import { decileEdges } from '../stats/quantile.ts';
import { mulberry32 } from '../stats/random.ts';
import { mergeSorted, populationStd } from '../stats/wasserstein.ts';
import { canonicalOrder, type FeatureProfile, type SegmentProfile, type TableProfile } from './profile.ts';
import { seedFor } from './reservoir.ts';

/**
 * Combines profiles of consecutive parts of one table (read in parallel) into the profile of the whole.
 * Counts, category counts and bin counts add up; moments combine with Chan et al.'s pairwise formula; the
 * samples are merged so that, while the whole fits under the sample cap, the result holds every value and
 * equals a single pass exactly, and above it stays a uniform sample: the number of values drawn from each
 * part follows the hypergeometric law of a uniform draw from the union.
 */
export function mergeTableProfiles(parts: readonly TableProfile[]): TableProfile {
  if (parts.length === 0) throw new RangeError('no profiles to merge');
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const { sampleCap, seed } = first.options;
  const merge = (entries: FeatureProfile[], ...key: string[]) =>
    mergeFeatures(entries, sampleCap, seedFor(seed, 'merge', ...key));

  const whole = new Map<string, FeatureProfile>();
  for (const feature of first.features) {
    whole.set(
      feature,
      merge(
        parts.map((part) => part.whole.get(feature)!),
        feature,
      ),
    );
  }
  const segmentParts = new Map<string, SegmentProfile[]>();
  for (const part of parts) {
    for (const segment of part.segments) {
      const list = segmentParts.get(segment.value) ?? [];
      list.push(segment);
      segmentParts.set(segment.value, list);
    }
  }
  const segments: SegmentProfile[] = [...segmentParts]
    .map(([value, list]) => {
      const rows = list.reduce((sum, segment) => sum + segment.rows, 0);
      const features = new Map<string, FeatureProfile>();
      for (const feature of first.features) {
        const entries = list.flatMap((segment) => segment.features.get(feature) ?? []);
        if (entries.length > 0) features.set(feature, merge(entries, feature, value));
      }
      // A segment's missing count is its rows without a value, including parts where the feature had none.
      for (const profile of features.values()) profile.missing = rows - profile.present;
      return { value, rows, features };
    })
    .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return {
    ...first,
    rows: parts.reduce((sum, part) => sum + part.rows, 0),
    whole,
    segments,
  };
}

function mergeFeatures(entries: readonly FeatureProfile[], sampleCap: number, seed: number): FeatureProfile {
  let merged = entries[0]!;
  for (let i = 1; i < entries.length; i++) merged = mergeTwo(merged, entries[i]!, sampleCap, seed + i);
  return merged;
}

function mergeTwo(a: FeatureProfile, b: FeatureProfile, sampleCap: number, seed: number): FeatureProfile {
  const numericCount = a.numericCount + b.numericCount;
  const sample = mergeSamples(a, b, sampleCap, seed);
  const exact = sample.length === numericCount;
  const hasNumbers = numericCount > 0;
  return {
    present: a.present + b.present,
    missing: a.missing + b.missing,
    numericCount,
    textCount: a.textCount + b.textCount,
    mean: hasNumbers ? combinedMean(a, b) : Number.NaN,
    // As a single pass does: numpy's std over every value when the sample holds them all.
    std: !hasNumbers ? Number.NaN : exact ? populationStd(sample) : combinedStd(a, b),
    min: hasNumbers ? Math.min(orInfinity(a.min), orInfinity(b.min)) : Number.NaN,
    max: hasNumbers ? Math.max(orMinusInfinity(a.max), orMinusInfinity(b.max)) : Number.NaN,
    sample,
    edges: hasNumbers ? decileEdges(sample) : new Float64Array(0),
    binCounts: addCounts(a.binCounts, b.binCounts),
    categories: mergeCategories(a, b),
  };
}

const orInfinity = (x: number) => (Number.isNaN(x) ? Number.POSITIVE_INFINITY : x);
const orMinusInfinity = (x: number) => (Number.isNaN(x) ? Number.NEGATIVE_INFINITY : x);

function combinedMean(a: FeatureProfile, b: FeatureProfile): number {
  if (a.numericCount === 0) return b.mean;
  if (b.numericCount === 0) return a.mean;
  return a.mean + ((b.mean - a.mean) * b.numericCount) / (a.numericCount + b.numericCount);
}

/** Chan, Golub and LeVeque's combination of two sets' moments. */
function combinedStd(a: FeatureProfile, b: FeatureProfile): number {
  if (a.numericCount === 0) return b.std;
  if (b.numericCount === 0) return a.std;
  const n = a.numericCount + b.numericCount;
  const delta = b.mean - a.mean;
  const m2 =
    a.std * a.std * a.numericCount +
    b.std * b.std * b.numericCount +
    (delta * delta * a.numericCount * b.numericCount) / n;
  return Math.sqrt(m2 / n);
}

function addCounts(a: Float64Array | null, b: Float64Array | null): Float64Array | null {
  if (a === null || b === null) return a ?? b;
  const sum = Float64Array.from(a);
  for (let i = 0; i < sum.length; i++) sum[i]! += b[i]!;
  return sum;
}

function mergeCategories(a: FeatureProfile, b: FeatureProfile): Map<string, number> | null {
  if (a.categories === null || b.categories === null) return null;
  const merged = new Map(a.categories);
  for (const [label, count] of b.categories) merged.set(label, (merged.get(label) ?? 0) + count);
  // The order a single pass gives.
  return canonicalOrder(merged);
}

/**
 * Both sorted samples in one sorted array when everything fits; otherwise `sampleCap` values, a
 * hypergeometric share from each side (each side's sample being uniform over its values, a uniform subset
 * of it is too), merged in order.
 */
function mergeSamples(a: FeatureProfile, b: FeatureProfile, sampleCap: number, seed: number): Float64Array {
  const total = a.numericCount + b.numericCount;
  if (total <= sampleCap && a.sample.length === a.numericCount && b.sample.length === b.numericCount) {
    return mergeSorted(a.sample, b.sample);
  }
  const random = mulberry32(seed);
  // Draw sampleCap values without replacement from populations of a.numericCount and b.numericCount.
  let fromA = 0;
  let remainingA = a.numericCount;
  let remainingB = b.numericCount;
  const take = Math.min(sampleCap, total);
  for (let i = 0; i < take; i++) {
    if (random() * (remainingA + remainingB) < remainingA) {
      fromA++;
      remainingA--;
    } else {
      remainingB--;
    }
  }
  fromA = Math.min(fromA, a.sample.length);
  const fromB = Math.min(take - fromA, b.sample.length);
  return mergeSorted(subsample(a.sample, fromA, random), subsample(b.sample, fromB, random));
}

/** `count` values of a sorted array chosen uniformly without replacement, still sorted (selection sampling). */
function subsample(sorted: Float64Array, count: number, random: () => number): Float64Array {
  if (count >= sorted.length) return sorted;
  const out = new Float64Array(count);
  let needed = count;
  for (let i = 0, filled = 0; i < sorted.length && needed > 0; i++) {
    if (random() * (sorted.length - i) < needed) {
      out[filled++] = sorted[i]!;
      needed--;
    }
  }
  return out;
}
