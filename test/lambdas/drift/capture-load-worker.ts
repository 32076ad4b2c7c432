/**
 * The drift function of the Data Capture load test, alone in a worker thread so its heap can be measured
 * apart from the emulators: it runs the real handler on every file's event (a few at a time, as the queue's
 * concurrency does), then the sweep and the window checks it queues, and reports its heap after a full GC
 * every `sampleEvery` files. EventBridge and SQS are stubbed here; S3 and DynamoDB are the emulators.
 */
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { lambdaContext, objectCreatedEvent, sqsRecord, type Uploaded } from './environment.ts';

export interface LoadWorkerInput {
  objects: Uploaded[];
  concurrency: number;
  sampleEvery: number;
}

export interface LoadWorkerResult {
  /** Heap used after a full GC, bytes, after every `sampleEvery` files. */
  heapSamples: number[];
  /** Heap used after a full GC once every window was checked. */
  heapAfterChecks: number;
  failedMessages: number;
  windowMessages: number;
  driftEvents: number;
  deadLetters: number;
  filesMs: number;
  checksMs: number;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const eventBridge = mockClient(EventBridgeClient);
eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
const sqs = mockClient(SQSClient);
let deadLetters = 0;
sqs.on(SendMessageCommand).callsFake(() => {
  deadLetters++;
  return { MessageId: randomUUID() };
});
const windowMessages: string[] = [];
sqs.on(SendMessageBatchCommand).callsFake((input: { Entries?: { Id?: string; MessageBody?: string }[] }) => {
  for (const entry of input.Entries ?? []) windowMessages.push(entry.MessageBody ?? '');
  return {
    Successful: (input.Entries ?? []).map((e) => ({
      Id: e.Id,
      MessageId: randomUUID(),
      MD5OfMessageBody: '',
    })),
    Failed: [],
  };
});

const { handler } = await import('../../../lambdas/drift/handler.ts');
const input = workerData as LoadWorkerInput;
let failedMessages = 0;
const invoke = async (body: string) => {
  const response = (await handler({ Records: [sqsRecord(body)] }, lambdaContext())) as SQSBatchResponse;
  failedMessages += response.batchItemFailures.length;
};

/** Runs `work` on every item, `concurrency` at a time. */
async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

const heapSamples: number[] = [];
const started = performance.now();
for (let at = 0; at < input.objects.length; at += input.sampleEvery) {
  await pool(input.objects.slice(at, at + input.sampleEvery), input.concurrency, (object) =>
    invoke(objectCreatedEvent(object)),
  );
  heapSamples.push(heap());
}
const filesDone = performance.now();
await invoke(JSON.stringify({ driftwatch: 'capture-sweep' }));
await pool([...windowMessages], input.concurrency, (message) => invoke(message));
const result: LoadWorkerResult = {
  heapSamples,
  heapAfterChecks: heap(),
  failedMessages,
  windowMessages: windowMessages.length,
  driftEvents: eventBridge.commandCalls(PutEventsCommand).length,
  deadLetters,
  filesMs: Math.round(filesDone - started),
  checksMs: Math.round(performance.now() - filesDone),
};
parentPort!.postMessage(result);
