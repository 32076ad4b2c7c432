import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { CreateEndpointCommand, CreateEndpointConfigCommand } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileTable } from '../../../lambdas/core/drift/run.ts';
import { CAPTURE_METADATA_COLUMNS, localTableInput } from '../../../lambdas/core/readers/capture.ts';
import { ManualClock } from '../../../local/sagemaker/clock.ts';
import { listKeys } from '../../../local/sagemaker/s3.ts';
import {
  BUCKET,
  churnLines,
  createModel,
  type Harness,
  rejection,
  startHarness,
  trainChurn,
  uploadChurn,
  waitForEndpoint,
} from './harness.ts';

/** The emulator's Data Capture: sampling, SageMaker's path layout and record format, read back by driftwatch. */

const encoder = new TextEncoder();
const start = Date.UTC(2026, 11, 7, 1, 58, 30);

describe('Data Capture of an endpoint', () => {
  let harness: Harness;
  let clock: ManualClock;
  const instances = (() => {
    const { header, rows } = churnLines();
    const columns = header.split(',').map((name) => JSON.parse(name) as string);
    return rows.slice(0, 400).map((line) =>
      Object.fromEntries(
        line
          .split(',')
          .map((cell, i) => [columns[i]!, JSON.parse(cell) as string | number] as const)
          .filter(([column]) => column !== 'churn'),
      ),
    );
  })();

  beforeAll(async () => {
    clock = new ManualClock(start);
    harness = await startHarness({ clock, timings: { endpointCreateSeconds: 0 }, seed: 3 });
    await uploadChurn(harness);
    await createModel(harness, 'champion', await trainChurn(harness, 'capture-job'));
    const variant = (name: string) => ({
      VariantName: name,
      ModelName: 'champion',
      InitialInstanceCount: 1,
      InstanceType: 'ml.m5.large' as const,
      InitialVariantWeight: 1,
    });
    await harness.sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'churn-capture',
        ProductionVariants: [variant('AllTraffic'), variant('Canary')],
        DataCaptureConfig: {
          EnableCapture: true,
          InitialSamplingPercentage: 50,
          DestinationS3Uri: `s3://${BUCKET}/churn/capture`,
          CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
          CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
        },
      }),
    );
    await harness.sagemaker.send(
      new CreateEndpointCommand({ EndpointName: 'churn', EndpointConfigName: 'churn-capture' }),
    );
    await waitForEndpoint(harness, 'churn');
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('samples requests into hourly files in SageMaker layout that driftwatch reads back', async () => {
    // 400 requests of one row, one every 0.5 s of the emulator's clock: 01:58:30 to 02:01:50, so the files
    // cross an hour and a minute; every tenth request carries an inference id.
    for (const [i, instance] of instances.entries()) {
      await harness.runtime.send(
        new InvokeEndpointCommand({
          EndpointName: 'churn',
          ContentType: 'application/json',
          Body: encoder.encode(JSON.stringify({ instances: [instance] })),
          ...(i % 10 === 0 && { InferenceId: `inference-${i}` }),
        }),
      );
      await clock.advance(500);
    }
    await harness.emulator.flushCapture();
    const keys = await listKeys(harness.aws.s3, { bucket: BUCKET, key: 'churn/capture/' });
    const layout =
      /^churn\/capture\/churn\/(AllTraffic|Canary)\/2026\/12\/07\/(01|02)\/(\d{2})-(\d{2})-(\d{3})-[0-9a-f-]{36}\.jsonl$/;
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toMatch(layout);
    // Both variants, both hours; a file never spans more than a minute.
    expect(new Set(keys.map((key) => layout.exec(key)![1]))).toEqual(new Set(['AllTraffic', 'Canary']));
    expect(new Set(keys.map((key) => layout.exec(key)![2]))).toEqual(new Set(['01', '02']));

    const scratch = await mkdtemp(join(tmpdir(), 'driftwatch-capture-'));
    type Captured = {
      captureData: Record<string, unknown>;
      eventMetadata: { eventId: string; inferenceId?: string; inferenceTime: string };
      eventVersion: string;
    };
    const records: Captured[] = [];
    for (const key of keys) {
      const text = await harness.aws.s3
        .send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
        .then((response) => response.Body!.transformToString());
      await mkdir(dirname(join(scratch, key)), { recursive: true });
      await writeFile(join(scratch, key), text);
      const [, , hour, minute, second] = layout.exec(key)!;
      for (const line of text.trim().split('\n')) {
        const record = JSON.parse(line) as Captured;
        records.push(record);
        // Each record falls in its file's hour, and at most a minute after the file was opened.
        const time = Date.parse(record.eventMetadata.inferenceTime);
        const opened = Date.UTC(2026, 11, 7, Number(hour), Number(minute), Number(second));
        expect(time - opened).toBeGreaterThanOrEqual(0);
        expect(time - opened).toBeLessThan(60_000);
      }
    }
    // Sampling: half of 400, within four standard deviations of the binomial.
    expect(Math.abs(records.length - 200)).toBeLessThan(4 * Math.sqrt(400 * 0.25));
    const first = records[0]!;
    expect(first).toMatchObject({
      captureData: {
        endpointInput: { observedContentType: 'application/json', mode: 'INPUT', encoding: 'JSON' },
        endpointOutput: { mode: 'OUTPUT', encoding: 'JSON' },
      },
      eventVersion: '0',
    });
    expect(records.some((record) => record.eventMetadata.inferenceId?.startsWith('inference-'))).toBe(true);

    // driftwatch reads the directory as a table: one row per captured request, with the score and variant.
    const { input, capture } = await localTableInput(join(scratch, 'churn/capture'));
    expect(capture).toBe(true);
    const profile = await profileTable(input, { metadata: CAPTURE_METADATA_COLUMNS });
    expect(profile.rows).toBe(records.length);
    expect(profile.columns).toEqual(expect.arrayContaining(['total_day_minutes', 'score', 'variant']));
    expect(profile.whole.get('score')!.numericCount).toBe(records.length);
  });

  it('refuses a capture config SageMaker would refuse', async () => {
    const invalid = await rejection(
      harness.sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'bad-capture',
          ProductionVariants: [
            {
              VariantName: 'AllTraffic',
              ModelName: 'champion',
              InitialInstanceCount: 1,
              InstanceType: 'ml.m5.large',
            },
          ],
          DataCaptureConfig: {
            InitialSamplingPercentage: 101,
            DestinationS3Uri: `s3://${BUCKET}/x`,
            CaptureOptions: [{ CaptureMode: 'Input' }],
          },
        }),
      ),
    );
    expect(invalid.message).toMatch(/InitialSamplingPercentage/);
  });
});
