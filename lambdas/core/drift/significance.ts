/**
 * Version 2 of the drift decision (docs/drift-spec.md): a feature counts as drifted when its p-value,
 * adjusted for false discoveries across its family, is at most the FDR level Q AND its effect is at least
 * the method's minimum effect. Every method has a p-value and an effect:
 *
 * | method | p-value | effect |
 * | --- | --- | --- |
 * | ks | the KS test's | D |
 * | chi2 | the chi-square test's | Cramér's V |
 * | psi | P(χ²_{K-1} >= n_eff · PSI) | PSI |
 * | jensenShannon | P(χ²_{K-1} >= 8 · n_eff · JS²) | JS |
 * | wasserstein | seeded permutation p-value | normalised W |
 *
 * Families: the whole-dataset entries are one, the (feature, segment) entries another.
 */

import { ConfigError } from '../errors.ts';
import { cramersV, jensenShannonPValue, psiPValue } from '../stats/distance-p.ts';
import { benjaminiHochberg } from '../stats/fdr.ts';
import { wassersteinPermutationPValue } from '../stats/permutation.ts';
import { MIN_WASSERSTEIN_SCALE } from '../stats/wasserstein.ts';
import type { FeatureProfile } from './profile.ts';
import type { CategoricalTests, DriftMethod, FeatureDrift, NumericTests } from './types.ts';

/** FDR level of new configs and of `--fdr` without a value. */
export const DEFAULT_FDR = 0.05;

/**
 * Minimum effect of the p-value methods (the distances use their threshold as theirs). KS: D = 0.1 means
 * the two CDFs differ by 10 points of probability somewhere; chi-square: Cramér's V = 0.1 is Cohen's
 * "small" association between side and category.
 */
export const DEFAULT_MIN_EFFECT: Readonly<MinEffect> = { ks: 0.1, chi2: 0.1 };

/** Minimum effect of the p-value methods: D for KS, Cramér's V for chi-square. */
export interface MinEffect {
  ks: number;
  chi2: number;
}

/** What decides drift in version 2: the FDR level and the minimum effects. */
export interface SignificanceOptions {
  /** FDR level Q in (0, 1]. */
  fdr: number;
  /** @default {@link DEFAULT_MIN_EFFECT} */
  minEffect?: Partial<MinEffect>;
}

/** Short name of each method's effect, as the reports print it. */
export const EFFECT_NAMES: Readonly<Record<DriftMethod, string>> = {
  ks: 'D',
  chi2: "Cramér's V",
  psi: 'PSI',
  jensenShannon: 'JS',
  wasserstein: 'W',
};

/** Checks an FDR level: a number in (0, 1]. */
export function checkFdr(value: number, field: string): number {
  if (!(value > 0 && value <= 1))
    throw new ConfigError(field, `expected an FDR level in (0, 1], got ${value}`);
  return value;
}

/** Checks minimum effects: numbers in [0, 1]. */
export function checkMinEffect(value: Partial<MinEffect>, field: string): Partial<MinEffect> {
  for (const [key, effect] of Object.entries(value)) {
    if (key !== 'ks' && key !== 'chi2')
      throw new ConfigError(`${field}.${key}`, "only ks (D) and chi2 (Cramér's V) take a minimum effect");
    if (!(typeof effect === 'number' && effect >= 0 && effect <= 1))
      throw new ConfigError(`${field}.${key}`, `expected a number in [0, 1], got ${JSON.stringify(effect)}`);
  }
  return value;
}

/** Checks the version 2 options of a decision: `minEffect` only with `fdr`, both in range. */
export function checkSignificanceOptions(decision: { fdr?: number; minEffect?: Partial<MinEffect> }): void {
  if (decision.fdr !== undefined) checkFdr(decision.fdr, '--fdr');
  if (decision.minEffect === undefined) return;
  if (decision.fdr === undefined)
    throw new ConfigError(
      '--min-effect',
      'applies to version 2 decisions: add --fdr (for instance --fdr 0.05)',
    );
  checkMinEffect(decision.minEffect, '--min-effect');
}

/** An entry's p-value and effect before adjustment. */
export interface RawSignificance {
  pValue: number;
  effect: number;
  minEffect: number;
}

