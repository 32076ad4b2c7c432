/**
 * CloudWatch alarms of the template, evaluated against the local metric store on the local clock. Each
 * evaluation looks at the alarm's last `EvaluationPeriods` periods ending now, applies its statistic (or
 * metric math), `DatapointsToAlarm` and `TreatMissingData`, and on a change of state calls the actions'
 * callback with the message CloudWatch publishes to SNS.
 *
 * Simplifications: periods end at the evaluation time rather than at CloudWatch's aligned boundaries;
 * with `missing` or `ignore`, periods without data are left out rather than looked back past; anomaly
 * detection alarms are not evaluated.
 */
import { evaluateMetricMath, type Series } from './metric-math.ts';
import type { MetricIdentity, MetricStore } from './metrics.ts';

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type TreatMissingData = 'missing' | 'notBreaching' | 'breaching' | 'ignore';

/** One metric of an alarm: the alarm's own metric, or a `MetricStat` of its metric math. */
export interface AlarmMetricStat {
  metric: MetricIdentity;
  /** Seconds. */
  period: number;
  statistic: string;
  unit?: string;
}

export interface AlarmMetricQuery {
  id: string;
  expression?: string;
  metricStat?: AlarmMetricStat;
  returnData: boolean;
  label?: string;
}

/** An alarm as the template declares it, resolved. */
export interface AlarmDefinition {
  logicalId: string;
  name: string;
  arn: string;
  description?: string;
  actionsEnabled: boolean;
  alarmActions: string[];
  okActions: string[];
  insufficientDataActions: string[];
  comparisonOperator: string;
  threshold: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  treatMissingData: TreatMissingData;
  /** Seconds. */
  period: number;
  /** A single-metric alarm. */
  metric?: AlarmMetricStat;
  /** A metric math alarm. */
  metrics?: AlarmMetricQuery[];
}

