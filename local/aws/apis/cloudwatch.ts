/**
 * CloudWatch over AWS JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`, query-compatible
 * errors; timestamps are epoch seconds): GetMetricData and PutMetricData on the local metric store, and
 * DescribeAlarms on the local alarms.
 */
import type { AlarmEvaluator } from '../alarms.ts';
import { LocalServiceError } from '../errors.ts';
import { evaluateMetricMath, type Series } from '../metric-math.ts';
import type { MetricInput, MetricStore } from '../metrics.ts';
import type { ServiceRoutes } from '../service-endpoint.ts';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A timestamp member: epoch seconds (what the JSON protocols send), or an ISO string. */
function time(value: unknown, field: string): number {
  if (typeof value === 'number') return value * 1000;
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return Date.parse(value);
  throw new LocalServiceError('InvalidParameterValue', `${field} is not a timestamp`, {
    queryCode: 'InvalidParameterValue',
  });
}

function dimensionsOf(raw: unknown): Record<string, string> {
  return Object.fromEntries(
    (Array.isArray(raw) ? raw : []).filter(isObject).map((d) => [String(d['Name']), String(d['Value'])]),
  );
}

export interface MetricsBackend {
  store: MetricStore;
  now(): number;
  /** Stores data put by `PutMetricData` (stamped with the local clock time). */
  put(data: MetricInput[]): void;
  alarms(): AlarmEvaluator | undefined;
}

function getMetricData(backend: MetricsBackend, input: Record<string, unknown>) {
  const start = time(input['StartTime'], 'StartTime');
  const end = time(input['EndTime'], 'EndTime');
  const queries = (Array.isArray(input['MetricDataQueries']) ? input['MetricDataQueries'] : []).filter(
    isObject,
  );
  if (queries.length === 0) {
    throw new LocalServiceError('ValidationError', 'MetricDataQueries must not be empty', {
      queryCode: 'ValidationError',
    });
  }
  const periodOf = (query: Record<string, unknown>) => {
    const stat = isObject(query['MetricStat']) ? query['MetricStat'] : {};
    return Number(stat['Period'] ?? query['Period'] ?? 60) * 1000;
  };
  const period = Math.max(...queries.map(periodOf));
  const buckets = Math.max(1, Math.ceil((end - start) / period));
  const series: Record<string, Series> = {};
  for (const query of queries) {
    const stat = query['MetricStat'];
    if (!isObject(stat) || !isObject(stat['Metric'])) continue;
    const metric = {
      namespace: String(stat['Metric']['Namespace']),
      name: String(stat['Metric']['MetricName']),
      dimensions: dimensionsOf(stat['Metric']['Dimensions']),
    };
    const unit = typeof stat['Unit'] === 'string' ? stat['Unit'] : undefined;
    series[String(query['Id'])] = Array.from({ length: buckets }, (_, i) => {
      const from = start + i * period;
      // The store's windows are (start, end]; a bucket is [from, from + period).
      return backend.store.statistic(
        metric,
        from - 1,
        Math.min(end, from + period) - 1,
        String(stat['Stat']),
        unit,
      );
    });
  }
  for (const query of queries) {
    if (typeof query['Expression'] !== 'string') continue;
    try {
      series[String(query['Id'])] = evaluateMetricMath(query['Expression'], series, buckets);
    } catch (error) {
      throw new LocalServiceError('ValidationError', (error as Error).message, {
        queryCode: 'ValidationError',
      });
    }
  }
  const descending = input['ScanBy'] !== 'TimestampAscending';
  return {
    MetricDataResults: queries
      .filter((query) => query['ReturnData'] !== false)
      .map((query) => {
        const values = series[String(query['Id'])] ?? [];
        const points = values
          .map((value, i) => ({ value, timestamp: (start + i * period) / 1000 }))
          .filter((point): point is { value: number; timestamp: number } => point.value !== undefined);
        if (descending) points.reverse();
        return {
          Id: query['Id'],
          Label:
            query['Label'] ??
            (isObject(query['MetricStat']) && isObject(query['MetricStat']['Metric'])
              ? query['MetricStat']['Metric']['MetricName']
              : query['Id']),
          Timestamps: points.map((point) => point.timestamp),
          Values: points.map((point) => point.value),
          StatusCode: 'Complete',
          Messages: [],
        };
      }),
    Messages: [],
  };
}

