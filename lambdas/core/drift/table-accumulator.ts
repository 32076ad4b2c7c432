import { InputError, ValueError } from '../errors.ts';
import { type CellValue, MISSING_TEXT, type NumberBatch, type TableSink } from '../readers/types.ts';
import { CategoryDictionary, NOT_TRACKED } from './category-dictionary.ts';
import { ColumnStats, NUMERIC_CATEGORY_LIMIT, type SampledRows } from './column-stats.ts';
import { defaultSampleCap, type ResolvedColumnOptions } from './options.ts';
import { type FeatureProfile, snapshotColumn, type TableProfile } from './profile.ts';
import { RowSample, seedFor } from './row-sample.ts';
import { isMissingBytes, isMissingText, parseNumberBytes, parseNumberText } from './values.ts';

const MISSING = 0;
const NUMBER = 1;
const CATEGORY = 2;

/** Rows of numbers stored before they are counted (see {@link TableAccumulator.numberBatch}). */
const BATCH_ROWS = 1024;

const INFER = 0;
const DECLARED_NUMERIC = 1;
const TEXT_ONLY = 2;

type Mode = typeof INFER | typeof DECLARED_NUMERIC | typeof TEXT_ONLY;

interface Column {
  name: string;
  mode: Mode;
  dictionary: CategoryDictionary;
  /**
   * Whether every number so far also has its raw text counted as a label (inferred columns only), so the
   * column can still turn categorical with labels exactly as written.
   */
  numbersLabelled: boolean;
  /** Label id + 1 of small whole numbers written plainly (`0` to `4095`), so they skip the hash lookup. */
  smallLabels: Int32Array | null;
  /** Label ids of the other numbers marked plain in the batch (see {@link NumberBatch.plain}), by value. */
  numberLabels: Map<number, number> | null;
  /** Null for the segment column, which is read but not profiled. */
  whole: ColumnStats | null;
  /** Place in the rows of the samples; -1 for a column that only takes text. */
  position: number;
  /** A text value was seen: the column is categorical, and its numbers need no sample. */
  hasText: boolean;
  /** Stats per segment id, created when the segment first has a row. */
  segments: (ColumnStats | undefined)[];
}

/** Baseline PSI bin edges per feature, overall and per segment value. Plain data: workers receive it. */
export interface BinEdges {
  whole: Map<string, Float64Array>;
  segments: Map<string, Map<string, Float64Array>>;
}

/** The bin edges of every numeric feature of a baseline profile. */
export function binEdgesOf(profile: TableProfile): BinEdges {
  const pick = (features: Map<string, FeatureProfile>) =>
    new Map(
      [...features].filter(([, feature]) => feature.edges.length > 0).map(([name, f]) => [name, f.edges]),
    );
  return {
    whole: pick(profile.whole),
    segments: new Map(profile.segments.map((segment) => [segment.value, pick(segment.features)])),
  };
}

export interface AccumulatorContext {
  /** The input's name, for errors. */
  name: string;
  /** The baseline's feature columns when this is the current side, so a schema change fails early. */
  expected?: { columns: ReadonlySet<string>; source: string };
  /** The baseline's PSI bin edges, so the current side is counted over them as it streams. */
  edges?: BinEdges;
  /**
   * Profile one share of the feature columns ({@link inColumnShare}); other threads reading the same table
   * profile the other shares (see `joinColumnShares`). The features left out still count toward the default
   * sample cap, so each share's sample is that of one pass over every column. @default every column
   */
  columnShare?: ColumnShare;
}

/** Share `part` of `parts` of a table's feature columns. */
export interface ColumnShare {
  part: number;
  parts: number;
}

/**
 * Whether the feature at `ordinal` (its place among the table's features in header order; excluded and
 * segment columns do not count) is in the share: every `parts`-th one, from `part`.
 */
export function inColumnShare(ordinal: number, share: ColumnShare): boolean {
  return ordinal % share.parts === share.part;
}

