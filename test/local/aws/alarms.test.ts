import { describe, expect, it } from 'vitest';
import {
  type AlarmDefinition,
  AlarmEvaluator,
  alarmFromProperties,
  alarmNotification,
  decideAlarmState,
  evaluationSeries,
} from '../../../local/aws/alarms.ts';
import { MetricStore, parseEmf } from '../../../local/aws/metrics.ts';

const NOW = Date.parse('2025-06-02T09:01:00Z');
const MINUTE = 60_000;

/** The template's DatasetDrift alarm, as CDK synthesizes it. */
const driftAlarm = alarmFromProperties(
  'Alarm',
  'Driftwatch-churn-DatasetDrift',
  'arn:aws:cloudwatch:us-east-1:1:alarm:x',
  {
    AlarmActions: ['arn:aws:sns:us-east-1:123456789012:alarms'],
    AlarmDescription: 'Model churn: an incoming file drifted',
    AlarmName: 'Driftwatch-churn-DatasetDrift',
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Dimensions: [{ Name: 'Model', Value: 'churn' }],
    EvaluationPeriods: 1,
    MetricName: 'DatasetDrift',
    Namespace: 'Driftwatch',
    Period: 300,
    Statistic: 'Maximum',
    Threshold: 1,
    TreatMissingData: 'notBreaching',
  },
);

const alarm = (overrides: Partial<AlarmDefinition>): AlarmDefinition => ({ ...driftAlarm, ...overrides });