function putMetricData(backend: MetricsBackend, input: Record<string, unknown>) {
  const namespace = input['Namespace'];
  if (typeof namespace !== 'string') {
    throw new LocalServiceError('MissingParameter', 'The parameter Namespace is required.', {
      queryCode: 'MissingParameter',
    });
  }
  const data = (Array.isArray(input['MetricData']) ? input['MetricData'] : []).filter(isObject);
  backend.put(
    data.map((datum): MetricInput => {
      const counts = Array.isArray(datum['Counts']) ? (datum['Counts'] as number[]) : undefined;
      const values = Array.isArray(datum['Values'])
        ? (datum['Values'] as number[]).flatMap((value, i) =>
            Array.from({ length: counts?.[i] ?? 1 }, () => value),
          )
        : undefined;
      const statistics = isObject(datum['StatisticValues']) ? datum['StatisticValues'] : undefined;
      return {
        namespace,
        name: String(datum['MetricName']),
        dimensions: dimensionsOf(datum['Dimensions']),
        ...(typeof datum['Unit'] === 'string' ? { unit: datum['Unit'] } : {}),
        ...(typeof datum['Value'] === 'number' ? { value: datum['Value'] } : {}),
        ...(values ? { values } : {}),
        ...(statistics
          ? {
              statisticValues: {
                SampleCount: Number(statistics['SampleCount']),
                Sum: Number(statistics['Sum']),
                Minimum: Number(statistics['Minimum']),
                Maximum: Number(statistics['Maximum']),
              },
            }
          : {}),
      };
    }),
  );
  return {};
}

function describeAlarms(backend: MetricsBackend, input: Record<string, unknown>) {
  const evaluator = backend.alarms();
  const names = Array.isArray(input['AlarmNames']) ? (input['AlarmNames'] as string[]) : undefined;
  const prefix = typeof input['AlarmNamePrefix'] === 'string' ? input['AlarmNamePrefix'] : '';
  const stateValue = input['StateValue'];
  const alarms = (evaluator?.alarms ?? []).filter(
    (alarm) =>
      (names === undefined || names.includes(alarm.name)) &&
      alarm.name.startsWith(prefix) &&
      (stateValue === undefined || evaluator?.state(alarm.name)?.value === stateValue),
  );
  return {
    MetricAlarms: alarms.map((alarm) => {
      const state = evaluator!.state(alarm.name)!;
      const metric = alarm.metric;
      return {
        AlarmName: alarm.name,
        AlarmArn: alarm.arn,
        ...(alarm.description === undefined ? {} : { AlarmDescription: alarm.description }),
        ActionsEnabled: alarm.actionsEnabled,
        AlarmActions: alarm.alarmActions,
        OKActions: alarm.okActions,
        InsufficientDataActions: alarm.insufficientDataActions,
        StateValue: state.value,
        StateReason: state.reason,
        StateUpdatedTimestamp: state.updatedAt / 1000,
        ...(metric
          ? {
              MetricName: metric.metric.name,
              Namespace: metric.metric.namespace,
              Dimensions: Object.entries(metric.metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
              Period: metric.period,
              ...(/^p\d/.test(metric.statistic)
                ? { ExtendedStatistic: metric.statistic }
                : { Statistic: metric.statistic }),
            }
          : {}),
        EvaluationPeriods: alarm.evaluationPeriods,
        DatapointsToAlarm: alarm.datapointsToAlarm,
        Threshold: alarm.threshold,
        ComparisonOperator: alarm.comparisonOperator,
        TreatMissingData: alarm.treatMissingData,
      };
    }),
    CompositeAlarms: [],
  };
}

export function cloudWatchRoutes(backend: MetricsBackend): ServiceRoutes['json'] {
  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    GetMetricData: (input) => getMetricData(backend, input),
    PutMetricData: (input) => putMetricData(backend, input),
    DescribeAlarms: (input) => describeAlarms(backend, input),
  };
  return Object.fromEntries(
    Object.entries(operations).map(([name, operation]) => [
      `GraniteServiceVersion20100801.${name}`,
      { operation, namespace: 'cloudwatch', queryCompatible: true },
    ]),
  );
}
