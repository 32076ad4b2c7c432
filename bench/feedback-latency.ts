/**
 * `node bench/feedback-latency.ts [--rate 1000] [--seconds 20]`: the labelled feedback loop in local mode at
 * a steady rate of outcomes of one model, in real time. The app of local/demo/concept-drift.config.json runs
 * in the local AWS (kinesalite, the bundled consumer behind the event source mapping its template declares,
 * dynalite); a producer puts `rate` outcomes a second with PutRecords (ten puts a second), the model's error
 * rate flipping from 10% to 40% halfway. It prints:
 *
 * - detection latency: from the detecting record entering the stream (its ApproximateArrivalTimestamp) to
 *   the `Concept Drift Detected` event (the consumer's ConceptDriftDetectionLatency metric);
 * - drain time: from the last record put to the consumer done with it (how far behind the stream it runs);
 * - the consumer's time per batch, and the Lambda and DynamoDB cost per million outcomes it implies
 *   (arm64, 512 MB, us-east-1 prices; the state items' sizes as written).
 */
import { parseArgs } from 'node:util';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalAws } from '../local/aws/local-aws.ts';

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '20' } },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const root = new URL('..', import.meta.url).pathname;
const say = (line: string) => process.stdout.write(`${line}\n`);

const aws = await startLocalAws({
  configPath: `${root}local/demo/concept-drift.config.json`,
  projectDir: root,
});
try {
  const stream = String(aws.outputs['FeedbackStreamName']);
  const [source] = aws.streamSources;
  say(
    `local feedback stream ${stream}: ${source!.stream.shardCount} shards, batches of ${source!.settings.batchSize}, window ${source!.settings.batchWindowMs} ms`,
  );
  let state = 7;
  const next = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const total = rate * seconds;
  const tick = 100;
  const perTick = Math.round((rate * tick) / 1000);
  const placed: { shardId: string; sequenceNumber: string }[] = [];
  const started = Date.now();
  let behind = 0;
  for (let sent = 0; sent < total; sent += perTick) {
    const due = started + (sent / rate) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    else behind = Math.max(behind, -wait);
    const errorRate = sent < total / 2 ? 0.1 : 0.4;
    const records = Array.from({ length: perTick }, (_, i) => {
      const label = next() < 0.14 ? 'yes' : 'no';
      const wrong = next() < errorRate;
      return {
        data: JSON.stringify({
          model: 'churn',
          label,
          prediction: (label === 'yes') !== wrong ? 0.9 : 0.1,
          cohort: { area_code: ['area_code_408', 'area_code_415', 'area_code_510'][(sent + i) % 3] },
          eventTime: Date.now(),
        }),
        partitionKey: 'churn',
      };
    });
    placed.push(...(await aws.putRecords(stream, records)));
  }
  const produced = (Date.now() - started) / 1000;
  const lastPut = Date.now();
  await aws.drainStream(stream, placed, 120_000);
  say(
    `produced ${total} outcomes in ${produced.toFixed(1)} s (${(total / produced).toFixed(0)}/s; the producer fell behind by at most ${behind.toFixed(0)} ms); ` +
      `drained ${((Date.now() - lastPut) / 1000).toFixed(2)} s after the last put`,
  );

  const latency = aws.metrics
    .query(
      { namespace: 'Driftwatch', name: 'ConceptDriftDetectionLatency', dimensions: { Model: 'churn' } },
      0,
      Infinity,
    )
    .flatMap((datum) => datum.values ?? []);
  say(
    `detection latency (record in the stream -> Concept Drift Detected): ${latency.map((s) => `${s.toFixed(2)} s`).join(', ') || 'no detection'}`,
  );
  const runs = aws.timeline
    .ofType('function-finished')
    .filter((event) => event.function.includes('Feedback'));
  const durations = runs.map((run) => run.durationMs).sort((a, b) => a - b);
  const pick = (q: number) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))]!;
  const perBatch = total / runs.length;
  say(
    `consumer: ${runs.length} batches (${perBatch.toFixed(0)} outcomes each on average), duration p50 ${pick(0.5).toFixed(0)} ms, p95 ${pick(0.95).toFixed(0)} ms, max ${pick(1).toFixed(0)} ms`,
  );

  // Cost per million outcomes, us-east-1 list prices: Lambda arm64 $0.0000133334 per GB-s and $0.20 per
  // million requests; DynamoDB on demand $0.625 per million write units and $0.125 per million read units
  // (a consistent read of up to 4 KB is one unit, a write of up to 1 KB one unit per KB).
  const documents = DynamoDBDocumentClient.from(aws.dynamoDbClient());
  const items =
    (await documents.send(new ScanCommand({ TableName: aws.resource('Feedback/State').name }))).Items ?? [];
  const sizes = items.map((item) => Buffer.byteLength(JSON.stringify(item)));
  const cohorts = items.length;
  const batchesPerMillion = 1e6 / perBatch;
  const gbSeconds = batchesPerMillion * (pick(0.5) / 1000) * 0.5;
  const lambdaUsd = gbSeconds * 0.0000133334 + (batchesPerMillion / 1e6) * 0.2;
  const writeUnits = sizes.reduce((sum, size) => sum + Math.ceil(size / 1024), 0);
  const readUnits = sizes.reduce((sum, size) => sum + Math.ceil(size / 4096), 0);
  const dynamoUsd = batchesPerMillion * ((writeUnits * 0.625 + readUnits * 0.125) / 1e6);
  say(
    `state: ${cohorts} items (model and cohorts), ${Math.min(...sizes)}-${Math.max(...sizes)} bytes; per batch ${writeUnits} write and ${readUnits} read units`,
  );
  say(
    `per million outcomes: Lambda $${lambdaUsd.toFixed(4)} (${batchesPerMillion.toFixed(0)} invocations, ${gbSeconds.toFixed(0)} GB-s at the local p50), ` +
      `DynamoDB $${dynamoUsd.toFixed(4)}, Kinesis PUT units $0.0140 (plus $0.015 an hour per provisioned shard)`,
  );
} finally {
  await aws.stop();
}
