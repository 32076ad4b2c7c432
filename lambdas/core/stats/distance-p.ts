/**
 * p-values of the binned distances (PSI and Jensen-Shannon) under "both sides come from one distribution",
 * from their asymptotic chi-square law (drift-spec.md version 2, "p-values of the distances").
 *
 * With K bins, proportions p (baseline, n values) and q (current, m values) and n_eff = n·m / (n + m),
 * a second-order expansion around p = q gives
 *   PSI = Σ (q - p) ln(q / p) ≈ Σ (q - p)² / r      and      JS² ≈ (1/8) Σ (q - p)² / r,
 * with r the pooled proportion, while Pearson's two-sample statistic is n_eff · Σ (q - p)² / r, which tends
 * to chi-square with K - 1 degrees of freedom. So n_eff · PSI and 8 · n_eff · JS² tend to the same law (PSI
 * is Jeffreys' J-divergence; this is the classical result for it and for the Jensen-Shannon divergence,
 * e.g. Lin 1991, Menéndez et al. 1997). The p-value is its upper tail at the observed distance: no
 * permutations, no floor, the same answer for the same numbers.
 */

import { chiSquareSurvival } from './special/gamma.ts';

/** n·m / (n + m): the effective size of a two-sample comparison. */
export function effectiveSize(baseline: number, current: number): number {
  return baseline > 0 && current > 0 ? (baseline * current) / (baseline + current) : 0;
}

/**
 * P(χ²_{K-1} >= n_eff · PSI). One bin (or none) carries no information: p-value 1.
 *
 * @example psiPValue(0.01, 10, 1000, 1000) // about 0.9
 */
export function psiPValue(psi: number, bins: number, baseline: number, current: number): number {
  if (bins < 2) return 1;
  return chiSquareSurvival(effectiveSize(baseline, current) * psi, bins - 1);
}

/** P(χ²_{K-1} >= 8 · n_eff · JS²), JS the Jensen-Shannon distance (natural log). */
export function jensenShannonPValue(
  distance: number,
  bins: number,
  baseline: number,
  current: number,
): number {
  if (bins < 2) return 1;
  return chiSquareSurvival(8 * effectiveSize(baseline, current) * distance * distance, bins - 1);
}

/**
 * Cramér's V of a 2 × K table from its chi-square statistic: sqrt(χ² / (N · (min(2, K) - 1))), N the
 * table's total. In [0, 1]; 0 when there are fewer than 2 categories.
 */
export function cramersV(statistic: number, total: number, categories: number): number {
  if (categories < 2 || total <= 0) return 0;
  return Math.min(1, Math.sqrt(statistic / total));
}
