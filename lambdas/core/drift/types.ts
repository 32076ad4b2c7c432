/**
 * Types of the drift report, version 1 of `docs/drift-spec.md`. Field names here are the contract:
 * they may be added to, never renamed or removed without a new spec version.
 */

export type FeatureType = 'numeric' | 'categorical';

/** Tests that apply to numeric features. */
export type NumericMethod = 'ks' | 'psi' | 'jensenShannon' | 'wasserstein';
/** Tests that apply to categorical features. */
export type CategoricalMethod = 'chi2' | 'psi' | 'jensenShannon';
export type DriftMethod = NumericMethod | CategoricalMethod;

export interface StatisticWithPValue {
  statistic: number;
  pValue: number;
}

export interface ScalarValue {
  value: number;
}

export interface NumericTests {
  ks: StatisticWithPValue;
  psi: ScalarValue;
  jensenShannon: ScalarValue;
  wasserstein: ScalarValue;
}

export interface CategoricalTests {
  chi2: StatisticWithPValue;
  psi: ScalarValue;
  jensenShannon: ScalarValue;
}

export interface SegmentRef {
  column: string;
  value: string;
}

/**
 * What the HTML report draws: counts per bin (numeric, equal-width bins over both sides' range) or per
 * category (the most frequent ones, the rest folded into one bar). Not part of the spec's numbers.
 */
export type Distribution =
  | { kind: 'bins'; edges: number[]; baseline: number[]; current: number[] }
  | {
      kind: 'categories';
      categories: string[];
      baseline: number[];
      current: number[];
      otherCategories: number;
    };

export interface FeatureDrift {
  feature: string;
  segment: SegmentRef | null;
  type: FeatureType;
  missing: { baseline: number; current: number };
  method: DriftMethod;
  score: number;
  threshold: number;
  drifted: boolean;
  tests: NumericTests | CategoricalTests;
  /** Non-missing values on each side. */
  count: { baseline: number; current: number };
  /** True when a side exceeded the sample cap, so KS and Wasserstein used a uniform sample. */
  sampled: boolean;
  distribution?: Distribution;
}

export interface DriftReport {
  rows: { baseline: number; current: number };
  datasetDrift: boolean;
  driftShare: number;
  features: FeatureDrift[];
  metadata?: DriftReportMetadata;
}

export interface DriftReportMetadata {
  specVersion: 1;
  generatedAt: string;
  baseline: { name: string; kind: 'data' | 'profile' };
  current: { name: string };
  /** Share of drifted features at which the dataset counts as drifted. */
  driftShareThreshold: number;
  segmentColumn: string | null;
  sampleCap: number;
  sampleSeed: number;
  /** Wall time per phase, milliseconds. */
  timings?: Record<string, number>;
}