export interface AlarmState {
  value: AlarmStateValue;
  reason: string;
  /** Local clock time of the last change. */
  updatedAt: number;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function dimensionsOf(raw: unknown): Record<string, string> {
  if (!Array.isArray(raw)) return {};
  return Object.fromEntries(
    raw.filter(isObject).map((dimension) => [String(dimension['Name']), String(dimension['Value'])]),
  );
}

/**
 * Reads an `AWS::CloudWatch::Alarm`'s resolved properties.
 *
 * @example
 * ```ts
 * alarmFromProperties('Alarm', 'Driftwatch-churn-DatasetDrift', arn, resolver.properties('Alarm'));
 * ```
 */
export function alarmFromProperties(
  logicalId: string,
  name: string,
  arn: string,
  properties: Record<string, unknown>,
): AlarmDefinition {
  const strings = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
  const evaluationPeriods = Number(properties['EvaluationPeriods'] ?? 1);
  const metrics = Array.isArray(properties['Metrics'])
    ? properties['Metrics'].filter(isObject).map((query): AlarmMetricQuery => {
        const stat = isObject(query['MetricStat']) ? query['MetricStat'] : undefined;
        const metric = stat && isObject(stat['Metric']) ? stat['Metric'] : undefined;
        return {
          id: String(query['Id']),
          ...(typeof query['Expression'] === 'string' ? { expression: query['Expression'] } : {}),
          ...(stat && metric
            ? {
                metricStat: {
                  metric: {
                    namespace: String(metric['Namespace']),
                    name: String(metric['MetricName']),
                    dimensions: dimensionsOf(metric['Dimensions']),
                  },
                  period: Number(stat['Period'] ?? 60),
                  statistic: String(stat['Stat']),
                  ...(typeof stat['Unit'] === 'string' ? { unit: stat['Unit'] } : {}),
                },
              }
            : {}),
          returnData: query['ReturnData'] !== false,
          ...(typeof query['Label'] === 'string' ? { label: query['Label'] } : {}),
        };
      })
    : undefined;
  const metric: AlarmMetricStat | undefined =
    typeof properties['MetricName'] === 'string'
      ? {
          metric: {
            namespace: String(properties['Namespace']),
            name: properties['MetricName'],
            dimensions: dimensionsOf(properties['Dimensions']),
          },
          period: Number(properties['Period'] ?? 60),
          statistic: String(properties['Statistic'] ?? properties['ExtendedStatistic']),
          ...(typeof properties['Unit'] === 'string' ? { unit: properties['Unit'] } : {}),
        }
      : undefined;
  const period =
    metric?.period ??
    Math.max(
      60,
      ...(metrics ?? []).map((query) => query.metricStat?.period ?? Number(properties['Period'] ?? 60)),
    );
  return {
    logicalId,
    name,
    arn,
    ...(typeof properties['AlarmDescription'] === 'string'
      ? { description: properties['AlarmDescription'] }
      : {}),
    actionsEnabled: properties['ActionsEnabled'] !== false,
    alarmActions: strings(properties['AlarmActions']),
    okActions: strings(properties['OKActions']),
    insufficientDataActions: strings(properties['InsufficientDataActions']),
    comparisonOperator: String(properties['ComparisonOperator']),
    threshold: Number(properties['Threshold'] ?? 0),
    evaluationPeriods,
    datapointsToAlarm: Number(properties['DatapointsToAlarm'] ?? evaluationPeriods),
    treatMissingData: (properties['TreatMissingData'] as TreatMissingData | undefined) ?? 'missing',
    period,
    ...(metric ? { metric } : {}),
    ...(metrics ? { metrics } : {}),
  };
}

/** The alarm's value for each of its last `EvaluationPeriods` periods ending at `now`, oldest first. */
export function evaluationSeries(alarm: AlarmDefinition, store: MetricStore, now: number): Series {
  const count = alarm.evaluationPeriods;
  const seriesOf = (stat: AlarmMetricStat): Series =>
    Array.from({ length: count }, (_, i) => {
      const end = now - (count - 1 - i) * stat.period * 1000;
      return store.statistic(stat.metric, end - stat.period * 1000, end, stat.statistic, stat.unit);
    });
  if (alarm.metric) return seriesOf(alarm.metric);
  const queries = alarm.metrics ?? [];
  const values: Record<string, Series> = {};
  for (const query of queries) if (query.metricStat) values[query.id] = seriesOf(query.metricStat);
  for (const query of queries) {
    if (query.expression !== undefined)
      values[query.id] = evaluateMetricMath(query.expression, values, count);
  }
  const returned = queries.find((query) => query.returnData);
  return returned ? (values[returned.id] ?? []) : [];
}

const COMPARISONS: Record<
  string,
  { phrase: string; breaches: (value: number, threshold: number) => boolean }
> = {
  GreaterThanOrEqualToThreshold: { phrase: 'greater than or equal to', breaches: (v, t) => v >= t },
  GreaterThanThreshold: { phrase: 'greater than', breaches: (v, t) => v > t },
  LessThanThreshold: { phrase: 'less than', breaches: (v, t) => v < t },
  LessThanOrEqualToThreshold: { phrase: 'less than or equal to', breaches: (v, t) => v <= t },
};

const number = (value: number) => (Number.isInteger(value) ? value.toFixed(1) : String(value));

/** `dd/MM/yy HH:mm:ss` in UTC, as CloudWatch writes times in state reasons. */
function reasonTime(time: number): string {
  const iso = new Date(time).toISOString();
  return `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(2, 4)} ${iso.slice(11, 19)}`;
}

/**
 * The state an evaluation gives, with a reason worded as CloudWatch words it; undefined when the alarm
 * keeps its state (`ignore` without data, or an operator evaluated only by anomaly detection).
 */
export function decideAlarmState(
  alarm: AlarmDefinition,
  series: Series,
  now: number,
): { value: AlarmStateValue; reason: string } | undefined {
  const comparison = COMPARISONS[alarm.comparisonOperator];
  if (!comparison) return undefined;
  const periodMs = alarm.period * 1000;
  const points = series.map((value, i) => ({ value, time: now - (series.length - i) * periodMs }));
  const present = points.filter(
    (point): point is { value: number; time: number } => point.value !== undefined,
  );
  const missing = series.length - present.length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (present.length === 0) {
    const treatedAs = { notBreaching: 'NonBreaching', breaching: 'Breaching' }[
      alarm.treatMissingData as string
    ];
    if (treatedAs === undefined) {
      if (alarm.treatMissingData === 'ignore') return undefined;
      return {
        value: 'INSUFFICIENT_DATA',
        reason: `Insufficient Data: ${plural(series.length, 'datapoint')} ${series.length === 1 ? 'was' : 'were'} unknown.`,
      };
    }
    return {
      value: treatedAs === 'Breaching' ? 'ALARM' : 'OK',
      reason: `Threshold Crossed: no datapoints were received for ${plural(series.length, 'period')} and ${plural(missing, 'missing datapoint')} ${missing === 1 ? 'was' : 'were'} treated as [${treatedAs}].`,
    };
  }
  const breaching = present.filter((point) => comparison.breaches(point.value, alarm.threshold));
  const count = breaching.length + (alarm.treatMissingData === 'breaching' ? missing : 0);
  const listed = (list: { value: number; time: number }[]) =>
    `[${[...list]
      .reverse()
      .map((point) => `${number(point.value)} (${reasonTime(point.time)})`)
      .join(', ')}]`;
  if (count >= alarm.datapointsToAlarm) {
    return {
      value: 'ALARM',
      reason:
        `Threshold Crossed: ${count} out of the last ${series.length} datapoints ${listed(breaching)} ` +
        `${count === 1 ? 'was' : 'were'} ${comparison.phrase} the threshold (${number(alarm.threshold)}) ` +
        `(minimum ${plural(alarm.datapointsToAlarm, 'datapoint')} for OK -> ALARM transition).`,
    };
  }
  return {
    value: 'OK',
    reason:
      `Threshold Crossed: ${plural(present.length, 'datapoint')} ${listed(present)} ` +
      `${present.length === 1 ? 'was' : 'were'} not ${comparison.phrase} the threshold (${number(alarm.threshold)}).`,
  };
}

const REGION_NAMES: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-east-2': 'US East (Ohio)',
  'us-west-1': 'US West (N. California)',
  'us-west-2': 'US West (Oregon)',
  'eu-west-1': 'EU (Ireland)',
  'eu-west-2': 'EU (London)',
  'eu-west-3': 'EU (Paris)',
  'eu-central-1': 'EU (Frankfurt)',
};

