import { InputError } from '../errors.ts';

/**
 * Small RFC 4180 CSV helpers for the retraining inputs, which are rewritten rather than analysed: rows of a
 * segment are kept, the holdout is split into the features a model reads and the labels the evaluation
 * needs. Fields may be quoted, with `""` for a quote and line breaks inside quotes; lines end in LF or CRLF.
 */

/** Parses CSV text into rows of fields (unquoted). A trailing line break adds no empty row. */
export function parseCsv(text: string, name: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let i = 0;
  const end = text.length;
  let fieldStarted = false;
  while (i < end) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (char === '\n') line++;
      field += char;
      i++;
      continue;
    }
    if (char === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
      i++;
      continue;
    }
    if (char === ',') {
      row.push(field);
      field = '';
      fieldStarted = false;
      i++;
      continue;
    }
    if (char === '\n' || char === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      fieldStarted = false;
      i += char === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      continue;
    }
    field += char;
    fieldStarted = true;
    i++;
  }
  if (quoted) throw new InputError({ file: name, line }, 'a quoted field is not closed');
  if (fieldStarted || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** One CSV line (with LF), quoting fields that need it. */
export function formatCsvRow(fields: readonly string[]): string {
  return `${fields.map((field) => (/[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field)).join(',')}\n`;
}

/** Index of each named column in a header, or an InputError naming the missing one. */
export function columnIndexes(header: readonly string[], columns: readonly string[], name: string): number[] {
  return columns.map((column) => {
    const index = header.indexOf(column);
    if (index < 0) {
      throw new InputError(
        { file: name },
        `no column ${JSON.stringify(column)} (columns: ${header.join(', ')})`,
      );
    }
    return index;
  });
}

/** The header and the rows whose `column` equals `value`, and how many there were. */
export function filterSegmentRows(
  text: string,
  name: string,
  segment: { column: string; value: string },
): { csv: string; rows: number; kept: number } {
  const [header, ...rows] = parseCsv(text, name);
  if (!header) throw new InputError({ file: name }, 'the file is empty');
  const [index] = columnIndexes(header, [segment.column], name);
  const kept = rows.filter((row) => row[index!] === segment.value);
  return { csv: [header, ...kept].map(formatCsvRow).join(''), rows: rows.length, kept: kept.length };
}

/** A row's event time in milliseconds: ISO 8601 or epoch milliseconds; NaN when it is neither. */
export function eventTimeMs(value: string): number {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  return trimmed === '' ? Number.NaN : Date.parse(trimmed);
}

/**
 * The rows of a training file an emergency run keeps: those of the segment (when given) whose event time
 * (when given) is at or after `since`.
 *
 * @throws InputError naming the file, line and column of an event time that is not a time.
 */
export function filterTrainingRows(
  text: string,
  name: string,
  filter: {
    segment: { column: string; value: string } | null;
    eventTime: { column: string; sinceMs: number } | null;
  },
): { csv: string; rows: number; kept: number } {
  const [header, ...rows] = parseCsv(text, name);
  if (!header) throw new InputError({ file: name }, 'the file is empty');
  const segmentIndex = filter.segment ? columnIndexes(header, [filter.segment.column], name)[0]! : -1;
  const timeIndex = filter.eventTime ? columnIndexes(header, [filter.eventTime.column], name)[0]! : -1;
  const kept = rows.filter((row, i) => {
    if (filter.segment && row[segmentIndex] !== filter.segment.value) return false;
    if (!filter.eventTime) return true;
    const at = eventTimeMs(row[timeIndex] ?? '');
    if (Number.isNaN(at))
      throw new InputError(
        { file: name, line: i + 2, column: timeIndex + 1, field: filter.eventTime.column },
        `expected an event time (ISO 8601 or epoch milliseconds), got ${JSON.stringify(row[timeIndex] ?? '')}`,
      );
    return at >= filter.eventTime.sinceMs;
  });
  return { csv: [header, ...kept].map(formatCsvRow).join(''), rows: rows.length, kept: kept.length };
}

/**
 * Splits a labelled holdout (with header) into the features a model is scored on (no header, as SageMaker's
 * CSV containers expect, one request line per row) and a labels table (`label` and `segment` columns, with
 * header) in the same row order.
 */
export function splitHoldout(
  text: string,
  name: string,
  options: {
    label: string;
    segment: string | null;
    features: readonly string[] | null;
    exclude: readonly string[];
  },
): { features: string; labels: string; rows: number; featureColumns: string[] } {
  const [header, ...rows] = parseCsv(text, name);
  if (!header) throw new InputError({ file: name }, 'the file is empty');
  const featureColumns: string[] = options.features
    ? [...options.features]
    : header.filter(
        (column) =>
          column !== options.label && column !== options.segment && !options.exclude.includes(column),
      );
  const featureIndexes = columnIndexes(header, featureColumns, name);
  const [labelIndex] = columnIndexes(header, [options.label], name);
  const segmentIndex = options.segment === null ? null : columnIndexes(header, [options.segment], name)[0]!;
  let features = '';
  let labels = formatCsvRow(['label', 'segment']);
  for (const row of rows) {
    features += formatCsvRow(featureIndexes.map((i) => row[i] ?? ''));
    labels += formatCsvRow([row[labelIndex!] ?? '', segmentIndex === null ? '' : (row[segmentIndex] ?? '')]);
  }
  return { features, labels, rows: rows.length, featureColumns };
}
