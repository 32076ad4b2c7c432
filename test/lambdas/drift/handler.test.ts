import { readFileSync } from 'node:fs';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DriftReport } from '../../../lambdas/core/drift/types.ts';
import { METRIC_NAMESPACE } from '../../../lambdas/shared/contract.ts';
import {
  DATA_BUCKET,
  DLQ_URL,
  DriftEnvironment,
  EVENT_BUS,
  MODEL,
  objectCreatedEvent,
  REPORTS_PREFIX,
  SCENARIOS,
  s3NotificationEvent,
  sqsRecord,
} from './environment.ts';

const halves = readFileSync(`${SCENARIOS}churn-halves/current.csv`);
const shifted = readFileSync(`${SCENARIOS}churn-shifted/current.csv`);
const shiftedExpected = JSON.parse(
  readFileSync(`${SCENARIOS}churn-shifted/expected.json`, 'utf8'),
) as DriftReport;

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
});

describe('drift handler', () => {
  it('checks a drifted file: reports, history, metrics and a Drift Detected event', async () => {
    const object = await env.upload('incoming/2025-01-02/shifted.csv', shifted);
    const response = await env.invoke([sqsRecord(objectCreatedEvent(object, { versionId: 'v-shifted-1' }))]);
    expect(response.batchItemFailures).toEqual([]);

    const [item, ...others] = await env.historyFor(object.key);
    expect(others).toEqual([]);
    expect(item).toMatchObject({
      pk: 'MODEL#churn',
      model: 'churn',
      kind: 'drift',
      status: 'succeeded',
      bucket: DATA_BUCKET,
      key: object.key,
      versionId: 'v-shifted-1',
      etag: object.etag,
      rows: { baseline: 2500, current: 2500 },
      datasetDrift: false,
    });
    expect(item!.sk).toBe(`drift#${item!.checkedAt}#${object.key}`);
    expect(item!.driftShare).toBeCloseTo(shiftedExpected.driftShare, 12);
    expect(item!.driftedFeatures).toContain('total_day_minutes');
    expect(item!.driftedSegments!.every((segment) => segment.startsWith('area_code='))).toBe(true);
    expect(item!.error).toBeUndefined();

    // Reports where the contract puts them, the JSON one with the spec's numbers.
    const base = `${REPORTS_PREFIX}churn/${item!.checkedAt}/shifted.csv`;
    expect(item!.reportKey).toBe(`${base}.json`);
    expect(item!.htmlReportKey).toBe(`${base}.html`);
    expect(await env.resultKeys()).toEqual(expect.arrayContaining([`${base}.json`, `${base}.html`]));
    const report = JSON.parse(await env.resultText(`${base}.json`)) as DriftReport;
    expect(
      report.features.map((entry) => [entry.feature, entry.segment?.value ?? null, entry.drifted]),
    ).toEqual(
      shiftedExpected.features.map((entry) => [entry.feature, entry.segment?.value ?? null, entry.drifted]),
    );
    expect(await env.resultText(`${base}.html`)).toMatch(/^<!DOCTYPE html>/i);

    // The event: total_day_minutes is critical, so drift is reported although the dataset did not drift.
    const events = env.putEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: 'driftwatch', detailType: 'Drift Detected', bus: EVENT_BUS });
    const detail = events[0]!.detail;
    expect(detail).toMatchObject({
      model: 'churn',
      bucket: DATA_BUCKET,
      key: object.key,
      versionId: 'v-shifted-1',
      reportKey: `${base}.json`,
      datasetDrift: false,
      criticalFeatures: ['total_day_minutes'],
    });
    expect(detail.driftedFeatures).toEqual(item!.driftedFeatures);
    const expectedSegments = shiftedExpected.features.filter(
      (entry) => entry.segment !== null && entry.drifted,
    );
    expect(
      detail.driftedSegments.flatMap((segment) => segment.features.map((f) => `${segment.value}/${f}`)),
    ).toEqual(expectedSegments.map((entry) => `${entry.segment!.value}/${entry.feature}`));
    expect(env.deadLetters()).toEqual([]);

    // Metrics: exactly the contract's dimensions, no Powertools `service`.
    const metrics = env.output.metrics();
    expect(metrics.every((metric) => metric.namespace === METRIC_NAMESPACE)).toBe(true);
    expect(metrics.every((metric) => !('service' in metric.dimensions))).toBe(true);
    const find = (name: string, dimensions: Record<string, string>) =>
      metrics.filter(
        (metric) => metric.name === name && JSON.stringify(metric.dimensions) === JSON.stringify(dimensions),
      );
    expect(find('FilesChecked', { Model: 'churn' })).toEqual([
      expect.objectContaining({ value: 1, unit: 'Count' }),
    ]);
    expect(find('RowsChecked', { Model: 'churn' })).toEqual([expect.objectContaining({ value: 2500 })]);
    expect(find('DatasetDrift', { Model: 'churn' })).toEqual([expect.objectContaining({ value: 0 })]);
    expect(find('CriticalFeatureDrift', { Model: 'churn' })).toEqual([expect.objectContaining({ value: 1 })]);
    expect(find('DatasetDriftShare', { Model: 'churn', Segment: 'all' })).toEqual([
      expect.objectContaining({ value: shiftedExpected.driftShare, unit: 'None' }),
    ]);
    const dayMinutes = shiftedExpected.features.find(
      (entry) => entry.feature === 'total_day_minutes' && entry.segment === null,
    )!;
    const [score] = find('FeatureDriftScore', {
      Model: 'churn',
      Feature: 'total_day_minutes',
      Segment: 'all',
    });
    expect(score!.value as number).toBeCloseTo(dayMinutes.score, 9);
    expect(find('FeatureDrifted', { Model: 'churn', Feature: 'total_day_minutes', Segment: 'all' })).toEqual([
      expect.objectContaining({ value: 1 }),
    ]);
    const segment = shiftedExpected.features.find((entry) => entry.segment !== null)!;
    expect(
      find('FeatureDrifted', {
        Model: 'churn',
        Feature: segment.feature,
        Segment: `area_code=${segment.segment!.value}`,
      }),
    ).toEqual([expect.objectContaining({ value: segment.drifted ? 1 : 0 })]);
    // One score and one flag per report entry.
    expect(metrics.filter((metric) => metric.name === 'FeatureDrifted')).toHaveLength(
      shiftedExpected.features.length,
    );
  });

  it('puts no event when nothing drifted', async () => {
    const object = await env.upload('incoming/2025-01-02/halves.csv', halves);
    const response = await env.invoke([sqsRecord(objectCreatedEvent(object, { versionId: 'v-halves-1' }))]);
    expect(response.batchItemFailures).toEqual([]);
    const [item] = await env.historyFor(object.key);
    expect(item).toMatchObject({
      status: 'succeeded',
      datasetDrift: false,
      driftShare: 0,
      driftedFeatures: [],
    });
    expect(env.putEvents()).toEqual([]);
    expect(env.deadLetters()).toEqual([]);
    const drifted = env.output.metrics().filter((metric) => metric.name === 'FeatureDrifted');
    expect(drifted.length).toBeGreaterThan(0);
    expect(env.output.metrics().find((metric) => metric.name === 'CriticalFeatureDrift')?.value).toBe(0);
  });

  it('puts an event when the dataset drifts', async () => {
    // Every numeric value of the baseline half scaled by 1.5: every numeric feature drifts.
    const lines = readFileSync(`${SCENARIOS}churn-halves/current.csv`, 'utf8').trimEnd().split('\n');
    const scaled = [
      lines[0],
      ...lines.slice(1).map((line) =>
        line
          .split(',')
          .map((field) => (/^-?\d+(\.\d+)?$/.test(field) ? String(Number(field) * 1.5) : field))
          .join(','),
      ),
    ].join('\n');
    const object = await env.upload('incoming/2025-01-03/scaled.csv', scaled);
    await env.invoke([sqsRecord(objectCreatedEvent(object, { versionId: 'v-scaled-1' }))]);
    const [event] = env.putEvents();
    expect(event?.detail).toMatchObject({ key: object.key, datasetDrift: true });
    expect(event!.detail.driftShare).toBeGreaterThanOrEqual(0.5);
    expect(env.output.metrics().find((metric) => metric.name === 'DatasetDrift')?.value).toBe(1);
  });

  it('reads Parquet through ranged GETs', async () => {
    const [header, ...lines] = halves.toString('utf8').trimEnd().split('\n');
    const names = header!.split(',').map((name) => name.replaceAll('"', ''));
    const cells = lines.map((line) => line.split(','));
    const columnData = names.map((name, index) => {
      const values = cells.map((row) => row[index]!);
      return values.every((value) => !value.startsWith('"'))
        ? { name, data: Float64Array.from(values, Number), type: 'DOUBLE' as const }
        : { name, data: values.map((value) => value.replaceAll('"', '')), type: 'STRING' as const };
    });
    const parquet = new Uint8Array(parquetWriteBuffer({ columnData }));
    const object = await env.upload('incoming/2025-01-07/halves.parquet', parquet);
    env.aws.proxy.requests.length = 0;
    const response = await env.invoke([sqsRecord(objectCreatedEvent(object, { versionId: 'v-parquet' }))]);
    expect(response.batchItemFailures).toEqual([]);
    const [item] = await env.historyFor(object.key);
    expect(item).toMatchObject({
      status: 'succeeded',
      rows: { baseline: 2500, current: 2500 },
      driftShare: 0,
    });
    const reads = env.aws.proxy.requests.filter(
      (line) => line.startsWith('GET') && line.includes('halves.parquet'),
    );
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((line) => line.includes('range=bytes='))).toBe(true);
  });

  it('checks a duplicate event for the same object version once', async () => {
    const object = await env.upload('incoming/2025-01-04/duplicate.csv', shifted);
    const body = objectCreatedEvent(object, { versionId: 'v-duplicate-1' });
    // Twice in one batch, then again later (EventBridge and SQS both deliver at least once).
    const first = await env.invoke([sqsRecord(body), sqsRecord(body)]);
    const second = await env.invoke([sqsRecord(body)]);
    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    expect(await env.historyFor(object.key)).toHaveLength(1);
    const reports = (await env.resultKeys()).filter((key) => key.endsWith('/duplicate.csv.json'));
    expect(reports).toHaveLength(1);
    expect(env.putEvents()).toHaveLength(1);
    expect(env.output.metrics().filter((metric) => metric.name === 'FilesChecked')).toHaveLength(1);
    const duplicates = env.output
      .logs()
      .filter((line) => line['message'] === 'Duplicate event: already checked');
    expect(duplicates).toHaveLength(2);
    expect(duplicates[0]).toMatchObject({
      key: object.key,
      outcome: { status: 'succeeded', versionId: 'v-duplicate-1' },
    });

    // A new version of the same key is a new check.
    await env.invoke([sqsRecord(objectCreatedEvent(object, { versionId: 'v-duplicate-2' }))]);
    expect(await env.historyFor(object.key)).toHaveLength(2);
  });

  it('tells uploads apart by ETag and sequencer in a bucket without versioning', async () => {
    const object = await env.upload('incoming/2025-01-05/unversioned.csv', halves);
    const body = objectCreatedEvent(object, { sequencer: '0065A1B2C3D4E5F700' });
    await env.invoke([sqsRecord(body)]);
    await env.invoke([sqsRecord(body)]);
    expect(await env.historyFor(object.key)).toEqual([expect.objectContaining({ versionId: null })]);
    // The same bytes uploaded again: a new sequencer, so a new check.
    await env.invoke([sqsRecord(objectCreatedEvent(object, { sequencer: '0065A1B2C3D4E5F799' }))]);
    expect(await env.historyFor(object.key)).toHaveLength(2);
  });

  describe('keys with spaces, +, % and non-ASCII characters', () => {
    const key = 'incoming/día 1 + más 100% (copia) 数据.csv';
    const encoded = 'incoming/d%C3%ADa+1+%2B+m%C3%A1s+100%25+%28copia%29+%E6%95%B0%E6%8D%AE.csv';

    it('reads the key of an EventBridge event as it is', async () => {
      const object = await env.upload(key, halves);
      const response = await env.invoke([sqsRecord(objectCreatedEvent(object, { versionId: 'v-key-1' }))]);
      expect(response.batchItemFailures).toEqual([]);
      const [item] = await env.historyFor(key);
      expect(item).toMatchObject({ status: 'succeeded', key });
      expect(item!.reportKey).toBe(
        `${REPORTS_PREFIX}churn/${item!.checkedAt}/día 1 + más 100% (copia) 数据.csv.json`,
      );
      expect(await env.resultKeys()).toContain(item!.reportKey);
    });

    it('decodes the URL-encoded key of an S3 event notification', async () => {
      const object = await env.upload(key, halves);
      const response = await env.invoke([sqsRecord(s3NotificationEvent(object, encoded, 'v-key-2'))]);
      expect(response.batchItemFailures).toEqual([]);
      expect(await env.historyFor(key)).toContainEqual(
        expect.objectContaining({ versionId: 'v-key-2', key }),
      );
    });

    it('falls back to the decoded key when an EventBridge event carries an encoded one', async () => {
      const object = await env.upload(key, halves);
      const response = await env.invoke([
        sqsRecord(objectCreatedEvent(object, { key: encoded, versionId: 'v-key-3' })),
      ]);
      expect(response.batchItemFailures).toEqual([]);
      expect(await env.historyFor(key)).toContainEqual(
        expect.objectContaining({ versionId: 'v-key-3', key }),
      );
    });

    it('falls back to the decoded key when HEAD of the encoded one is refused (no s3:ListBucket)', async () => {
      const decoded = 'incoming/refused fallback+1.csv';
      const object = await env.upload(decoded, halves);
      // A literal % in the key shows as %25 in the request path: only the encoded candidate has one.
      env.aws.proxy.faults.push({
        matches: (request) => request.method === 'HEAD' && (request.url ?? '').includes('%25'),
        status: 403,
        code: 'AccessDenied',
      });
      try {
        const response = await env.invoke([
          sqsRecord(
            objectCreatedEvent(object, { key: 'incoming/refused+fallback%2B1.csv', versionId: 'v-key-4' }),
          ),
        ]);
        expect(response.batchItemFailures).toEqual([]);
      } finally {
        env.aws.proxy.faults.length = 0;
      }
      expect(await env.historyFor(decoded)).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    });

    it('keeps a literal + when the key really has one', async () => {
      const plus = 'incoming/a+b.csv';
      const object = await env.upload(plus, halves);
      await env.invoke([sqsRecord(objectCreatedEvent(object, { versionId: 'v-plus-1' }))]);
      expect(await env.historyFor(plus)).toEqual([expect.objectContaining({ status: 'succeeded' })]);
      expect(await env.historyFor('incoming/a b.csv')).toEqual([]);
    });
  });

  it('ignores objects outside the incoming prefix and S3 test events', async () => {
    const object = await env.upload('elsewhere/file.csv', halves);
    const response = await env.invoke([
      sqsRecord(objectCreatedEvent(object, { versionId: 'v-elsewhere' })),
      sqsRecord(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: DATA_BUCKET })),
    ]);
    expect(response.batchItemFailures).toEqual([]);
    expect(await env.historyFor(object.key)).toEqual([]);
    expect(env.deadLetters()).toEqual([]);
    expect(env.output.metrics()).toEqual([]);
  });

  it('logs structured JSON with the model, key and request id', async () => {
    const object = await env.upload('incoming/2025-01-06/logged.csv', halves);
    await env.invoke([sqsRecord(objectCreatedEvent(object, { versionId: 'v-logged' }))]);
    const line = env.output.logs().find((log) => log['message'] === 'Drift checked');
    expect(line).toMatchObject({
      level: 'INFO',
      service: 'driftwatch-drift',
      model: 'churn',
      key: object.key,
      versionId: 'v-logged',
      function_name: 'driftwatch-drift-churn',
    });
    expect(line!['function_request_id']).toEqual(expect.any(String));
    expect(MODEL.name).toBe('churn');
    expect(DLQ_URL).toContain('dlq');
  });
});
