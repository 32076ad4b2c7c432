/**
 * End to end on the current template: the app synthesized from driftwatch.config.json, its bundled drift
 * Lambda run through the rule, queue and event source mapping the template declares, the drift alarm and
 * topic of the template, all on loopback.
 */

import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileToJson } from '../../../lambdas/core/drift/profile.ts';
import { profileTable } from '../../../lambdas/core/drift/run.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import type { DriftModelRuntimeConfig, HistoryItem } from '../../../lambdas/shared/contract.ts';
import { loadConfig } from '../../../lib/config/load.ts';
import { driftRuntimeConfig } from '../../../lib/config/runtime.ts';
import { type LocalAws, startLocalAws } from '../../../local/aws/local-aws.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CONFIG = `${ROOT}driftwatch.config.json`;
const CHURN_CSV = `${ROOT}test/fixtures/data/mlc_churn.csv`;
/** Monday 2 June 2025, 09:00 UTC: no cron schedule of the config is due in the test's minutes. */
const START = Date.parse('2025-06-02T09:00:00Z');

const model: DriftModelRuntimeConfig = driftRuntimeConfig(
  loadConfig(CONFIG).models.find((candidate) => candidate.name === 'churn')!,
);

/** The first `rows` rows of mlc_churn, numeric columns multiplied by `factor`. */
function churnSample(rows: number, factor = 1): string {
  const [header, ...lines] = readFileSync(CHURN_CSV, 'utf8').trim().split('\n');
  const columns = header!.split(',').map((name) => name.replaceAll('"', ''));
  const scaled = lines.slice(0, rows).map((line) =>
    line
      .split(',')
      .map((value, i) =>
        model.numeric.includes(columns[i]!) ? String(Math.round(Number(value) * factor * 100) / 100) : value,
      )
      .join(','),
  );
  return `${[header, ...scaled].join('\n')}\n`;
}

let aws: LocalAws;
let landing: string;
let results: string;
let history: string;

beforeAll(async () => {
  aws = await startLocalAws({ configPath: CONFIG, projectDir: ROOT, startTime: START });
  landing = String(aws.outputs['LandingBucketName']);
  results = String(aws.outputs['ResultsBucketName']);
  history = String(aws.outputs['HistoryTableName']);
  const profile = await profileTable(fileInput(CHURN_CSV), {
    numeric: model.numeric,
    categorical: model.categorical,
    exclude: model.exclude,
    segment: model.segment,
  });
  await aws.putObject(landing, model.baselineProfileKey, profileToJson(profile));
  // A cold synthesis bundles the 8 shared functions: minutes on a busy 2-core machine.
}, 300_000);

afterAll(async () => {
  await aws?.stop();
});

async function historyItems(): Promise<HistoryItem[]> {
  const documents = DynamoDBDocumentClient.from(aws.dynamoDbClient());
  const response = await documents.send(
    new QueryCommand({
      TableName: history,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `MODEL#${model.name}` },
    }),
  );
  return (response.Items ?? []) as HistoryItem[];
}

/** The churn model's incident record (history table, sort key `incident`). */
async function incident(): Promise<Record<string, unknown>> {
  const documents = DynamoDBDocumentClient.from(aws.dynamoDbClient());
  const response = await documents.send(
    new GetCommand({ TableName: history, Key: { pk: `INCIDENT#${model.name}`, sk: 'incident' } }),
  );
  return response.Item ?? {};
}

const driftFunction = () => aws.resource('Drift/Function').name;

