import { describe, expect, it } from 'vitest';
import {
  applyOutcomes,
  type CohortState,
  cohortsOf,
  FeedbackRecordError,
  type FeedbackSettings,
  feedbackOutcome,
  parseFeedbackRecord,
  type StreamOutcome,
  WHOLE_MODEL,
} from '../../../lambdas/core/concept-drift/feedback.ts';
import { random } from '../../../local/demo/data.ts';

const settings: FeedbackSettings = {
  name: 'fraud',
  model: 'fraud',
  positiveClass: '1',
  threshold: 0.5,
  cohorts: ['country'],
  maxCohortsPerAttribute: 2,
  detectors: [{ method: 'adwin', parameters: {} }],
  rateMonitors: [
    {
      name: 'fraud-rate',
      outcome: 'label',
      baselineRate: 0.1,
      baselineTrials: null,
      alpha: 0.01,
      minSamples: 100,
    },
  ],
  renotifyAfterMs: 60 * 60_000,
  segmentColumn: 'country',
  retrains: true,
  segmentRetraining: true,
};

/** `n` outcomes of one shard, wrong with probability `errorRate`, fraud with probability `fraudRate`. */
function stream(n: number, errorRate: number, fraudRate: number, seed: number, from = 0): StreamOutcome[] {
  const next = random(seed);
  return Array.from({ length: n }, (_, i) => ({
    shardId: 'shardId-000000000000',
    sequenceNumber: String(10n ** 20n + BigInt(from + i)),
    arrivedAt: 1_000_000 + from + i,
    outcome: {
      error: next() < errorRate ? 1 : 0,
      positive: next() < fraudRate ? 1 : 0,
      cohort: { country: ['FR', 'DE', 'IT'][(from + i) % 3]! },
      eventTime: 1_000_000 + (from + i) * 1000,
    },
  }));
}

