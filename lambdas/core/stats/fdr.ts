/**
 * Benjamini-Hochberg false discovery control, as `statsmodels.stats.multitest.multipletests(p,
 * method="fdr_bh")` computes it (statsmodels 0.13, Debian's `python3-statsmodels`).
 */

import { StatisticInputError } from './errors.ts';

/**
 * Adjusted p-values of Benjamini-Hochberg (1995): with the m p-values sorted ascending, the i-th (1-based)
 * becomes min over j >= i of p_(j) · m / j, capped at 1, and goes back to its input position. Rejecting
 * where the adjusted value is at most Q is the step-up procedure at level Q (statsmodels' `reject`), which
 * keeps the expected share of false discoveries at most Q for independent or positively dependent tests.
 *
 * Ties keep their input order (a stable sort): the adjusted values do not depend on it.
 *
 * @example benjaminiHochberg([0.01, 0.04, 0.03]) // [0.03, 0.04, 0.04]
 * @throws {StatisticInputError} when a p-value is not a number in [0, 1].
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  for (const p of pValues) {
    if (!(p >= 0 && p <= 1)) {
      throw new StatisticInputError('benjaminiHochberg', `p-values must be in [0, 1], got ${p}`);
    }
  }
  const order = pValues.map((_, i) => i).sort((x, y) => pValues[x]! - pValues[y]! || x - y);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const index = order[rank - 1]!;
    // p / (rank / m), the float operations of statsmodels (p_(m) stays exactly p).
    running = Math.min(running, pValues[index]! / (rank / m));
    adjusted[index] = running;
  }
  return adjusted;
}