/**
 * A {@link TableSink} that profiles a table in one pass: for each feature column (and each segment) the
 * stats of {@link ColumnStats}. With a segment column a row's values are held until the row ends, because
 * the segment value may come after them; without one they are counted as they arrive.
 */
export class TableAccumulator implements TableSink {
  private rows = 0;
  private readonly columns: (Column | null)[] = [];
  private readonly names: string[] = [];
  private kinds = new Uint8Array(64);
  /** Per column, the category its last value became as text, -1 when none since it was asked. */
  private lastText = new Int32Array(64).fill(-1);
  private numbers = new Float64Array(64);
  private ids = new Int32Array(64);
  private segmentIndex = -1;
  private readonly segmentDictionary: CategoryDictionary;
  private segmentRows: number[] = [];
  /** Sampled rows of the whole table, and of each segment. */
  private readonly wholeSample: RowSample;
  private readonly segmentSamples: RowSample[] = [];
  private readonly options: ResolvedColumnOptions;
  private readonly context: AccumulatorContext;
  /** No segment column: values go straight to the whole-table stats. */
  private readonly direct: boolean;
  /** Feature columns so far, this share's or not ({@link AccumulatorContext.columnShare}). */
  private featureCount = 0;
  /** The sample cap in force: the option, or the default for this table's width once the header is known. */
  private sampleCap: number;
  /**
   * Without a segment column, numbers of columns that need no label (declared numeric, or inferred with too
   * many distinct numbers to be categorical) are stored by row and counted a batch of rows at a time, in
   * tight loops rather than a few calls per value. `slots` holds each stored row's place in the row sample.
   */
  readonly numberBatch: NumberBatch | undefined;
  private readonly slots = new Int32Array(BATCH_ROWS);
  /** The batch's rows that go to the sample, gathered once for all its columns. */
  private readonly sampledRows: SampledRows = {
    count: 0,
    rows: new Int32Array(BATCH_ROWS),
    slots: new Int32Array(BATCH_ROWS),
  };

  constructor(options: ResolvedColumnOptions, context: AccumulatorContext) {
    this.options = options;
    this.context = context;
    this.direct = options.segment === null;
    this.sampleCap = options.sampleCap;
    this.wholeSample = new RowSample(this.sampleCap, seedFor(options.seed));
    this.numberBatch = this.direct ? { row: 0, size: BATCH_ROWS, values: [], plain: [] } : undefined;
    this.textLabelCounts = this.direct
      ? (index, id, count) => this.columns[index]!.whole!.addCategory(id, count)
      : undefined;
    this.segmentDictionary = new CategoryDictionary(
      options.maxSegments,
      `segment column ${JSON.stringify(options.segment)} has more than ${options.maxSegments} distinct values; ` +
        'choose a coarser column or raise --max-segments',
    );
  }

  column(name: string): number {
    const index = this.names.length;
    if (this.names.includes(name)) throw new ValueError(`duplicate column name ${JSON.stringify(name)}`);
    const { options, context } = this;
    const isSegment = name === options.segment;
    const excluded = options.exclude.has(name);
    if (context.expected && !excluded && !isSegment && !context.expected.columns.has(name)) {
      throw new ValueError(
        `column ${JSON.stringify(name)} is not in the baseline (${context.expected.source})`,
      );
    }
    this.names.push(name);
    this.numberBatch?.values.push(null);
    this.numberBatch?.plain.push(null);
    if (index >= this.kinds.length) this.growRow();
    const feature = !excluded && !isSegment;
    const share = context.columnShare;
    const elsewhere = feature && share !== undefined && !inColumnShare(this.featureCount, share);
    if (feature) this.featureCount++;
    if (excluded || elsewhere) {
      this.columns.push(null);
      return index;
    }
    if (isSegment) this.segmentIndex = index;
    const mode: Mode =
      isSegment || options.categorical.has(name)
        ? TEXT_ONLY
        : options.numeric.has(name)
          ? DECLARED_NUMERIC
          : INFER;
    const dictionary = isSegment
      ? this.segmentDictionary
      : new CategoryDictionary(
          options.maxCategories,
          `column ${JSON.stringify(name)} has more than ${options.maxCategories} distinct values; if it is ` +
            'an identifier or free text exclude it (--exclude), otherwise raise --max-categories',
        );
    const position = mode === TEXT_ONLY ? -1 : this.wholeSample.addColumn();
    // A column first seen after some rows (a JSON Lines key) has a place in the segments' samples too.
    if (position >= 0) for (const sample of this.segmentSamples) sample?.addColumn();
    const whole = isSegment ? null : this.newStats(name, position, null);
    this.columns.push({
      name,
      mode,
      dictionary,
      numbersLabelled: mode === INFER,
      smallLabels: mode === INFER ? new Int32Array(SMALL_LABELS) : null,
      numberLabels: mode === INFER ? new Map() : null,
      whole,
      position,
      hasText: false,
      segments: [],
    });
    return index;
  }

