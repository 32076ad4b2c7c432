import { ConfigError } from '../errors.ts';
import { METRIC_DIRECTION, METRIC_NAMES, type MetricName, type PerformanceMetrics } from './metrics.ts';
import type { PerformanceReport } from './report.ts';

/**
 * Limits on performance metrics and the check of a report against them (spec: "Checks against thresholds").
 *
 * A limit names a metric, optionally a segment value, and one or more bounds:
 * - `min`: a floor, for metrics that are better when higher (accuracy, precision, recall, f1, rocAuc, gini)
 *   and for positiveRate. Breached when value < min.
 * - `max`: a ceiling, for metrics that are better when lower (logLoss, brier) and for positiveRate.
 *   Breached when value > max.
 * - `maxDrop`: the largest relative degradation against a baseline report: (baseline − current) / |baseline|
 *   for higher-is-better metrics, (current − baseline) / |baseline| for lower-is-better ones. Breached when
 *   the degradation is more than maxDrop. Not for positiveRate, which has no better direction.
 * A bound that cannot apply to its metric (a floor on logLoss) is a configuration error, not a silent no-op.
 *
 * Edge cases, each reported as an unchecked limit with its reason rather than passed or failed silently:
 * - the metric is null (rocAuc and gini when the rows hold one class only);
 * - the segment has no evaluated rows in the report (absent from `segments`), or the report has no segments;
 * - maxDrop without a baseline report, or the baseline lacks the segment or has a null value there;
 * - the baseline's segments are of another column than the report's.
 * A baseline of exactly 0 has no relative change; the degradation is then taken as its limit: +∞ when the
 * current value is worse (any worsening from 0 is a breach), 0 when equal, −∞ when better.
 *
 * The same type is the model config's `performance.limits` entry, e.g.
 * `[{ metric: 'accuracy', min: 0.85 }, { metric: 'gini', maxDrop: 0.05, segment: 'subprime' }]`.
 */

/** One limit of the model config or the command line. */
export interface PerformanceLimit {
  metric: MetricName;
  /** The segment value it applies to; absent or null for all rows. */
  segment?: string | null;
  /** Breach when the value is below this. */
  min?: number;
  /** Breach when the value is above this. */
  max?: number;
  /** Breach when the relative degradation against the baseline is more than this (0.05 = 5%). */
  maxDrop?: number;
}

export type LimitKind = 'min' | 'max' | 'maxDrop';

export const LIMIT_KINDS: readonly LimitKind[] = ['min', 'max', 'maxDrop'];

/**
 * Slack on the relative degradation: the subtraction and division round, so a drop that equals the limit
 * in decimal (0.8 → 0.76 against 5%) can come out as 0.05000000000000004, which is not a breach.
 */
export const DROP_TOLERANCE = 1e-12;

/** A limit a report does not meet. */
export interface PerformanceBreach {
  metric: MetricName;
  /** Null for all rows. */
  segment: { column: string; value: string } | null;
  kind: LimitKind;
  /** The report's value of the metric. */
  value: number;
  /** The bound: the min, the max, or the max drop (a share: 0.05 = 5%). */
  limit: number;
  /** The baseline report's value of the metric, when a baseline was given and has it. */
  baseline: number | null;
  /** The relative degradation against the baseline (maxDrop only; ±Infinity when the baseline is 0). */
  drop: number | null;
}

/** A limit that could not be checked, and why. */
export interface UncheckedLimit {
  metric: MetricName;
  segment: string | null;
  kind: LimitKind;
  reason: string;
}

export interface LimitCheck {
  breaches: PerformanceBreach[];
  unchecked: UncheckedLimit[];
  /** Bounds compared (a limit with min and maxDrop counts twice). */
  checked: number;
}

const KEYS = new Set(['metric', 'segment', ...LIMIT_KINDS]);

