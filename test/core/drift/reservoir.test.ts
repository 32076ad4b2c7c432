import { describe, expect, it } from 'vitest';
import { Reservoir, seedFor } from '../../../lambdas/core/drift/reservoir.ts';

describe('Reservoir', () => {
  it('keeps every value below its capacity', () => {
    const reservoir = new Reservoir(5000, 1);
    for (let i = 3000; i > 0; i--) reservoir.add(i);
    expect(reservoir.size).toBe(3000);
    expect([...reservoir.sorted()]).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
  });

  it('samples uniformly above its capacity, reproducibly from the seed', () => {
    const run = (seed: number) => {
      const reservoir = new Reservoir(1000, seed);
      for (let i = 0; i < 100_000; i++) reservoir.add(i);
      return reservoir.sorted();
    };
    const sample = run(7);
    expect(sample.length).toBe(1000);
    expect(run(7)).toEqual(sample);
    expect(run(8)).not.toEqual(sample);
    // Each decile of the stream should hold about a tenth of the sample (binomial sd ~ 9.5).
    const deciles = new Array(10).fill(0);
    for (const value of sample) deciles[Math.floor(value / 10_000)]++;
    for (const count of deciles) expect(Math.abs(count - 100)).toBeLessThan(45);
    const mean = sample.reduce((a, b) => a + b, 0) / sample.length;
    expect(Math.abs(mean - 50_000)).toBeLessThan(3000);
  });

  it('derives distinct seeds per column and segment', () => {
    expect(seedFor(42, 'a')).not.toBe(seedFor(42, 'b'));
    expect(seedFor(42, 'a', 'x')).not.toBe(seedFor(42, 'a'));
    expect(seedFor(42, 'ab')).not.toBe(seedFor(42, 'a', 'b'));
    expect(seedFor(42, 'a')).toBe(seedFor(42, 'a'));
  });
});