  ignores(index: number): boolean {
    return this.columns[index] === null;
  }

  bytes(index: number, buf: Uint8Array, start: number, end: number): void {
    // Set again below only if this value becomes a category, so lastTextLabel never gives a stale one.
    this.lastText[index] = -1;
    const column = this.columns[index];
    if (column === null || column === undefined) return;
    if (isMissingBytes(buf, start, end)) {
      this.lastText[index] = MISSING_TEXT;
      return;
    }
    if (column.mode !== TEXT_ONLY) {
      const value = parseNumberBytes(buf, start, end);
      if (!Number.isNaN(value)) {
        this.addNumber(index, column, value, this.bytesLabel(index, column, value, buf, start, end));
        return;
      }
      if (column.mode === DECLARED_NUMERIC) notANumber();
      if (!column.hasText) this.turnsCategorical(column);
    }
    const id = column.dictionary.idForBytes(buf, start, end);
    this.addCategory(index, column, id);
    this.lastText[index] = id;
  }

  lastTextLabel(index: number): number {
    const id = this.lastText[index] ?? -1;
    this.lastText[index] = -1;
    return id;
  }

  /**
   * A text value with the bytes of category `id`, which {@link lastTextLabel} gave: the column already took
   * that text as a category (so it is not a number, and an inferred column already knows it has text).
   */
  textLabel(index: number, id: number): void {
    this.addCategory(index, this.columns[index]!, id);
  }

  /**
   * Without a segment column a category counts the same whatever its row: {@link textLabel} in bulk.
   */
  readonly textLabelCounts: ((index: number, id: number, count: number) => void) | undefined;

  /** The first text value of an inferred column: it is categorical, so its sample is dropped. */
  private turnsCategorical(column: Column): void {
    column.hasText = true;
    this.wholeSample.retire(column.position);
    for (const sample of this.segmentSamples) sample?.retire(column.position);
  }

  number(index: number, value: number, buf: Uint8Array, start: number, end: number): void {
    const column = this.columns[index];
    if (column === null || column === undefined) return;
    if (column.mode === TEXT_ONLY) {
      this.addCategory(index, column, column.dictionary.idForBytes(buf, start, end));
      return;
    }
    this.addNumber(index, column, value, this.bytesLabel(index, column, value, buf, start, end));
  }

  /** The label of a number's raw bytes while the column still counts them ({@link NOT_TRACKED} after). */
  private bytesLabel(
    index: number,
    column: Column,
    value: number,
    buf: Uint8Array,
    start: number,
    end: number,
  ): number {
    if (!column.numbersLabelled) return NOT_TRACKED;
    const small = column.smallLabels!;
    const cached = value < SMALL_LABELS && isPlainWholeNumber(buf, start, end);
    if (cached && small[value]! > 0) return small[value]! - 1;
    const label = column.dictionary.lookupBytes(buf, start, end, NUMERIC_CATEGORY_LIMIT);
    return this.keepLabel(index, column, label, cached ? value : -1);
  }

