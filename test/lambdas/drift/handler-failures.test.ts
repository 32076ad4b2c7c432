import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DATA_BUCKET,
  DLQ_URL,
  DriftEnvironment,
  MODEL,
  objectCreatedEvent,
  SCENARIOS,
  sqsRecord,
  type Uploaded,
} from './environment.ts';

const halvesText = readFileSync(`${SCENARIOS}churn-halves/current.csv`, 'utf8');
const halves = Buffer.from(halvesText);
const [header, ...rows] = halvesText.trimEnd().split('\n');

/** A marker placed in bad rows: it must never reach a log line, a history item or the dead-letter queue. */
const MARKER = 'SECRET-ROW-MARKER';

let env: DriftEnvironment;

beforeAll(async () => {
  env = await DriftEnvironment.start();
});

afterAll(async () => {
  await env?.stop();
});

beforeEach(() => {
  env.resetStubs();
  env.output.clear();
  env.aws.proxy.faults.length = 0;
});

/** Runs one record and checks everything a permanent failure must leave behind. */
async function expectPermanentFailure(
  object: Uploaded,
  record: SQSRecord,
  errorName: string,
  message: RegExp,
) {
  const response = await env.invoke([record]);
  // Handled: not retried by SQS.
  expect(response.batchItemFailures).toEqual([]);

  const items = await env.historyFor(object.key);
  expect(items).toHaveLength(1);
  expect(items[0]).toMatchObject({
    model: 'churn',
    kind: 'drift',
    status: 'failed',
    bucket: DATA_BUCKET,
    key: object.key,
    error: { name: errorName },
  });
  expect(items[0]!.error!.message).toMatch(message);
  expect(items[0]!.error!.message).not.toMatch(/\n/);
  expect(items[0]!.reportKey).toBeUndefined();

  expect(env.deadLetters()).toEqual([
    {
      queueUrl: DLQ_URL,
      body: record.body,
      attributes: { errorName, errorMessage: items[0]!.error!.message, model: 'churn', key: object.key },
    },
  ]);
  expect(env.output.metrics()).toEqual([
    { namespace: 'Driftwatch', name: 'FileErrors', unit: 'Count', value: 1, dimensions: { Model: 'churn' } },
  ]);
  expect(env.putEvents()).toEqual([]);
  expect(env.output.raw()).not.toContain(MARKER);
  expect(JSON.stringify(env.deadLetters())).not.toContain(MARKER);
  expect(JSON.stringify(items)).not.toContain(MARKER);
  const warning = env.output.logs().find((line) => line['message'] === 'File not checked');
  expect(warning).toMatchObject({
    level: 'WARN',
    model: 'churn',
    key: object.key,
    error: { name: errorName },
  });
}

