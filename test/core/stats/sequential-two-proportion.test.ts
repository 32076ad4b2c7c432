import { describe, expect, it } from 'vitest';
import { StatisticInputError } from '../../../lambdas/core/stats/errors.ts';
import {
  mixtureLikelihoodRatio,
  sequentialRateTest,
  sequentialTwoProportionTest,
} from '../../../lambdas/core/stats/sequential-two-proportion.ts';
import { simulatePeeking } from '../../helpers/sequential-simulation.ts';

describe('sequentialTwoProportionTest (mixture SPRT, Johari et al.)', () => {
  it('computes Λ = √(V/(V + τ²)) exp(τ²θ̂²/(2V(V + τ²))) by hand', () => {
    // 60/100 vs 45/100: p̂ = 0.525, V = 0.525·0.475·0.02 = 0.0049875, τ² = 0.0025, θ̂ = 0.15.
    // √(0.0049875/0.0074875) = 0.81615; exponent 0.0025·0.0225/(2·0.0049875·0.0074875) = 0.75313.
    const test = sequentialTwoProportionTest(60, 100, 45, 100);
    expect(test.variance).toBeCloseTo(0.0049875, 12);
    expect(test.likelihoodRatio).toBeCloseTo(0.81615 * Math.exp(0.75313), 4);
    expect(test.pValue).toBeCloseTo(1 / test.likelihoodRatio, 12);
    expect(test).toMatchObject({ proportion1: 0.6, proportion2: 0.45, mixtureSd: 0.05 });
  });
  it('is symmetric in the two samples and grows with the evidence', () => {
    const a = sequentialTwoProportionTest(600, 1000, 450, 1000);
    const b = sequentialTwoProportionTest(450, 1000, 600, 1000);
    expect(a.likelihoodRatio).toBeCloseTo(b.likelihoodRatio, 0);
    expect(a.difference).toBeCloseTo(-b.difference, 12);
    expect(a.likelihoodRatio).toBeGreaterThan(sequentialTwoProportionTest(60, 100, 45, 100).likelihoodRatio);
  });
  it('gives p = 1 without a difference or without variance', () => {
    expect(sequentialTwoProportionTest(50, 100, 50, 100)).toMatchObject({ difference: 0, pValue: 1 });
    expect(sequentialTwoProportionTest(100, 100, 7, 7)).toMatchObject({ likelihoodRatio: 0, pValue: 1 });
    expect(sequentialTwoProportionTest(0, 100, 0, 7).pValue).toBe(1);
  });
  it('rejects impossible counts', () => {
    expect(() => sequentialTwoProportionTest(5, 4, 1, 2)).toThrow(StatisticInputError);
    expect(() => sequentialTwoProportionTest(1, 0, 1, 2)).toThrow(/at least one observation/);
    expect(() => sequentialTwoProportionTest(1.5, 4, 1, 2)).toThrow(/whole number/);
    expect(() => mixtureLikelihoodRatio(0.1, 0.01, 0)).toThrow(/mixtureSd must be > 0/);
  });
  it('tests a rate against a known or an estimated baseline', () => {
    // 150 of 1000 against 0.2: θ̂ = −0.05, V = 0.16/1000; with 1000 baseline trials V doubles.
    const known = sequentialRateTest(150, 1000, 0.2);
    expect(known.variance).toBeCloseTo(0.00016, 12);
    expect(known.likelihoodRatio).toBeCloseTo(
      Math.sqrt(0.00016 / 0.00266) * Math.exp((0.0025 * 0.0025) / (2 * 0.00016 * 0.00266)),
      6,
    );
    const estimated = sequentialRateTest(150, 1000, 0.2, 1000);
    expect(estimated.variance).toBeCloseTo(0.00032, 12);
    expect(estimated.likelihoodRatio).toBeLessThan(known.likelihoodRatio);
  });
});

describe('peeking: a look every 100 outcomes up to 20,000, alpha 0.05 (seeded simulation)', () => {
  it('no true difference (accuracy 0.8 in both arms, 500 runs): the repeated z-test rejects in 41% of runs, the sequential test in 3%', () => {
    const result = simulatePeeking({ champion: 0.8, challenger: 0.8, runs: 500, seed: 14 });
    expect(result.zTestRejections).toBeGreaterThan(0.3);
    expect(result.sequentialRejections).toBeLessThanOrEqual(0.05);
    expect([result.zTestRejections, result.sequentialRejections]).toEqual([0.414, 0.03]);
  });
  it('a true 5-point drop (0.80 -> 0.75, 200 runs): the sequential test stops in every run, the right way, within 12,000 outcomes (95% within 6,500)', () => {
    const result = simulatePeeking({ champion: 0.8, challenger: 0.75, runs: 200, seed: 15 });
    expect(result.sequentialRejections).toBe(1);
    expect(result.wrongDirection).toBe(0);
    const stops = result.sequentialStops;
    expect(stops.at(-1)).toBeLessThanOrEqual(12_000);
    expect(stops[Math.floor(stops.length * 0.95)]).toBeLessThanOrEqual(6500);
    expect(stops[stops.length >> 1]).toBeLessThanOrEqual(3000);
  });
});
