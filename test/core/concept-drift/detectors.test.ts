import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AdwinState, adwinPush, createAdwin } from '../../../lambdas/core/concept-drift/adwin.ts';
import {
  createDetector,
  Detector,
  type DetectorMethod,
  type DetectorState,
  updateDetector,
} from '../../../lambdas/core/concept-drift/detector.ts';
import { ConfigError, ValueError } from '../../../lambdas/core/errors.ts';
import { bernoulliStream, gaussianStream } from '../../helpers/streams.ts';

interface GoldenCase {
  name: string;
  method: DetectorMethod;
  stream: string;
  detections: number[];
  firstWarnings?: number[];
}
const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/detectors.json', import.meta.url), 'utf8'),
) as { cases: GoldenCase[] };

const METHODS: readonly DetectorMethod[] = ['adwin', 'ddm', 'page-hinkley'];

describe("River's documented examples (scripts/golden/detectors.py regenerates the streams)", () => {
  it.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const result = updateDetector(createDetector(c.method), [...c.stream].map(Number));
    expect(result.detections).toEqual(c.detections);
    if (c.firstWarnings) {
      // River prints the first warning, then the first one after each drift.
      const [drift] = c.detections as [number];
      expect(result.warnings.find((w) => w < drift)).toBe(c.firstWarnings[0]);
      expect(result.warnings.find((w) => w > drift)).toBe(c.firstWarnings[1]);
    }
  });
});

describe('state is a JSON value: a stream in one go or in 100 chunks with a save/load between each', () => {
  // Two changes up and one down, so every detector signals more than once.
  const errors = [
    ...bernoulliStream(1, 6000, 0.1),
    ...bernoulliStream(2, 6000, 0.35),
    ...bernoulliStream(3, 4000, 0.05),
    ...bernoulliStream(4, 4000, 0.3),
  ];
  const losses = [
    ...gaussianStream(5, 5000, 0.2, 0.5),
    ...gaussianStream(6, 5000, 0.2, 1.5),
    ...gaussianStream(7, 5000, 0.2, 0.2),
  ];
  it.each(METHODS)('%s', (method) => {
    const stream = method === 'ddm' ? errors : [...losses, ...errors];
    const whole = updateDetector(createDetector(method), stream);
    expect(whole.detections.length).toBeGreaterThan(1);
    let state: DetectorState = createDetector(method);
    const detections: number[] = [];
    const warnings: number[] = [];
    const size = Math.ceil(stream.length / 100);
    for (let start = 0; start < stream.length; start += size) {
      const result = updateDetector(state, stream.slice(start, start + size));
      detections.push(...result.detections);
      warnings.push(...result.warnings);
      state = JSON.parse(JSON.stringify(result.state)) as DetectorState;
    }
    expect(detections).toEqual(whole.detections);
    expect(warnings).toEqual(whole.warnings);
    expect(state).toEqual(whole.state);
  });
  it('leaves the state passed in unchanged', () => {
    const state = createDetector('adwin');
    const before = JSON.stringify(state);
    updateDetector(state, errors.slice(0, 1000));
    expect(JSON.stringify(state)).toBe(before);
  });
});

/** First detection at or after `change` and the number before it, over `seeds` streams. */
function run(method: DetectorMethod, streams: number[][], change: number) {
  let falseAlarms = 0;
  const delays: number[] = [];
  for (const stream of streams) {
    const { detections } = updateDetector(createDetector(method), stream);
    falseAlarms += detections.filter((d) => d < change).length;
    const first = detections.find((d) => d >= change);
    if (first !== undefined) delays.push(first - change);
  }
  delays.sort((a, b) => a - b);
  return {
    falseAlarms,
    detected: delays.length,
    median: delays[delays.length >> 1] ?? null,
    max: delays.at(-1) ?? null,
  };
}

const SEEDS = Array.from({ length: 20 }, (_, i) => 1000 + i);

describe('known change points (20 seeded streams of 10,000, change at 5,000)', () => {
  const rise = SEEDS.map((seed) => bernoulliStream(seed, 10_000, 0.1, 0.3, 5000));
  it('ADWIN: error rate 0.1 -> 0.3 found in every stream within 250 values, no false alarm', () => {
    expect(run('adwin', rise, 5000)).toMatchObject({ falseAlarms: 0, detected: 20 });
    expect(run('adwin', rise, 5000).max).toBeLessThan(250);
  });
  it('Page-Hinkley: error rate 0.1 -> 0.3 within 400 values, no false alarm', () => {
    expect(run('page-hinkley', rise, 5000)).toMatchObject({ falseAlarms: 0, detected: 20 });
    expect(run('page-hinkley', rise, 5000).max).toBeLessThan(400);
  });
  it('DDM: error rate 0.1 -> 0.3 found in every stream, half of them within 400 values', () => {
    const ddm = run('ddm', rise, 5000);
    expect(ddm.detected).toBe(20);
    expect(ddm.median).toBeLessThan(400);
  });
  it('Gaussian loss 0.5 -> 0.8 (sd 0.1): ADWIN at its next check, Page-Hinkley within 200', () => {
    const shift = SEEDS.map((seed) => gaussianStream(seed, 10_000, 0.1, 0.5, 0.8, 5000));
    // ADWIN checks every 32 values: 5,024 is the first check after the change, 5,055 the second.
    expect(run('adwin', shift, 5000)).toEqual({ falseAlarms: 0, detected: 20, median: 55, max: 55 });
    const ph = run('page-hinkley', shift, 5000);
    expect(ph).toMatchObject({ falseAlarms: 0, detected: 20 });
    expect(ph.max).toBeLessThan(200);
  });
  it('a drop is found too (Page-Hinkley both directions, ADWIN), DDM ignores it', () => {
    const drop = SEEDS.map((seed) => bernoulliStream(seed, 10_000, 0.3, 0.1, 5000));
    expect(run('adwin', drop, 5000).detected).toBe(20);
    expect(run('page-hinkley', drop, 5000).detected).toBe(20);
  });
});