describe('local AWS on the synthesized template', () => {
  it('names resources as the template resolves them; the shared drift function skips files that are not incoming data', () => {
    expect(landing).toMatch(/^driftwatch-landingbucket[0-9a-f]{8}$/);
    expect(aws.outputs['AlarmTopicArn']).toBe(aws.resource('Alerting/Topic').arn);
    const baselineUpload = aws.timeline
      .ofType('object-created')
      .find((event) => event.key === model.baselineProfileKey);
    expect(baselineUpload).toMatchObject({ bucket: landing, reason: 'PutObject' });
    const routed = aws.timeline.ofType('event-put').filter((event) => event.source === 'aws.s3');
    expect(routed).toHaveLength(1);
    // Every landing file reaches the one queue; the baseline profile is under the model's baselines prefix.
    expect(routed[0]!.rules).toEqual([aws.resource('Drift/ObjectCreated').name]);
  });

  it('checks a clean file and a shifted one with the bundled drift Lambda: reports, history, metrics', async () => {
    await aws.putObject(landing, `${model.incomingPrefix}clean.csv`, churnSample(1000));
    await aws.putObject(landing, `${model.incomingPrefix}shifted day.csv`, churnSample(1000, 1.5));

    // The first run was the baseline profile's upload, not incoming data: skipped.
    const runs = aws.timeline
      .ofType('function-finished')
      .filter((event) => event.function === driftFunction())
      .slice(-2);
    expect(runs.map((run) => run.status)).toEqual(['succeeded', 'succeeded']);
    expect(runs.map((run) => run.result)).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    const rule = aws.resource('Drift/ObjectCreated').name;
    // The baseline's upload and the two files: every landing file goes through the one rule.
    expect(aws.timeline.ofType('event-put').filter((event) => event.rules.includes(rule)).length).toBe(3);

    const items = await historyItems();
    const byKey = Object.fromEntries(items.map((item) => [item.key, item]));
    expect(byKey[`${model.incomingPrefix}clean.csv`]).toMatchObject({
      status: 'succeeded',
      datasetDrift: false,
    });
    expect(byKey[`${model.incomingPrefix}shifted day.csv`]).toMatchObject({
      status: 'succeeded',
      datasetDrift: true,
    });

    const s3 = aws.s3Client();
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: results, Prefix: `reports/${model.name}/` }),
    );
    const keys = (listed.Contents ?? []).map((object) => object.Key);
    expect(keys).toHaveLength(4);
    const shiftedReport = byKey[`${model.incomingPrefix}shifted day.csv`]!.reportKey!;
    expect(keys).toContain(shiftedReport);
    const report = JSON.parse(
      (await (
        await s3.send(new GetObjectCommand({ Bucket: results, Key: shiftedReport }))
      ).Body!.transformToString()) as string,
    );
    expect(report).toMatchObject({
      datasetDrift: true,
      source: { bucket: landing, key: `${model.incomingPrefix}shifted day.csv` },
    });

    const drift = aws.metrics.query(
      { namespace: 'Driftwatch', name: 'DatasetDrift', dimensions: { Model: 'churn' } },
      0,
      Infinity,
    );
    expect(drift.map((datum) => datum.values)).toEqual([[0], [1]]);
    const detected = aws.timeline
      .ofType('event-put')
      .filter((event) => event.detailType === 'Drift Detected');
    expect(detected).toHaveLength(1);
    expect(detected[0]).toMatchObject({ source: 'driftwatch', bus: 'default' });
  });

  it('does not page for one drifted file: the churn model pages when 2 of its last 3 checks drifted', async () => {
    await aws.advance(60_000);
    expect(aws.resource('churn/PageAlarm').name).toBe('Driftwatch-churn-Page');
    const reasons = aws.metrics.query(
      { namespace: 'Driftwatch', name: 'PageReason', dimensions: { Model: 'churn', Reason: 'DatasetDrift' } },
      0,
      Infinity,
    );
    expect(reasons).toEqual([]);
    const record = await incident();
    expect(record['signal:drift']).toMatchObject({
      open: false,
      detail: expect.stringMatching(/^dataset drift in 1 of the last 2 checks \(rule: 2 of 3\)/),
    });
  });

  it('records a malformed file as a failure, sends it to the dead-letter queue and alarms', async () => {
    await aws.putObject(landing, `${model.incomingPrefix}broken.csv`, 'unrelated,columns\n1,2\n');
    const failed = (await historyItems()).find((item) => item.key === `${model.incomingPrefix}broken.csv`);
    expect(failed).toMatchObject({ status: 'failed', error: { name: expect.stringMatching(/Error$/) } });

    const deadLetterQueue = aws.queue(aws.resource('Drift/DeadLetterQueue').ref)!;
    const [message] = deadLetterQueue.peek();
    expect(deadLetterQueue.peek()).toHaveLength(1);
    expect(message!.messageAttributes['errorName']?.StringValue).toBe(failed!.error!.name);
    expect(JSON.parse(message!.body)).toMatchObject({
      'detail-type': 'Object Created',
      detail: { object: { key: `${model.incomingPrefix}broken.csv` } },
    });

    await aws.advance(60_000);
    for (const name of ['Driftwatch-churn-Page', 'Driftwatch-DeadLetterMessages']) {
      expect(aws.alarms.state(name)?.value, name).toBe('ALARM');
    }
    // The dead-lettered file joins the churn model's open incident: the scheduled retraining that started
    // with the deployment failed (the example config's images are in eu-west-1, the local region is
    // us-east-1) and paged through the notifier. One page per incident: no second one.
    const topic = aws.topic(String(aws.outputs['AlarmTopicArn']))!;
    const pages = topic.messages.filter((message) => message.subject?.startsWith('driftwatch: churn:'));
    expect(pages.map((message) => message.subject)).toEqual(['driftwatch: churn: retraining failed']);
    expect(pages[0]!.message).toMatch(/^Model: churn\n/);
    expect(
      pages[0]!.deliveries.every((delivery) => delivery.endsWith('(not sent: no network locally)')),
    ).toBe(true);
    expect(await incident()).toMatchObject({
      'signal:retraining': { open: true },
      'signal:deadLetter': {
        open: true,
        detail: expect.stringContaining(
          `${model.incomingPrefix}broken.csv sent to the dead-letter queue without retry`,
        ),
      },
    });
    // The engine's DeadLetterMessages alarm stays: AWS's own message, published by CloudWatch.
    const raw = topic.messages.find(
      (message) => message.subject === 'ALARM: "Driftwatch-DeadLetterMessages" in US East (N. Virginia)',
    );
    expect(JSON.parse(raw!.message)).toMatchObject({
      AlarmName: 'Driftwatch-DeadLetterMessages',
      NewStateValue: 'ALARM',
      AWSAccountId: aws.identity.accountId,
    });
    const reasons = aws.metrics.query(
      { namespace: 'Driftwatch', name: 'PageReason', dimensions: { Model: 'churn', Reason: 'FileError' } },
      0,
      Infinity,
    );
    expect(reasons.flatMap((datum) => datum.values)).toEqual([1]);
    // The page alarm's period has moved on: no data is treated as not breaching.
    await aws.advance(5 * 60_000);
    expect(aws.alarms.state('Driftwatch-churn-Page')?.value).toBe('OK');
  });

  it("records a file under no model's prefix as a failure (FileErrors of _unrouted), never drops it", async () => {
    await aws.putObject(landing, 'nobody/incoming/stray.csv', 'a,b\n1,2\n');
    const documents = DynamoDBDocumentClient.from(aws.dynamoDbClient());
    const response = await documents.send(
      new QueryCommand({
        TableName: history,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'MODEL#_unrouted' },
      }),
    );
    expect(response.Items).toHaveLength(1);
    expect(response.Items![0]).toMatchObject({
      key: 'nobody/incoming/stray.csv',
      status: 'failed',
      error: { name: 'UnroutedFileError' },
    });
    const errors = aws.metrics.query(
      { namespace: 'Driftwatch', name: 'FileErrors', dimensions: { Model: '_unrouted' } },
      0,
      Infinity,
    );
    expect(errors.flatMap((datum) => datum.values)).toEqual([1]);
    await aws.advance(60_000);
    expect(aws.alarms.state('Driftwatch-UnroutedFiles')?.value).toBe('ALARM');
  });

  it('stops every server and worker thread', async () => {
    const { endpoints } = aws;
    const functions = aws.stacks
      .flatMap((stack) => stack.functions)
      .map((definition) => aws.function(definition.name)!);
    expect(functions.some((fn) => fn.environmentCount > 0)).toBe(true);
    await aws.stop();
    expect(functions.every((fn) => fn.environmentCount === 0)).toBe(true);
    for (const url of Object.values(endpoints)) {
      const { port } = new URL(url);
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(false);
        });
        socket.once('error', () => resolve(true));
      });
      expect(refused, url).toBe(true);
    }
  });
});
