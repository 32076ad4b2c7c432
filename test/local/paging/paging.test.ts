/**
 * Paging end to end in local mode (s3rver, dynalite, the synthesized stacks, IAM enforced): files land at
 * irregular times and the churn model's drift pages only when 2 of its last 3 checks drifted (its
 * `persistence`), once per incident, through its Page alarm, the EventBridge rule on the alarm's state
 * change, the notifier Lambda and the alarm topic; clean checks close the incident, and a new one pages again.
 */
import { readFileSync } from 'node:fs';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileToJson } from '../../../lambdas/core/drift/profile.ts';
import { profileTable } from '../../../lambdas/core/drift/run.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import type { DriftModelRuntimeConfig } from '../../../lambdas/shared/contract.ts';
import { loadConfig } from '../../../lib/config/load.ts';
import { driftRuntimeConfig } from '../../../lib/config/runtime.ts';
import { type LocalAws, startLocalAws } from '../../../local/aws/local-aws.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
/** driftwatch.config.json's churn model (persistence 2 of 3), drift only: no schedule fires during the test. */
const CONFIG = `${ROOT}test/local/paging/paging.config.json`;
const CHURN_CSV = `${ROOT}test/fixtures/data/mlc_churn.csv`;
/** Monday 2 June 2025, 09:00 UTC. */
const START = Date.parse('2025-06-02T09:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const model: DriftModelRuntimeConfig = driftRuntimeConfig(
  loadConfig(CONFIG).models.find((candidate) => candidate.name === 'churn')!,
);

