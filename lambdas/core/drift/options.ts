import { ConfigError } from '../errors.ts';
import type { DriftMethod } from './types.ts';

/** A method choice: a named test, or `auto` for the spec's size-based decision. */
export type MethodChoice = DriftMethod | 'auto';

export interface MethodSetting {
  method: MethodChoice;
  /** Omitted: the method's default threshold. */
  threshold?: number;
}

/** Which columns are what, and how they are read. Fixed when a baseline profile is built. */
export interface ColumnOptions {
  /** Columns to treat as numeric whatever they hold. */
  numeric?: readonly string[];
  /** Columns to treat as categorical whatever they hold (labels kept as raw text). */
  categorical?: readonly string[];
  /** Columns that are not features: labels, predictions, ids, timestamps. */
  exclude?: readonly string[];
  /**
   * Columns left out like `exclude` when the table has them, and not required to exist: the metadata a
   * reader adds (a Data Capture record's variant, eventId, ...). A column named in another option stays.
   */
  metadata?: readonly string[];
  /** Column whose values split the data into segments tested separately. @default none */
  segment?: string | null;
  /**
   * Rows per side sampled for KS and Wasserstein (a feature keeps its values in them); below it those tests
   * are exact.
   * @default 250000, raised for narrow tables so that samples hold up to 5,000,000 values per side
   */
  sampleCap?: number;
  /** Seed of the sampler. @default 42 */
  seed?: number;
  /** Most distinct values of a categorical column before it is rejected as an identifier. @default 10000 */
  maxCategories?: number;
  /** Most distinct values of the segment column. @default 100 */
  maxSegments?: number;
}

/** How drift is decided. */
export interface DecisionOptions {
  /** Method for every feature it applies to. @default auto */
  method?: MethodSetting;
  /** Per-feature method and threshold, overriding `method`. */
  features?: Readonly<Record<string, MethodSetting>>;
  /** Share of drifted features at which the dataset counts as drifted. @default 0.5 */
  driftShare?: number;
  /**
   * FDR level Q: decides drift on Benjamini-Hochberg adjusted p-values and effects (spec version 2).
   * @default none (version 1 decisions)
   */
  fdr?: number;
  /** Version 2: minimum effect of KS (D) and chi-square (Cramér's V). @default { ks: 0.1, chi2: 0.1 } */
  minEffect?: { ks?: number; chi2?: number };
}

export type DriftOptions = ColumnOptions & DecisionOptions;

export const DEFAULT_SAMPLE_CAP = 250_000;
/**
 * Values a side's samples may hold in all (40 MB) when the cap is not set: a table with fewer than 20 feature
 * columns gets a larger cap, so more of its tests are exact, for the memory a wide table uses.
 */
export const SAMPLE_BUDGET_VALUES = 5_000_000;
export const MIN_SAMPLE_CAP = 100_000;
export const DEFAULT_SEED = 42;
export const DEFAULT_MAX_CATEGORIES = 10_000;
export const DEFAULT_MAX_SEGMENTS = 100;
export const DEFAULT_DRIFT_SHARE = 0.5;

/** Column options with every default filled in. */
export interface ResolvedColumnOptions {
  numeric: ReadonlySet<string>;
  categorical: ReadonlySet<string>;
  exclude: ReadonlySet<string>;
  segment: string | null;
  sampleCap: number;
  /** Whether `sampleCap` is the default, which a table with few feature columns may raise. */
  sampleCapIsDefault: boolean;
  seed: number;
  maxCategories: number;
  maxSegments: number;
}

/** The default sample cap of a table with this many feature columns. */
export function defaultSampleCap(featureColumns: number): number {
  return Math.max(DEFAULT_SAMPLE_CAP, Math.floor(SAMPLE_BUDGET_VALUES / Math.max(1, featureColumns)));
}

/** Checks column options for contradictions that need no data, and fills in defaults. */
export function resolveColumnOptions(options: ColumnOptions): ResolvedColumnOptions {
  const numeric = new Set(options.numeric ?? []);
  const categorical = new Set(options.categorical ?? []);
  const exclude = new Set(options.exclude ?? []);
  for (const name of options.metadata ?? []) {
    if (!numeric.has(name) && !categorical.has(name) && name !== options.segment) exclude.add(name);
  }
  for (const name of numeric) {
    if (categorical.has(name)) {
      throw new ConfigError('--numeric', `${JSON.stringify(name)} is also named in --categorical`);
    }
  }
  const segment = options.segment ?? null;
  if (segment !== null && exclude.has(segment)) {
    throw new ConfigError('--segment', `${JSON.stringify(segment)} is also named in --exclude`);
  }
  if (segment !== null && (numeric.has(segment) || categorical.has(segment))) {
    throw new ConfigError('--segment', `${JSON.stringify(segment)} is a segment column, not a feature`);
  }
  const sampleCap = options.sampleCap ?? DEFAULT_SAMPLE_CAP;
  if (!Number.isInteger(sampleCap) || sampleCap < MIN_SAMPLE_CAP) {
    throw new ConfigError('--sample-cap', `must be a whole number of at least ${MIN_SAMPLE_CAP}`);
  }
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed) || seed < 0) throw new ConfigError('--seed', 'must be a whole number >= 0');
  const maxCategories = options.maxCategories ?? DEFAULT_MAX_CATEGORIES;
  if (!Number.isInteger(maxCategories) || maxCategories < 2) {
    throw new ConfigError('--max-categories', 'must be a whole number of at least 2');
  }
  const maxSegments = options.maxSegments ?? DEFAULT_MAX_SEGMENTS;
  if (!Number.isInteger(maxSegments) || maxSegments < 1) {
    throw new ConfigError('--max-segments', 'must be a whole number of at least 1');
  }
  return {
    numeric,
    categorical,
    exclude,
    segment,
    sampleCap,
    sampleCapIsDefault: options.sampleCap === undefined,
    seed,
    maxCategories,
    maxSegments,
  };
}

/** Fails when an option names a column that the data does not have. */
export function checkColumnsExist(options: DriftOptions, columns: readonly string[], source: string): void {
  const known = new Set(columns);
  const check = (flag: string, names: Iterable<string> | undefined) => {
    for (const name of names ?? []) {
      if (!known.has(name)) {
        throw new ConfigError(
          flag,
          `no column ${JSON.stringify(name)} in ${source} (columns: ${preview(columns)})`,
        );
      }
    }
  };
  check('--numeric', options.numeric);
  check('--categorical', options.categorical);
  check('--exclude', options.exclude);
  check('--segment', options.segment ? [options.segment] : []);
  check('--feature-method', Object.keys(options.features ?? {}));
}

function preview(columns: readonly string[]): string {
  const shown = columns.slice(0, 12).join(', ');
  return columns.length > 12 ? `${shown}, … ${columns.length - 12} more` : shown;
}
