import type { FeatureProfile, TableProfile } from './profile.ts';

/**
 * The profile of a table read by several passes over the same rows, each profiling one share of its feature
 * columns (`AccumulatorContext.columnShare`): each feature's entry comes from the share that has it, in the
 * table's column order. Since every share samples the same rows, this is the profile one pass over every
 * column gives.
 *
 * @throws Error when the shares did not read the same table (different columns, rows or segments).
 */
export function joinColumnShares(shares: readonly TableProfile[]): TableProfile {
  const first = shares[0];
  if (first === undefined) throw new Error('no column shares to join');
  const segments = (profile: TableProfile) => JSON.stringify(profile.segments.map((s) => [s.value, s.rows]));
  for (const share of shares) {
    if (
      share.rows !== first.rows ||
      share.columns.join('\n') !== first.columns.join('\n') ||
      segments(share) !== segments(first)
    ) {
      throw new Error(`the column shares of ${first.name} did not read the same rows`);
    }
  }
  const features = first.columns.filter((name) => shares.some((share) => share.whole.has(name)));
  const pick = (entries: (share: TableProfile) => Map<string, FeatureProfile> | undefined) => {
    const joined = new Map<string, FeatureProfile>();
    for (const name of features) {
      for (const share of shares) {
        const entry = entries(share)?.get(name);
        if (entry !== undefined) joined.set(name, entry);
      }
    }
    return joined;
  };
  return {
    ...first,
    features,
    whole: pick((share) => share.whole),
    segments: first.segments.map((segment, i) => ({
      ...segment,
      features: pick((share) => share.segments[i]?.features),
    })),
  };
}
