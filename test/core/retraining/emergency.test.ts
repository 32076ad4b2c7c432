import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lambdas/core/errors.ts';
import { filterTrainingRows } from '../../../lambdas/core/retraining/csv-rows.ts';
import { planRun } from '../../../lambdas/core/retraining/plan.ts';
import { loadConfig } from '../../../lib/config/load.ts';
import { retrainingRuntimeConfig } from '../../../lib/config/runtime.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const model = loadConfig(`${ROOT}local/demo/concept-drift.config.json`).models[0]!;
const config = retrainingRuntimeConfig(model, 'Driftwatch');
const now = new Date('2025-06-02T12:00:00Z');
const detail = {
  model: 'churn',
  detector: 'adwin',
  position: 1343,
  errorRateBefore: 0.13,
  errorRateAfter: 0.2,
  cohort: null,
  windowStart: '2025-06-02T11:20:00.000Z',
};

describe('an emergency run on concept drift', () => {
  it('skips the cooldown and trains from the start of the window the detector kept', () => {
    const plan = planRun(config, { model: 'churn', trigger: { type: 'conceptDrift', detail } }, now, 'work');
    expect(plan.triggerEnabled).toBe(true);
    expect(plan.cooldownCutoff).toBe('9999-12-31T23:59:59.999Z');
    expect(plan.trainingSince).toBe('2025-06-02T11:20:00.000Z');
    expect(plan.eventTimeColumn).toBe('event_time');
    expect(plan.trigger.reason).toBe('concept drift: adwin at outcome 1343 (error rate 0.13 -> 0.2)');
  });

  it('keeps the cooldown when configured, and takes a fixed window or 24 hours without one', () => {
    const strict = {
      ...config,
      emergency: { ...config.emergency!, skipCooldown: false, windowHours: 6 },
    };
    const plan = planRun(strict, { model: 'churn', trigger: { type: 'conceptDrift', detail } }, now, 'work');
    expect(plan.cooldownCutoff).toBe('2025-06-01T12:00:00.000Z');
    expect(plan.trainingSince).toBe('2025-06-02T06:00:00.000Z');
    const noWindow = planRun(
      config,
      { model: 'churn', trigger: { type: 'conceptDrift', detail: { ...detail, windowStart: null } } },
      now,
      'work',
    );
    expect(noWindow.trainingSince).toBe('2025-06-01T12:00:00.000Z');
  });

  it('trains a cohort detection on its segment only with segmentRetraining', () => {
    const segment = { column: 'area_code', value: 'area_code_415' };
    const input = {
      model: 'churn',
      trigger: { type: 'conceptDrift' as const, detail: { ...detail, segment } },
    };
    expect(planRun(config, input, now, 'work').trigger.segment).toBeNull();
    const bySegment = { ...config, emergency: { ...config.emergency!, segmentRetraining: true } };
    expect(planRun(bySegment, input, now, 'work').trigger.segment).toEqual(segment);
  });

  it('leaves other triggers as they were: no window, the cooldown', () => {
    const plan = planRun(config, { model: 'churn', trigger: { type: 'manual' } }, now, 'work');
    expect(plan.trainingSince).toBeNull();
    expect(plan.cooldownCutoff).toBe('2025-06-01T12:00:00.000Z');
    expect(planRun(config, { model: 'churn', trigger: { type: 'drift' } }, now, 'work').triggerEnabled).toBe(
      false,
    );
  });
});

describe('filterTrainingRows', () => {
  const csv = 'a,seg,event_time\n1,x,2025-06-02T11:00:00Z\n2,y,2025-06-02T11:30:00Z\n3,x,1748863800000\n';

  it('keeps the rows of the window, of the segment when given', () => {
    const since = Date.parse('2025-06-02T11:15:00Z');
    expect(
      filterTrainingRows(csv, 'f.csv', {
        segment: null,
        eventTime: { column: 'event_time', sinceMs: since },
      }),
    ).toEqual({
      csv: 'a,seg,event_time\n2,y,2025-06-02T11:30:00Z\n3,x,1748863800000\n',
      rows: 3,
      kept: 2,
    });
    expect(
      filterTrainingRows(csv, 'f.csv', {
        segment: { column: 'seg', value: 'x' },
        eventTime: { column: 'event_time', sinceMs: since },
      }).kept,
    ).toBe(1);
  });

  it('names the file, line and column of an event time that is not one', () => {
    expect(() =>
      filterTrainingRows('a,event_time\n1,2025-01-01\n2,later\n', 'golden/f.csv', {
        segment: null,
        eventTime: { column: 'event_time', sinceMs: 0 },
      }),
    ).toThrow(InputError);
    expect(() =>
      filterTrainingRows('a,event_time\n1,2025-01-01\n2,later\n', 'golden/f.csv', {
        segment: null,
        eventTime: { column: 'event_time', sinceMs: 0 },
      }),
    ).toThrow(/golden\/f\.csv.*3.*later/);
  });
});
