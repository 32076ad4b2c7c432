/**
 * The feedback consumer behind a mapping with a parallelization factor above 1, on the real protocols:
 * kinesalite (one shard, four lanes), the consumer's DynamoDB store on dynalite, batches of one shard at once.
 * Several models share the shard: each model's outcomes are applied once and in order, and records not keyed
 * by their model go to the failure path with the reason instead of being skipped as already applied.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import kinesalite from 'kinesalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedbackSettings } from '../../../lambdas/core/concept-drift/feedback.ts';
import { dynamoCohortStore } from '../../../lambdas/feedback/aws.ts';
import { processFeedbackBatch, type RejectedRecord } from '../../../lambdas/feedback/consumer.ts';
import { Activity } from '../../../local/aws/clock.ts';
import type { InvocationResult } from '../../../local/aws/functions.ts';
import {
  createStreams,
  KinesisEventSource,
  kinesisClient,
  kinesisMappingSettings,
  type StreamResource,
} from '../../../local/aws/kinesis.ts';
import { AwsEmulators } from '../../helpers/aws-emulators.ts';

const MODELS = ['fraud', 'churn', 'credit', 'ads'];
const settingsOf = (model: string): FeedbackSettings => ({
  name: model,
  model,
  positiveClass: '1',
  threshold: 0.5,
  cohorts: ['country'],
  maxCohortsPerAttribute: 10,
  detectors: [{ method: 'adwin', parameters: {} }],
  rateMonitors: [],
  renotifyAfterMs: 3_600_000,
  segmentColumn: null,
  retrains: false,
  segmentRetraining: false,
});

let server: Server;
let client: KinesisClient;
let emulators: AwsEmulators;

beforeAll(async () => {
  server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  client = kinesisClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'us-east-1');
  emulators = await AwsEmulators.start({
    buckets: [],
    tables: [{ name: 'states', partitionKey: 'model', sortKey: 'cohort' }],
  });
});

afterAll(async () => {
  client.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await emulators.stop();
});

describe('the feedback consumer with ParallelizationFactor 4', () => {
  it('applies each model once and in order while batches of one shard run at once, and refuses records not keyed by their model', async () => {
    const stream: StreamResource = {
      logicalId: 'Feedback',
      name: 'feedback',
      arn: 'arn:aws:kinesis:us-east-1:123456789012:stream/feedback',
      shardCount: 1,
    };
    await createStreams(client, [stream]);
    // 400 outcomes per model, interleaved; every 50th of fraud's is keyed by a customer, not the model.
    const records = Array.from({ length: 1600 }, (_, i) => {
      const model = MODELS[i % 4]!;
      const index = Math.floor(i / 4);
      return {
        model,
        partitionKey: model === 'fraud' && index % 50 === 49 ? `customer-${index}` : model,
        body: {
          model,
          label: 1,
          prediction: (index * 7919) % 10 === 0 ? 0.1 : 0.9,
          cohort: { country: index % 2 ? 'FR' : 'DE' },
          eventTime: 1_700_000_000_000 + index * 1000,
        },
      };
    });
    for (let i = 0; i < records.length; i += 500)
      await client.send(
        new PutRecordsCommand({
          StreamName: stream.name,
          Records: records.slice(i, i + 500).map((record) => ({
            Data: Buffer.from(JSON.stringify(record.body)),
            PartitionKey: record.partitionKey,
          })),
        }),
      );

    const rejected: RejectedRecord[] = [];
    // Per model, the event times of the outcomes in the order the consumer applied them.
    const appliedOrder = new Map<string, number[]>();
    let inFlight = 0;
    let maxInFlight = 0;
    const ports = {
      catalog: {
        all: async () => MODELS.map(settingsOf),
        get: async (name: string) => (MODELS.includes(name) ? settingsOf(name) : undefined),
      },
      store: dynamoCohortStore(emulators.documents, 'states'),
      putEvents: async () => {},
      reject: async (batch: readonly RejectedRecord[]) => {
        rejected.push(...batch);
      },
      now: Date.now,
      parallelizationFactor: 4,
    };
    const activity = new Activity();
    const source = new KinesisEventSource({
      stream,
      settings: kinesisMappingSettings({
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 50,
        ParallelizationFactor: 4,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      }),
      functionName: 'feedback',
      client,
      invoke: async (event) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const typed = event as Parameters<typeof processFeedbackBatch>[0];
        for (const record of typed.Records) {
          const body = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString());
          if (record.kinesis.partitionKey !== body.model) continue;
          appliedOrder.set(body.model, [...(appliedOrder.get(body.model) ?? []), body.eventTime]);
        }
        try {
          const result = await processFeedbackBatch(typed, ports);
          return {
            functionName: 'feedback',
            requestId: 'r',
            status: 'succeeded',
            payload: { batchItemFailures: result.batchItemFailures },
            durationMs: 1,
            lines: [],
          } satisfies InvocationResult;
        } finally {
          inFlight--;
        }
      },
      activity,
      region: 'us-east-1',
      failureQueue: undefined,
    });
    await source.start();
    const deadline = Date.now() + 60_000;
    while ([...appliedOrder.values()].flat().length + rejected.length < 1600 || !activity.idle) {
      if (Date.now() > deadline) throw new Error('not drained');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await source.stop();

    expect(maxInFlight).toBeGreaterThan(1);
    const store = dynamoCohortStore(emulators.documents, 'states');
    for (const model of MODELS) {
      const expected = model === 'fraud' ? 392 : 400;
      const whole = await store.get(model, '*');
      expect(whole?.state.n, model).toBe(expected);
      const fr = await store.get(model, 'country=FR');
      const de = await store.get(model, 'country=DE');
      expect(fr!.state.n + de!.state.n, model).toBe(expected);
      // One model's batches come one at a time, in stream order.
      const times = appliedOrder.get(model)!;
      expect(times, model).toEqual([...times].sort((a, b) => a - b));
    }
    expect(rejected).toHaveLength(8);
    expect(new Set(rejected.map((record) => record.partitionKey))).toEqual(
      new Set(Array.from({ length: 8 }, (_, k) => `customer-${k * 50 + 49}`)),
    );
    expect(rejected[0]!.reason).toMatch(/^partitionKey: "customer-49" is not the model's name "fraud"/);
  });
});
