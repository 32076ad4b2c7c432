/**
 * The feedback loop end to end on the real protocols: the app synthesized from the concept-drift demo
 * config, records put on its Kinesis stream (kinesalite), the bundled consumer run by the event source
 * mapping the template declares, its states in DynamoDB (dynalite), its events routed by the template's rules.
 */
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CohortState } from '../../../lambdas/core/concept-drift/feedback.ts';
import { type LocalAws, startLocalAws } from '../../../local/aws/local-aws.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CONFIG = `${ROOT}local/demo/concept-drift.config.json`;
const START = Date.parse('2025-06-02T09:00:00Z');

let aws: LocalAws;
let stream: string;
let table: string;
let documents: DynamoDBDocumentClient;
let placedSoFar: { shardId: string; sequenceNumber: string }[] = [];

/** Deterministic outcomes: `errorRate` of them wrong, cohorts alternating between two area codes. */
function outcomes(count: number, errorRate: number, seed: number, from = 0) {
  let state = seed;
  const next = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: count }, (_, i) => {
    const label = next() < 0.14 ? 'yes' : 'no';
    const wrong = next() < errorRate;
    const score = (label === 'yes') !== wrong ? 0.9 : 0.1;
    return {
      model: 'churn',
      label,
      prediction: score,
      cohort: { area_code: i % 2 === 0 ? 'area_code_415' : 'area_code_510' },
      eventTime: START + (from + i) * 10,
    };
  });
}

async function put(records: readonly unknown[], partitionKey: (i: number) => string = () => 'churn') {
  const placed = await aws.putRecords(
    stream,
    records.map((record, i) => ({
      data: typeof record === 'string' ? record : JSON.stringify(record),
      partitionKey: partitionKey(i),
    })),
  );
  placedSoFar = [...placedSoFar, ...placed];
  await aws.drainStream(stream, placed);
  return placed;
}

async function states(): Promise<Map<string, { version: number; state: CohortState }>> {
  const { Items = [] } = await documents.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: '#model = :model',
      ExpressionAttributeNames: { '#model': 'model' },
      ExpressionAttributeValues: { ':model': 'churn' },
    }),
  );
  return new Map(
    Items.map((item) => [
      String(item['cohort']),
      { version: Number(item['version']), state: JSON.parse(String(item['state'])) as CohortState },
    ]),
  );
}

const metric = (name: string, dimensions: Record<string, string> = { Model: 'churn' }) =>
  aws.metrics
    .query({ namespace: 'Driftwatch', name, dimensions }, 0, Infinity)
    .flatMap((datum) => datum.values ?? [])
    .reduce((sum, value) => sum + value, 0);

beforeAll(async () => {
  aws = await startLocalAws({ configPath: CONFIG, projectDir: ROOT, startTime: START });
  stream = String(aws.outputs['FeedbackStreamName']);
  table = aws.resource('Feedback/State').name;
  documents = DynamoDBDocumentClient.from(aws.dynamoDbClient());
}, 240_000);

afterAll(async () => {
  await aws?.stop();
});

