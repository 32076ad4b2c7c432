/**
 * The ground-truth join's outcomes through the real Kinesis protocol to the feedback consumer: the drift
 * handler joins a window over s3rver and dynalite and puts its outcomes on a stream in kinesalite (its own
 * Kinesis client, HTTP/2 as in AWS, through a bridge to kinesalite's HTTP/1.1); the local Kinesis event
 * source mapping reads the stream and hands each batch to the feedback consumer, whose detector states are
 * in dynalite. Each joined outcome reaches the model's states once, in the order the join read the
 * predictions; joining again, a repeated join message and a redelivered stream add nothing; late labels add
 * exactly their outcomes.
 */
import { once } from 'node:events';
import { request, type Server } from 'node:http';
import { createServer as createHttp2Server, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import kinesalite from 'kinesalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CohortState,
  type FeedbackSettings,
  parseFeedbackRecord,
} from '../../../lambdas/core/concept-drift/feedback.ts';
import { dynamoCohortStore } from '../../../lambdas/feedback/aws.ts';
import { type FeedbackPorts, processFeedbackBatch } from '../../../lambdas/feedback/consumer.ts';
import { DRIFT_ENV, type DriftModelRuntimeConfig } from '../../../lambdas/shared/contract.ts';
import { staticCatalog } from '../../../lambdas/shared/model-catalog.ts';
import { Activity } from '../../../local/aws/clock.ts';
import {
  createStreams,
  KinesisEventSource,
  kinesisClient,
  kinesisMappingSettings,
  type StreamResource,
} from '../../../local/aws/kinesis.ts';
import {
  arriveCaptureWindow,
  CHURN_CAPTURE,
  churnGroundTruth,
  churnRows,
  groundTruthLine,
} from '../../helpers/churn-capture.ts';
import { DriftEnvironment, MODEL, SCENARIOS } from './environment.ts';

const FEEDBACK_STREAM = 'driftwatch-feedback';
const STATE_TABLE = 'driftwatch-feedback-state';
const REGION = 'us-east-1';

const MODEL_WITH_FEEDBACK: DriftModelRuntimeConfig = {
  ...MODEL,
  capture: { ...CHURN_CAPTURE, groundTruth: churnGroundTruth() },
};

/** The model's concept-drift settings as the consumer's catalog gives them: ADWIN and a label-rate monitor. */
const SETTINGS: FeedbackSettings = {
  name: 'churn',
  model: 'churn',
  positiveClass: 'yes',
  threshold: 0.5,
  cohorts: ['area_code'],
  maxCohortsPerAttribute: 50,
  detectors: [{ method: 'adwin', parameters: { delta: 0.002 } }],
  rateMonitors: [
    {
      name: 'churn-rate',
      outcome: 'label',
      baselineRate: 0.14,
      baselineTrials: null,
      alpha: 0.01,
      minSamples: 200,
    },
  ],
  renotifyAfterMs: 60 * 60_000,
  segmentColumn: 'area_code',
  retrains: false,
  segmentRetraining: false,
};

const hour = Date.UTC(2026, 11, 1, 1, 0, 0);
const rows = churnRows(`${SCENARIOS}churn-shifted/current.csv`);
const allTraffic = rows.slice(0, 300);
const canary = rows.slice(300, 400);

let env: DriftEnvironment;
let stream: KinesisClient;
let kinesisServer: Server;
let bridge: { url: string; close: () => Promise<void> };
let source: KinesisEventSource;
let documents: DynamoDBDocumentClient;
/** The prediction ids of the records the consumer was handed, in the order it was handed them. */
const delivered: string[] = [];

/**
 * An HTTP/2 (cleartext) server passing every request on to `port` over HTTP/1.1: the SDK's Kinesis client
 * speaks HTTP/2, kinesalite HTTP/1.1.
 */
