/**
 * mulberry32: a seeded generator of uniform numbers in [0, 1) with a 32-bit state. Small, fast and good
 * enough to pick sample slots and route requests; the same seed gives the same sequence, so runs repeat.
 *
 * @example
 * ```ts
 * const random = mulberry32(42);
 * random() === mulberry32(42)(); // true
 * ```
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