  /**
   * What a lookup of a number's text as a label leads to: past the limit the column stops labelling its
   * numbers; otherwise the label of a plainly written small whole number (`smallValue`, -1 for others) is
   * remembered by value.
   */
  private keepLabel(index: number, column: Column, label: number, smallValue: number): number {
    if (label === NOT_TRACKED) this.stopLabelling(index, column);
    else if (smallValue >= 0) column.smallLabels![smallValue] = label + 1;
    return label;
  }

  value(index: number, value: CellValue): void {
    const column = this.columns[index];
    if (column === null || column === undefined || value === null) return;
    let text: string;
    if (typeof value === 'number') {
      if (Number.isNaN(value)) return;
      text = String(value);
      if (Number.isFinite(value) && column.mode !== TEXT_ONLY) {
        this.addNumber(index, column, value, this.numberLabel(index, column, text));
        return;
      }
    } else if (typeof value === 'boolean') {
      text = String(value);
    } else {
      if (isMissingText(value)) return;
      if (column.mode !== TEXT_ONLY) {
        const parsed = parseNumberText(value);
        if (!Number.isNaN(parsed)) {
          this.addNumber(index, column, parsed, this.numberLabel(index, column, value));
          return;
        }
      }
      text = value;
    }
    if (column.mode === DECLARED_NUMERIC) notANumber();
    if (column.mode === INFER && !column.hasText) this.turnsCategorical(column);
    this.addCategory(index, column, column.dictionary.idForText(text));
  }

  private numberLabel(index: number, column: Column, text: string): number {
    if (!column.numbersLabelled) return NOT_TRACKED;
    return this.keepLabel(index, column, column.dictionary.lookupText(text, NUMERIC_CATEGORY_LIMIT), -1);
  }

  private addNumber(index: number, column: Column, value: number, label: number): void {
    if (this.direct) {
      const batch = this.numberBatch!;
      const stored = batch.values[index];
      if (stored) {
        stored[batch.row] = value;
        if (label !== NOT_TRACKED) column.whole!.addLabel(label);
        return;
      }
      const whole = column.whole!;
      whole.addNumber(value);
      if (label !== NOT_TRACKED) whole.addLabel(label);
      return;
    }
    this.kinds[index] = NUMBER;
    this.numbers[index] = value;
    this.ids[index] = label;
  }

  private addCategory(index: number, column: Column, id: number): void {
    if (this.direct) {
      column.whole!.addCategory(id);
      return;
    }
    this.kinds[index] = CATEGORY;
    this.ids[index] = id;
  }

  endRow(): void {
    if (this.rows++ === 0 && this.options.sampleCapIsDefault) this.fitSampleCap();
    if (this.direct) {
      const batch = this.numberBatch!;
      this.slots[batch.row] = this.wholeSample.slot;
      this.wholeSample.endRow();
      if (++batch.row === BATCH_ROWS) this.countBatch();
      return;
    }
    const { kinds, numbers, ids, columns } = this;
    let segment = -1;
    if (this.segmentIndex >= 0 && kinds[this.segmentIndex] === CATEGORY) {
      segment = ids[this.segmentIndex]!;
      this.segmentRows[segment] = (this.segmentRows[segment] ?? 0) + 1;
    }
    const segmentSample =
      segment < 0 ? undefined : (this.segmentSamples[segment] ?? this.newSegmentSample(segment));
    for (let index = 0; index < columns.length; index++) {
      const kind = kinds[index];
      if (kind === MISSING) continue;
      kinds[index] = MISSING;
      const column = columns[index]!;
      const whole = column.whole;
      if (whole === null) continue;
      const inSegment =
        segment < 0 ? undefined : (column.segments[segment] ?? this.segmentStats(column, segment));
      if (kind === NUMBER) {
        const value = numbers[index]!;
        const label = ids[index]!;
        whole.addNumber(value);
        inSegment?.addNumber(value);
        if (label !== NOT_TRACKED) {
          whole.addLabel(label);
          inSegment?.addLabel(label);
        }
      } else {
        const id = ids[index]!;
        whole.addCategory(id);
        inSegment?.addCategory(id);
      }
    }
    this.wholeSample.endRow();
    segmentSample?.endRow();
  }

