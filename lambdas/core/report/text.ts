/**
 * The drift report as a terminal table: what `driftwatch drift` prints on a terminal. Pure: a report in, a
 * string out. The number and ordering helpers here are shared with the HTML report so both read alike.
 */
import { isPValueMethod } from '../drift/decision.ts';
import type { DriftReport, FeatureDrift } from '../drift/types.ts';

export interface TextReportOptions {
  /** Colour drift marks and the verdict with ANSI escapes. @default false */
  color?: boolean;
  /**
   * Terminal columns. Long feature names and segment values are cut with an ellipsis to keep rows within
   * it; undefined (output to a pipe or file) cuts nothing.
   * @default unlimited
   */
  width?: number;
  /** Most drifted (feature, segment) pairs listed before the rest are only counted. @default 20 */
  segmentLimit?: number;
}

const DEFAULT_SEGMENT_LIMIT = 20;
/** A flexible column (feature name, segment value) is never cut below this many characters. */
const MIN_FLEXIBLE_WIDTH = 8;
const COLUMN_GAP = '  ';

/**
 * A number with `significant` significant digits, in exponent form when it is tiny or huge, so p-values
 * read as `1.2e-8` rather than `0.00000001`.
 * @example formatNumber(0.031234) // '0.0312'
 * @example formatNumber(1.234e-8) // '1.2e-8'
 */
export function formatNumber(value: number, significant = 3): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-3 || abs >= 1e6) {
    const [mantissa, exponent] = value.toExponential(Math.max(0, significant - 2)).split('e') as [
      string,
      string,
    ];
    const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
    return `${trimmed}e${Number(exponent)}`;
  }
  if (abs >= 1000) return String(Math.round(value));
  return String(Number(value.toPrecision(significant)));
}

/** A share as a percentage: 0.316 → `31.6%`. */
export function formatPercent(share: number): string {
  return `${formatNumber(share * 100)}%`;
}

/** A count with thousands separators: 2500 → `2,500`. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** The drift condition of a method: p-values drift below the threshold, distances at or above it. */
export function formatCondition(entry: Pick<FeatureDrift, 'method' | 'threshold'>): string {
  return `${isPValueMethod(entry.method) ? '<' : '≥'} ${formatNumber(entry.threshold)}`;
}

/** What a score is, for labels: `p-value` for tests, `distance` for the rest. */
export function scoreKind(entry: Pick<FeatureDrift, 'method'>): 'p-value' | 'distance' {
  return isPValueMethod(entry.method) ? 'p-value' : 'distance';
}

/** Whether an entry was decided by version 2 (false discovery control and a minimum effect). */
export function isVersion2(entry: Pick<FeatureDrift, 'pValueAdjusted'>): boolean {
  return entry.pValueAdjusted !== undefined;
}

/** Version 2: significant after adjustment but under the minimum effect (reported, not drift). */
export function isSmallEffect(entry: Pick<FeatureDrift, 'significant' | 'drifted'>): boolean {
  return entry.significant === true && !entry.drifted;
}

/** The drift cell of an entry: `✗ drift`, `~ small` (significant, under the minimum effect) or `ok`. */
export function driftMark(entry: Pick<FeatureDrift, 'significant' | 'drifted'>): string {
  return entry.drifted ? '✗ drift' : isSmallEffect(entry) ? '~ small' : 'ok';
}

/**
 * How far past (or short of) its threshold an entry's score is, comparable across methods: a ratio that
 * is at least 1 when drifted and grows with the evidence (threshold / p-value, or distance / threshold).
 */
export function driftSeverity(
  entry: Pick<FeatureDrift, 'method' | 'score' | 'threshold' | 'effect' | 'minEffect' | 'significant'>,
): number {
  // Version 2: significant entries first, then by effect over its minimum.
  if (entry.effect !== undefined && entry.minEffect !== undefined) {
    return (entry.significant ? 1e6 : 0) + entry.effect / Math.max(entry.minEffect, 1e-12);
  }
  const ratio = isPValueMethod(entry.method) ? entry.threshold / entry.score : entry.score / entry.threshold;
  return Number.isNaN(ratio) ? 0 : ratio;
}

/** Entries in reading order: drifted first, then by severity, ties in report order. */
export function orderByDrift<
  T extends Pick<
    FeatureDrift,
    'method' | 'score' | 'threshold' | 'drifted' | 'effect' | 'minEffect' | 'significant'
  >,
>(entries: readonly T[]): T[] {
  return entries
    .map((entry, index) => ({ entry, index, severity: driftSeverity(entry) }))
    .sort(
      (a, b) =>
        Number(b.entry.drifted) - Number(a.entry.drifted) || b.severity - a.severity || a.index - b.index,
    )
    .map(({ entry }) => entry);
}