describe('decideAlarmState', () => {
  it('alarms when enough datapoints breach, and words the reason as CloudWatch does', () => {
    expect(decideAlarmState(driftAlarm, [1], NOW)).toEqual({
      value: 'ALARM',
      reason:
        'Threshold Crossed: 1 out of the last 1 datapoints [1.0 (02/06/25 08:56:00)] was greater than or equal to the ' +
        'threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition).',
    });
    expect(decideAlarmState(driftAlarm, [0], NOW)).toEqual({
      value: 'OK',
      reason:
        'Threshold Crossed: 1 datapoint [0.0 (02/06/25 08:56:00)] was not greater than or equal to the threshold (1.0).',
    });
  });

  it('treats missing data as the alarm says', () => {
    expect(decideAlarmState(driftAlarm, [undefined], NOW)?.value).toBe('OK');
    expect(decideAlarmState(alarm({ treatMissingData: 'breaching' }), [undefined], NOW)?.value).toBe('ALARM');
    expect(decideAlarmState(alarm({ treatMissingData: 'missing' }), [undefined], NOW)).toEqual({
      value: 'INSUFFICIENT_DATA',
      reason: 'Insufficient Data: 1 datapoint was unknown.',
    });
    expect(decideAlarmState(alarm({ treatMissingData: 'ignore' }), [undefined], NOW)).toBeUndefined();
  });

  it('counts M out of N and compares the other ways', () => {
    const twoOfThree = alarm({ evaluationPeriods: 3, datapointsToAlarm: 2 });
    expect(decideAlarmState(twoOfThree, [1, 0, 1], NOW)?.value).toBe('ALARM');
    expect(decideAlarmState(twoOfThree, [1, 0, 0], NOW)?.value).toBe('OK');
    expect(
      decideAlarmState(
        alarm({ evaluationPeriods: 3, datapointsToAlarm: 2, treatMissingData: 'breaching' }),
        [1, undefined, 0],
        NOW,
      )?.value,
    ).toBe('ALARM');
    expect(
      decideAlarmState(alarm({ comparisonOperator: 'LessThanThreshold', threshold: 0.8 }), [0.7], NOW)?.value,
    ).toBe('ALARM');
    expect(decideAlarmState(alarm({ comparisonOperator: 'GreaterThanThreshold' }), [1], NOW)?.value).toBe(
      'OK',
    );
    expect(
      decideAlarmState(alarm({ comparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold' }), [1], NOW),
    ).toBeUndefined();
  });
});

describe('evaluationSeries', () => {
  it('applies the statistic to each period ending at the evaluation time, on the exact dimensions', () => {
    const store = new MetricStore();
    const metric = { namespace: 'Driftwatch', name: 'DatasetDrift', dimensions: { Model: 'churn' } };
    store.put({ ...metric, value: 0 }, NOW - 6 * MINUTE);
    store.put({ ...metric, value: 1 }, NOW - 4 * MINUTE);
    store.put({ ...metric, value: 0 }, NOW - 1 * MINUTE);
    store.put({ ...metric, dimensions: { Model: 'churn', Segment: 'all' }, value: 5 }, NOW);
    expect(evaluationSeries(driftAlarm, store, NOW)).toEqual([1]);
    expect(evaluationSeries(alarm({ evaluationPeriods: 3 }), store, NOW)).toEqual([undefined, 0, 1]);
    expect(
      evaluationSeries(alarm({ metric: { ...driftAlarm.metric!, statistic: 'Sum' } }), store, NOW),
    ).toEqual([1]);
  });

  it('evaluates metric math alarms as CDK writes them', () => {
    const failed = alarmFromProperties('Failed', 'failed-executions', 'arn', {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      Metrics: [
        {
          Expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
          Id: 'expr_1',
          Label: 'Failed',
        },
        ...['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'].map((name, i) => ({
          Id: ['failed', 'timedOut', 'aborted'][i],
          MetricStat: {
            Metric: {
              Namespace: 'AWS/States',
              MetricName: name,
              Dimensions: [{ Name: 'StateMachineArn', Value: 'sm' }],
            },
            Period: 300,
            Stat: 'Sum',
          },
          ReturnData: false,
        })),
      ],
    });
    const store = new MetricStore();
    expect(evaluationSeries(failed, store, NOW)).toEqual([0]);
    store.put(
      {
        namespace: 'AWS/States',
        name: 'ExecutionsTimedOut',
        dimensions: { StateMachineArn: 'sm' },
        value: 1,
      },
      NOW - MINUTE,
    );
    expect(evaluationSeries(failed, store, NOW)).toEqual([1]);
    expect(decideAlarmState(failed, [1], NOW)?.value).toBe('ALARM');
  });
});

describe('AlarmEvaluator', () => {
  it('starts in INSUFFICIENT_DATA and reports each change once', () => {
    const store = new MetricStore();
    const evaluator = new AlarmEvaluator([driftAlarm], store, NOW - 10 * MINUTE);
    expect(evaluator.state(driftAlarm.name)?.value).toBe('INSUFFICIENT_DATA');
    expect(evaluator.evaluate(NOW - 9 * MINUTE).map((change) => [change.from, change.to])).toEqual([
      ['INSUFFICIENT_DATA', 'OK'],
    ]);
    for (const input of parseEmf({
      _aws: {
        Timestamp: 0,
        CloudWatchMetrics: [
          {
            Namespace: 'Driftwatch',
            Dimensions: [['Model']],
            Metrics: [{ Name: 'DatasetDrift', Unit: 'Count' }],
          },
        ],
      },
      Model: 'churn',
      DatasetDrift: 1,
    })) {
      store.put(input, NOW - MINUTE);
    }
    expect(evaluator.evaluate(NOW).map((change) => [change.from, change.to])).toEqual([['OK', 'ALARM']]);
    expect(evaluator.evaluate(NOW + MINUTE)).toEqual([]);
    expect(evaluator.evaluate(NOW + 5 * MINUTE).map((change) => change.to)).toEqual(['OK']);
  });
});

describe('alarmNotification', () => {
  it('is the JSON CloudWatch publishes to SNS', () => {
    const { subject, message } = alarmNotification(
      driftAlarm,
      { from: 'OK', to: 'ALARM', reason: 'Threshold Crossed', time: NOW },
      { region: 'us-east-1', accountId: '123456789012' },
    );
    expect(subject).toBe('ALARM: "Driftwatch-churn-DatasetDrift" in US East (N. Virginia)');
    expect(JSON.parse(message)).toEqual({
      AlarmName: 'Driftwatch-churn-DatasetDrift',
      AlarmDescription: 'Model churn: an incoming file drifted',
      AWSAccountId: '123456789012',
      AlarmConfigurationUpdatedTimestamp: '2025-06-02T09:01:00.000+0000',
      NewStateValue: 'ALARM',
      NewStateReason: 'Threshold Crossed',
      StateChangeTime: '2025-06-02T09:01:00.000+0000',
      Region: 'US East (N. Virginia)',
      AlarmArn: 'arn:aws:cloudwatch:us-east-1:1:alarm:x',
      OldStateValue: 'OK',
      OKActions: [],
      AlarmActions: ['arn:aws:sns:us-east-1:123456789012:alarms'],
      InsufficientDataActions: [],
      Trigger: {
        MetricName: 'DatasetDrift',
        Namespace: 'Driftwatch',
        StatisticType: 'Statistic',
        Statistic: 'MAXIMUM',
        Unit: null,
        Dimensions: [{ value: 'churn', name: 'Model' }],
        Period: 300,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
        EvaluateLowSampleCountPercentile: '',
      },
    });
  });
});
