/**
 * The local services through the real SDK clients (their current wire protocols: SQS and CloudWatch AWS
 * JSON 1.0 with query-compatible errors, EventBridge AWS JSON 1.1, SNS query, Step Functions AWS JSON 1.0,
 * Lambda REST JSON), on the hand-written fixture assembly: no synthesis, so this runs in a few seconds.
 */
import { rmSync } from 'node:fs';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from '../../../local/aws/local-aws.ts';
import { md5OfMessageAttributes } from '../../../local/aws/queue.ts';
import { writeFixtureAssembly } from './fixture-assembly.ts';

/** 09:30 UTC (11:30 in Paris): the hourly schedule fires at 10:00 UTC. */
const START = Date.parse('2025-06-02T09:30:00Z');

let aws: LocalAws;
let assemblyDir: string;
let sqs: SQSClient;
let notificationsUrl: string;

beforeAll(async () => {
  assemblyDir = writeFixtureAssembly();
  aws = await startLocalAws({ assemblyDir, startTime: START });
  sqs = new SQSClient(aws.clientConfig());
  notificationsUrl = aws.resource('Notifications').ref;
});

afterAll(async () => {
  sqs?.destroy();
  await aws?.stop();
  rmSync(assemblyDir, { recursive: true, force: true });
});

/** Every message waiting in the notifications queue (subscribed raw to the topic), received and deleted. */
async function drainNotifications(): Promise<string[]> {
  const response = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: notificationsUrl, MaxNumberOfMessages: 10 }),
  );
  for (const message of response.Messages ?? []) {
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: notificationsUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  }
  return (response.Messages ?? []).map((message) => message.Body ?? '');
}

describe('resources and outputs', () => {
  it('resolves outputs, conditions and function environments from the template', async () => {
    expect(aws.outputs['BucketName']).toBe('fixture-data');
    expect(aws.outputs['WorkQueueUrl']).toBe(`${aws.endpoints.services}/123456789012/Fixture-Work`);
    expect(aws.outputs['Stage']).toBe('test');
    const result = await aws.invoke('Fixture-Worker', { hello: 'world' });
    expect(result).toMatchObject({
      status: 'succeeded',
      payload: { echo: { hello: 'world' }, region: 'us-east-1', table: 'Fixture-items' },
    });
    expect(result?.lines.some((line) => /\tINFO\thandled 0 records in Fixture-Worker$/.test(line))).toBe(
      true,
    );
    expect(await aws.invoke('Fixture-Python', {})).toMatchObject({
      status: 'failed',
      error: { errorType: 'Runtime.Unavailable' },
    });
    // The alarm with missing data treated as breaching went OK at start (the queue depth sample is 0).
    expect(aws.alarms.state('fixture-dead-letters')?.value).toBe('OK');
    expect(JSON.parse((await drainNotifications())[0]!)).toMatchObject({
      AlarmName: 'fixture-dead-letters',
      NewStateValue: 'OK',
    });
  });
});

describe('SQS (AWS JSON 1.0)', () => {
  it('sends, receives and deletes with the digests the SDK checks', async () => {
    const attributes = {
      origin: { DataType: 'String', StringValue: 'test' },
      count: { DataType: 'Number', StringValue: '3' },
    };
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: notificationsUrl,
        MessageBody: 'hello',
        MessageAttributes: attributes,
      }),
    );
    expect(sent.MD5OfMessageBody).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(sent.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(attributes));
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'Fixture-Notifications' }));
    expect(QueueUrl).toBe(notificationsUrl);
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    expect(received.Messages).toHaveLength(1);
    expect(received.Messages![0]).toMatchObject({
      Body: 'hello',
      MessageAttributes: { origin: { DataType: 'String', StringValue: 'test' } },
      Attributes: { ApproximateReceiveCount: '1' },
    });
    const attributesNow = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
    );
    expect(attributesNow.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '1',
    });
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl, ReceiptHandle: received.Messages![0]!.ReceiptHandle }),
    );
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' }))).rejects.toMatchObject({
      name: 'QueueDoesNotExist',
    });
  });
});