  /**
   * Ends `count` rows whose numbers are all in the number batch (at most to its end) and whose text was
   * counted in bulk: {@link endRow} `count` times, with the row sample's draws made in one go.
   */
  endRows(count: number): void {
    const batch = this.numberBatch;
    if (batch === undefined || count > BATCH_ROWS - batch.row) {
      for (let row = 0; row < count; row++) this.endRow();
      return;
    }
    if (count > 0 && this.rows === 0) {
      this.endRow();
      count--;
    }
    this.wholeSample.endRows(count, this.slots, batch.row);
    this.rows += count;
    batch.row += count;
    if (batch.row === BATCH_ROWS) this.countBatch();
  }

  /**
   * Counts the stored rows of numbers, then stores the numbers of columns that have stopped labelling them
   * too (from the next row on, so each row's values of a column are counted one way).
   */
  private countBatch(): void {
    const batch = this.numberBatch;
    if (batch === undefined) return;
    const { values } = batch;
    const rows = batch.row;
    const sampled = this.sampledRows;
    sampled.count = 0;
    for (let row = 0; row < rows; row++) {
      const slot = this.slots[row]!;
      if (slot < 0) continue;
      sampled.rows[sampled.count] = row;
      sampled.slots[sampled.count++] = slot;
    }
    for (let index = 0; index < values.length; index++) {
      const stored = values[index];
      const column = this.columns[index];
      if (stored) {
        const plain = batch.plain[index];
        if (plain) {
          this.labelPlainNumbers(index, column!, stored, plain, rows);
          plain.fill(0, 0, rows);
        }
        column!.whole!.addNumbers(stored, rows, sampled);
        stored.fill(Number.NaN, 0, rows);
      } else if (column && column.mode !== TEXT_ONLY && column.whole !== null) {
        values[index] = new Float64Array(BATCH_ROWS).fill(Number.NaN);
        if (column.numbersLabelled) batch.plain[index] = new Uint8Array(BATCH_ROWS);
        this.wholeSample.writesEveryRow(column.position);
      }
    }
    batch.row = 0;
  }

  /** Counts the labels of the numbers the reader marked as written plainly: their text is their value's. */
  private labelPlainNumbers(
    index: number,
    column: Column,
    stored: Float64Array,
    plain: Uint8Array,
    rows: number,
  ): void {
    const whole = column.whole!;
    const small = column.smallLabels!;
    const byValue = column.numberLabels!;
    let counts = whole.categoryCounts;
    for (let row = 0; row < rows; row++) {
      if (plain[row] === 0) continue;
      const value = stored[row]!;
      const cached = value >= 0 && value < SMALL_LABELS && Number.isInteger(value);
      let label = cached ? small[value]! - 1 : (byValue.get(value) ?? -1);
      if (label < 0) {
        label = column.dictionary.lookupText(String(value), NUMERIC_CATEGORY_LIMIT);
        // Past the limit the column's labels no longer count: the rest of the batch is left unlabelled.
        if (this.keepLabel(index, column, label, cached ? value : -1) === NOT_TRACKED) return;
        if (!cached) byValue.set(value, label);
      }
      // whole.addLabel(label), without a call per row while the counts have room.
      if (label < counts.length) counts[label]!++;
      else {
        whole.addLabel(label);
        counts = whole.categoryCounts;
      }
    }
  }

  /** Too many distinct numbers for the column to be categorical: their text is no longer counted. */
  private stopLabelling(index: number, column: Column): void {
    column.numbersLabelled = false;
    column.smallLabels = null;
    column.numberLabels = null;
    if (this.numberBatch) this.numberBatch.plain[index] = null;
  }

