import { mulberry32 } from '../stats/random.ts';
import {
  canonicalOrder,
  type FeatureProfile,
  finishPartFeature,
  type SegmentProfile,
  type TableProfile,
} from './profile.ts';
import { presentPrefix, seedFor } from './row-sample.ts';

/**
 * Combines profiles of consecutive parts of one table (read in parallel, each finished with `part: true`)
 * into the profile of the whole. Counts, category counts and bin counts add up; moments combine with Chan
 * et al.'s pairwise formula. A part's samples hold its sampled rows (sorted, NaN where a value is missing),
 * so the merge samples rows as a single pass does: all of them while the whole fits under the cap,
 * which then equals a single pass exactly, and above it a uniform subset, the number of rows drawn from
 * each part following the hypergeometric law of a uniform draw from the union. {@link finishMergedProfile}
 * then drops the missing entries and derives what depends on the samples.
 */
export function mergeTableProfiles(parts: readonly TableProfile[]): TableProfile {
  if (parts.length === 0) throw new RangeError('no profiles to merge');
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const { sampleCap, seed } = first.options;
  const draws = new RowDraws(seed);
  const merge = (entries: Sized[], ...key: string[]) =>
    mergeFeatures(entries, sampleCap, seedFor(seed, 'merge', ...key), draws);

  const whole = new Map<string, FeatureProfile>();
  for (const feature of first.features) {
    whole.set(
      feature,
      merge(
        parts.map((part) => ({ profile: part.whole.get(feature)!, rows: part.rows })),
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
        if (!list.some((segment) => segment.features.has(feature))) continue;
        // A part where the feature had no value in this segment still had its rows.
        const entries = list.map((segment) => ({
          profile: segment.features.get(feature) ?? noValues(Math.min(segment.rows, sampleCap)),
          rows: segment.rows,
        }));
        features.set(feature, merge(entries, feature, value));
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

/** Sorts the merged samples and computes what a single pass derives from them: std and PSI edges. */
export function finishMergedProfile(profile: TableProfile): TableProfile {
  const finish = (features: Map<string, FeatureProfile>) =>
    new Map([...features].map(([name, feature]) => [name, finishPartFeature(feature)]));
  return {
    ...profile,
    whole: finish(profile.whole),
    segments: profile.segments.map((segment) => ({ ...segment, features: finish(segment.features) })),
  };
}

/** A feature profile and the rows its sample was drawn from. */
interface Sized {
  profile: FeatureProfile;
  rows: number;
}

function noValues(sampledRows: number): FeatureProfile {
  return {
    present: 0,
    missing: 0,
    numericCount: 0,
    textCount: 0,
    mean: Number.NaN,
    std: Number.NaN,
    min: Number.NaN,
    max: Number.NaN,
    sample: new Float64Array(sampledRows).fill(Number.NaN),
    edges: new Float64Array(0),
    binCounts: null,
    categories: new Map(),
  };
}

function mergeFeatures(
  entries: readonly Sized[],
  sampleCap: number,
  seed: number,
  draws: RowDraws,
): FeatureProfile {
  let merged = entries[0]!;
  for (let i = 1; i < entries.length; i++) {
    const next = entries[i]!;
    merged = {
      profile: mergeTwo(merged, next, sampleCap, seed + i, draws),
      rows: merged.rows + next.rows,
    };
  }
  return merged.profile;
}

function mergeTwo(
  sizedA: Sized,
  sizedB: Sized,
  sampleCap: number,
  seed: number,
  draws: RowDraws,
): FeatureProfile {
  const a = sizedA.profile;
  const b = sizedB.profile;
  const numericCount = a.numericCount + b.numericCount;
  const hasNumbers = numericCount > 0;
  return {
    present: a.present + b.present,
    missing: a.missing + b.missing,
    numericCount,
    textCount: a.textCount + b.textCount,
    mean: hasNumbers ? combinedMean(a, b) : Number.NaN,
    // Replaced by numpy's std over every value when the sample turns out to hold them all.
    std: hasNumbers ? combinedStd(a, b) : Number.NaN,
    min: hasNumbers ? Math.min(orInfinity(a.min), orInfinity(b.min)) : Number.NaN,
    max: hasNumbers ? Math.max(orMinusInfinity(a.max), orMinusInfinity(b.max)) : Number.NaN,
    sample: mergeRowSamples(sizedA, sizedB, sampleCap, seed, draws),
    edges: new Float64Array(0),
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
 * The sampled rows of both parts when they all fit; otherwise `sampleCap` rows, a hypergeometric share from
 * each part (each part's rows being a uniform sample of its rows, a uniform subset of them is too). A part's
 * sample holds one entry per sampled row, sorted with the missing ones (NaN) last: which rows are chosen does
 * not depend on their order, and choosing keeps it, so the two choices merge into one sorted sample.
 */
function mergeRowSamples(a: Sized, b: Sized, sampleCap: number, seed: number, draws: RowDraws): Float64Array {
  const take = Math.min(sampleCap, a.rows + b.rows);
  const sampleA = a.profile.sample;
  const sampleB = b.profile.sample;
  if (take === sampleA.length + sampleB.length) return mergeSorted(sampleA, sampleB);
  const fromA = draws.fromFirst(take, a.rows, b.rows);
  // An empty sample is a column without numbers there (or with text): nothing to draw.
  const short = (sample: Float64Array, drawn: number) => sample.length > 0 && drawn > sample.length;
  if (short(sampleA, fromA) || short(sampleB, take - fromA)) {
    throw new SampleShortfall('a part holds fewer sampled rows than the merge draws from it');
  }
  const random = mulberry32(seed);
  return mergeSorted(subsample(sampleA, fromA, random), subsample(sampleB, take - fromA, random));
}

/** A part held too few sampled rows for the merge (see `sampleShare`): the table must be read in one pass. */
export class SampleShortfall extends Error {
  override readonly name = 'SampleShortfall';
}

/**
 * How many of `take` rows drawn without replacement from populations of `rowsA` and `rowsB` rows come from
 * the first: one hypergeometric draw per distinct (take, rowsA, rowsB), shared by every feature as the rows
 * of a single pass's sample are.
 */
class RowDraws {
  private readonly seed: number;
  private readonly drawn = new Map<string, number>();

  constructor(seed: number) {
    this.seed = seed;
  }

  fromFirst(take: number, rowsA: number, rowsB: number): number {
    const key = `${take}/${rowsA}/${rowsB}`;
    let fromA = this.drawn.get(key);
    if (fromA === undefined) {
      const random = mulberry32(seedFor(this.seed, 'merge', key));
      fromA = 0;
      let remainingA = rowsA;
      let remainingB = rowsB;
      for (let i = 0; i < take; i++) {
        if (random() * (remainingA + remainingB) < remainingA) {
          fromA++;
          remainingA--;
        } else {
          remainingB--;
        }
      }
      this.drawn.set(key, fromA);
    }
    return fromA;
  }
}

/** Two ascending runs (NaN last in each) as one, NaN last. */
function mergeSorted(a: Float64Array, b: Float64Array): Float64Array {
  const endA = presentPrefix(a).length;
  const endB = presentPrefix(b).length;
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < endA && j < endB) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < endA) out[k++] = a[i++]!;
  while (j < endB) out[k++] = b[j++]!;
  out.fill(Number.NaN, k);
  return out;
}

/** `count` entries chosen uniformly without replacement, in their order (selection sampling). */
function subsample(values: Float64Array, count: number, random: () => number): Float64Array {
  if (count >= values.length) return values;
  const out = new Float64Array(count);
  let needed = count;
  for (let i = 0, filled = 0; i < values.length && needed > 0; i++) {
    if (random() * (values.length - i) < needed) {
      out[filled++] = values[i]!;
      needed--;
    }
  }
  return out;
}