/** Rows `from`..`from+rows` of mlc_churn, numeric columns multiplied by `factor`. */
function churnSample(from: number, rows: number, factor = 1): string {
  const [header, ...lines] = readFileSync(CHURN_CSV, 'utf8').trim().split('\n');
  const columns = header!.split(',').map((name) => name.replaceAll('"', ''));
  const scaled = lines.slice(from, from + rows).map((line) =>
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
let files = 0;

beforeAll(async () => {
  aws = await startLocalAws({ configPath: CONFIG, projectDir: ROOT, startTime: START });
  landing = String(aws.outputs['LandingBucketName']);
  const profile = await profileTable(fileInput(CHURN_CSV), {
    numeric: model.numeric,
    categorical: model.categorical,
    exclude: model.exclude,
    segment: model.segment,
  });
  await aws.putObject(landing, model.baselineProfileKey, profileToJson(profile));
}, 300_000);

afterAll(async () => {
  await aws?.stop();
});

/** Drops one file (clean, or shifted 1.5x), then lets the clock run `after` (alarms evaluate each minute). */
async function drop(kind: 'clean' | 'shifted', after: number): Promise<string> {
  files += 1;
  const key = `${model.incomingPrefix}${String(files).padStart(2, '0')}-${kind}.csv`;
  await aws.putObject(landing, key, churnSample((files * 400) % 4000, 800, kind === 'shifted' ? 1.5 : 1));
  await aws.advance(after);
  return key;
}

const pageAlarm = () => aws.resource('churn/PageAlarm').name;
const pages = () =>
  aws
    .topic(String(aws.outputs['AlarmTopicArn']))!
    .messages.filter((message) => message.subject?.startsWith('driftwatch: churn:'));
const notifierRuns = () =>
  aws.timeline
    .ofType('function-finished')
    .filter((event) => event.function === aws.resource('Notifier/Function').name);

async function incident(): Promise<Record<string, unknown>> {
  const documents = DynamoDBDocumentClient.from(aws.dynamoDbClient());
  const response = await documents.send(
    new GetCommand({
      TableName: String(aws.outputs['HistoryTableName']),
      Key: { pk: 'INCIDENT#churn', sk: 'incident' },
    }),
  );
  return response.Item ?? {};
}

const signals = (record: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(record)
      .filter(([name]) => name.startsWith('signal:'))
      .map(([name, state]) => [name.slice('signal:'.length), state as { open: boolean; detail: string }]),
  );

describe('paging in local mode: persistence counted per check, one page per incident', () => {
  it('does not page for 1 drifted check out of 3 (rule 2 of 3), whatever the gaps between files', async () => {
    await drop('clean', 3 * HOUR);
    await drop('shifted', 10 * MINUTE);
    await drop('clean', 5 * HOUR);
    expect(aws.alarms.state(pageAlarm())?.value).toBe('OK');
    // Only the first evaluation after deployment (INSUFFICIENT_DATA -> OK).
    expect(aws.timeline.ofType('alarm-state').filter((event) => event.alarm === pageAlarm())).toEqual([
      expect.objectContaining({ from: 'INSUFFICIENT_DATA', to: 'OK' }),
    ]);
    expect(pages()).toEqual([]);
    const drift = signals(await incident())['drift']!;
    expect(drift.open).toBe(false);
    expect(drift.detail).toMatch(
      /^dataset drift in 1 of the last 3 checks \(rule: 2 of 3\); latest: churn\/incoming\/03-clean\.csv/,
    );
  });

  it('pages once when 2 of the last 3 checks drifted: the model, what fired and the latest report', async () => {
    const key = await drop('shifted', 2 * MINUTE);
    expect(aws.alarms.state(pageAlarm())?.value).toBe('ALARM');
    expect(pages()).toHaveLength(1);
    const [page] = pages();
    expect(page!.subject).toMatch(/^driftwatch: churn: data drift/);
    const record = await incident();
    const drift = signals(record)['drift']!;
    expect(drift).toMatchObject({ open: true });
    const report = (drift as unknown as { report: string }).report;
    expect(report).toMatch(/^reports\/churn\/.+\/04-shifted\.csv\.html$/);
    const results = String(aws.outputs['ResultsBucketName']);
    expect(page!.message).toContain('Model: churn\n');
    expect(page!.message).toContain(
      `- data drift: dataset drift in 2 of the last 3 checks (rule: 2 of 3); latest: ${key}`,
    );
    expect(page!.message).toContain(
      `Latest report: https://us-east-1.console.aws.amazon.com/s3/object/${results}?region=us-east-1&prefix=${encodeURIComponent(report)}\n`,
    );
    expect(page!.message).toContain(`Report key: s3://${results}/${report}\n`);
    expect(page!.message).toContain('One page per incident: no further page until it closes.');
    expect(page!.messageAttributes['model']?.StringValue).toBe('churn');
    expect(record['notifiedAt']).toEqual(expect.any(String));
  });

  it('does not page again while the incident stays open (no renotifyMinutes), though the alarm fires again', async () => {
    await aws.advance(40 * MINUTE);
    expect(aws.alarms.state(pageAlarm())?.value).toBe('OK');
    await drop('shifted', 2 * MINUTE);
    expect(aws.alarms.state(pageAlarm())?.value).toBe('ALARM');
    expect(pages()).toHaveLength(1);
    expect(notifierRuns().at(-1)?.result).toMatchObject({ status: 'suppressed', model: 'churn' });
  });

  it('closes the incident with the clean check after which the rule no longer holds', async () => {
    await drop('clean', HOUR);
    expect(signals(await incident())['drift']!.open).toBe(true); // 2 of [shifted, shifted, clean]
    await drop('clean', 10 * MINUTE);
    const record = signals(await incident());
    expect(record['drift']).toMatchObject({ open: false });
    expect(Object.values(record).filter((state) => state.open)).toEqual([]);
    expect(aws.alarms.state(pageAlarm())?.value).toBe('OK');
    expect(pages()).toHaveLength(1);
  });

  it('pages a new incident: a failed retraining execution of the model, named by its input', async () => {
    const sfn = new SFNClient(aws.clientConfig());
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: String(aws.outputs['RetrainingStateMachineArn']),
        input: JSON.stringify({ model: 'churn', trigger: { type: 'manual', detail: 'paging test' } }),
      }),
    );
    sfn.destroy();
    await aws.settle();
    await aws.advance(2 * MINUTE);
    expect(aws.executions().at(-1)?.status).toBe('FAILED');
    expect(pages()).toHaveLength(2);
    expect(pages()[1]!.subject).toBe('driftwatch: churn: retraining failed');
    expect(pages()[1]!.message).toMatch(/- retraining failed: execution \S+ failed/);
    expect(aws.timeline.ofType('access-denied')).toEqual([]);
  });
});
