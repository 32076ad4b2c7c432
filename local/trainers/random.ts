import { mulberry32 } from '../../lambdas/core/stats/random.ts';

/**
 * A seeded generator of uniform numbers in [0, 1): mulberry32, a 32-bit state with a good spread for
 * sampling and routing. Used wherever the emulator or a trainer draws at random, so that a run repeats
 * exactly under the same seed.
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * random() === seededRandom(42)(); // true
 * ```
 */
export const seededRandom: (seed: number) => () => number = mulberry32;
