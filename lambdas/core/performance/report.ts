import { InputError } from '../errors.ts';
import { METRIC_NAMES, type PerformanceMetrics } from './metrics.ts';

export type { PerformanceMetrics } from './metrics.ts';

/** The metrics of one value of the segment column. */
export interface SegmentPerformance {
  /** The segment column's name. */
  column: string;
  /** The segment value, as text (JSON numbers and booleans as their JavaScript text). */
  value: string;
  /** Rows of this segment that were evaluated (both label and score present). */
  rows: number;
  metrics: PerformanceMetrics;
}

/**
 * The performance report of docs/performance-spec.md, version 1: what `driftwatch evaluate --format
 * json` prints and the performance Lambda stores.
 *
 * @example
 * ```json
 * {"rows": 1000, "skipped": 0, "threshold": 0.5, "metrics": {"accuracy": 0.91, ...}, "segments": []}
 * ```
 */
export interface PerformanceReport {
  /** Rows evaluated: those with both a label and a score. */
  rows: number;
  /** Rows left out because the label or the score is missing. */
  skipped: number;
  /** A row is predicted positive when its score is >= this. */
  threshold: number;
  metrics: PerformanceMetrics;
  /** Per value of the segment column, by code point; empty without a segment column. */
  segments: SegmentPerformance[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Reads a stored report (the output of `driftwatch evaluate --format json`), e.g. the baseline of a
 * relative limit. Checks every field the spec defines and ignores others (fields may be added).
 *
 * @throws InputError naming the file and the field when the text is not such a report.
 */
export function performanceReportFromJson(text: string, name: string): PerformanceReport {
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    throw new InputError(
      { file: name },
      'not JSON: expected a report of `driftwatch evaluate --format json`',
    );
  }
  const fail = (field: string, reason: string): never => {
    throw new InputError({ file: name, field }, reason);
  };
  const object = (value: Json | undefined, field: string): { [key: string]: Json } =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? value
      : fail(field, 'expected an object (is this a report of `driftwatch evaluate --format json`?)');
  const count = (value: Json | undefined, field: string): number =>
    typeof value === 'number' && Number.isInteger(value) && value >= 0
      ? value
      : fail(field, 'expected a whole number >= 0');
  const metrics = (value: Json | undefined, field: string): PerformanceMetrics => {
    const source = object(value, field);
    const result: Record<string, number | null> = {};
    for (const key of METRIC_NAMES) {
      const metric = source[key];
      const nullable = key === 'rocAuc' || key === 'gini';
      if (typeof metric === 'number' && Number.isFinite(metric)) result[key] = metric;
      else if (nullable && metric === null) result[key] = null;
      else fail(`${field}.${key}`, nullable ? 'expected a number or null' : 'expected a number');
    }
    return result as unknown as PerformanceMetrics;
  };

  const root = object(parsed, '(root)');
  const rows = count(root['rows'], 'rows');
  const skipped = count(root['skipped'], 'skipped');
  const threshold = root['threshold'];
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) fail('threshold', 'expected a number');
  const overall = metrics(root['metrics'], 'metrics');
  const segments = root['segments'];
  if (!Array.isArray(segments)) fail('segments', 'expected an array');
  return {
    rows,
    skipped,
    threshold: threshold as number,
    metrics: overall,
    segments: (segments as Json[]).map((entry, index) => {
      const field = `segments[${index}]`;
      const segment = object(entry, field);
      const column = segment['column'];
      const value = segment['value'];
      if (typeof column !== 'string') fail(`${field}.column`, 'expected a string');
      if (typeof value !== 'string') fail(`${field}.value`, 'expected a string');
      return {
        column: column as string,
        value: value as string,
        rows: count(segment['rows'], `${field}.rows`),
        metrics: metrics(segment['metrics'], `${field}.metrics`),
      };
    }),
  };
}
