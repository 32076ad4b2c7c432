import { Logger } from '@aws-lambda-powertools/logger';
import type { PublishCommand } from '@aws-sdk/client-sns';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  type AlarmStateChangeDetail,
  modelOfAlarm,
  type NotifierConfig,
  onPageAlarm,
  onRetrainingStatus,
} from '../../../lambdas/notifier/notify.ts';
import { createMetrics } from '../../../lambdas/shared/metrics.ts';

const CONFIG: NotifierConfig = {
  historyTable: 'history',
  topicArn: 'arn:aws:sns:eu-west-1:123456789012:alarms',
  resultsBucket: 'results',
  dashboardName: 'Driftwatch',
  renotifyMinutes: 60,
  alarmNamePrefix: 'Driftwatch-',
  region: 'eu-west-1',
};

/** The incident item as DynamoDB holds it, behind the two commands the notifier sends. */
function fakeDocuments(item: Record<string, unknown>) {
  const documents = {
    item,
    async send(command: unknown) {
      if (command instanceof GetCommand) return { Item: documents.item };
      if (command instanceof UpdateCommand) {
        const input = command.input;
        if (input.UpdateExpression === 'SET notifiedAt = :at') {
          documents.item = { ...documents.item, notifiedAt: input.ExpressionAttributeValues![':at'] };
        }
        return {};
      }
      throw new Error(`unexpected ${String(command)}`);
    },
  };
  return documents;
}

function dependencies(item: Record<string, unknown>, now: string) {
  const documents = fakeDocuments(item);
  const published: PublishCommand['input'][] = [];
  const logger = new Logger({ logLevel: 'SILENT' });
  return {
    documents,
    published,
    deps: {
      config: CONFIG,
      documents: documents as unknown as DynamoDBDocumentClient,
      sns: {
        send: async (command: unknown) => {
          published.push((command as PublishCommand).input);
          return { MessageId: `m${published.length}` };
        },
      } as never,
      metrics: createMetrics(),
      logger,
      now: () => new Date(now),
    },
  };
}

const alarm = (value: string): AlarmStateChangeDetail => ({
  alarmName: 'Driftwatch-churn-Page',
  state: { value },
  configuration: { metrics: [{ metricStat: { metric: { dimensions: { Model: 'churn' } } } }] },
});

const openDrift = {
  pk: 'MODEL#churn',
  sk: 'incident',
  openedAt: '2026-12-07T03:00:00.000Z',
  'signal:drift': {
    open: true,
    detail: 'dataset drift in 2 of the last 3 checks (rule: 2 of 3)',
    at: '2026-12-07T03:00:00.000Z',
    report: 'reports/churn/2026-12-07T03:00:00.000Z/day 4.csv.html',
  },
};

describe('onPageAlarm', () => {
  it('pages a new incident with the model, what fired, the report link and key, then marks it paged', async () => {
    const { deps, published, documents } = dependencies(openDrift, '2026-12-07T03:02:00.000Z');
    expect(await onPageAlarm(deps, alarm('ALARM'))).toMatchObject({ status: 'paged', why: 'opened' });
    expect(published).toHaveLength(1);
    expect(published[0]!.Subject).toBe('driftwatch: churn: data drift');
    expect(published[0]!.Message).toContain(
      'Latest report: https://eu-west-1.console.aws.amazon.com/s3/object/results?region=eu-west-1&prefix=reports%2Fchurn%2F2026-12-07T03%3A00%3A00.000Z%2Fday%204.csv.html\n',
    );
    expect(published[0]!.Message).toContain(
      'Report key: s3://results/reports/churn/2026-12-07T03:00:00.000Z/day 4.csv.html\n',
    );
    expect(published[0]!.Message).toContain('repeated every 60 minutes while it stays open');
    expect(documents.item['notifiedAt']).toBe('2026-12-07T03:02:00.000Z');
  });

  it('stays quiet while the incident is open, then re-notifies after renotifyMinutes', async () => {
    const paged = { ...openDrift, notifiedAt: '2026-12-07T03:02:00.000Z' };
    const early = dependencies(paged, '2026-12-07T03:30:00.000Z');
    expect(await onPageAlarm(early.deps, alarm('ALARM'))).toMatchObject({ status: 'suppressed' });
    expect(early.published).toEqual([]);
    const late = dependencies(paged, '2026-12-07T04:02:00.000Z');
    expect(await onPageAlarm(late.deps, alarm('ALARM'))).toMatchObject({
      status: 'paged',
      why: 'still-open',
    });
    expect(late.published[0]!.Subject).toBe('driftwatch: churn: still open: data drift');
    expect(late.published[0]!.Message).toMatch(/^Model: churn\nOpen since: 2026-12-07T03:00:00.000Z\n/);
  });

  it('ignores OK transitions and alarms of no model', async () => {
    const { deps, published } = dependencies(openDrift, '2026-12-07T03:02:00.000Z');
    expect(await onPageAlarm(deps, alarm('OK'))).toMatchObject({ status: 'ignored' });
    expect(
      await onPageAlarm(deps, { alarmName: 'Driftwatch-DriftFunctionErrors', state: { value: 'ALARM' } }),
    ).toMatchObject({
      status: 'ignored',
    });
    expect(published).toEqual([]);
    expect(
      modelOfAlarm({ alarmName: 'Driftwatch-fraud-v2-Page', state: { value: 'ALARM' } }, 'Driftwatch-'),
    ).toBe('fraud-v2');
  });
});