/**
 * The SNS subject and message CloudWatch publishes for a state change.
 *
 * @example
 * ```ts
 * const { subject, message } = alarmNotification(alarm, change, { region: 'us-east-1', accountId });
 * JSON.parse(message).NewStateValue; // 'ALARM'
 * ```
 */
export function alarmNotification(
  alarm: AlarmDefinition,
  change: { from: AlarmStateValue; to: AlarmStateValue; reason: string; time: number },
  where: { region: string; accountId: string },
): { subject: string; message: string } {
  const region = REGION_NAMES[where.region] ?? where.region;
  const stamp = new Date(change.time).toISOString().replace('Z', '+0000');
  const dimensions = (metric: MetricIdentity) =>
    Object.entries(metric.dimensions).map(([name, value]) => ({ value, name }));
  const trigger = alarm.metric
    ? {
        MetricName: alarm.metric.metric.name,
        Namespace: alarm.metric.metric.namespace,
        StatisticType: /^p\d/.test(alarm.metric.statistic) ? 'ExtendedStatistic' : 'Statistic',
        Statistic: alarm.metric.statistic.toUpperCase(),
        Unit: alarm.metric.unit ?? null,
        Dimensions: dimensions(alarm.metric.metric),
        Period: alarm.metric.period,
      }
    : {
        Metrics: (alarm.metrics ?? []).map((query) => ({
          Id: query.id,
          ...(query.expression === undefined ? {} : { Expression: query.expression }),
          ...(query.label === undefined ? {} : { Label: query.label }),
          ...(query.metricStat
            ? {
                MetricStat: {
                  Metric: {
                    Dimensions: dimensions(query.metricStat.metric),
                    MetricName: query.metricStat.metric.name,
                    Namespace: query.metricStat.metric.namespace,
                  },
                  Period: query.metricStat.period,
                  Stat: query.metricStat.statistic,
                },
              }
            : {}),
          ReturnData: query.returnData,
        })),
        Period: alarm.period,
      };
  const message = {
    AlarmName: alarm.name,
    AlarmDescription: alarm.description ?? null,
    AWSAccountId: where.accountId,
    AlarmConfigurationUpdatedTimestamp: stamp,
    NewStateValue: change.to,
    NewStateReason: change.reason,
    StateChangeTime: stamp,
    Region: region,
    AlarmArn: alarm.arn,
    OldStateValue: change.from,
    OKActions: alarm.okActions,
    AlarmActions: alarm.alarmActions,
    InsufficientDataActions: alarm.insufficientDataActions,
    Trigger: {
      ...trigger,
      EvaluationPeriods: alarm.evaluationPeriods,
      DatapointsToAlarm: alarm.datapointsToAlarm,
      ComparisonOperator: alarm.comparisonOperator,
      Threshold: alarm.threshold,
      TreatMissingData: alarm.treatMissingData,
      EvaluateLowSampleCountPercentile: '',
    },
  };
  return {
    subject: `${change.to}: "${alarm.name}" in ${region}`.slice(0, 100),
    message: JSON.stringify(message),
  };
}