describe('stationary streams (20 seeded streams of 10,000)', () => {
  it('ADWIN raises no false alarm on a 10% error rate or a Gaussian loss, Page-Hinkley at most one', () => {
    const errors = SEEDS.map((seed) => bernoulliStream(seed, 10_000, 0.1));
    const losses = SEEDS.map((seed) => gaussianStream(seed, 10_000, 0.1, 0.5));
    expect(run('adwin', errors, 10_000).falseAlarms).toBe(0);
    expect(run('adwin', losses, 10_000).falseAlarms).toBe(0);
    expect(run('page-hinkley', losses, 10_000).falseAlarms).toBe(0);
    // Page-Hinkley's λ = 50 is in values × units: a long run of 0/1 errors can reach it by chance.
    expect(run('page-hinkley', errors, 10_000).falseAlarms).toBeLessThanOrEqual(1);
  });
  it('DDM raises some: fewer than one per 10,000 values on average', () => {
    const errors = SEEDS.map((seed) => bernoulliStream(seed, 10_000, 0.1));
    expect(run('ddm', errors, 10_000).falseAlarms).toBeLessThan(20);
  });
});

describe('ADWIN by hand and by its invariants', () => {
  it('merges the two oldest buckets of a full row into the next row', () => {
    const state = createAdwin({
      delta: 0.002,
      clock: 32,
      maxBuckets: 5,
      minWindowLength: 5,
      gracePeriod: 10,
    });
    for (const value of [1, 2, 3, 4, 5, 6]) adwinPush(state, value);
    // Six values, at most five buckets of one: (1, 2) became one bucket of two, sum 3, squares 0.5.
    expect(state.rows).toEqual([
      { totals: [3, 4, 5, 6], variances: [0, 0, 0, 0] },
      { totals: [3], variances: [0.5] },
    ]);
    expect(state).toMatchObject({ width: 6, total: 21, variance: 17.5 });
  });
  it('cuts 32 zeros then ones where the Hoeffding-style bound first holds (clock 1)', () => {
    const detector = new Detector(createDetector('adwin', { clock: 1 }));
    const signals = [...Array(32).fill(0), ...Array(32).fill(1)].map((value) => detector.update(value)?.kind);
    // After j ones the window holds n = 32 + j values, σ² = p(1 − p) with p = j/n, and the best cut is W0 =
    // the 32 zeros, W1 = the j ones: gap 1. ε = √(2 m σ² δ') + (2/3) δ' m, m = 1/(32 − 4) + 1/(j − 4),
    // δ' = ln(2 ln n / 0.002). j = 27 (n = 59): δ' = 8.313, m = 0.0792, ε = 0.572 + 0.439 = 1.011 > 1;
    // j = 28 (n = 60): δ' = 8.317, m = 0.0774, ε = 0.566 + 0.429 = 0.995 < 1: a cut at position 59.
    expect(signals.indexOf('drift')).toBe(59);
    // The oldest buckets (zeros) were dropped until no cut held: all 32 ones are left, fewer zeros.
    const state = detector.snapshot() as AdwinState;
    expect(state.total).toBe(32);
    expect(state.width).toBeLessThan(64);
  });
  it('its window is always the last `width` values: sum and sum of squares exact, buckets add up', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: -5, max: 5, noNaN: true })), {
          minLength: 1,
          maxLength: 600,
        }),
        fc.integer({ min: 1, max: 40 }),
        (values, clock) => {
          const state = createDetector('adwin', { clock, delta: 0.1 }) as AdwinState;
          for (const value of values) adwinPush(state, value);
          const window = values.slice(values.length - state.width);
          const sizes = state.rows.reduce((sum, row, i) => sum + row.totals.length * 2 ** i, 0);
          expect(sizes).toBe(state.width);
          const mean = window.reduce((a, b) => a + b, 0) / window.length;
          expect(state.total).toBeCloseTo(
            window.reduce((a, b) => a + b, 0),
            6,
          );
          const squares = window.reduce((sum, v) => sum + (v - mean) ** 2, 0);
          expect(Math.abs(state.variance - squares)).toBeLessThan(1e-6 * Math.max(1, squares));
          for (const row of state.rows) expect(row.totals.length).toBeLessThanOrEqual(5);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('DDM and Page-Hinkley by hand', () => {
  it('DDM: 40 values alternating 0/1 then a run of errors; p + s against p_min + 3 s_min', () => {
    // After 31 values of 0,1,0,1,…: p = 15/31, s = √(p(1 − p)/31). Each further 1 raises p + s; the drift
    // comes at the first i where p_i + s_i > p_min + 3 s_min, computed here directly.
    const values = [...Array.from({ length: 40 }, (_, i) => i % 2), ...Array(40).fill(1)];
    let pMin = Number.POSITIVE_INFINITY;
    let sMin = Number.POSITIVE_INFINITY;
    let expected = -1;
    let mean = 0;
    for (let i = 0; i < values.length && expected < 0; i++) {
      mean += (values[i]! - mean) / (i + 1);
      const s = Math.sqrt((mean * (1 - mean)) / (i + 1));
      if (i + 1 <= 30) continue;
      if (mean + s <= pMin + sMin) [pMin, sMin] = [mean, s];
      if (mean + s > pMin + 3 * sMin) expected = i;
    }
    expect(expected).toBeGreaterThan(40);
    expect(updateDetector(createDetector('ddm'), values).detections).toEqual([expected]);
  });
  it('Page-Hinkley: a jump of 10 after 30 zeros drifts once U − min U exceeds 50', () => {
    // Zeros: mean 0, U = −δ·(1 + α + …) stays near its minimum. Then value 10 at position 30 + k: the
    // increase test needs Σ (10 − mean_i) − k δ > 50 over the fading sums; with means 10/31, 20/32, …
    // the sixth 10 (position 35) is the first past 50.
    const values = [...Array(30).fill(0), ...Array(20).fill(10)];
    const { detections } = updateDetector(createDetector('page-hinkley'), values);
    expect(detections).toEqual([35]);
    expect(updateDetector(createDetector('page-hinkley', { direction: 'down' }), values).detections).toEqual(
      [],
    );
  });
});

describe('signals carry the level before and after the change (for events)', () => {
  it('ADWIN: the mean of the dropped values and of the window kept', () => {
    const stream = [...Array(64).fill(0), ...Array(64).fill(1)];
    const [first] = updateDetector(createDetector('adwin'), stream).signals;
    // The first check after the change is at position 95 (every 32 values): the zeros dropped, mean 0.
    expect(first).toMatchObject({ position: 95, kind: 'drift', before: 0 });
    expect(first!.after).toBeGreaterThan(0.5);
  });
  it('DDM: the lowest error rate and the current one; Page-Hinkley: the mean since its reset', () => {
    const errors = bernoulliStream(21, 4000, 0.1, 0.4, 2000);
    const drift = updateDetector(createDetector('ddm'), errors).signals.find(
      (signal) => signal.kind === 'drift' && signal.position >= 2000,
    )!;
    expect(drift.before).toBeLessThan(0.12);
    expect(drift.after!).toBeGreaterThan(drift.before);
    const [ph] = updateDetector(createDetector('page-hinkley'), [
      ...Array(30).fill(0),
      ...Array(20).fill(10),
    ]).signals;
    // Six 10s after 30 zeros: the mean since the reset is 60/36.
    expect(ph).toEqual({ position: 35, kind: 'drift', before: expect.closeTo(60 / 36, 12), after: null });
  });
});

describe('parameters and values', () => {
  it('uses River defaults and takes overrides', () => {
    expect(createDetector('adwin').parameters).toEqual({
      delta: 0.002,
      clock: 32,
      maxBuckets: 5,
      minWindowLength: 5,
      gracePeriod: 10,
    });
    expect(createDetector('ddm').parameters).toEqual({
      minInstances: 30,
      warningThreshold: 2,
      driftThreshold: 3,
    });
    expect(createDetector('page-hinkley', { threshold: 20 }).parameters).toMatchObject({
      minInstances: 30,
      delta: 0.005,
      threshold: 20,
      alpha: 0.9999,
      direction: 'both',
    });
  });
  it('rejects unknown parameters and values out of range, naming the field', () => {
    expect(() => createDetector('adwin', { delta: 0 })).toThrow(ConfigError);
    expect(() => createDetector('adwin', { delta: 1.5 })).toThrow(
      /parameters\.delta: expected a number in \(0, 1\)/,
    );
    expect(() => createDetector('ddm', { threshold: 2 } as never)).toThrow(
      /parameters\.threshold: ddm has no such/,
    );
    expect(() => createDetector('ddm', { warningThreshold: 3 })).toThrow(/warningThreshold: must be below/);
    expect(() => createDetector('nope' as DetectorMethod)).toThrow(/method: expected one of adwin, ddm/);
  });
  it('rejects values the method cannot take', () => {
    expect(() => updateDetector(createDetector('ddm'), [0, 0.5])).toThrow(ValueError);
    expect(() => updateDetector(createDetector('adwin'), [Number.NaN])).toThrow(/not a finite number/);
  });
});