/**
 * Text from the data made safe for a terminal: control characters (which could move the cursor or change
 * colours) and bidirectional overrides are shown as escapes instead of acting.
 */
export function terminalSafe(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (char) => {
    if (char === '\n') return '\\n';
    if (char === '\t') return '\\t';
    if (char === '\r') return '\\r';
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

function length(text: string): number {
  return [...text].length;
}

function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return max <= 1 ? '…'.slice(0, max) : `${chars.slice(0, max - 1).join('')}…`;
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - length(text)));
  return align === 'left' ? text + fill : fill + text;
}

type Style = 'bold' | 'red' | 'green' | 'dim' | 'boldRed' | 'boldGreen';

const ANSI: Readonly<Record<Style, string>> = {
  bold: '\u001b[1m',
  red: '\u001b[31m',
  green: '\u001b[32m',
  dim: '\u001b[2m',
  boldRed: '\u001b[1;31m',
  boldGreen: '\u001b[1;32m',
};
const RESET = '\u001b[0m';

type Paint = (text: string, style: Style | undefined) => string;

function painter(color: boolean): Paint {
  return (text, style) => (color && style && text !== '' ? `${ANSI[style]}${text}${RESET}` : text);
}

interface Column {
  header: string;
  cells: string[];
  align: 'left' | 'right';
  /** Cut with an ellipsis when the table is wider than the terminal. */
  flexible?: boolean;
  style?: (row: number) => Style | undefined;
}

/** Widths of the columns, narrowing the flexible ones (equally) until the table fits `width`. */
function columnWidths(columns: readonly Column[], width: number): number[] {
  const widths = columns.map((column) => Math.max(length(column.header), ...column.cells.map(length)));
  let excess = widths.reduce((sum, w) => sum + w, 0) + COLUMN_GAP.length * (columns.length - 1) - width;
  while (excess > 0) {
    const shrinkable = columns
      .map((_, i) => i)
      .filter((i) => columns[i]!.flexible && widths[i]! > MIN_FLEXIBLE_WIDTH);
    if (shrinkable.length === 0) break;
    // Take from the widest flexible column first, one character at a time, so two long columns share.
    const widest = shrinkable.reduce((a, b) => (widths[b]! > widths[a]! ? b : a));
    widths[widest]!--;
    excess--;
  }
  return widths;
}

function renderTable(columns: readonly Column[], width: number, paint: Paint): string[] {
  const widths = columnWidths(columns, width);
  const rows = columns[0]?.cells.length ?? 0;
  const line = (cells: string[]) => cells.join(COLUMN_GAP).trimEnd();
  const header = line(
    columns.map((column, i) => paint(pad(column.header, widths[i]!, column.align), 'bold')),
  );
  const rule = paint(
    '─'.repeat(widths.reduce((sum, w) => sum + w, 0) + COLUMN_GAP.length * (columns.length - 1)),
    'dim',
  );
  const body: string[] = [];
  for (let row = 0; row < rows; row++) {
    body.push(
      line(
        columns.map((column, i) => {
          const cell = pad(truncate(column.cells[row]!, widths[i]!), widths[i]!, column.align);
          return paint(cell, column.style?.(row));
        }),
      ),
    );
  }
  return [header, rule, ...body];
}

/** Joins summary parts with separators, starting a new line where the next part would pass `width`. */
function wrapParts(
  parts: readonly string[],
  width: number,
  paint: Paint,
  styles: readonly (Style | undefined)[],
): string[] {
  const lines: string[] = [];
  let current = '';
  let currentLength = 0;
  parts.forEach((part, i) => {
    if (currentLength > 0 && currentLength + 3 + length(part) > width) {
      lines.push(current);
      current = '';
      currentLength = 0;
    }
    const joiner = currentLength === 0 ? '' : ' · ';
    current += joiner + paint(part, styles[i]);
    currentLength += joiner.length + length(part);
  });
  if (currentLength > 0) lines.push(current);
  return lines;
}

function summaryLines(
  report: DriftReport,
  overall: readonly FeatureDrift[],
  width: number,
  paint: Paint,
): string[] {
  const lines: string[] = [];
  const metadata = report.metadata;
  if (metadata) {
    const kind = metadata.baseline.kind === 'profile' ? ' (profile)' : '';
    lines.push(
      ...wrapParts(
        [
          `baseline ${terminalSafe(metadata.baseline.name)}${kind}`,
          `current ${terminalSafe(metadata.current.name)}`,
        ],
        width,
        paint,
        [],
      ),
    );
  }
  const drifted = overall.filter((entry) => entry.drifted).length;
  const threshold = metadata ? ` (threshold ${formatPercent(metadata.driftShareThreshold)})` : '';
  lines.push(
    ...wrapParts(
      [
        `DATASET DRIFT: ${report.datasetDrift ? 'yes' : 'no'}`,
        `${drifted} of ${overall.length} features drifted`,
        `drift share ${formatPercent(report.driftShare)}${threshold}`,
        `rows: baseline ${formatCount(report.rows.baseline)}, current ${formatCount(report.rows.current)}`,
      ],
      width,
      paint,
      [report.datasetDrift ? 'boldRed' : 'boldGreen'],
    ),
  );
  return lines;
}