describe('onRetrainingStatus', () => {
  it('opens the signal on a failed execution, leaves it on a skipped run, closes it on a real success', async () => {
    const updates: Record<string, unknown>[] = [];
    const { deps } = dependencies({}, '2026-12-07T05:00:00.000Z');
    deps.documents = {
      send: async (command: UpdateCommand) => {
        updates.push(command.input.ExpressionAttributeValues ?? {});
        return {};
      },
    } as never;
    const arn = 'arn:aws:states:eu-west-1:123456789012:execution:Driftwatch-retraining:run-1';
    const input = JSON.stringify({ model: 'churn', trigger: { type: 'drift' } });
    expect(
      await onRetrainingStatus(deps, {
        executionArn: arn,
        status: 'TIMED_OUT',
        input,
        error: 'States.Timeout',
      }),
    ).toEqual({ model: 'churn', open: true });
    expect(updates[0]![':state']).toMatchObject({
      open: true,
      detail: 'execution run-1 timed out: States.Timeout',
    });
    expect(
      await onRetrainingStatus(deps, {
        executionArn: arn,
        status: 'SUCCEEDED',
        input,
        output: '{"status":"skipped","reason":"cooldown"}',
      }),
    ).toEqual({ model: 'churn', open: null });
    expect(
      await onRetrainingStatus(deps, {
        executionArn: arn,
        status: 'SUCCEEDED',
        input,
        output: '{"status":"promoted"}',
      }),
    ).toEqual({ model: 'churn', open: false });
    expect(await onRetrainingStatus(deps, { executionArn: arn, status: 'FAILED', input: '{}' })).toEqual({
      model: null,
      open: null,
    });
  });

  it("closes an open concept-drift signal when the model's retraining succeeds", async () => {
    const { deps } = dependencies({}, '2026-12-07T05:00:00.000Z');
    const signals: [unknown, Record<string, unknown>][] = [];
    deps.documents = {
      send: async (command: unknown) => {
        if (command instanceof GetCommand)
          return {
            Item: {
              'signal:conceptDrift': {
                open: true,
                detail: 'adwin on all outcomes',
                at: '2026-12-07T04:00:00.000Z',
              },
            },
          };
        const input = (command as UpdateCommand).input;
        signals.push([input.ExpressionAttributeNames?.['#signal'], input.ExpressionAttributeValues ?? {}]);
        return {};
      },
    } as never;
    const arn = 'arn:aws:states:eu-west-1:123456789012:execution:Driftwatch-retraining:run-2';
    const input = JSON.stringify({ model: 'churn', trigger: { type: 'conceptDrift' } });
    await onRetrainingStatus(deps, {
      executionArn: arn,
      status: 'SUCCEEDED',
      input,
      output: '{"status":"promoted"}',
    });
    const closed = signals.find(([name]) => name === 'signal:conceptDrift');
    expect(closed?.[1][':state']).toMatchObject({ open: false, detail: 'retrained by execution run-2' });
  });
});