  /**
   * Ends the pass: checks the schema against the baseline and returns the profile.
   */
  finish(source: { format?: string }): TableProfile {
    this.countBatch();
    const { context, options } = this;
    if (context.expected) {
      const seen = new Set(this.names);
      for (const name of context.expected.columns) {
        if (!seen.has(name)) {
          throw new InputError(
            { file: context.name, field: name },
            `column ${JSON.stringify(name)} of the baseline (${context.expected.source}) is missing`,
          );
        }
      }
    }
    if (options.segment !== null && this.segmentIndex < 0) {
      throw new InputError({ file: context.name, field: options.segment }, 'the segment column is missing');
    }
    const features: string[] = [];
    const whole = new Map<string, FeatureProfile>();
    for (const column of this.columns) {
      if (column === null || column.whole === null) continue;
      features.push(column.name);
      whole.set(
        column.name,
        snapshotColumn(column.whole, column.dictionary, column.numbersLabelled, this.rows),
      );
    }
    const segments = this.segmentDictionary.labels
      .map((value, id) => {
        const rows = this.segmentRows[id] ?? 0;
        const perFeature = new Map<string, FeatureProfile>();
        for (const column of this.columns) {
          const stats = column?.segments[id];
          if (column && stats)
            perFeature.set(
              column.name,
              snapshotColumn(stats, column.dictionary, column.numbersLabelled, rows),
            );
        }
        return { value, rows, features: perFeature };
      })
      .filter((segment) => segment.rows > 0)
      .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    // The profile took the sampled columns; what is left (retired columns) can go even while the accumulator
    // is referenced.
    this.wholeSample.release();
    for (const sample of this.segmentSamples) sample?.release();
    return {
      name: context.name,
      format: source.format,
      rows: this.rows,
      columns: [...this.names],
      features,
      options: {
        numeric: [...options.numeric],
        categorical: [...options.categorical],
        exclude: [...options.exclude],
        segment: options.segment,
        sampleCap: this.sampleCap,
        seed: options.seed,
      },
      whole,
      segments,
    };
  }

  /** After the first row, when every header column is known: the default cap for this many features. */
  private fitSampleCap(): void {
    this.sampleCap = defaultSampleCap(this.featureCount);
    this.wholeSample.setCapacity(this.sampleCap);
    for (const sample of this.segmentSamples) sample?.setCapacity(this.sampleCap);
  }

  private newStats(feature: string, position: number, segment: number | null): ColumnStats {
    const edges =
      segment === null
        ? this.context.edges?.whole.get(feature)
        : this.context.edges?.segments.get(this.segmentDictionary.labels[segment]!)?.get(feature);
    const sample = segment === null ? this.wholeSample : this.segmentSamples[segment]!;
    return new ColumnStats(sample, position, edges ?? null);
  }

  private newSegmentSample(segment: number): RowSample {
    const sample = new RowSample(
      this.sampleCap,
      seedFor(this.options.seed, this.segmentDictionary.labels[segment]!),
    );
    for (let i = 0; i < this.wholeSample.width; i++) sample.addColumn();
    for (const column of this.columns) if (column?.hasText) sample.retire(column.position);
    this.segmentSamples[segment] = sample;
    return sample;
  }

  private segmentStats(column: Column, segment: number): ColumnStats {
    const stats = this.newStats(column.name, column.position, segment);
    column.segments[segment] = stats;
    return stats;
  }

  private growRow(): void {
    const size = this.kinds.length * 2;
    const kinds = new Uint8Array(size);
    kinds.set(this.kinds);
    const numbers = new Float64Array(size);
    numbers.set(this.numbers);
    const ids = new Int32Array(size);
    ids.set(this.ids);
    const lastText = new Int32Array(size).fill(-1);
    lastText.set(this.lastText);
    this.lastText = lastText;
    this.kinds = kinds;
    this.numbers = numbers;
    this.ids = ids;
  }
}

/** Whole numbers below this have their label ids cached by value. */
const SMALL_LABELS = 4096;

/**
 * Digits only, without a leading zero (`0` itself excepted): the one way of writing a whole number, so the
 * value alone names the label.
 */
function isPlainWholeNumber(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start > 1 && buf[start] === 0x30) return false;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    if (byte < 0x30 || byte > 0x39) return false;
  }
  return true;
}

/** The value itself stays out of the message: errors end up in logs, and data rows must not. */
function notANumber(): never {
  throw new ValueError('the value is not a number, but the column is declared --numeric');
}
