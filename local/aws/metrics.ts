/**
 * The local CloudWatch metric store: data points from the EMF documents functions print, from
 * `PutMetricData`, and from the local runtime (Lambda `Errors`, SQS queue depth, Step Functions executions),
 * each stamped with the local clock time it arrived at. Alarms and `GetMetricData` read statistics from it.
 */

/** Which metric: namespace, name and the full set of dimensions (CloudWatch matches the set exactly). */
export interface MetricIdentity {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
}

/** One data point: a value, or a statistic set (`PutMetricData` `StatisticValues`). */
export interface MetricDatum extends MetricIdentity {
  timestamp: number;
  unit?: string;
  /** The raw values (several for an EMF array); empty for a statistic set. */
  values: number[];
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** A metric value as EMF or `PutMetricData` gives it, before it is stamped. */
export interface MetricInput extends MetricIdentity {
  unit?: string;
  value?: number;
  values?: number[];
  statisticValues?: { SampleCount: number; Sum: number; Minimum: number; Maximum: number };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The key of a metric: namespace, name and sorted dimensions. */
export function metricKey(metric: MetricIdentity): string {
  const dimensions = Object.entries(metric.dimensions)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
  return `${metric.namespace}|${metric.name}|${dimensions}`;
}

/**
 * The metric values of one CloudWatch embedded metric format document: one per metric per dimension set
 * of each `_aws.CloudWatchMetrics` directive, dimension values and metric values read from the document's
 * top level. Anything that is not an EMF document gives no values.
 *
 * @example
 * ```ts
 * parseEmf({ _aws: { Timestamp: 0, CloudWatchMetrics: [{ Namespace: 'Driftwatch', Dimensions: [['Model']],
 *   Metrics: [{ Name: 'DatasetDrift', Unit: 'Count' }] }] }, Model: 'churn', DatasetDrift: 1 });
 * // [{ namespace: 'Driftwatch', name: 'DatasetDrift', dimensions: { Model: 'churn' }, unit: 'Count', values: [1] }]
 * ```
 */
export function parseEmf(document: unknown): MetricInput[] {
  if (!isObject(document) || !isObject(document['_aws'])) return [];
  const directives = document['_aws']['CloudWatchMetrics'];
  if (!Array.isArray(directives)) return [];
  const metrics: MetricInput[] = [];
  for (const directive of directives) {
    if (!isObject(directive) || typeof directive['Namespace'] !== 'string') continue;
    const dimensionSets = Array.isArray(directive['Dimensions']) ? directive['Dimensions'] : [[]];
    for (const definition of Array.isArray(directive['Metrics']) ? directive['Metrics'] : []) {
      if (!isObject(definition) || typeof definition['Name'] !== 'string') continue;
      const raw = document[definition['Name']];
      const values = (Array.isArray(raw) ? raw : [raw]).filter(
        (value): value is number => typeof value === 'number' && Number.isFinite(value),
      );
      if (values.length === 0) continue;
      for (const set of dimensionSets) {
        if (!Array.isArray(set)) continue;
        const dimensions: Record<string, string> = {};
        for (const name of set) {
          if (typeof name === 'string' && typeof document[name] === 'string')
            dimensions[name] = document[name];
        }
        metrics.push({
          namespace: directive['Namespace'],
          name: definition['Name'],
          dimensions,
          ...(typeof definition['Unit'] === 'string' ? { unit: definition['Unit'] } : {}),
          values,
        });
      }
    }
  }
  return metrics;
}

/** CloudWatch statistics: `SampleCount`, `Average`, `Sum`, `Minimum`, `Maximum`, `pNN` (and `pNN.N`). */
export type Statistic = string;

/**
 * A statistic of data points; undefined when there are none. Percentiles need raw values (a statistic set
 * gives none); they use the nearest-rank method.
 */
export function statisticOf(data: readonly MetricDatum[], statistic: Statistic): number | undefined {
  if (data.length === 0) return undefined;
  const count = data.reduce((total, datum) => total + datum.count, 0);
  const sum = data.reduce((total, datum) => total + datum.sum, 0);
  switch (statistic) {
    case 'SampleCount':
      return count;
    case 'Sum':
      return sum;
    case 'Average':
      return count === 0 ? undefined : sum / count;
    case 'Minimum':
      return Math.min(...data.map((datum) => datum.min));
    case 'Maximum':
      return Math.max(...data.map((datum) => datum.max));
  }
  const percentile = /^p(\d{1,2}(?:\.\d+)?|100)$/.exec(statistic);
  if (percentile) {
    const values = data.flatMap((datum) => datum.values).sort((a, b) => a - b);
    if (values.length === 0) return undefined;
    const rank = Math.ceil((Number(percentile[1]) / 100) * values.length);
    return values[Math.min(values.length - 1, Math.max(0, rank - 1))];
  }
  return undefined;
}

/**
 * Data points by metric, in arrival order (which is time order: the clock never goes back).
 *
 * @example
 * ```ts
 * store.put({ namespace: 'AWS/Lambda', name: 'Errors', dimensions: { FunctionName: 'f' }, value: 1 }, now);
 * store.statistic(identity, now - 300_000, now, 'Sum'); // 1
 * ```
 */
export class MetricStore {
  private readonly series = new Map<string, MetricDatum[]>();

  /** Stores one value (or values, or a statistic set) at `timestamp`; returns the stored datum. */
  put(input: MetricInput, timestamp: number): MetricDatum | undefined {
    const values = input.values ?? (input.value === undefined ? [] : [input.value]);
    const stats = input.statisticValues;
    if (values.length === 0 && !stats) return undefined;
    const datum: MetricDatum = {
      namespace: input.namespace,
      name: input.name,
      dimensions: { ...input.dimensions },
      timestamp,
      ...(input.unit === undefined ? {} : { unit: input.unit }),
      values: stats ? [] : values,
      count: stats ? stats.SampleCount : values.length,
      sum: stats ? stats.Sum : values.reduce((a, b) => a + b, 0),
      min: stats ? stats.Minimum : Math.min(...values),
      max: stats ? stats.Maximum : Math.max(...values),
    };
    const key = metricKey(datum);
    const list = this.series.get(key);
    if (list) list.push(datum);
    else this.series.set(key, [datum]);
    return datum;
  }

  /** Data points of one metric with `start < timestamp <= end` (and the unit, when given). */
  query(metric: MetricIdentity, start: number, end: number, unit?: string): MetricDatum[] {
    const list = this.series.get(metricKey(metric)) ?? [];
    let low = 0;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (list[middle]!.timestamp <= start) low = middle + 1;
      else high = middle;
    }
    const found: MetricDatum[] = [];
    for (let i = low; i < list.length && list[i]!.timestamp <= end; i += 1) {
      const datum = list[i]!;
      if (unit === undefined || datum.unit === unit) found.push(datum);
    }
    return found;
  }

  /** A statistic of one metric over `(start, end]`; undefined without data. */
  statistic(metric: MetricIdentity, start: number, end: number, statistic: Statistic, unit?: string) {
    return statisticOf(this.query(metric, start, end, unit), statistic);
  }

  /** Every metric that has data, for listing. */
  metrics(): MetricIdentity[] {
    return [...this.series.values()].map(([first]) => ({
      namespace: first!.namespace,
      name: first!.name,
      dimensions: first!.dimensions,
    }));
  }
}