describe('the feedback stream in local mode', () => {
  it('declares two shards and a mapping with a batch window, bisect, retries and an on-failure queue', () => {
    const [source] = aws.streamSources;
    expect(aws.streamSources).toHaveLength(1);
    expect(source!.stream.shardCount).toBe(2);
    expect(source!.settings).toMatchObject({
      batchSize: 500,
      batchWindowMs: 1000,
      bisectOnError: true,
      maximumRetryAttempts: 3,
      reportBatchItemFailures: true,
      startingPosition: 'TRIM_HORIZON',
      parallelizationFactor: 1,
    });
    expect(source!.settings.onFailure).toMatch(/FailureQueue/);
  });

  it('applies every outcome once to the model and its cohort, with two shards updating the same states at once', async () => {
    // Random partition keys spread one model's records over both shards: two consumers, one state.
    const placed = await put(outcomes(1200, 0.1, 1), (i) => `k${i}`);
    expect(new Set(placed.map((entry) => entry.shardId)).size).toBe(2);
    const saved = await states();
    expect(saved.get('*')!.state.n).toBe(1200);
    expect(saved.get('area_code=area_code_415')!.state.n).toBe(600);
    expect(saved.get('area_code=area_code_510')!.state.n).toBe(600);
    expect(Object.keys(saved.get('*')!.state.shards).sort()).toEqual([
      'shardId-000000000000',
      'shardId-000000000001',
    ]);
    // Admitted in the order the two shards' batches got there first.
    expect(saved.get('*')!.state.cohortValues!['area_code']!.sort()).toEqual([
      'area_code_415',
      'area_code_510',
    ]);
    expect(metric('FeedbackOutcomes')).toBe(1200 * 2);
  });

  it('sends unparseable records to the failure queue with the reason, counts them and applies the rest', async () => {
    await put([
      'not json',
      { model: 'fraud', label: 1, prediction: 1 },
      { model: 'churn', label: 'yes', predictionId: 'p-1' },
      { model: 'churn', label: 'no', prediction: 0.2, eventTime: 'yesterday' },
      ...outcomes(4, 0.1, 2, 1200),
    ]);
    const sqs = new SQSClient(aws.clientConfig());
    const queueUrl = String(aws.outputs['FeedbackFailureQueueUrl']);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    sqs.destroy();
    const bodies = Messages.map((message) => JSON.parse(message.Body!) as { reason: string; data: string });
    expect(bodies.map((body) => body.reason)).toEqual([
      expect.stringMatching(/^not JSON/),
      'model: "fraud" is not a configured model with a conceptDrift section',
      expect.stringMatching(/^prediction: missing \(a record joined by predictionId/),
      expect.stringMatching(/^eventTime: expected ISO 8601/),
    ]);
    expect(Buffer.from(bodies[0]!.data, 'base64').toString()).toBe('not json');
    expect(metric('FeedbackRejected')).toBe(2);
    expect(metric('FeedbackRejected', { Model: '_unrouted' })).toBe(2);
    expect((await states()).get('*')!.state.n).toBe(1204);
  });

  it('applies nothing twice when the mapping delivers every batch again (lost checkpoints, retried batches)', async () => {
    const before = await states();
    const [source] = aws.streamSources;
    source!.checkpoints.clear();
    source!.nudge();
    await aws.drainStream(stream, placedSoFar);
    const after = await states();
    for (const [cohort, { state }] of after) expect(state.n, cohort).toBe(before.get(cohort)!.state.n);
    expect(metric('FeedbackDuplicates')).toBeGreaterThanOrEqual(1204 * 2);
  });

  it('detects the concept flip with ADWIN and puts Concept Drift Detected, which starts an emergency retraining and pages', async () => {
    await put([...outcomes(1000, 0.1, 3, 2000), ...outcomes(1000, 0.6, 4, 3000)]);
    const detected = aws.timeline
      .ofType('event-put')
      .filter((event) => event.detailType === 'Concept Drift Detected');
    expect(detected.length).toBeGreaterThanOrEqual(1);
    const started = aws
      .executions()
      .map(
        (execution) =>
          JSON.parse(execution.input) as { trigger: { type: string; detail: Record<string, unknown> } },
      )
      .filter((input) => input.trigger.type === 'conceptDrift');
    expect(started.length).toBeGreaterThanOrEqual(1);
    const whole = started.map((input) => input.trigger.detail).find((detail) => detail['cohort'] === null)!;
    expect(whole).toMatchObject({ model: 'churn', detector: 'adwin', retrainingTrigger: 'conceptDrift' });
    // The flip is at outcome 2,204 of the model's stream (1,204 before this test, 1,000 at 10% here).
    expect(whole['position'] as number).toBeGreaterThan(2204);
    expect(whole['position'] as number).toBeLessThan(2204 + 400);
    expect(whole['errorRateBefore'] as number).toBeLessThan(0.2);
    // The window ADWIN kept at the cut is mostly after the flip: its error rate is well above the one before.
    expect(whole['errorRateAfter'] as number).toBeGreaterThan((whole['errorRateBefore'] as number) + 0.1);
    expect(Date.parse(whole['windowStart'] as string)).toBeGreaterThanOrEqual(START + 2500 * 10);
    expect(metric('ConceptDriftDetections')).toBeGreaterThanOrEqual(1);
    expect(metric('Page')).toBeGreaterThanOrEqual(1);
    // The model's Page alarm fires and the notifier pages once, naming the concept drift (not suppressed).
    await aws.advance(2 * 60_000);
    const pages = aws
      .topic(String(aws.outputs['AlarmTopicArn']))!
      .messages.filter((message) => message.subject?.startsWith('driftwatch: churn:'));
    // (Here the emergency run fails, for want of training data: the same incident names both.)
    expect(pages).toHaveLength(1);
    expect(pages[0]!.subject).toMatch(/^driftwatch: churn: .*concept drift/);
    expect(pages[0]!.message).toMatch(
      /- concept drift: adwin on [^:]+: rate 0\.\d+ -> 0\.\d+ at outcome \d+/,
    );
    expect(aws.timeline.ofType('access-denied')).toEqual([]);
  });

  it("read the stream all along as the consumer's role, which local IAM allowed (reads, the stream's key, the failure queue)", () => {
    const allowed = (action: string) =>
      aws.iam!.decisions.some(
        (decision) => decision.allowed && decision.action === action && /Feedback/.test(decision.principal),
      );
    for (const action of [
      'kinesis:DescribeStream',
      'kinesis:ListShards',
      'kinesis:GetShardIterator',
      'kinesis:GetRecords',
      'kms:Decrypt',
      'sqs:SendMessage',
    ])
      expect(allowed(action), action).toBe(true);
    expect(aws.timeline.ofType('access-denied')).toEqual([]);
    expect(aws.streamSources[0]!.lastProcessingResult).toBe('OK');
  });
});
