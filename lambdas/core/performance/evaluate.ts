import { CategoryDictionary } from '../drift/category-dictionary.ts';
import { isMissingBytes, isMissingText, parseNumberBytes, parseNumberText } from '../drift/values.ts';
import { ConfigError, InputError, ValueError } from '../errors.ts';
import type { TableInput } from '../readers/input.ts';
import { type ReadTableOptions, type ReadTableResult, readTable } from '../readers/read-table.ts';
import type { CellValue, TableSink } from '../readers/types.ts';
import { computeMetrics, DEFAULT_THRESHOLD } from './metrics.ts';
import type { PerformanceReport, SegmentPerformance } from './report.ts';

/** The positive label when none is given. `yes`, `true` or `bad` are never guessed. */
export const DEFAULT_POSITIVE_LABEL = '1';

/** Distinct segment values allowed by default, as for drift. */
export const DEFAULT_MAX_SEGMENTS = 100;

/**
 * Distinct labels accepted. A binary label has two; this only stops a wrong `--label` (an id, a score)
 * from growing a dictionary without end.
 */
export const MAX_LABELS = 1000;

export type EvaluateOptionName =
  | 'label'
  | 'score'
  | 'positive'
  | 'threshold'
  | 'segment'
  | 'classes'
  | 'maxSegments';

/** What to evaluate in a table. */
export interface EvaluateOptions {
  /** The label column. */
  label: string;
  /** The score column: the model's probability of the positive class, in [0, 1]. */
  score: string;
  /**
   * The positive label, compared with the label's raw text (CSV field as written, JSON numbers and booleans
   * as JavaScript writes them: `1`, `2.5`, `true`; so a JSON `1.0` is `1`).
   * @default '1'
   */
  positive?: string;
  /** @default 0.5 */
  threshold?: number;
  /** Also evaluate each value of this column. @default none */
  segment?: string | null;
  /** The labels allowed; any other label is an error. @default any label */
  classes?: readonly string[] | null;
  /** @default 100 */
  maxSegments?: number;
  /**
   * How the options are called where they were given (`--label`, `models[0].performance.label`), for
   * errors. @default the option names themselves
   */
  fields?: Partial<Record<EvaluateOptionName, string>>;
}

export interface ResolvedEvaluateOptions {
  label: string;
  score: string;
  positive: string;
  threshold: number;
  segment: string | null;
  classes: ReadonlySet<string> | null;
  maxSegments: number;
  fields: Record<EvaluateOptionName, string>;
}

/**
 * Fills in defaults and checks options that contradict each other, naming the option at fault.
 *
 * @throws ConfigError for an empty column name, the same column as label and score, a threshold outside
 * [0, 1], fewer than two classes, or a positive label that is not among the classes.
 */
export function resolveEvaluateOptions(options: EvaluateOptions): ResolvedEvaluateOptions {
  const fields = {
    label: 'label',
    score: 'score',
    positive: 'positive',
    threshold: 'threshold',
    segment: 'segment',
    classes: 'classes',
    maxSegments: 'maxSegments',
    ...options.fields,
  };
  if (options.label === '') throw new ConfigError(fields.label, 'the column name is empty');
  if (options.score === '') throw new ConfigError(fields.score, 'the column name is empty');
  if (options.segment === '') throw new ConfigError(fields.segment, 'the column name is empty');
  if (options.score === options.label) {
    throw new ConfigError(
      fields.score,
      `the same column as ${fields.label} (${JSON.stringify(options.label)})`,
    );
  }
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new ConfigError(fields.threshold, `expected a number in [0, 1], got ${threshold}`);
  }
  const positive = options.positive ?? DEFAULT_POSITIVE_LABEL;
  let classes: Set<string> | null = null;
  if (options.classes) {
    classes = new Set(options.classes);
    if (classes.size !== options.classes.length)
      throw new ConfigError(fields.classes, 'a class is given twice');
    if (classes.size < 2) throw new ConfigError(fields.classes, 'expected at least two classes');
    if (!classes.has(positive)) {
      throw new ConfigError(
        fields.positive,
        `the positive label ${JSON.stringify(positive)} is not one of ${fields.classes} (${[...classes].join(', ')})`,
      );
    }
  }
  const maxSegments = options.maxSegments ?? DEFAULT_MAX_SEGMENTS;
  if (!(Number.isInteger(maxSegments) && maxSegments >= 1)) {
    throw new ConfigError(fields.maxSegments, `expected a whole number >= 1, got ${maxSegments}`);
  }
  return {
    label: options.label,
    score: options.score,
    positive,
    threshold,
    segment: options.segment ?? null,
    classes,
    maxSegments,
    fields,
  };
}