/** Version 2 columns: effect against its minimum, raw and adjusted p-value. */
function significanceColumns(entries: readonly FeatureDrift[]): Column[] {
  return [
    {
      header: 'effect',
      cells: entries.map((e) => `${formatNumber(e.effect!)}${e.sampled ? '*' : ''}`),
      align: 'right',
    },
    { header: 'min', cells: entries.map((e) => formatNumber(e.minEffect!)), align: 'right' },
    { header: 'p', cells: entries.map((e) => formatNumber(e.pValue!, 2)), align: 'right' },
    { header: 'adj. p', cells: entries.map((e) => formatNumber(e.pValueAdjusted!, 2)), align: 'right' },
  ];
}

const driftCellStyle = (entry: FeatureDrift): Style =>
  entry.drifted ? 'boldRed' : isSmallEffect(entry) ? 'dim' : 'green';

/** Version 2: one line per entry on why it did or did not count as drift. */
function reasonLines(entries: readonly FeatureDrift[], width: number, paint: Paint): string[] {
  return entries.map((e) => {
    const where = e.segment ? ` @ ${terminalSafe(e.segment.value)}` : '';
    return paint(truncate(`${terminalSafe(e.feature)}${where}: ${e.reason ?? ''}`, width), 'dim');
  });
}

function featureTableV2(entries: readonly FeatureDrift[], width: number, paint: Paint): string[] {
  return [
    ...renderTable(
      [
        {
          header: 'feature',
          cells: entries.map((e) => terminalSafe(e.feature)),
          align: 'left',
          flexible: true,
        },
        { header: 'type', cells: entries.map((e) => e.type), align: 'left' },
        { header: 'method', cells: entries.map((e) => e.method), align: 'left' },
        ...significanceColumns(entries),
        {
          header: 'drift',
          cells: entries.map(driftMark),
          align: 'left',
          style: (row) => driftCellStyle(entries[row]!),
        },
        {
          header: 'missing b/c',
          cells: entries.map((e) => `${formatCount(e.missing.baseline)} / ${formatCount(e.missing.current)}`),
          align: 'right',
        },
      ],
      width,
      paint,
    ),
    '',
    ...reasonLines(entries, width, paint),
  ];
}

function featureTable(entries: readonly FeatureDrift[], width: number, paint: Paint): string[] {
  if (entries.some(isVersion2)) return featureTableV2(entries, width, paint);
  const driftStyle = (row: number): Style => (entries[row]!.drifted ? 'boldRed' : 'green');
  return renderTable(
    [
      {
        header: 'feature',
        cells: entries.map((e) => terminalSafe(e.feature)),
        align: 'left',
        flexible: true,
      },
      { header: 'type', cells: entries.map((e) => e.type), align: 'left' },
      { header: 'method', cells: entries.map((e) => e.method), align: 'left' },
      {
        header: 'score',
        cells: entries.map((e) => formatNumber(e.score) + (e.sampled ? '*' : '')),
        align: 'right',
      },
      { header: 'threshold', cells: entries.map(formatCondition), align: 'left' },
      {
        header: 'drift',
        cells: entries.map((e) => (e.drifted ? '✗ drift' : 'ok')),
        align: 'left',
        style: driftStyle,
      },
      {
        header: 'missing b/c',
        cells: entries.map((e) => `${formatCount(e.missing.baseline)} / ${formatCount(e.missing.current)}`),
        align: 'right',
      },
    ],
    width,
    paint,
  );
}