function applies(metric: MetricName, kind: LimitKind): string | null {
  const direction = METRIC_DIRECTION[metric];
  if (kind === 'min' && direction === 'lower')
    return `${metric} is better when lower, so a floor never warns; use max`;
  if (kind === 'max' && direction === 'higher') {
    return `${metric} is better when higher, so a ceiling never warns; use min`;
  }
  if (kind === 'maxDrop' && direction === 'neither') {
    return `${metric} has no better direction, so it cannot drop; use min and max`;
  }
  return null;
}

/**
 * Checks one limit of a config (plain JSON) and returns it typed.
 *
 * @param field where the limit is, for errors, e.g. `models[0].performance.limits[1]`.
 * @throws ConfigError naming the field: unknown keys or metric, no bound, a bound that cannot apply to the
 * metric, a bound that is not a finite number, a negative maxDrop.
 * @example validateLimit({ metric: 'gini', maxDrop: 0.05, segment: 'subprime' }, 'limits[0]')
 */
export function validateLimit(value: unknown, field: string): PerformanceLimit {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(field, 'expected an object such as {"metric": "accuracy", "min": 0.85}');
  }
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (!KEYS.has(key)) {
      throw new ConfigError(
        `${field}.${key}`,
        `unknown key; expected metric, segment, ${LIMIT_KINDS.join(', ')}`,
      );
    }
  }
  const metric = source['metric'];
  if (typeof metric !== 'string' || !(METRIC_NAMES as readonly string[]).includes(metric)) {
    throw new ConfigError(
      `${field}.metric`,
      `unknown metric ${JSON.stringify(metric)}; expected one of ${METRIC_NAMES.join(', ')}`,
    );
  }
  const limit: PerformanceLimit = { metric: metric as MetricName };
  const segment = source['segment'];
  if (segment !== undefined && segment !== null) {
    if (typeof segment !== 'string' || segment === '') {
      throw new ConfigError(`${field}.segment`, 'expected a segment value (a non-empty string)');
    }
    limit.segment = segment;
  }
  let bounds = 0;
  for (const kind of LIMIT_KINDS) {
    const bound = source[kind];
    if (bound === undefined) continue;
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw new ConfigError(`${field}.${kind}`, 'expected a finite number');
    }
    const problem = applies(limit.metric, kind);
    if (problem !== null) throw new ConfigError(`${field}.${kind}`, problem);
    if (kind === 'maxDrop' && bound < 0) {
      throw new ConfigError(`${field}.${kind}`, 'expected a share >= 0 (0.05 is 5%)');
    }
    limit[kind] = bound;
    bounds++;
  }
  if (bounds === 0) throw new ConfigError(field, `expected at least one of ${LIMIT_KINDS.join(', ')}`);
  return limit;
}

/**
 * Fails when two limits set the same bound of the same metric for the same rows (the second would hide
 * the first).
 *
 * @param entries each limit with the field it came from, for the error.
 */
export function assertDistinctLimits(entries: readonly { limit: PerformanceLimit; field: string }[]): void {
  const seen = new Map<string, string>();
  for (const { limit, field } of entries) {
    for (const kind of LIMIT_KINDS) {
      if (limit[kind] === undefined) continue;
      const key = JSON.stringify([limit.metric, limit.segment ?? null, kind]);
      const first = seen.get(key);
      if (first !== undefined) {
        throw new ConfigError(
          field,
          `${kind} of ${describeTarget(limit.metric, limit.segment ?? null)} is also set by ${first}`,
        );
      }
      seen.set(key, field);
    }
  }
}

/** Checks a config's list of limits; items are named `${field}[i]`. */
export function validateLimits(values: readonly unknown[], field: string): PerformanceLimit[] {
  const entries = values.map((value, index) => ({
    limit: validateLimit(value, `${field}[${index}]`),
    field: `${field}[${index}]`,
  }));
  assertDistinctLimits(entries);
  return entries.map((entry) => entry.limit);
}

const FLAG_SYNTAX = /^([A-Za-z][A-Za-z0-9]*)=([^@]+?)(?:@segment=(.+))?$/s;

