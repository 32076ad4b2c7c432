import type { DeclaredTypes, NumericResult, NumericResults } from '../../../lambdas/core/drift/compute.ts';
import type { ResolvedColumnOptions } from '../../../lambdas/core/drift/options.ts';
import type { FeatureProfile, TableProfile } from '../../../lambdas/core/drift/profile.ts';
import type { AccumulatorContext, ColumnShare } from '../../../lambdas/core/drift/table-accumulator.ts';

/** A local file for a worker thread to read whole, profiling the share of its columns the context names. */
export interface ShareTask {
  kind: 'share';
  path: string;
  options: ResolvedColumnOptions;
  context: AccumulatorContext;
  maxDecompressedBytes: number | undefined;
  /** The baseline of the share's features, whose numeric tests the worker then computes (`TestsAhead`). */
  tests?: { baseline: TableProfile; declared: DeclaredTypes };
}

/** A result of `computeNumericResults`, named by its feature and segment (the profile's objects do not cross threads). */
export interface NamedResult extends NumericResult {
  segment: string | null;
  feature: string;
}

/** A drift run's two local files for a worker thread to read in turn, its share of the columns of each. */
export interface PairTask {
  kind: 'pair';
  baselinePath: string;
  currentPath: string;
  options: ResolvedColumnOptions;
  columnShare: ColumnShare;
  maxDecompressedBytes: number | undefined;
}

export type WorkerMessage =
  | { type: 'done'; profile: TableProfile; tests: NamedResult[] }
  | { type: 'pair-done'; baseline: TableProfile; current: TableProfile; tests: NamedResult[] }
  /** The share could not be read (bad input, most likely): the single pass reads the file and says why. */
  | { type: 'failed'; reason: string };

/** The results for the entries of `share`, by name. */
export function nameResults(share: TableProfile, results: NumericResults): NamedResult[] {
  const named: NamedResult[] = [];
  const add = (segment: string | null, features: Map<string, FeatureProfile>) => {
    for (const [feature, profile] of features) {
      const result = results.get(profile);
      if (result) named.push({ segment, feature, ...result });
    }
  };
  add(null, share.whole);
  for (const segment of share.segments) add(segment.value, segment.features);
  return named;
}

/** Puts named results into `into` under the entries of `profile` they name. */
export function placeResults(
  profile: TableProfile,
  named: readonly NamedResult[],
  into: NumericResults,
): void {
  const segments = new Map(profile.segments.map((segment) => [segment.value, segment.features]));
  for (const { segment, feature, ...result } of named) {
    const entry = (segment === null ? profile.whole : segments.get(segment))?.get(feature);
    if (entry) into.set(entry, result);
  }
}
