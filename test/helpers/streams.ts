import { mulberry32 } from '../../lambdas/core/stats/random.ts';

/** A seeded standard normal draw (Box-Muller over mulberry32). */
export function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** `length` 0/1 errors, error rate `before` until position `change`, `after` from there on. */
export function bernoulliStream(
  seed: number,
  length: number,
  before: number,
  after = before,
  change = length,
) {
  const random = mulberry32(seed);
  return Array.from({ length }, (_, i) => (random() < (i < change ? before : after) ? 1 : 0));
}

/** `length` Gaussian losses with standard deviation `sd`, mean `before` until `change`, `after` from there. */
export function gaussianStream(
  seed: number,
  length: number,
  sd: number,
  before: number,
  after = before,
  change = length,
) {
  const random = mulberry32(seed);
  return Array.from({ length }, (_, i) => (i < change ? before : after) + sd * normal(random));
}
