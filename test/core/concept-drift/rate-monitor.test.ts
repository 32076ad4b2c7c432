import { describe, expect, it } from 'vitest';
import {
  createRateMonitor,
  type RateMonitorState,
  updateRateMonitor,
} from '../../../lambdas/core/concept-drift/rate-monitor.ts';
import { ConfigError, ValueError } from '../../../lambdas/core/errors.ts';
import { sequentialRateTest } from '../../../lambdas/core/stats/sequential-two-proportion.ts';
import { simulateRateMonitor } from '../../helpers/sequential-simulation.ts';
import { bernoulliStream } from '../../helpers/streams.ts';

describe('per-cohort rate monitor (mixture SPRT against the baseline rate)', () => {
  it('detects where the running test first reaches 1/alpha, then starts a new test', () => {
    const outcomes = bernoulliStream(3, 5000, 0.2, 0.3, 1000);
    const { detections, state } = updateRateMonitor(createRateMonitor({ baselineRate: 0.2 }), outcomes);
    expect(detections.length).toBeGreaterThan(1);
    const [first] = detections;
    expect(first!.direction).toBe('up');
    // The same statistic, computed from scratch at the detection and one outcome before it.
    const events = outcomes.slice(0, first!.position + 1).reduce((a: number, b) => a + b, 0);
    const at = sequentialRateTest(events, first!.position + 1, 0.2);
    expect(at.likelihoodRatio).toBeGreaterThanOrEqual(20);
    expect(first!.likelihoodRatio).toBeCloseTo(at.likelihoodRatio, 6);
    const before = sequentialRateTest(events - outcomes[first!.position]!, first!.position, 0.2);
    expect(before.likelihoodRatio).toBeLessThan(20);
    expect(state.n).toBe(5000);
  });
  it('gives the same detections in one go or in 100 chunks with JSON save/load', () => {
    const outcomes = bernoulliStream(4, 20_000, 0.1, 0.16, 5000);
    const whole = updateRateMonitor(createRateMonitor({ baselineRate: 0.1, baselineTrials: 5000 }), outcomes);
    let state: RateMonitorState = createRateMonitor({ baselineRate: 0.1, baselineTrials: 5000 });
    const positions: number[] = [];
    for (let start = 0; start < outcomes.length; start += 200) {
      const result = updateRateMonitor(state, outcomes.slice(start, start + 200));
      positions.push(...result.detections.map((d) => d.position));
      state = JSON.parse(JSON.stringify(result.state)) as RateMonitorState;
    }
    expect(positions).toEqual(whole.detections.map((d) => d.position));
    expect(state).toEqual(whole.state);
  });
  it('waits for minSamples and takes booleans', () => {
    const { detections } = updateRateMonitor(
      createRateMonitor({ baselineRate: 0.1, minSamples: 50 }),
      Array(49).fill(true),
    );
    expect(detections).toEqual([]);
    expect(
      updateRateMonitor(createRateMonitor({ baselineRate: 0.1, minSamples: 50 }), Array(50).fill(true))
        .detections,
    ).toHaveLength(1);
  });
  it('rejects bad settings and outcomes', () => {
    expect(() => createRateMonitor({ baselineRate: 0 })).toThrow(ConfigError);
    expect(() => createRateMonitor({ baselineRate: 0.2, alpha: 0.9 })).toThrow(
      /settings\.alpha: expected a number in \(0, 0\.5\]/,
    );
    expect(() => updateRateMonitor(createRateMonitor({ baselineRate: 0.2 }), [0, 2])).toThrow(ValueError);
  });
});

describe('rate monitor looked at after every outcome (seeded, 200 runs of 10,000)', () => {
  it('stationary cohort (rate 0.2 = baseline): false alarm share at or below alpha 0.05', () => {
    const result = simulateRateMonitor({ baseline: 0.2, rate: 0.2, runs: 200, length: 10_000, seed: 16 });
    expect(result.detectedShare).toBeLessThanOrEqual(0.05);
  });
  it('a 5-point drop (0.20 -> 0.15) is found in every run, within 2,500 outcomes', () => {
    const result = simulateRateMonitor({ baseline: 0.2, rate: 0.15, runs: 200, length: 10_000, seed: 17 });
    expect(result.detectedShare).toBe(1);
    expect(result.firstDetections.at(-1)).toBeLessThanOrEqual(2500);
  });
});