function segmentSection(
  entries: readonly FeatureDrift[],
  width: number,
  limit: number,
  paint: Paint,
): string[] {
  const columns = [...new Set(entries.map((entry) => terminalSafe(entry.segment!.column)))];
  const pairs = `${formatCount(entries.length)} (feature, segment) pairs`;
  const title = `Segments by ${columns.join(', ')}: `;
  if (entries.some(isVersion2)) return segmentSectionV2(entries, width, limit, paint, title, pairs);
  const drifted = orderByDrift(entries.filter((entry) => entry.drifted));
  if (drifted.length === 0) return [paint(`${title}none of ${pairs} drifted`, 'bold')];
  const shown = drifted.slice(0, limit);
  const lines = [
    paint(`${title}${formatCount(drifted.length)} of ${pairs} drifted`, 'bold'),
    ...renderTable(
      [
        {
          header: 'feature',
          cells: shown.map((e) => terminalSafe(e.feature)),
          align: 'left',
          flexible: true,
        },
        {
          header: 'segment',
          cells: shown.map((e) => terminalSafe(e.segment!.value)),
          align: 'left',
          flexible: true,
        },
        { header: 'method', cells: shown.map((e) => e.method), align: 'left' },
        {
          header: 'score',
          cells: shown.map((e) => formatNumber(e.score) + (e.sampled ? '*' : '')),
          align: 'right',
        },
        { header: 'threshold', cells: shown.map(formatCondition), align: 'left' },
      ],
      width,
      paint,
    ),
  ];
  if (drifted.length > shown.length) {
    lines.push(
      paint(
        `… and ${formatCount(drifted.length - shown.length)} more drifted pairs (see the JSON or HTML report)`,
        'dim',
      ),
    );
  }
  return lines;
}

/** Version 2: the drifted pairs and the significant ones under the minimum effect, each with its reason. */
function segmentSectionV2(
  entries: readonly FeatureDrift[],
  width: number,
  limit: number,
  paint: Paint,
  title: string,
  pairs: string,
): string[] {
  const drifted = entries.filter((entry) => entry.drifted).length;
  const small = entries.filter(isSmallEffect).length;
  const smallNote = small > 0 ? `, ${formatCount(small)} significant but under the minimum effect` : '';
  const heading = `${title}${drifted === 0 ? 'none' : formatCount(drifted)} of ${pairs} drifted${smallNote}`;
  const listed = orderByDrift(entries.filter((entry) => entry.drifted || isSmallEffect(entry)));
  if (listed.length === 0) return [paint(heading, 'bold')];
  const shown = listed.slice(0, limit);
  const lines = [
    paint(heading, 'bold'),
    ...renderTable(
      [
        {
          header: 'feature',
          cells: shown.map((e) => terminalSafe(e.feature)),
          align: 'left',
          flexible: true,
        },
        {
          header: 'segment',
          cells: shown.map((e) => terminalSafe(e.segment!.value)),
          align: 'left',
          flexible: true,
        },
        { header: 'method', cells: shown.map((e) => e.method), align: 'left' },
        ...significanceColumns(shown),
        {
          header: 'drift',
          cells: shown.map(driftMark),
          align: 'left',
          style: (row) => driftCellStyle(shown[row]!),
        },
      ],
      width,
      paint,
    ),
    '',
    ...reasonLines(shown, width, paint),
  ];
  if (listed.length > shown.length) {
    lines.push(
      paint(
        `… and ${formatCount(listed.length - shown.length)} more pairs (see the JSON or HTML report)`,
        'dim',
      ),
    );
  }
  return lines;
}

/**
 * The report as a terminal table: a summary, every whole-dataset feature (drifted first, then by how far
 * past its threshold), and the drifted (feature, segment) pairs when the report has segments.
 * @example
 * process.stdout.write(renderTextReport(report, { color: process.stdout.isTTY, width: process.stdout.columns }));
 */
export function renderTextReport(report: DriftReport, options: TextReportOptions = {}): string {
  const paint = painter(options.color ?? false);
  const width = options.width !== undefined && options.width > 0 ? options.width : Number.POSITIVE_INFINITY;
  const overall = report.features.filter((entry) => entry.segment === null);
  const segmented = report.features.filter((entry) => entry.segment !== null);
  const lines = summaryLines(report, overall, width, paint);
  lines.push('');
  if (overall.length === 0) {
    lines.push('No features were compared: no column has values on both sides.');
  } else {
    lines.push(...featureTable(orderByDrift(overall), width, paint));
  }
  if (segmented.length > 0) {
    lines.push('', ...segmentSection(segmented, width, options.segmentLimit ?? DEFAULT_SEGMENT_LIMIT, paint));
  }
  if (report.metadata?.specVersion === 2) {
    lines.push(
      '',
      paint(
        `Drift (spec v2) = adjusted p ≤ ${formatNumber(report.metadata.fdr ?? Number.NaN)} (Benjamini-Hochberg over the features, and over the pairs) AND effect ≥ its minimum; ~ small = significant, under the minimum effect.`,
        'dim',
      ),
    );
  }
  if (report.features.some((entry) => entry.sampled)) {
    const cap = report.metadata ? ` of up to ${formatCount(report.metadata.sampleCap)} values per side` : '';
    lines.push('', paint(`* KS and Wasserstein computed on a uniform sample${cap}.`, 'dim'));
  }
  return `${lines.join('\n')}\n`;
}