describe('parseFeedbackRecord', () => {
  it('reads a class or a score, the cohort and the event time', () => {
    expect(
      parseFeedbackRecord(
        '{"model":"fraud","label":1,"prediction":0.8,"cohort":{"country":"FR","age":31},"eventTime":"2025-01-02T03:04:05Z","predictionId":"p"}',
      ),
    ).toEqual({
      model: 'fraud',
      label: '1',
      prediction: { kind: 'score', value: 0.8 },
      predictionId: 'p',
      cohort: { country: 'FR', age: '31' },
      eventTime: Date.parse('2025-01-02T03:04:05Z'),
    });
    expect(parseFeedbackRecord('{"model":"m","label":"yes","prediction":"no"}').prediction).toEqual({
      kind: 'class',
      value: 'no',
    });
    expect(parseFeedbackRecord('{"model":"m","label":1,"prediction":1,"score":true}').prediction).toEqual({
      kind: 'score',
      value: 1,
    });
  });

  it.each([
    ['{', /^not JSON/, null],
    ['[1]', /^expected a JSON object/, null],
    ['{"label":1,"prediction":1}', /^model: expected a model name/, null],
    ['{"model":"m","prediction":1}', /^label: expected/, 'm'],
    ['{"model":"m","label":1}', /^prediction: missing$/, 'm'],
    ['{"model":"m","label":1,"predictionId":"x"}', /predictionId alone/, 'm'],
    ['{"model":"m","label":1,"prediction":1.5,"score":true}', /a score is a probability/, 'm'],
    ['{"model":"m","label":1,"prediction":1,"cohort":[1]}', /^cohort: expected an object/, 'm'],
    ['{"model":"m","label":1,"prediction":1,"cohort":{"a":{}}}', /^cohort\.a: expected/, 'm'],
    ['{"model":"m","label":1,"prediction":1,"eventTime":"soon"}', /^eventTime: expected/, 'm'],
  ])('rejects %s with the field at fault', (text, reason, model) => {
    const error = (() => {
      try {
        parseFeedbackRecord(text);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(FeedbackRecordError);
    expect((error as Error).message).toMatch(reason);
    expect((error as FeedbackRecordError).model).toBe(model);
  });
});

describe('feedbackOutcome', () => {
  it('thresholds a score against the positive class and compares a class with the label', () => {
    const outcome = (text: string) => feedbackOutcome(parseFeedbackRecord(text), settings, 5);
    expect(outcome('{"model":"fraud","label":1,"prediction":0.7}')).toMatchObject({ error: 0, positive: 1 });
    expect(outcome('{"model":"fraud","label":1,"prediction":0.3}')).toMatchObject({ error: 1, positive: 1 });
    expect(outcome('{"model":"fraud","label":0,"prediction":0.3}')).toMatchObject({ error: 0, positive: 0 });
    expect(outcome('{"model":"fraud","label":"b","prediction":"a"}')).toMatchObject({
      error: 1,
      positive: 0,
    });
    expect(outcome('{"model":"fraud","label":0,"prediction":0.3}').eventTime).toBe(5);
  });
});

describe('applyOutcomes', () => {
  const change = [...stream(2000, 0.05, 0.1, 1), ...stream(2000, 0.4, 0.1, 2, 2000)];

  it('detects an error-rate change with ADWIN and dates the window it kept', () => {
    const { state, signals } = applyOutcomes(undefined, settings, WHOLE_MODEL, change);
    expect(state.n).toBe(4000);
    const [first] = signals.filter((signal) => signal.detector === 'adwin');
    expect(first!.position).toBeGreaterThan(2000);
    expect(first!.position).toBeLessThan(2300);
    expect(first!.before).toBeLessThan(0.1);
    expect(first!.after!).toBeGreaterThan(first!.before + 0.03);
    // The window starts near the change: its event time is that of an outcome at most 64 before its start.
    const start = first!.position - first!.windowLength! + 1;
    expect(first!.windowStart).toBeLessThanOrEqual(1_000_000 + start * 1000);
    expect(first!.windowStart).toBeGreaterThan(1_000_000 + (start - 65) * 1000);
  });

  it('reports one signal per detector per quiet time and counts the others', () => {
    const { signals, quieted, state } = applyOutcomes(undefined, settings, WHOLE_MODEL, change);
    expect(signals.filter((signal) => signal.detector === 'adwin')).toHaveLength(1);
    expect(state.quieted).toBe(quieted);
    const loud = applyOutcomes(undefined, { ...settings, renotifyAfterMs: 0 }, WHOLE_MODEL, change);
    expect(loud.signals.length).toBe(signals.length + quieted);
  });

  it('gives the same state and signals whether a stream comes in one batch or in 40 with the state stored between', () => {
    const whole = applyOutcomes(undefined, settings, WHOLE_MODEL, change);
    let state: CohortState | undefined;
    const signals = [];
    for (let i = 0; i < change.length; i += 100) {
      const result = applyOutcomes(state, settings, WHOLE_MODEL, change.slice(i, i + 100));
      state = JSON.parse(JSON.stringify(result.state)) as CohortState;
      signals.push(...result.signals);
    }
    expect(signals).toEqual(whole.signals);
    expect(state!.detectors).toEqual(whole.state.detectors);
    expect(state!.monitors).toEqual(whole.state.monitors);
  });

  it('skips every outcome at or below the last sequence number of its shard (retried and duplicated batches)', () => {
    const first = applyOutcomes(undefined, settings, WHOLE_MODEL, change.slice(0, 1000));
    const again = applyOutcomes(first.state, settings, WHOLE_MODEL, change.slice(500, 1500));
    expect(again.duplicates).toBe(500);
    expect(again.applied).toBe(500);
    expect(again.state.n).toBe(1500);
    const otherShard = change.slice(0, 10).map((item) => ({ ...item, shardId: 'shardId-000000000001' }));
    expect(applyOutcomes(again.state, settings, WHOLE_MODEL, otherShard).applied).toBe(10);
  });

  it('finds a cohort rate away from its baseline with the sequential rate monitor', () => {
    const { signals } = applyOutcomes(undefined, settings, WHOLE_MODEL, stream(3000, 0.05, 0.2, 3));
    const rate = signals.filter((signal) => signal.detector === 'rate:fraud-rate');
    expect(rate.length).toBeGreaterThanOrEqual(1);
    expect(rate[0]!.after!).toBeGreaterThan(0.15);
    expect(rate[0]!.before).toBe(0.1);
  });

  it('admits cohort values up to the limit; later values count for the whole model only', () => {
    const { state } = applyOutcomes(undefined, settings, WHOLE_MODEL, stream(10, 0.1, 0.1, 4));
    expect(state.cohortValues).toEqual({ country: ['FR', 'DE'] });
    const routed = stream(3, 0.1, 0.1, 4).map((item) =>
      cohortsOf(item.outcome, settings, state.cohortValues!),
    );
    expect(routed).toEqual([
      { cohorts: ['country=FR'], overflow: 0 },
      { cohorts: ['country=DE'], overflow: 0 },
      { cohorts: [], overflow: 1 },
    ]);
  });

  it('starts a detector again when its parameters change, and keeps it otherwise', () => {
    const first = applyOutcomes(undefined, settings, WHOLE_MODEL, change.slice(0, 500));
    const same = applyOutcomes(first.state, settings, WHOLE_MODEL, []);
    expect(same.state.detectors.adwin).toEqual(first.state.detectors.adwin);
    const changed = applyOutcomes(
      first.state,
      { ...settings, detectors: [{ method: 'adwin', parameters: { delta: 0.01 } }] },
      WHOLE_MODEL,
      [],
    );
    expect(changed.state.detectors.adwin!.n).toBe(0);
  });
});
