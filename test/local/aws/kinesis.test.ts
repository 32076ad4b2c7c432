/**
 * The local Kinesis event source mapping against kinesalite (the real Kinesis protocol): batches in sequence
 * order, partial batch responses, bisect on error with retries, and the on-failure destination.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import kinesalite from 'kinesalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Activity, Clock } from '../../../local/aws/clock.ts';
import type { InvocationResult } from '../../../local/aws/functions.ts';
import {
  createStreams,
  KinesisEventSource,
  kinesisClient,
  kinesisMappingSettings,
  laneOf,
  type StreamResource,
} from '../../../local/aws/kinesis.ts';
import { LocalQueue } from '../../../local/aws/queue.ts';

let server: Server;
let client: KinesisClient;
let streams = 0;

beforeAll(async () => {
  server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  client = kinesisClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'us-east-1');
});

afterAll(async () => {
  client.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

type Event = { Records: { kinesis: { data: string; sequenceNumber: string } }[] };
const values = (event: Event) =>
  event.Records.map((record) => Number(Buffer.from(record.kinesis.data, 'base64').toString()));

/** A one-shard stream with records 0..n-1 and a mapping on it whose function is `handle`. */
async function mapping(
  n: number,
  properties: Record<string, unknown>,
  handle: (event: Event) => { status: 'succeeded' | 'failed'; payload?: unknown },
  options: { partitionKey?: (i: number) => string; delayMs?: number } = {},
) {
  const name = `stream-${++streams}`;
  const stream: StreamResource = {
    logicalId: name,
    name,
    arn: `arn:aws:kinesis:us-east-1:123456789012:stream/${name}`,
    shardCount: 1,
  };
  await createStreams(client, [stream]);
  for (let i = 0; i < n; i += 500) {
    await client.send(
      new PutRecordsCommand({
        StreamName: name,
        Records: Array.from({ length: Math.min(500, n - i) }, (_, j) => ({
          Data: Buffer.from(String(i + j)),
          PartitionKey: options.partitionKey?.(i + j) ?? 'p',
        })),
      }),
    );
  }
  const activity = new Activity();
  const failures = new LocalQueue({
    name: 'failures',
    arn: 'arn:failures',
    url: 'u',
    clock: new Clock(0, activity),
  });
  const invocations: number[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const source = new KinesisEventSource({
    stream,
    settings: kinesisMappingSettings({ StartingPosition: 'TRIM_HORIZON', ...properties }),
    functionName: 'consumer',
    client,
    invoke: async (event) => {
      invocations.push(values(event as Event));
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      inFlight--;
      const result = handle(event as Event);
      return {
        functionName: 'consumer',
        requestId: String(invocations.length),
        status: result.status,
        payload: result.payload ?? null,
        durationMs: 1,
        lines: [],
      } satisfies InvocationResult;
    },
    activity,
    region: 'us-east-1',
    failureQueue: failures,
  });
  await source.start();
  const drained = async (count: number) => {
    const deadline = Date.now() + 20_000;
    while (invocations.flat().filter((v, i, all) => all.indexOf(v) === i).length < count || !activity.idle) {
      if (Date.now() > deadline) throw new Error('not drained');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await source.stop();
  };
  return { source, invocations, failures, drained, maxInFlight: () => maxInFlight };
}

describe('the local Kinesis event source mapping', () => {
  it('hands over every record once, in sequence order, in batches of at most BatchSize', async () => {
    const { invocations, drained } = await mapping(1200, { BatchSize: 500 }, () => ({ status: 'succeeded' }));
    await drained(1200);
    expect(invocations.map((batch) => batch.length).every((size) => size <= 500)).toBe(true);
    expect(invocations.flat()).toEqual(Array.from({ length: 1200 }, (_, i) => i));
  });

  it('retries from the record a partial batch response names, keeping the records before it', async () => {
    let failed = false;
    const { invocations, drained } = await mapping(
      100,
      { BatchSize: 100, FunctionResponseTypes: ['ReportBatchItemFailures'] },
      (event) => {
        if (failed) return { status: 'succeeded' };
        failed = true;
        const at = event.Records[40]!.kinesis.sequenceNumber;
        return { status: 'succeeded', payload: { batchItemFailures: [{ itemIdentifier: at }] } };
      },
    );
    await drained(100);
    expect(invocations[0]).toHaveLength(100);
    expect(invocations[1]).toEqual(Array.from({ length: 60 }, (_, i) => 40 + i));
    expect(invocations).toHaveLength(2);
  });

  it('bisects a failing batch, then sends the range of the record that keeps failing to the on-failure destination', async () => {
    const { invocations, failures, source, drained } = await mapping(
      64,
      {
        BatchSize: 64,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 8,
        DestinationConfig: { OnFailure: { Destination: 'arn:failures' } },
      },
      (event) => ({ status: values(event).includes(37) ? 'failed' : 'succeeded' }),
    );
    await drained(64);
    // Halved until the poison record is alone: 64, 32, 16, 8, 4, 2, 1, then its retries.
    expect(invocations.slice(0, 2).map((batch) => batch.length)).toEqual([64, 32]);
    expect(invocations.filter((batch) => batch.length === 1 && batch[0] === 37).length).toBeGreaterThan(1);
    const messages = failures.peek().map((message) => JSON.parse(message.body));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted' },
      KinesisBatchInfo: { batchSize: 1, shardId: 'shardId-000000000000' },
    });
    // Every other record was processed, and the shard moved past the poison record.
    const succeeded = new Set(invocations.filter((batch) => !batch.includes(37)).flat());
    expect(succeeded.size).toBe(63);
    expect(source.outcomes.at(-1)?.status).not.toBe('failed');
  });

  it('with ParallelizationFactor 4, processes batches of one shard at once, in order per partition key', async () => {
    const keyOf = (i: number) => `model-${i % 8}`;
    const { invocations, drained, maxInFlight, source } = await mapping(
      800,
      { BatchSize: 50, ParallelizationFactor: 4 },
      () => ({ status: 'succeeded' }),
      { partitionKey: keyOf, delayMs: 20 },
    );
    expect(source.settings.parallelizationFactor).toBe(4);
    await drained(800);
    expect(maxInFlight()).toBeGreaterThan(1);
    expect(maxInFlight()).toBeLessThanOrEqual(4);
    expect(invocations.every((batch) => batch.length <= 50)).toBe(true);
    // Every record once; one key's records in order, each key in one lane only.
    expect(invocations.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 800 }, (_, i) => i));
    for (let key = 0; key < 8; key++) {
      const seen = invocations.flat().filter((value) => value % 8 === key);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(new Set(seen.map((value) => laneOf(keyOf(value), 4))).size).toBe(1);
    }
    // Across keys, a later record was handed over before an earlier one: order is per key only.
    expect(invocations.flat()).not.toEqual(Array.from({ length: 800 }, (_, i) => i));
    expect(source.checkpoints.get('shardId-000000000000')).toBeDefined();
  });
});