/**
 * A command-line limit: `METRIC=VALUE` or `METRIC=VALUE@segment=SEGMENT_VALUE`; a VALUE ending in `%` is
 * a percentage (`5%` is 0.05). The segment value is everything after `@segment=` (it may hold `=` or `@`).
 *
 * @param flag the flag, for errors (`--min`, `--max`, `--max-drop`).
 * @example parseLimitFlag('gini=5%@segment=subprime', 'maxDrop', '--max-drop') // { metric: 'gini', segment: 'subprime', maxDrop: 0.05 }
 */
export function parseLimitFlag(text: string, kind: LimitKind, flag: string): PerformanceLimit {
  const match = FLAG_SYNTAX.exec(text);
  if (!match) {
    throw new ConfigError(
      flag,
      `expected METRIC=VALUE or METRIC=VALUE@segment=SEGMENT, got ${JSON.stringify(text)}`,
    );
  }
  const [, metric, valueText, segment] = match;
  const percent = valueText!.endsWith('%');
  const numberText = (percent ? valueText!.slice(0, -1) : valueText!).trim();
  const number = numberText === '' ? Number.NaN : Number(numberText);
  if (!Number.isFinite(number))
    throw new ConfigError(flag, `expected a number after "=", got ${JSON.stringify(text)}`);
  const source: Record<string, unknown> = { metric, [kind]: percent ? number / 100 : number };
  if (segment !== undefined) source['segment'] = segment;
  try {
    return validateLimit(source, flag);
  } catch (error) {
    // The config-style field (`--min.metric`) means nothing on a command line: name the flag alone.
    if (error instanceof ConfigError)
      throw new ConfigError(flag, `${error.message.slice(error.field.length + 2)}`);
    throw error;
  }
}

type MetricsLookup = { metrics: PerformanceMetrics; column: string | null } | { missing: string };

function lookup(report: PerformanceReport, segment: string | null, which: string): MetricsLookup {
  if (segment === null) return { metrics: report.metrics, column: null };
  if (report.segments.length === 0) return { missing: `the ${which} has no segments` };
  const entry = report.segments.find((candidate) => candidate.value === segment);
  if (entry === undefined)
    return { missing: `the ${which} has no evaluated rows in segment ${JSON.stringify(segment)}` };
  return { metrics: entry.metrics, column: entry.column };
}

/**
 * The relative degradation of `current` against `baseline` for a metric that improves in `direction`:
 * positive when worse. A baseline of 0 gives +∞ when worse, 0 when equal, −∞ when better.
 *
 * @example relativeDrop('higher', 0.8, 0.76) // ≈ 0.05
 */
export function relativeDrop(direction: 'higher' | 'lower', baseline: number, current: number): number {
  const worsening = direction === 'higher' ? baseline - current : current - baseline;
  if (baseline === 0)
    return worsening > 0 ? Number.POSITIVE_INFINITY : worsening < 0 ? Number.NEGATIVE_INFINITY : 0;
  return worsening / Math.abs(baseline);
}

/**
 * Checks a report against limits, and against a baseline report for the relative ones.
 *
 * @example
 * ```ts
 * const { breaches } = checkLimits(current, [{ metric: 'gini', maxDrop: 0.05, segment: 'subprime' }], baseline);
 * breaches.map(describeBreach);
 * ```
 */