/** What an evaluation found besides the report: for warnings that help a person check the options. */
export interface Evaluation {
  report: PerformanceReport;
  /** Rows read, evaluated or not. */
  rowsRead: number;
  /** The distinct labels of evaluated and skipped rows, in the order first seen. */
  labels: string[];
  /**
   * Things that are not errors but are likely mistakes: two or more labels none of which is the positive
   * one, or more than two labels without declared classes.
   */
  warnings: string[];
}

/** The rows an accumulator kept, in file order: for CBPE, which fits on one table and estimates on another. */
export interface ScoredRows {
  /** Rows read, kept or not. */
  rowsRead: number;
  scores: Float64Array;
  /** 1 positive, 0 negative, {@link UNLABELLED} when labels are optional and the row has none. */
  labels: Uint8Array;
  /** Per row, the id of its segment value (an index of `segmentValues`), -1 when missing; null without a segment column. */
  segmentIds: Int32Array | null;
  segmentValues: readonly string[];
  /** The distinct label texts seen, in the order first seen. */
  labelValues: readonly string[];
  warnings: string[];
}

const LABEL = 1;
const SCORE = 2;
const SEGMENT = 4;

const MISSING_LABEL = -1;
/** The label code of a kept row without a label (only when labels are optional). */
export const UNLABELLED = 2;
/** A label seen for the first time is checked against the classes; one that fails is marked so. */
const NOT_A_CLASS = -2;

/**
 * A {@link TableSink} that collects the label, score and segment of each row and computes the report at the
 * end. The rows kept cost 13 bytes each (score, label, segment id), so tens of millions fit easily; AUC needs
 * every score, so there is no constant-memory shortcut.
 *
 * Rules (the spec's): a label or score that is missing (empty, `NA`, `NaN`, `null`, `None`, JSON null, an
 * absent key, a NaN float) skips the row; a present score that is not a number or lies outside [0, 1] is
 * an error naming the row and field (the reader adds file, line and column to the {@link ValueError}),
 * also in rows skipped for a missing label; a label outside `classes` is an error too. A row with a missing
 * segment value counts for the whole dataset only.
 */
export class PerformanceAccumulator implements TableSink {
  private readonly options: ResolvedEvaluateOptions;
  private readonly name: string;
  private readonly names: string[] = [];
  private roles = new Uint8Array(16);

  private readonly labelDictionary: CategoryDictionary;
  /** Per label id: 1 positive, 0 negative, {@link NOT_A_CLASS}. */
  private readonly labelClass: number[] = [];
  private readonly segmentDictionary: CategoryDictionary;

  private rowLabel = MISSING_LABEL;
  private rowScore = Number.NaN;
  private rowSegment = -1;

  private rowsRead = 0;
  private kept = 0;
  private scores = new Float64Array(1024);
  private labels = new Uint8Array(1024);
  private segmentIds = new Int32Array(0);

  private readonly labelOptional: boolean;

  /**
   * @param labelOptional keep rows that have a score but no label (marked {@link UNLABELLED}), and accept a
   * table without the label column: for CBPE's current data, whose labels have not arrived.
   */
  constructor(options: ResolvedEvaluateOptions, name: string, labelOptional = false) {
    this.options = options;
    this.name = name;
    this.labelOptional = labelOptional;
    this.labelDictionary = new CategoryDictionary(
      MAX_LABELS,
      `the label column has more than ${MAX_LABELS} distinct values; is ${options.fields.label} the right column?`,
    );
    this.segmentDictionary = new CategoryDictionary(
      options.maxSegments,
      `segment column ${JSON.stringify(options.segment)} has more than ${options.maxSegments} distinct values; ` +
        'choose a coarser column or raise --max-segments',
    );
    if (options.segment !== null) this.segmentIds = new Int32Array(1024);
  }

  column(name: string): number {
    const index = this.names.length;
    if (this.names.includes(name)) throw new ValueError(`duplicate column name ${JSON.stringify(name)}`);
    this.names.push(name);
    if (index >= this.roles.length) {
      const roles = new Uint8Array(this.roles.length * 2);
      roles.set(this.roles);
      this.roles = roles;
    }
    const { options } = this;
    this.roles[index] =
      (name === options.label ? LABEL : 0) |
      (name === options.score ? SCORE : 0) |
      (name === options.segment ? SEGMENT : 0);
    return index;
  }