describe('drift handler: files that cannot be checked', () => {
  it('refuses an object above maxObjectBytes without reading it', async () => {
    const big = Buffer.concat([
      halves,
      ...Array.from({ length: 3 }, () => Buffer.from(`${rows.join('\n')}\n`)),
    ]);
    expect(big.length).toBeGreaterThan(MODEL.maxObjectBytes);
    const object = await env.upload('incoming/bad/too-large.csv', big);
    await expectPermanentFailure(
      object,
      sqsRecord(objectCreatedEvent(object, { versionId: 'v-large' })),
      'LimitExceededError',
      /above the limit of 1000000 bytes/,
    );
    expect(
      env.aws.proxy.requests.filter((line) => line.startsWith('GET') && line.includes('too-large')),
    ).toEqual([]);
  });

  it('records a malformed CSV row', async () => {
    const bad = [header, ...rows.slice(0, 10), `${rows[10]},${MARKER}`, ...rows.slice(11)].join('\n');
    const object = await env.upload('incoming/bad/malformed.csv', bad);
    await expectPermanentFailure(
      object,
      sqsRecord(objectCreatedEvent(object, { versionId: 'v-malformed' })),
      'InputError',
      /line 12.*expected 20 fields, found 21/,
    );
  });

  it('records a schema mismatch: a baseline column is missing', async () => {
    const columns = header!.split(',');
    const drop = columns.indexOf('"total_day_minutes"');
    expect(drop).toBeGreaterThan(0);
    const without = (line: string) =>
      line
        .split(',')
        .filter((_, index) => index !== drop)
        .join(',');
    const object = await env.upload(
      'incoming/bad/missing-column.csv',
      [header!, ...rows].map(without).join('\n'),
    );
    await expectPermanentFailure(
      object,
      sqsRecord(objectCreatedEvent(object, { versionId: 'v-missing-column' })),
      'InputError',
      /column "total_day_minutes" of the baseline .* is missing/,
    );
  });

  it('records a schema mismatch: a column the baseline does not have', async () => {
    const extra = [`${header},"${MARKER}"`, ...rows.map((row) => `${row},1`)].join('\n');
    const object = await env.upload('incoming/bad/extra-column.csv', extra);
    const response = await env.invoke([
      sqsRecord(objectCreatedEvent(object, { versionId: 'v-extra-column' })),
    ]);
    expect(response.batchItemFailures).toEqual([]);
    const [item] = await env.historyFor(object.key);
    expect(item).toMatchObject({ status: 'failed', error: { name: 'InputError' } });
    expect(item!.error!.message).toMatch(/is not in the baseline/);
    expect(env.deadLetters()).toHaveLength(1);
  });

  it('records a file that is not UTF-8', async () => {
    // "é" in Latin-1 is the single byte E9, which is not UTF-8.
    const row = rows[5]!.replace(/^"[^"]*"/, '"Kansas\u00e9"');
    expect(row).not.toBe(rows[5]);
    const latin1 = Buffer.from([header, ...rows.slice(0, 5), row, ...rows.slice(6)].join('\n'), 'latin1');
    const object = await env.upload('incoming/bad/latin1.csv', latin1);
    await expectPermanentFailure(
      object,
      sqsRecord(objectCreatedEvent(object, { versionId: 'v-latin1' })),
      'InputError',
      /not valid UTF-8/,
    );
  });

  it('records a gzip file that expands past maxDecompressedBytes', async () => {
    const expanded = Buffer.concat(Array.from({ length: 8 }, () => halves));
    expect(expanded.length).toBeGreaterThan(MODEL.maxDecompressedBytes);
    const compressed = gzipSync(expanded);
    expect(compressed.length).toBeLessThan(MODEL.maxObjectBytes);
    const object = await env.upload('incoming/bad/bomb.csv.gz', compressed);
    await expectPermanentFailure(
      object,
      sqsRecord(objectCreatedEvent(object, { versionId: 'v-bomb' })),
      'LimitExceededError',
      /expands past the limit of 2000000 bytes/,
    );
  });

  it('records a missing baseline profile, and checks the file again when the message is redriven', async () => {
    const object = await env.upload('incoming/bad/no-baseline.csv', halves);
    const record = sqsRecord(objectCreatedEvent(object, { versionId: 'v-no-baseline' }));
    await env.deleteObject(MODEL.baselineProfileKey);
    try {
      await expectPermanentFailure(
        object,
        record,
        'BaselineProfileMissingError',
        /baselines\/churn\.profile\.json\.gz/,
      );
    } finally {
      await env.uploadBaselineProfile();
    }
    // The operator uploads the baseline and moves the message back from the dead-letter queue, which keeps
    // the attributes the handler set.
    const [dead] = env.deadLetters();
    env.resetStubs();
    const redriven = sqsRecord(dead!.body);
    redriven.messageAttributes = Object.fromEntries(
      Object.entries(dead!.attributes).map(([name, value]) => [
        name,
        { dataType: 'String', stringValue: value, stringListValues: [], binaryListValues: [] },
      ]),
    );
    expect((await env.invoke([redriven])).batchItemFailures).toEqual([]);
    const statuses = (await env.historyFor(object.key)).map((item) => item.status).sort();
    expect(statuses).toEqual(['failed', 'succeeded']);
    expect(env.deadLetters()).toEqual([]);
  });

  it('records an object deleted before it was checked', async () => {
    const object = await env.upload('incoming/bad/deleted.csv', halves);
    await env.deleteObject(object.key);
    await expectPermanentFailure(
      object,
      sqsRecord(objectCreatedEvent(object, { versionId: 'v-deleted' })),
      'ObjectNotFoundError',
      /does not exist/,
    );
  });

  it('takes a 403 on HEAD for a missing key, as S3 answers without s3:ListBucket', async () => {
    const object = await env.upload('incoming/bad/forbidden.csv', halves);
    env.aws.proxy.faults.push({
      matches: (request) => request.method === 'HEAD' && (request.url ?? '').includes('forbidden.csv'),
      status: 403,
      code: 'AccessDenied',
    });
    await expectPermanentFailure(
      object,
      sqsRecord(objectCreatedEvent(object, { versionId: 'v-forbidden' })),
      'ObjectNotFoundError',
      /does not exist or may not be read/,
    );
  });

  it('sends a message that is not an S3 event to the dead-letter queue', async () => {
    const record = sqsRecord('{"hello": "world"}');
    const response = await env.invoke([record]);
    expect(response.batchItemFailures).toEqual([]);
    expect(env.deadLetters()).toEqual([
      {
        queueUrl: DLQ_URL,
        body: record.body,
        attributes: expect.objectContaining({ errorName: 'EventFormatError', model: 'churn' }),
      },
    ]);
    expect(env.output.metrics().map((metric) => metric.name)).toEqual(['FileErrors']);
  });

  it('records a duplicate of a bad file once', async () => {
    const object = await env.upload('incoming/bad/duplicate-bad.csv', `${header}\n`);
    const body = objectCreatedEvent(object, { versionId: 'v-dup-bad' });
    await env.invoke([sqsRecord(body)]);
    await env.invoke([sqsRecord(body)]);
    expect(await env.historyFor(object.key)).toEqual([
      expect.objectContaining({ status: 'failed', error: expect.objectContaining({ name: 'InputError' }) }),
    ]);
    expect(env.deadLetters()).toHaveLength(1);
  });
});