export function checkLimits(
  report: PerformanceReport,
  limits: readonly PerformanceLimit[],
  baseline: PerformanceReport | null = null,
): LimitCheck {
  const result: LimitCheck = { breaches: [], unchecked: [], checked: 0 };
  for (const limit of limits) {
    const segment = limit.segment ?? null;
    const current = lookup(report, segment, 'report');
    const before = baseline === null ? null : lookup(baseline, segment, 'baseline report');
    for (const kind of LIMIT_KINDS) {
      const bound = limit[kind];
      if (bound === undefined) continue;
      const skip = (reason: string) => result.unchecked.push({ metric: limit.metric, segment, kind, reason });
      if ('missing' in current) {
        skip(current.missing);
        continue;
      }
      const value = current.metrics[limit.metric];
      if (value === null) {
        skip(`${limit.metric} is undefined: the rows hold one class only`);
        continue;
      }
      let baselineValue: number | null = null;
      let baselineProblem: string | null = null;
      if (before === null) baselineProblem = 'no baseline report was given';
      else if ('missing' in before) baselineProblem = before.missing;
      else if (before.column !== current.column) {
        baselineProblem = `the baseline report's segments are by ${JSON.stringify(before.column)}, not ${JSON.stringify(current.column)}`;
      } else {
        baselineValue = before.metrics[limit.metric];
        if (baselineValue === null)
          baselineProblem = `${limit.metric} of the baseline is undefined (one class only)`;
      }
      const breach = (drop: number | null) =>
        result.breaches.push({
          metric: limit.metric,
          segment: current.column === null ? null : { column: current.column, value: segment! },
          kind,
          value,
          limit: bound,
          baseline: baselineValue,
          drop,
        });
      if (kind === 'maxDrop') {
        if (baselineValue === null) {
          skip(baselineProblem!);
          continue;
        }
        result.checked++;
        const direction = METRIC_DIRECTION[limit.metric] as 'higher' | 'lower';
        const drop = relativeDrop(direction, baselineValue, value);
        if (drop > bound + DROP_TOLERANCE) breach(drop);
        continue;
      }
      result.checked++;
      if (kind === 'min' ? value < bound : value > bound) breach(null);
    }
  }
  return result;
}

function describeTarget(
  metric: MetricName,
  segment: string | { column: string; value: string } | null,
): string {
  if (segment === null) return `${metric} [all rows]`;
  if (typeof segment === 'string') return `${metric} [segment ${segment}]`;
  return `${metric} [${segment.column}=${segment.value}]`;
}

/** Shortest text of `x`, to at least 4 significant digits, that still tells it apart from `other`. */
function formatApart(x: number, other: number): string {
  for (let digits = 4; digits < 17; digits++) {
    const text = String(Number(x.toPrecision(digits)));
    if (text !== String(Number(other.toPrecision(digits)))) return text;
  }
  return String(x);
}

function percent(share: number): string {
  return `${String(Number((share * 100).toPrecision(4)))}%`;
}

/**
 * One line naming the metric, the segment, the value, the limit and the baseline.
 *
 * @example
 * describeBreach(breach) // 'gini [tier=subprime]: 0.4397 is 16.29% worse than the baseline 0.5252, more than the max drop of 5%'
 */
export function describeBreach(breach: PerformanceBreach): string {
  const target = describeTarget(breach.metric, breach.segment);
  if (breach.kind === 'maxDrop') {
    const baseline = breach.baseline!;
    const drop = breach.drop!;
    const worse = Number.isFinite(drop) ? `${percent(drop)} worse than` : 'worse than';
    return (
      `${target}: ${formatApart(breach.value, baseline)} is ${worse} the baseline ${formatApart(baseline, breach.value)}, ` +
      `more than the max drop of ${percent(breach.limit)}`
    );
  }
  const relation = breach.kind === 'min' ? 'below the min' : 'above the max';
  const baseline =
    breach.baseline === null ? '' : ` (baseline ${formatApart(breach.baseline, breach.value)})`;
  return `${target}: ${formatApart(breach.value, breach.limit)} is ${relation} of ${breach.limit}${baseline}`;
}

/** One line saying which limit was not checked and why. */
export function describeUnchecked(unchecked: UncheckedLimit): string {
  const kind = unchecked.kind === 'maxDrop' ? 'max drop' : unchecked.kind;
  return `${describeTarget(unchecked.metric, unchecked.segment)} ${kind} not checked: ${unchecked.reason}`;
}