  bytes(index: number, buf: Uint8Array, start: number, end: number): void {
    const role = this.roles[index];
    if (!role || isMissingBytes(buf, start, end)) return;
    if (role & LABEL) this.setLabel(this.labelDictionary.idForBytes(buf, start, end));
    if (role & SCORE) this.setScore(parseNumberBytes(buf, start, end));
    if (role & SEGMENT) this.rowSegment = this.segmentDictionary.idForBytes(buf, start, end);
  }

  value(index: number, value: CellValue): void {
    const role = this.roles[index];
    if (!role || value === null || (typeof value === 'number' && Number.isNaN(value))) return;
    if (typeof value === 'string' && isMissingText(value)) return;
    if (role & SCORE) {
      if (typeof value === 'boolean') notANumber();
      this.setScore(
        typeof value === 'number' ? (Number.isFinite(value) ? value : Number.NaN) : parseNumberText(value),
      );
    }
    if (role & (LABEL | SEGMENT)) {
      const text = typeof value === 'string' ? value : String(value);
      if (role & LABEL) this.setLabel(this.labelDictionary.idForText(text));
      if (role & SEGMENT) this.rowSegment = this.segmentDictionary.idForText(text);
    }
  }

  endRow(): void {
    this.rowsRead++;
    const label = this.rowLabel;
    const score = this.rowScore;
    const segment = this.rowSegment;
    this.rowLabel = MISSING_LABEL;
    this.rowScore = Number.NaN;
    this.rowSegment = -1;
    if (Number.isNaN(score) || (label < 0 && !this.labelOptional)) return;
    const row = this.kept++;
    if (row === this.scores.length) this.grow();
    this.scores[row] = score;
    this.labels[row] = label < 0 ? UNLABELLED : label;
    if (this.options.segment !== null) this.segmentIds[row] = segment;
  }

  /**
   * Ends the pass and computes the report.
   *
   * @throws ConfigError when the label, score or segment column is not in the table.
   * @throws InputError when no row has both a label and a score.
   */
  finish(): Evaluation {
    const { options, name } = this;
    const { labels, scores, rowsRead, warnings } = this.rows();
    const rows = labels.length;
    const skipped = rowsRead - rows;
    if (rows === 0) {
      throw new InputError(
        { file: name },
        `no row has both a label and a score (${skipped} ${skipped === 1 ? 'row' : 'rows'} skipped)`,
      );
    }
    const report: PerformanceReport = {
      rows,
      skipped,
      threshold: options.threshold,
      metrics: computeMetrics(labels, scores, options.threshold),
      segments: options.segment === null ? [] : this.segments(options.segment, labels, scores),
    };
    return {
      report,
      rowsRead,
      labels: [...this.labelDictionary.labels],
      warnings,
    };
  }

  /**
   * Ends the pass and gives the rows kept, in file order, without computing anything (for CBPE).
   *
   * @throws ConfigError when the score or segment column, or (unless labels are optional) the label column,
   * is not in the table.
   */
  rows(): ScoredRows {
    const { options, name } = this;
    const columns = [
      [this.labelOptional ? null : options.label, options.fields.label],
      [options.score, options.fields.score],
      [options.segment, options.fields.segment],
    ] as const;
    for (const [column, field] of columns) {
      if (column !== null && !this.names.includes(column)) {
        throw new ConfigError(
          field,
          `column ${JSON.stringify(column)} is not in ${name} (columns: ${this.names.join(', ')})`,
        );
      }
    }
    return {
      rowsRead: this.rowsRead,
      scores: this.scores.subarray(0, this.kept),
      labels: this.labels.subarray(0, this.kept),
      segmentIds: options.segment === null ? null : this.segmentIds.subarray(0, this.kept),
      segmentValues: this.segmentDictionary.labels,
      labelValues: this.labelDictionary.labels,
      warnings: this.warnings(),
    };
  }

  private segments(column: string, labels: Uint8Array, scores: Float64Array): SegmentPerformance[] {
    return groupBySegment(this.segmentIds.subarray(0, this.kept), this.segmentDictionary.labels).map(
      ({ value, rows }) => ({
        column,
        value,
        rows: rows.length,
        metrics: computeMetrics(
          Uint8Array.from(rows, (row) => labels[row]!),
          Float64Array.from(rows, (row) => scores[row]!),
          this.options.threshold,
        ),
      }),
    );
  }