async function http2Bridge(port: number): Promise<{ url: string; close: () => Promise<void> }> {
  const sessions = new Set<Http2Session>();
  const server = createHttp2Server((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = Object.fromEntries(
        Object.entries(incoming.headers).filter(([name]) => !name.startsWith(':')),
      );
      const forward = request(
        {
          host: '127.0.0.1',
          port,
          method: incoming.method,
          path: incoming.url,
          headers: { ...headers, host: `127.0.0.1:${port}`, 'content-length': body.length },
        },
        (response) => {
          const { connection: _c, 'keep-alive': _k, 'transfer-encoding': _t, ...answer } = response.headers;
          outgoing.writeHead(response.statusCode ?? 502, answer);
          response.pipe(outgoing);
        },
      );
      forward.on('error', () => outgoing.destroy());
      forward.end(body);
    });
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Every record of the stream, shard by shard, in sequence order: what the join put. */
async function streamRecords(): Promise<{ shardId: string; sequenceNumber: string; predictionId: string }[]> {
  const { Shards = [] } = await stream.send(new ListShardsCommand({ StreamName: FEEDBACK_STREAM }));
  const records: { shardId: string; sequenceNumber: string; predictionId: string }[] = [];
  for (const { ShardId } of Shards) {
    let { ShardIterator: iterator } = await stream.send(
      new GetShardIteratorCommand({
        StreamName: FEEDBACK_STREAM,
        ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    while (iterator) {
      const page = await stream.send(new GetRecordsCommand({ ShardIterator: iterator }));
      for (const record of page.Records ?? []) {
        expect(record.PartitionKey).toBe('churn');
        const outcome = parseFeedbackRecord(new TextDecoder().decode(record.Data));
        records.push({
          shardId: ShardId!,
          sequenceNumber: record.SequenceNumber!,
          predictionId: outcome.predictionId!,
        });
      }
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return records;
}

/** Waits until the mapping has moved past every record of the stream. */
async function drained(records: readonly { shardId: string; sequenceNumber: string }[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  const done = () =>
    records.every((record) => {
      const checkpoint = source.checkpoints.get(record.shardId);
      return checkpoint !== undefined && BigInt(checkpoint) >= BigInt(record.sequenceNumber);
    });
  source.nudge();
  while (!done()) {
    if (Date.now() > deadline) throw new Error('the feedback stream was not drained within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The model's detector states in the state table, by cohort. */
async function states(): Promise<Map<string, CohortState>> {
  const { Items = [] } = await documents.send(
    new QueryCommand({
      TableName: STATE_TABLE,
      KeyConditionExpression: '#model = :model',
      ExpressionAttributeNames: { '#model': 'model' },
      ExpressionAttributeValues: { ':model': 'churn' },
    }),
  );
  return new Map(
    Items.map((item) => [String(item['cohort']), JSON.parse(String(item['state'])) as CohortState]),
  );
}

beforeAll(async () => {
  kinesisServer = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
  kinesisServer.listen(0, '127.0.0.1');
  await once(kinesisServer, 'listening');
  const kinesisPort = (kinesisServer.address() as AddressInfo).port;
  stream = kinesisClient(`http://127.0.0.1:${kinesisPort}`, REGION);
  const resource: StreamResource = {
    logicalId: 'FeedbackStream',
    name: FEEDBACK_STREAM,
    arn: `arn:aws:kinesis:${REGION}:123456789012:stream/${FEEDBACK_STREAM}`,
    shardCount: 2,
  };
  await createStreams(stream, [resource]);
  bridge = await http2Bridge(kinesisPort);

  process.env[DRIFT_ENV.feedbackStreamName] = FEEDBACK_STREAM;
  // The join's own Kinesis client (SDK defaults) finds the stream here.
  process.env['AWS_ENDPOINT_URL_KINESIS'] = bridge.url;
  env = await DriftEnvironment.start({ model: MODEL_WITH_FEEDBACK, capture: true });
  await env.aws.dynamodb.send(
    new CreateTableCommand({
      TableName: STATE_TABLE,
      AttributeDefinitions: [
        { AttributeName: 'model', AttributeType: 'S' },
        { AttributeName: 'cohort', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'model', KeyType: 'HASH' },
        { AttributeName: 'cohort', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  documents = DynamoDBDocumentClient.from(env.aws.dynamodb);

  // The consumer as its event source mapping runs it (the stack's settings, smaller batches).
  const ports: FeedbackPorts = {
    catalog: staticCatalog(SETTINGS),
    store: dynamoCohortStore(documents, STATE_TABLE),
    putEvents: async () => {},
    reject: async (rejected) => {
      throw new Error(`the consumer rejected ${rejected.length} joined outcomes: ${rejected[0]?.reason}`);
    },
    now: Date.now,
  };
  source = new KinesisEventSource({
    stream: resource,
    settings: kinesisMappingSettings({
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    }),
    functionName: 'driftwatch-feedback',
    client: stream,
    invoke: async (event) => {
      const batch = event as KinesisStreamEvent;
      for (const record of batch.Records) {
        const text = Buffer.from(record.kinesis.data, 'base64').toString('utf8');
        delivered.push(parseFeedbackRecord(text).predictionId!);
      }
      const started = Date.now();
      const result = await processFeedbackBatch(batch, ports);
      return {
        durationMs: Date.now() - started,
        lines: [],
        functionName: 'driftwatch-feedback',
        requestId: String(delivered.length),
        status: 'succeeded',
        payload: { batchItemFailures: result.batchItemFailures },
      };
    },
    activity: new Activity(),
    region: REGION,
    failureQueue: undefined,
  });
  await source.start();
}, 120_000);

afterAll(async () => {
  await source?.stop();
  await env?.stop();
  delete process.env[DRIFT_ENV.feedbackStreamName];
  delete process.env['AWS_ENDPOINT_URL_KINESIS'];
  await bridge?.close();
  stream?.destroy();
  kinesisServer?.closeAllConnections();
  await new Promise<void>((resolve) => kinesisServer?.close(() => resolve()));
});

/** Prediction ids per variant, in the order the capture files hold them. */
const ids: Record<string, string[]> = {};
/** The ids labelled by the first label file: two thirds of AllTraffic, half of the canary. */
const firstLabelled = new Set<string>();
let fedFirst = 0;

describe('joined outcomes through the feedback stream (kinesalite) to the concept-drift detectors', () => {
  it('reach the consumer and the model state once each, in the order the join read the predictions', async () => {
    const variants = { AllTraffic: [allTraffic, 3], Canary: [canary, 1] } as const;
    Object.assign(ids, await arriveCaptureWindow(hour, variants, (key, body) => env.arrive(key, body)));
    const label = (variant: string, i: number) =>
      String((variant === 'AllTraffic' ? allTraffic : canary)[i]!['churn']);
    const lines: string[] = [];
    ids['AllTraffic']!.forEach((id, i) => {
      if (i % 3 !== 2) lines.push(groundTruthLine(id, label('AllTraffic', i)));
    });
    ids['Canary']!.forEach((id, i) => {
      if (i % 2 === 0) lines.push(groundTruthLine(id, label('Canary', i)));
    });
    // Labels come in any order: the outcomes follow the predictions, not the label file.
    lines.reverse();
    for (const line of lines) firstLabelled.add(JSON.parse(line).eventMetadata.eventId);
    await env.arrive('ground-truth/2026/12/01/01/labels-1.jsonl', `${lines.join('\n')}\n`);

    const messages = await env.sweep();
    expect(messages.filter((message) => message.includes('ground-truth-join'))).toHaveLength(1);

    // What the join put: one record per joined outcome, all under the model's partition key (one shard).
    const put = await streamRecords();
    fedFirst = put.length;
    expect(put).toHaveLength(200 + 50);
    expect(new Set(put.map((record) => record.shardId)).size).toBe(1);
    expect(new Set(put.map((record) => record.predictionId))).toEqual(firstLabelled);
    // In the order the join read the predictions: variant by variant, each in its capture order.
    const order = (variant: string) => ids[variant]!.filter((id) => firstLabelled.has(id));
    const putIds = put.map((record) => record.predictionId);
    expect([order('AllTraffic'), order('Canary')]).toContainEqual(putIds.slice(0, 200));
    expect(putIds).toEqual(
      putIds[0] === order('AllTraffic')[0]
        ? [...order('AllTraffic'), ...order('Canary')]
        : [...order('Canary'), ...order('AllTraffic')],
    );

    await drained(put);
    // The consumer was handed each record once, in the stream's order, over several batches.
    expect(delivered).toEqual(putIds);
    expect(source.outcomes.length).toBeGreaterThanOrEqual(3);
    expect(source.outcomes.every((outcome) => outcome.status === 'succeeded')).toBe(true);

    // The model's detectors and monitors counted every outcome once; each cohort its own; the state
    // remembers the last record it applied.
    const saved = await states();
    const whole = saved.get('*')!;
    expect(whole.n).toBe(250);
    expect(whole.detectors.adwin).toBeDefined();
    const labelled = [...allTraffic, ...canary].filter((_, i) =>
      firstLabelled.has(i < 300 ? ids['AllTraffic']![i]! : ids['Canary']![i - 300]!),
    );
    expect(whole.monitors['churn-rate']).toMatchObject({
      n: 250,
      events: labelled.filter((row) => row['churn'] === 'yes').length,
    });
    expect(whole.shards).toEqual({ [put[0]!.shardId]: put.at(-1)!.sequenceNumber });
    const areaCodes = new Map<string, number>();
    for (const row of labelled) {
      const code = `area_code=${row['area_code']}`;
      areaCodes.set(code, (areaCodes.get(code) ?? 0) + 1);
    }
    expect(areaCodes.size).toBeGreaterThan(1);
    for (const [cohort, n] of areaCodes) expect(saved.get(cohort)?.n, cohort).toBe(n);
  });

  it('adds nothing on a second sweep, a repeated join message, or the stream delivered again', async () => {
    const before = await states();
    expect(await env.sweep()).toEqual([]);
    await env.deliver({
      driftwatch: 'ground-truth-join',
      model: 'churn',
      pk: 'churn#ground-truth#20261201T0100Z',
    });
    const put = await streamRecords();
    expect(put).toHaveLength(fedFirst);

    // Checkpoints lost: the mapping hands every record over again; the consumer applies none twice.
    source.checkpoints.clear();
    const handed = delivered.length;
    await drained(put);
    expect(delivered.length).toBe(handed + fedFirst);
    const after = await states();
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [cohort, state] of after) expect(state.n, cohort).toBe(before.get(cohort)!.n);
  });

  it('adds exactly the outcomes of late labels, after the earlier ones', async () => {
    const late = [
      ...ids['AllTraffic']!.filter((id) => !firstLabelled.has(id)),
      ...ids['Canary']!.filter((id) => !firstLabelled.has(id)),
    ];
    const label = (id: string) => {
      const i = ids['AllTraffic']!.indexOf(id);
      return String(i >= 0 ? allTraffic[i]!['churn'] : canary[ids['Canary']!.indexOf(id)]!['churn']);
    };
    // (The mapping polls all along: what it hands over from here on.)
    const handed = delivered.length;
    await env.arrive(
      'ground-truth/2026/12/01/01/labels-2.jsonl',
      `${late.map((id) => groundTruthLine(id, label(id))).join('\n')}\n`,
    );
    expect(await env.sweep()).toHaveLength(1);

    const put = await streamRecords();
    expect(put).toHaveLength(fedFirst + late.length);
    const added = put.slice(fedFirst).map((record) => record.predictionId);
    expect(new Set(added)).toEqual(new Set(late));
    await drained(put);
    expect(delivered.slice(handed)).toEqual(added);
    const whole = (await states()).get('*')!;
    expect(whole.n).toBe(400);
    expect(whole.monitors['churn-rate']!.n).toBe(400);
    expect(whole.shards).toEqual({ [put[0]!.shardId]: put.at(-1)!.sequenceNumber });
  });
});
