import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forgetServingModels } from '../../../lambdas/drift/capture.ts';
import {
  DETAIL_TYPE,
  type DriftModelRuntimeConfig,
  type EstimateWithheld,
  type PerformanceDegradedDetail,
} from '../../../lambdas/shared/contract.ts';
import { capturePath } from '../../helpers/capture-files.ts';
import {
  CHURN_CAPTURE,
  CHURN_REFERENCE_KEY,
  type ChurnRow,
  churnCaptureText,
  churnCsv,
  churnEstimate,
  churnGroundTruth,
  churnRows,
} from '../../helpers/churn-capture.ts';
import { putEventEntries } from '../../helpers/lambda-harness.ts';
import { stubServingModels } from '../../helpers/serving-models.ts';
import { DriftEnvironment, MODEL, SCENARIOS } from './environment.ts';

/**
 * The model that served a window is recorded with the window's first capture file, end to end through the
 * real drift handler over s3rver and dynalite (SageMaker's Describe calls stubbed): after a promotion, a
 * late file's re-check still estimates the window with the calibrator of the model that made its
 * predictions, its realized performance names that model, and its breach starts no retraining of the model
 * serving now; a window whose first file comes after the endpoint config changed records nothing.
 */

const SERVING_MODEL: DriftModelRuntimeConfig = {
  ...MODEL,
  retrainingTriggers: ['performance'],
  capture: {
    ...CHURN_CAPTURE,
    estimate: { ...churnEstimate(), segmentColumn: null },
    groundTruth: {
      ...churnGroundTruth([{ metric: 'accuracy', min: 0.99 }]),
      segmentColumn: null,
      feedback: false,
    },
  },
};

const rows = churnRows(`${SCENARIOS}churn-shifted/current.csv`);
const hour = Date.UTC(2026, 11, 1, 1);
const sagemaker = mockClient(SageMakerClient);

/** AllTraffic serves `model` under an endpoint config created at `since`. */
function endpointServes(model: string, since: Date) {
  forgetServingModels();
  sagemaker.reset();
  stubServingModels(sagemaker, { AllTraffic: [model, 1] }, { name: `config-${model}`, createdAt: since });
}

let env: DriftEnvironment;
beforeAll(async () => {
  endpointServes('churn-v1', new Date(Date.UTC(2026, 10, 1)));
  env = await DriftEnvironment.start({ model: SERVING_MODEL, capture: true });
  await env.upload(CHURN_REFERENCE_KEY, churnCsv(churnRows(`${SCENARIOS}churn-halves/baseline.csv`)));
});
afterAll(async () => {
  sagemaker.restore();
  await env?.stop();
});
beforeEach(() => {
  env.resetStubs();
});

const captureFile = (start: number, minute: number, id: string, part: ChurnRow[]) => {
  const time = new Date(start + minute * 60_000);
  return env.arrive(
    capturePath('capture', 'churn-endpoint', 'AllTraffic', time, id),
    churnCaptureText(part, time, { rowsPerRequest: 'one' }),
  );
};

/** A label table of the first `count` rows captured at `start` + 5 minutes (one request a row), by eventId. */
function labelLines(start: number, count: number): string[] {
  const time = start + 5 * 60_000;
  return [
    'inferenceId,label',
    ...rows.slice(0, count).map((row, n) => `event-${time}-${n},${String(row['churn'])}`),
  ];
}

const report = <T>(start: number, name: 'estimated' | 'realized') =>
  env.windowReport<T>('AllTraffic', start, name);

type Estimated = {
  window: { version: number };
  withheld: EstimateWithheld | null;
  servingModel?: string;
  servingModelSource?: string;
  rows?: number;
};

describe('the model that served a window, recorded with its first file', () => {
  it('estimates a late re-check after a promotion with the model that made the predictions', async () => {
    await captureFile(hour, 5, 'a', rows.slice(0, 300));
    await env.sweep();
    expect(await report<Estimated>(hour, 'estimated')).toMatchObject({
      window: { version: 1 },
      withheld: null,
      servingModel: 'churn-v1',
      servingModelSource: 'recorded',
    });

    // churn-v2 is promoted; then a file of the old window comes late and re-checks it.
    endpointServes('churn-v2', new Date());
    await captureFile(hour, 50, 'late', rows.slice(300, 400));
    const rechecked = await report<Estimated>(hour, 'estimated');
    expect(rechecked).toMatchObject({
      window: { version: 2 },
      withheld: null,
      servingModel: 'churn-v1',
      rows: 400,
    });
  });

  it("judges the window's realized performance as the old model's: named, and no retraining of the new one", async () => {
    const lines = labelLines(hour, 300);
    await env.arrive('ground-truth/2026/12/01/01/labels.csv', `${lines.join('\n')}\n`);
    await env.sweep();
    const realized = await report<{ servingModel: string | null; breaches: unknown[]; rows: number }>(
      hour,
      'realized',
    );
    expect(realized.servingModel).toBe('churn-v1');
    expect(realized.rows).toBe(lines.length - 1);
    expect(realized.breaches).toHaveLength(1);
    const history = (await env.history()).filter((item) => item.kind === 'performance');
    expect(history.map((item) => item.servingModel)).toEqual(['churn-v1']);
    const events = putEventEntries<PerformanceDegradedDetail>(env.eventBridge).filter(
      (event) => event.detailType === DETAIL_TYPE.performanceDegraded,
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.detail.servingModel).toBe('churn-v1');
    // The model that breached no longer serves: churn-v2 is not retrained on churn-v1's predictions.
    expect(events[0]!.detail.retrainingTrigger).toBeUndefined();
  });

  it('starts a retraining on a realized breach of the model still serving', async () => {
    const next = hour + 3_600_000;
    endpointServes('churn-v2', new Date(Date.UTC(2026, 11, 1, 1, 30)));
    await captureFile(next, 5, 'b', rows.slice(0, 300));
    const lines = labelLines(next, 300);
    await env.arrive('ground-truth/2026/12/01/02/labels.csv', `${lines.join('\n')}\n`);
    await env.sweep();
    expect((await report<{ servingModel: string }>(next, 'realized')).servingModel).toBe('churn-v2');
    const events = putEventEntries<PerformanceDegradedDetail>(env.eventBridge).filter(
      (event) => event.detailType === DETAIL_TYPE.performanceDegraded,
    );
    expect(events.map((event) => [event.detail.servingModel, event.detail.retrainingTrigger])).toEqual([
      ['churn-v2', 'performance'],
    ]);
  });

  it('records nothing for a window whose capture predates the endpoint config now in force', async () => {
    // A backlog: the first file of 03:00 arrives after churn-v3's config was created at 03:30.
    const backlog = hour + 2 * 3_600_000;
    endpointServes('churn-v3', new Date(Date.UTC(2026, 11, 1, 3, 30)));
    await captureFile(backlog, 5, 'c', rows.slice(0, 100));
    await env.sweep();
    // Nothing recorded: the check looks the model up, finds churn-v3 (not the calibrator's) and says so.
    const estimated = await report<Estimated>(backlog, 'estimated');
    expect(estimated.withheld?.code).toBe('model-changed');
    expect(estimated.withheld?.reason).toContain('serves model churn-v3');
  });
});