  private warnings(): string[] {
    const { options } = this;
    const labels = this.labelDictionary.labels;
    const shown = labels
      .slice(0, 5)
      .map((label) => JSON.stringify(label))
      .join(', ');
    const seen = `labels seen: ${shown}${labels.length > 5 ? `, ... (${labels.length} in all)` : ''}`;
    const warnings: string[] = [];
    // With one label only, one-class data (a day without fraud) is the likely story, and rocAuc is null.
    if (labels.length >= 2 && !labels.includes(options.positive)) {
      warnings.push(
        `no row has the positive label ${JSON.stringify(options.positive)} (${seen}); ` +
          `name the positive class with ${options.fields.positive}`,
      );
    }
    if (options.classes === null && labels.length > 2) {
      warnings.push(
        `the label has ${labels.length} distinct values (${seen}); every label other than ` +
          `${JSON.stringify(options.positive)} counts as negative`,
      );
    }
    return warnings;
  }

  private setLabel(id: number): void {
    let labelClass = this.labelClass[id];
    if (labelClass === undefined) {
      const text = this.labelDictionary.labels[id]!;
      const { classes, positive } = this.options;
      labelClass = classes !== null && !classes.has(text) ? NOT_A_CLASS : text === positive ? 1 : 0;
      this.labelClass[id] = labelClass;
    }
    if (labelClass === NOT_A_CLASS) {
      const { fields, classes } = this.options;
      throw new ValueError(`the label is not one of ${fields.classes} (${[...classes!].join(', ')})`);
    }
    this.rowLabel = labelClass;
  }

  private setScore(score: number): void {
    if (Number.isNaN(score)) notANumber();
    if (score < 0 || score > 1) throw new ValueError('the score is outside [0, 1]');
    // `+ 0` makes -0 a plain 0.
    this.rowScore = score + 0;
  }

  private grow(): void {
    const size = this.scores.length * 2;
    const scores = new Float64Array(size);
    scores.set(this.scores);
    this.scores = scores;
    const labels = new Uint8Array(size);
    labels.set(this.labels);
    this.labels = labels;
    if (this.options.segment !== null) {
      const ids = new Int32Array(size);
      ids.set(this.segmentIds);
      this.segmentIds = ids;
    }
  }
}

/** One segment value and its rows (indexes into the kept rows, increasing). */
export interface SegmentRows {
  value: string;
  rows: Int32Array;
}

/**
 * Groups rows by segment id: per value with at least one row, the row indexes in their original order (a
 * counting sort), so sums run in the same order as the reference's boolean mask selects them. Values are
 * ordered by code point; rows with id -1 (missing) belong to none.
 */
export function groupBySegment(ids: Int32Array, values: readonly string[]): SegmentRows[] {
  const counts = new Int32Array(values.length);
  for (let i = 0; i < ids.length; i++) if (ids[i]! >= 0) counts[ids[i]!]!++;
  const groups = Array.from(counts, (count) => new Int32Array(count));
  const next = new Int32Array(values.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id >= 0) groups[id]![next[id]!++] = i;
  }
  const segments: SegmentRows[] = [];
  // A value seen only in rows that were not kept has nothing to evaluate and is left out.
  for (let id = 0; id < values.length; id++)
    if (counts[id]! > 0) segments.push({ value: values[id]!, rows: groups[id]! });
  return segments.sort((a, b) => compareCodePoints(a.value, b.value));
}

/** The value itself stays out of the message: errors end up in logs, and data rows must not. */
function notANumber(): never {
  throw new ValueError('the score is not a number');
}

/**
 * Orders strings by Unicode code point (as Python's `sorted` and UTF-8 bytes do). JavaScript's `<` compares
 * UTF-16 code units, which puts characters above U+FFFF (surrogate pairs) before U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800–U+DFFF) stand for code points above U+FFFF, so they rank above everything else.
    const xRank = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
    const yRank = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    return xRank - yRank;
  }
  return a.length - b.length;
}

/** The result of {@link evaluateTable}: the evaluation and what the reader found. */
export interface TableEvaluation extends Evaluation {
  format: ReadTableResult['format'];
  compressed: boolean;
}

/**
 * Reads a labelled table and computes its performance report.
 *
 * @example
 * ```ts
 * const { report } = await evaluateTable(fileInput('golden.csv'), { label: 'churn', score: 'p', positive: 'yes' });
 * report.metrics.rocAuc; // 0.82
 * ```
 */
export async function evaluateTable(
  input: TableInput,
  options: EvaluateOptions,
  readOptions: ReadTableOptions = {},
): Promise<TableEvaluation> {
  const accumulator = new PerformanceAccumulator(resolveEvaluateOptions(options), input.name);
  const { format, compressed } = await readTable(input, accumulator, readOptions);
  return { ...accumulator.finish(), format, compressed };
}