describe('SNS (query protocol)', () => {
  it('publishes with message attributes and delivers to the subscriptions', async () => {
    const sns = new SNSClient(aws.clientConfig());
    const topicArn = aws.resource('Topic').arn;
    const { MessageId } = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: 'deployed',
        Subject: 'news',
        MessageAttributes: { stage: { DataType: 'String', StringValue: 'test' } },
      }),
    );
    const published = aws.topic(topicArn)!.messages.find((message) => message.messageId === MessageId);
    expect(published).toMatchObject({
      subject: 'news',
      messageAttributes: { stage: { StringValue: 'test' } },
    });
    expect(published!.deliveries).toEqual([
      `sqs ${aws.resource('Notifications').arn} (delivered)`,
      'email team@example.com (not sent: no network locally)',
    ]);
    expect(await drainNotifications()).toEqual(['deployed']);
    await expect(
      sns.send(new PublishCommand({ TopicArn: `${topicArn}-missing`, Message: 'x' })),
    ).rejects.toMatchObject({
      name: 'NotFoundException',
    });
    sns.destroy();
  });
});

describe('Lambda Invoke (REST JSON)', () => {
  it('answers the payload, the function error, or not found', async () => {
    const invoke = (name: string, payload: unknown, headers: Record<string, string> = {}) =>
      fetch(`${aws.endpoints.services}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
        method: 'POST',
        body: JSON.stringify(payload),
        headers,
      });
    const ok = await invoke(aws.resource('Worker').arn, { a: 1 });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ echo: { a: 1 } });
    const failed = await invoke('Fixture-Worker', { explode: true });
    expect(failed.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await failed.json()).toMatchObject({ errorType: 'TypeError', errorMessage: 'asked to explode' });
    expect((await invoke('Fixture-Worker', {}, { 'X-Amz-Invocation-Type': 'Event' })).status).toBe(202);
    expect((await invoke('missing', {})).status).toBe(404);
    await aws.settle();
  });
});

describe('CloudWatch (AWS JSON 1.0)', () => {
  it('stores PutMetricData, answers GetMetricData per period and DescribeAlarms with local states', async () => {
    const cloudWatch = new CloudWatchClient(aws.clientConfig());
    await cloudWatch.send(
      new PutMetricDataCommand({
        Namespace: 'Fixture',
        MetricData: [
          {
            MetricName: 'Latency',
            Dimensions: [{ Name: 'Variant', Value: 'a' }],
            Values: [10, 30],
            Counts: [1, 1],
            Unit: 'Milliseconds',
          },
        ],
      }),
    );
    const data = await cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(START - 60_000),
        EndTime: new Date(START + 60_000),
        MetricDataQueries: [
          {
            Id: 'latency',
            MetricStat: {
              Metric: {
                Namespace: 'Fixture',
                MetricName: 'Latency',
                Dimensions: [{ Name: 'Variant', Value: 'a' }],
              },
              Period: 120,
              Stat: 'Average',
            },
          },
          { Id: 'doubled', Expression: 'latency * 2' },
          {
            Id: 'handled',
            MetricStat: {
              Metric: {
                Namespace: 'Fixture',
                MetricName: 'Handled',
                Dimensions: [{ Name: 'Kind', Value: 'worker' }],
              },
              Period: 120,
              Stat: 'SampleCount',
            },
          },
        ],
      }),
    );
    expect(data.MetricDataResults?.map(({ Id, Values, Timestamps }) => ({ Id, Values, Timestamps }))).toEqual(
      [
        { Id: 'latency', Values: [20], Timestamps: [new Date(START - 60_000)] },
        { Id: 'doubled', Values: [40], Timestamps: [new Date(START - 60_000)] },
        // EMF documents of the worker's four invocations above.
        { Id: 'handled', Values: [4], Timestamps: [new Date(START - 60_000)] },
      ],
    );
    const alarms = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'fixture-' }));
    expect(alarms.MetricAlarms?.map((alarm) => [alarm.AlarmName, alarm.StateValue])).toEqual([
      ['fixture-worker-errors', 'OK'],
      ['fixture-dead-letters', 'OK'],
    ]);
    cloudWatch.destroy();
  });
});

describe('EventBridge (AWS JSON 1.1) and Step Functions (AWS JSON 1.0)', () => {
  it('routes a put event to the state machine, whose Wait state waits on the local clock', async () => {
    const events = new EventBridgeClient(aws.clientConfig());
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'fixture',
            DetailType: 'Order Placed',
            Detail: JSON.stringify({ order: 'o-1', bakeSeconds: 120 }),
          },
          { Source: 'fixture', DetailType: 'Order Placed', Detail: 'not json' },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(1);
    expect(put.Entries?.[1]).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
    await aws.settle();
    const [execution] = aws.executions();
    expect(execution?.status).toBe('RUNNING');
    await aws.advance(119_000);
    expect(execution?.status).toBe('RUNNING');
    await aws.advance(1_000);
    expect(execution?.status).toBe('SUCCEEDED');
    const output = JSON.parse(execution!.output!);
    expect(output.echo.echo).toEqual({ order: 'o-1', started: new Date(START).toISOString() });
    expect(await drainNotifications()).toContain('o-1');

    const sfn = new SFNClient(aws.clientConfig());
    const machine = aws.resource('Machine').arn;
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machine,
        name: 'by-sdk',
        input: '{"order":"o-2","bakeSeconds":0}',
      }),
    );
    expect(started.executionArn).toBe(`${machine.replace(':stateMachine:', ':execution:')}:by-sdk`);
    await aws.settle();
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(described).toMatchObject({
      status: 'SUCCEEDED',
      name: 'by-sdk',
      startDate: new Date(aws.clock.now()),
    });
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: `${machine}x`, input: '{}' })),
    ).rejects.toMatchObject({
      name: 'StateMachineDoesNotExist',
    });
    await drainNotifications();
    events.destroy();
    sfn.destroy();
  });
});

describe('S3 events, event source mapping and alarms', () => {
  it('retries a failed message after the visibility timeout, then moves it to the dead-letter queue and alarms', async () => {
    const s3 = aws.s3Client();
    await s3.send(new PutObjectCommand({ Bucket: 'fixture-data', Key: 'in/fail.csv', Body: 'x' }));
    await s3.send(new PutObjectCommand({ Bucket: 'fixture-data', Key: 'in/ok.csv', Body: 'yy' }));
    await s3.send(new PutObjectCommand({ Bucket: 'fixture-data', Key: 'elsewhere/ok.csv', Body: 'z' }));
    await aws.settle();
    const work = aws.queue(aws.resource('Work').ref)!;
    expect(work.peek().map((message) => JSON.parse(message.body))).toEqual([
      { file: 'in/fail.csv', bytes: 1 },
    ]);
    await aws.advance(60_000);
    expect(work.peek()[0]?.receiveCount).toBe(2);
    await aws.advance(60_000);
    expect(work.peek()).toEqual([]);
    const deadLetters = aws.queue(aws.resource('DeadLetters').ref)!;
    expect(deadLetters.peek().map((message) => message.body)).toEqual([
      '{"file": "in/fail.csv", "bytes": 1}',
    ]);
    expect(aws.timeline.ofType('message-dead-lettered')).toHaveLength(1);
    // The queue depth is sampled at each minute's evaluation.
    await aws.advance(60_000);
    expect(aws.alarms.state('fixture-dead-letters')?.value).toBe('ALARM');
    // The worker threw once (Invoke with explode): its errors alarm fired on the next tick and paged.
    expect(
      aws.timeline
        .ofType('alarm-state')
        .filter((change) => change.alarm === 'fixture-worker-errors')
        .map((change) => change.to),
    ).toEqual(['OK', 'ALARM', 'OK']);
    const paged = aws.timeline
      .ofType('sns-message')
      .find((message) => message.subject?.includes('fixture-worker-errors'));
    expect(paged?.subject).toBe('ALARM: "fixture-worker-errors" in US East (N. Virginia)');
    expect(JSON.parse(paged!.message)).toMatchObject({
      NewStateValue: 'ALARM',
      OldStateValue: 'OK',
      AlarmDescription: 'The worker failed',
    });
  });
});

describe('EventBridge Scheduler', () => {
  it('fires a cron schedule at its local time with the context attributes in its input', async () => {
    const invoked = () =>
      aws.timeline.ofType('function-invoked').filter((event) => event.trigger.startsWith('schedule'));
    expect(invoked()).toHaveLength(0);
    await aws.advance(Date.parse('2025-06-02T10:00:00Z') - aws.clock.now());
    expect(invoked()).toHaveLength(1);
    const [fired] = aws.timeline.ofType('schedule-fired');
    expect(fired).toMatchObject({ scheduledTime: '2025-06-02T10:00:00Z', time: '2025-06-02T10:00:00.000Z' });
    const finished = aws.timeline
      .ofType('function-finished')
      .find((event) => event.requestId === invoked()[0]!.requestId);
    expect(finished?.result).toMatchObject({
      echo: { scheduled: '2025-06-02T10:00:00Z', id: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    });
    expect(aws.scheduler.next('Fixture-Hourly')).toBe(Date.parse('2025-06-02T11:00:00Z'));
  });
});