/** Where an entry's p-value and effect come from, beyond its tests. */
export interface SignificanceInputs {
  method: DriftMethod;
  threshold: number;
  tests: NumericTests | CategoricalTests;
  baseline: FeatureProfile;
  current: FeatureProfile;
  /** Bins (numeric) or categories (categorical) the binned tests compared. */
  bins: number;
  /** Values each side's binned proportions came from. */
  binned: { baseline: number; current: number };
  seed: number;
}

/** The p-value and effect of an entry's method (the Wasserstein permutations run here). */
export function rawSignificance(inputs: SignificanceInputs, options: SignificanceOptions): RawSignificance {
  const { method, tests, bins, binned } = inputs;
  const minEffect = { ...DEFAULT_MIN_EFFECT, ...options.minEffect };
  switch (method) {
    case 'ks': {
      const ks = (tests as NumericTests).ks;
      return { pValue: ks.pValue, effect: ks.statistic, minEffect: minEffect.ks };
    }
    case 'chi2': {
      const chi2 = (tests as CategoricalTests).chi2;
      const total = inputs.baseline.present + inputs.current.present;
      return {
        pValue: chi2.pValue,
        effect: cramersV(chi2.statistic, total, bins),
        minEffect: minEffect.chi2,
      };
    }
    case 'psi': {
      const psi = tests.psi.value;
      return {
        pValue: psiPValue(psi, bins, binned.baseline, binned.current),
        effect: psi,
        minEffect: inputs.threshold,
      };
    }
    case 'jensenShannon': {
      const js = tests.jensenShannon.value;
      return {
        pValue: jensenShannonPValue(js, bins, binned.baseline, binned.current),
        effect: js,
        minEffect: inputs.threshold,
      };
    }
    case 'wasserstein': {
      const w = (tests as NumericTests).wasserstein.value;
      const { pValue } = wassersteinPermutationPValue(
        inputs.baseline.sample,
        inputs.current.sample,
        // The permutations compare raw distances: undo the normalisation by the baseline's spread.
        w * Math.max(inputs.baseline.std, MIN_WASSERSTEIN_SCALE),
        inputs.seed,
      );
      return { pValue, effect: w, minEffect: inputs.threshold };
    }
  }
}

/**
 * Adjusts the p-values of each family (whole dataset; (feature, segment) pairs) with Benjamini-Hochberg and
 * decides every entry that carries a raw p-value: `drifted` = adjusted p <= Q and effect >= minimum.
 */
export function decideWithFdr(entries: FeatureDrift[], fdr: number): void {
  const families = [entries.filter((e) => e.segment === null), entries.filter((e) => e.segment !== null)];
  for (const family of families) {
    const adjusted = benjaminiHochberg(family.map((e) => e.pValue!));
    family.forEach((entry, i) => {
      entry.pValueAdjusted = adjusted[i]!;
      entry.significant = adjusted[i]! <= fdr;
      entry.drifted = entry.significant && entry.effect! >= entry.minEffect!;
      entry.reason = explain(entry, fdr);
    });
  }
}

/** One line on why an entry did or did not count as drift. */
export function explain(entry: FeatureDrift, fdr: number): string {
  const effect = `${EFFECT_NAMES[entry.method]} ${short(entry.effect!)}`;
  const adjusted = `adjusted p ${short(entry.pValueAdjusted!)}`;
  const large = entry.effect! >= entry.minEffect!;
  const effectVsMin = `${effect} ${large ? '≥' : '<'} minimum effect ${short(entry.minEffect!)}`;
  if (entry.drifted) return `drifted: ${adjusted} ≤ ${short(fdr)} and ${effectVsMin}`;
  if (entry.significant) return `not counted: significant (${adjusted} ≤ ${short(fdr)}) but ${effectVsMin}`;
  const raw =
    entry.pValue! <= fdr
      ? ` (raw p ${short(entry.pValue!)}: significant alone, not among this many tests)`
      : '';
  if (large) return `not counted: ${effectVsMin} but not significant, ${adjusted} > ${short(fdr)}${raw}`;
  return `no drift: ${adjusted} > ${short(fdr)}${raw}, ${effectVsMin}`;
}

/** Two significant digits, or scientific below 0.001. */
function short(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) < 0.001) return value.toExponential(1);
  return String(Number(value.toPrecision(2)));
}
