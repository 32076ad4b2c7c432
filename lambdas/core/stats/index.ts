/**
 * The statistics core: pure functions over plain arrays that reproduce numpy 1.24 / scipy 1.10 to the
 * drift spec's tolerance (relative 1e-6, absolute 1e-9 near 0), checked against golden fixtures generated
 * by `scripts/golden/stats.py`.
 */

export { chiSquareHomogeneity } from './chi-square.ts';
export { StatisticInputError } from './errors.ts';
export { jensenShannonDistance } from './jensen-shannon.ts';
export { KS_MAX_EXACT_SIZE, ksTwoSample } from './ks.ts';
export { pairwiseSum } from './pairwise-sum.ts';
export { flooredProportions, PROPORTION_FLOOR, populationStabilityIndex } from './psi.ts';
export { binCounts, binIndex, decileEdges, quantileLinear } from './quantile.ts';
export { chiSquareSurvival, logGamma, upperIncompleteGammaRegularized } from './special/gamma.ts';
export { kolmogorovSmirnovSurvival, smirnovSurvival } from './special/kolmogorov.ts';
export { populationStd, wassersteinDistance } from './wasserstein.ts';