/**
 * The detail of the `CloudWatch Alarm State Change` event CloudWatch puts on the account's default bus for
 * every state change of every alarm.
 */
export function alarmStateChangeDetail(
  alarm: AlarmDefinition,
  change: { from: AlarmStateValue; to: AlarmStateValue; reason: string; time: number; previousTime?: number },
): Record<string, unknown> {
  const stamp = (time: number) => new Date(time).toISOString().replace('Z', '+0000');
  const stat = (query: AlarmMetricStat) => ({
    metric: {
      namespace: query.metric.namespace,
      name: query.metric.name,
      dimensions: query.metric.dimensions,
    },
    period: query.period,
    stat: query.statistic,
  });
  const metrics = alarm.metric
    ? [{ id: alarm.logicalId.toLowerCase(), metricStat: stat(alarm.metric), returnData: true }]
    : (alarm.metrics ?? []).map((query) => ({
        id: query.id,
        ...(query.expression === undefined ? {} : { expression: query.expression }),
        ...(query.label === undefined ? {} : { label: query.label }),
        ...(query.metricStat ? { metricStat: stat(query.metricStat) } : {}),
        returnData: query.returnData,
      }));
  return {
    alarmName: alarm.name,
    state: { value: change.to, reason: change.reason, timestamp: stamp(change.time) },
    previousState: { value: change.from, timestamp: stamp(change.previousTime ?? change.time) },
    configuration: {
      ...(alarm.description === undefined ? {} : { description: alarm.description }),
      metrics,
    },
  };
}

/** A state change, as {@link AlarmEvaluator} reports it. */
export interface AlarmStateChange {
  alarm: AlarmDefinition;
  from: AlarmStateValue;
  to: AlarmStateValue;
  reason: string;
  time: number;
}

/**
 * Keeps every alarm's state; {@link AlarmEvaluator.evaluate} evaluates them all at a time and reports the
 * changes. Alarms start in `INSUFFICIENT_DATA`, as new CloudWatch alarms do.
 */
export class AlarmEvaluator {
  readonly alarms: readonly AlarmDefinition[];
  private readonly store: MetricStore;
  private readonly states = new Map<string, AlarmState>();

  constructor(alarms: readonly AlarmDefinition[], store: MetricStore, now: number) {
    this.alarms = alarms;
    this.store = store;
    for (const alarm of alarms) {
      this.states.set(alarm.name, {
        value: 'INSUFFICIENT_DATA',
        reason: 'Unchecked: Initial alarm creation',
        updatedAt: now,
      });
    }
  }

  state(name: string): AlarmState | undefined {
    return this.states.get(name);
  }

  evaluate(now: number): AlarmStateChange[] {
    const changes: AlarmStateChange[] = [];
    for (const alarm of this.alarms) {
      const current = this.states.get(alarm.name)!;
      let series: Series;
      try {
        series = evaluationSeries(alarm, this.store, now);
      } catch {
        // Metric math the local evaluator does not implement: the alarm stays as it is.
        continue;
      }
      const decided = decideAlarmState(alarm, series, now);
      if (!decided || decided.value === current.value) continue;
      this.states.set(alarm.name, { ...decided, updatedAt: now });
      changes.push({ alarm, from: current.value, to: decided.value, reason: decided.reason, time: now });
    }
    return changes;
  }
}
