import type { EstimateComparison, GroundTruthJoin } from './ground-truth.ts';
import { describeBreach, describeUnchecked, type LimitCheck } from './limits.ts';
import { METRIC_NAMES, type MetricName, type PerformanceMetrics } from './metrics.ts';
import type { PerformanceReport } from './report.ts';

export interface PerformanceTextOptions {
  /** The input's name for the title. */
  input?: string;
  /** The positive label, for the title. */
  positive?: string;
  /** The result of checking limits: breached cells are marked with `!` and every breach is listed. */
  check?: LimitCheck | null;
  /** For a CBPE estimate: the reference the calibrator was fitted on; the title then says "Estimated". */
  estimatedFrom?: string;
}

function cell(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(4);
}

/**
 * A plain-text report for a terminal: one line for all rows and one per segment, the metrics in columns,
 * breached values marked `!`, then the limits' verdict.
 *
 * @example renderPerformanceText(report, { input: 'golden.csv', check: checkLimits(report, limits) })
 */
export function renderPerformanceText(
  report: PerformanceReport,
  options: PerformanceTextOptions = {},
): string {
  const check = options.check ?? null;
  const breached = new Set(
    (check?.breaches ?? []).map((breach) => JSON.stringify([breach.segment?.value ?? null, breach.metric])),
  );
  const mark = (segment: string | null, metric: MetricName) =>
    breached.has(JSON.stringify([segment, metric])) ? '!' : ' ';

  const header = ['', 'rows', ...METRIC_NAMES];
  const rows: string[][] = [];
  const line = (name: string, segment: string | null, count: number, metrics: PerformanceMetrics) => {
    rows.push([
      name,
      count.toLocaleString('en-US'),
      ...METRIC_NAMES.map((metric) => cell(metrics[metric]) + mark(segment, metric)),
    ]);
  };
  line('all rows', null, report.rows, report.metrics);
  for (const segment of report.segments) {
    line(`${segment.column}=${segment.value}`, segment.value, segment.rows, segment.metrics);
  }
  const widths = header.map((title, column) =>
    Math.max(title.length + (column >= 2 ? 1 : 0), ...rows.map((row) => row[column]!.length)),
  );
  const format = (row: string[]) =>
    row
      .map((text, column) => (column === 0 ? text.padEnd(widths[0]!) : text.padStart(widths[column]!)))
      .join('  ')
      .trimEnd();

  const source = options.input ? ` of ${options.input}` : '';
  const positive =
    options.positive === undefined ? '' : `, positive label ${JSON.stringify(options.positive)}`;
  const title =
    options.estimatedFrom === undefined
      ? `Performance${source}: ${report.rows.toLocaleString('en-US')} rows evaluated, ` +
        `${report.skipped.toLocaleString('en-US')} skipped (label or score missing)`
      : `Estimated performance${source} (CBPE, calibrated on ${options.estimatedFrom}): ` +
        `${report.rows.toLocaleString('en-US')} rows, ${report.skipped.toLocaleString('en-US')} skipped (score missing)`;
  const lines = [
    `${title}, threshold ${report.threshold}${positive}`,
    '',
    format(header.map((title, column) => (column >= 2 ? `${title} ` : title))),
    ...rows.map(format),
  ];
  if (check !== null && check.checked + check.unchecked.length > 0) {
    const met = check.checked - check.breaches.length;
    const parts = [`${check.breaches.length} breached`, `${met} met`];
    if (check.unchecked.length > 0) parts.push(`${check.unchecked.length} not checked`);
    lines.push('', `Limits: ${parts.join(', ')}`);
    for (const breach of check.breaches) lines.push(`  ! ${describeBreach(breach)}`);
    for (const unchecked of check.unchecked) lines.push(`  ? ${describeUnchecked(unchecked)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Seconds as a short duration: `42s`, `3.5m`, `6.2h`, `2.1d`. */
function duration(seconds: number): string {
  const abs = Math.abs(seconds);
  if (abs < 90) return `${seconds.toFixed(0)}s`;
  if (abs < 90 * 60) return `${(seconds / 60).toFixed(1)}m`;
  if (abs < 48 * 3600) return `${(seconds / 3600).toFixed(1)}h`;
  return `${(seconds / 86400).toFixed(1)}d`;
}

/** The ground-truth join's lines under a performance report: coverage, delay, uncaptured and duplicated labels. */
export function renderGroundTruthText(join: GroundTruthJoin): string {
  const coverage = join.coverage === null ? 'n/a' : `${(join.coverage * 100).toFixed(1)}%`;
  const lines = [
    '',
    `Ground truth: ${join.joined.toLocaleString('en-US')} of ${join.captured.toLocaleString('en-US')} captured ` +
      `predictions labelled (coverage ${coverage})`,
    `  labels for predictions never captured: ${join.uncaptured.toLocaleString('en-US')}; duplicated labels ` +
      `(the last wins): ${join.duplicates.toLocaleString('en-US')}; bad label records: ${join.badRecords.toLocaleString('en-US')}`,
  ];
  if (join.firstBadRecord !== null) {
    const bad = join.firstBadRecord;
    lines.push(`  first bad label record: ${bad.file}:${bad.line}: ${bad.reason}`);
  }
  if (join.delaySeconds !== null) {
    const d = join.delaySeconds;
    lines.push(
      `  label delay (${d.count.toLocaleString('en-US')} labels): p50 ${duration(d.p50)}, p90 ${duration(d.p90)}, max ${duration(d.max)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The estimate made before the labels beside the realized values, one line per metric. */
export function renderEstimateComparisonText(comparison: EstimateComparison, estimatedFrom: string): string {
  const rows = METRIC_NAMES.map((metric) => {
    const { estimated, realized, difference } = comparison[metric];
    const signed = difference === null ? 'n/a' : `${difference >= 0 ? '+' : ''}${difference.toFixed(4)}`;
    return [metric, cell(estimated), cell(realized), signed];
  });
  const header = ['', 'estimated', 'realized', 'difference'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const format = (row: string[]) =>
    row
      .map((text, column) => (column === 0 ? text.padEnd(widths[0]!) : text.padStart(widths[column]!)))
      .join('  ')
      .trimEnd();
  return `\nEstimated before the labels (CBPE, ${estimatedFrom}) and realized:\n${[header, ...rows].map(format).join('\n')}\n`;
}