describe('drift handler: transient failures', () => {
  it('leaves a record whose object S3 fails to serve for SQS to retry, and checks it on the retry', async () => {
    const good = await env.upload('incoming/transient/good.csv', halves);
    const flaky = await env.upload('incoming/transient/flaky.csv', halves);
    env.aws.proxy.faults.push({
      matches: (request) => request.method === 'GET' && (request.url ?? '').includes('flaky.csv'),
      status: 503,
      code: 'SlowDown',
    });
    const flakyRecord = sqsRecord(objectCreatedEvent(flaky, { versionId: 'v-flaky' }));
    const response = await env.invoke([
      sqsRecord(objectCreatedEvent(good, { versionId: 'v-good' })),
      flakyRecord,
    ]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: flakyRecord.messageId }]);
    // Not a bad file: no failure record, no dead letter (the queue's redrive policy does that after
    // maxReceiveCount), no FileErrors.
    expect(await env.historyFor(flaky.key)).toEqual([]);
    expect(await env.historyFor(good.key)).toHaveLength(1);
    expect(env.deadLetters()).toEqual([]);
    expect(env.output.metrics().filter((metric) => metric.name === 'FileErrors')).toEqual([]);
    const retryLog = env.output.logs().find((line) => line['message'] === 'Message left for retry');
    expect(retryLog).toMatchObject({ level: 'ERROR', messageId: flakyRecord.messageId });

    // S3 recovers; SQS delivers the message again. The idempotency record of the failed attempt is gone.
    env.aws.proxy.faults.length = 0;
    const retry = await env.invoke([flakyRecord]);
    expect(retry.batchItemFailures).toEqual([]);
    expect(await env.historyFor(flaky.key)).toEqual([expect.objectContaining({ status: 'succeeded' })]);
  });

  it('retries when S3 is unreachable', async () => {
    const object = await env.upload('incoming/transient/unreachable.csv', halves);
    env.aws.proxy.faults.push({ matches: () => true, status: 500, code: 'InternalError' });
    const record = sqsRecord(objectCreatedEvent(object, { versionId: 'v-unreachable' }));
    const response = await env.invoke([record]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(env.deadLetters()).toEqual([]);
    expect(await env.historyFor(object.key)).toEqual([]);
  });

  it('retries when EventBridge refuses the Drift Detected event', async () => {
    const shifted = readFileSync(`${SCENARIOS}churn-shifted/current.csv`);
    const object = await env.upload('incoming/transient/event-refused.csv', shifted);
    env.eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'accepted' }] });
    const record = sqsRecord(objectCreatedEvent(object, { versionId: 'v-event-refused' }));
    expect((await env.invoke([record])).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect((await env.invoke([record])).batchItemFailures).toEqual([]);
    expect(env.putEvents()).toHaveLength(2);
    expect(env.deadLetters()).toEqual([]);
  });
});
