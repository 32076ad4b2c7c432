import { readFileSync } from 'node:fs';

/**
 * Typed access to test/fixtures/golden/stats.json, written by scripts/golden/stats.py from numpy 1.24 /
 * scipy 1.10. Samples are stored once by name; see the script for the encodings.
 */

type EncodedSample =
  | { values: number[] }
  | { scale: number; ints: number[] }
  | { scale: number; levels: number[]; counts: number[] };

export interface QuantileCase {
  name: string;
  sample: string;
  q: number[];
  quantiles: number[];
  edges: number[];
  probes: string;
  bins: number[];
  binCounts: number[];
}

export interface KsCase {
  name: string;
  b: string;
  c: string;
  statistic: number;
  pValue: number;
  path: 'exact' | 'exact->asymp' | 'asymp';
}

export interface ProportionCase {
  name: string;
  baselineCounts: number[];
  currentCounts: number[];
  baselineProportions: number[];
  currentProportions: number[];
  psi: number;
  jensenShannon: number;
}

export interface NumericBinsCase {
  name: string;
  b: string;
  c: string;
  edges: number[];
  baselineCounts: number[];
  currentCounts: number[];
  psi: number;
  jensenShannon: number;
}

export interface GoldenStats {
  generator: { numpy: string; scipy: string; seed: number };
  quantile: QuantileCase[];
  ks: KsCase[];
  /** [d, n, kstwo.sf(d, n), branch of kolmogn] */
  kstwo: [number, number, number, string][];
  /** [n, x, smirnov(n, x)] */
  smirnov: [number, number, number][];
  proportions: ProportionCase[];
  numericBins: NumericBinsCase[];
  wasserstein: { name: string; u: string; v: string; distance: number }[];
  std: { sample: string; std: number }[];
  chi2: { name: string; baseline: number[]; current: number[]; statistic: number; pValue: number }[];
  /** [x, dof, chi2.sf(x, dof)] */
  chi2Sf: [number, number, number][];
  /** [a, x, gammaincc(a, x)] */
  gammaincc: [number, number, number][];
  samples: Record<string, EncodedSample>;
}

let cache: GoldenStats | undefined;

export function goldenStats(): GoldenStats {
  cache ??= JSON.parse(
    readFileSync(new URL('../fixtures/golden/stats.json', import.meta.url), 'utf8'),
  ) as GoldenStats;
  return cache;
}

/** A named sample, decoded to exactly the doubles numpy saw (int / scale is one correctly rounded division). */
export function goldenSample(name: string): Float64Array {
  const encoded = goldenStats().samples[name];
  if (!encoded) throw new Error(`stats.json has no sample ${JSON.stringify(name)}`);
  if ('values' in encoded) return Float64Array.from(encoded.values);
  if ('ints' in encoded) return Float64Array.from(encoded.ints, (value) => value / encoded.scale);
  const values: number[] = [];
  encoded.levels.forEach((level, i) => {
    for (let k = 0; k < encoded.counts[i]!; k++) values.push(level / encoded.scale);
  });
  return Float64Array.from(values);
}

/** The sample sorted ascending, as the KS and Wasserstein functions take it. */
export function goldenSortedSample(name: string): Float64Array {
  return goldenSample(name).sort();
}
