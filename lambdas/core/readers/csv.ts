import { isUtf8 } from 'node:buffer';
import { EXACT_INTEGER_LIMIT, exactDecimal } from '../drift/values.ts';
import { InputError, type InputLocation, LimitExceededError, ValueError } from '../errors.ts';
import {
  CsvLinesKernel,
  KERNEL_MISSING,
  KERNEL_NUMBER,
  KERNEL_PLAIN_WHOLE,
  KERNEL_ROWS,
} from './csv-kernel.ts';
import { MISSING_TEXT, type NumberBatch, type TableSink } from './types.ts';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;

// Byte classes of the scanning loops: anything but PLAIN stops the tight loop.
const PLAIN = 0;
const DELIMITER = 1;
const NEWLINE = 2;
const RETURN = 3;
const HIGH = 4;
const CLOSE = 5;

// Parser states between bytes (and between chunks).
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** Just after a quote inside a quoted field: the next byte says whether it was `""` or the closing quote. */
const QUOTE_IN_QUOTED = 3;
/** Just after a CR that ended a record: a following LF belongs to the same line break. */
const AFTER_RETURN = 4;

/** Default of {@link CsvOptions.maxFieldBytes}. */
export const DEFAULT_MAX_FIELD_BYTES = 64 * 1024 * 1024;

/** Classes inside a quoted field, the same for every delimiter. */
const QUOTED_CLASSES = byteClasses(-1);
QUOTED_CLASSES[QUOTE] = CLOSE;
QUOTED_CLASSES[CR] = PLAIN;

function byteClasses(delimiter: number): Uint8Array {
  const classes = new Uint8Array(256);
  for (let byte = 0x80; byte < 256; byte++) classes[byte] = HIGH;
  classes[LF] = NEWLINE;
  classes[CR] = RETURN;
  if (delimiter >= 0) classes[delimiter] = DELIMITER;
  return classes;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface CsvOptions {
  /** Name used in error messages. */
  name: string;
  /**
   * Field separator, one ASCII byte.
   * @default ','
   */
  delimiter?: string;
  /**
   * Longest field, in bytes, the parser will hold; a longer one is almost always an unterminated quote.
   * @default 64 MiB
   */
  maxFieldBytes?: number;
  /**
   * Whether lines of plain unquoted ASCII fields are read by the WebAssembly loop ({@link CsvLinesKernel});
   * the JavaScript state machine reads everything else. Both give the same fields and values.
   * @default true
   */
  kernel?: boolean;
}

/** Above every kind of field: nothing is skipped. */
const NO_KIND = 3;
/** After a line the kernel does not read, it is tried again this many lines on, doubling up to the most. */
const KERNEL_RETRY_MAX = 1024;

/**
 * A streaming RFC 4180 parser: push byte chunks of any size, then {@link CsvParser.finish}. It is a
 * byte-level state machine that hands each field to {@link TableSink.bytes} as a range of the chunk itself,
 * so no string is created per field. Only fields that need rewriting are copied into a reused scratch
 * buffer: a quoted field with `""` in it, or a field cut by a chunk boundary. Runs of plain lines (no
 * quote, CR or non-ASCII byte) go through a WebAssembly loop that does the same, faster.
 *
 * Accepted: a required header row, a leading UTF-8 BOM, LF or CRLF line ends (a lone CR ends a line too),
 * quoted fields holding delimiters, `""` and line breaks, blank lines (skipped). A quote inside an unquoted
 * field is kept as a literal character. Lines in errors are physical lines, counting the line breaks inside
 * quoted fields; columns are 1-based field positions.
 *
 * @example
 * ```ts
 * const parser = new CsvParser(sink, { name: 'current.csv' });
 * for await (const chunk of stream) parser.push(chunk);
 * parser.finish();
 * ```
 */
export class CsvParser {
  private readonly sink: TableSink;
  private readonly name: string;
  private readonly delimiter: number;
  private readonly maxFieldBytes: number;
  private readonly classes: Uint8Array;
  /** Whether the sink takes plain numbers already parsed ({@link TableSink.number}). */
  private readonly numbers: boolean;
  /** The sink's store for numbers, if it has one. */
  private readonly batch: NumberBatch | null;
  private readonly useKernel: boolean;
  /** Whether the sink takes repeated text by label ({@link TableSink.textLabel}). */
  private readonly textLabels: boolean;
  /** The sink's bulk form of that ({@link TableSink.textLabelCounts}): the kernel then counts the labels. */
  private readonly labelCounts: ((column: number, label: number, count: number) => void) | undefined;
  private kernel: CsvLinesKernel | null = null;
  /** The kernel is tried at the start of this line or a later one; how far it was put off the last time. */
  private kernelLine = 0;
  private kernelRetry = 1;
  /** Counts parse calls, so a chunk is copied into the kernel once (the caller may reuse the same buffer). */
  private parseCalls = 0;
  private kernelLoadedCall = -1;
  private kernelLoadedFrom = 0;
  /** Columns handed over field by field, but for fields of a kind at least `skipKinds` (the batch has them). */
  private readonly perField: number[] = [];
  private readonly skipKinds: number[] = [];

  private state = FIELD_START;
  /** Physical line of the byte being read. */
  private line = 1;
  /** 0-based position of the current field in its row. */
  private fieldIndex = 0;
  /** Line on which the current field started. */
  private fieldLine = 1;
  /** Whether the current field has a byte >= 0x80 (and so needs a UTF-8 check). */
  private high = false;
  /** Line of the first field past the header's count in the current row, or 0. */
  private extraLine = 0;

  /** Field bytes kept across a chunk boundary or rewritten to drop `""`; `scratchActive` says it is in use. */
  private scratch = new Uint8Array(64 * 1024);
  private scratchLength = 0;
  private scratchActive = false;

  private bomMatched = 0;
  private bomDone = false;

  private header: string[] | null = null;
  private readonly headerNames: string[] = [];
  private readonly headerLines: number[] = [];
  /** Sink column index of each field position. */
  private columnIds = new Int32Array(0);
  /** Per field position, whether the sink ignores the column ({@link TableSink.ignores}): the kernel skips it. */
  private skipped: boolean[] = [];
  private columnCount = 0;
  private rowCount = 0;

  constructor(sink: TableSink, options: CsvOptions) {
    this.sink = sink;
    this.name = options.name;
    const delimiter = options.delimiter ?? ',';
    const code = delimiter.charCodeAt(0);
    if (delimiter.length !== 1 || code >= 0x80 || code === QUOTE || code === LF || code === CR) {
      throw new RangeError(`the delimiter must be one ASCII character other than a quote or line break`);
    }
    this.delimiter = code;
    this.maxFieldBytes = options.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES;
    this.classes = byteClasses(code);
    this.numbers = typeof sink.number === 'function';
    this.batch = (this.numbers && sink.numberBatch) || null;
    this.useKernel = options.kernel ?? true;
    this.textLabels = typeof sink.textLabel === 'function' && typeof sink.lastTextLabel === 'function';
    this.labelCounts = this.textLabels ? sink.textLabelCounts : undefined;
  }

  /** Data rows passed to the sink so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** Parses the next chunk. The chunk is not kept: the caller may reuse it once this returns. */
  push(chunk: Uint8Array): void {
    if (this.bomDone) {
      this.parse(chunk);
      return;
    }
    const before = this.bomMatched;
    let matched = 0;
    while (matched < chunk.length && this.bomMatched < 3 && chunk[matched] === BOM[this.bomMatched]) {
      matched++;
      this.bomMatched++;
    }
    if (this.bomMatched === 3) {
      this.bomDone = true;
      this.parse(chunk.subarray(matched));
    } else if (matched < chunk.length) {
      // Not a BOM after all: the bytes held back from earlier chunks are data.
      this.bomDone = true;
      if (before > 0) this.parse(BOM.subarray(0, before));
      this.parse(chunk);
    }
  }

  /** Ends the input: flushes the last row and checks that the file had a header and data. */
  finish(): void {
    if (!this.bomDone) {
      this.bomDone = true;
      if (this.bomMatched > 0) this.parse(BOM.subarray(0, this.bomMatched));
    }
    const { fieldIndex, fieldLine, line } = this;
    switch (this.state) {
      case FIELD_START:
        // After a delimiter the row still has its last, empty field; at a row start there is no row.
        if (fieldIndex > 0) {
          this.emitField(this.scratch, 0, 0, fieldIndex, line, false);
          this.endRow(fieldIndex + 1, line);
        }
        break;
      case UNQUOTED:
        this.emitField(this.scratch, 0, this.takeScratch(), fieldIndex, fieldLine, this.high);
        this.endRow(fieldIndex + 1, line);
        break;
      case QUOTED:
        throw new InputError(
          this.location(fieldLine, fieldIndex),
          'unterminated quoted field: the quote is not closed before the end of the file',
        );
      case QUOTE_IN_QUOTED:
        // The closing quote was the last byte, and it is still in the scratch buffer: drop it.
        this.emitField(this.scratch, 0, this.takeScratch() - 1, fieldIndex, fieldLine, this.high);
        this.endRow(fieldIndex + 1, line);
        break;
    }
    this.state = AFTER_RETURN;
    if (this.header === null)
      throw new InputError({ file: this.name }, 'the file is empty: a header row is required');
    if (this.rowCount === 0)
      throw new InputError({ file: this.name }, 'the file has a header but no data rows');
  }

  /**
   * The state machine. Locals mirror the fields while the loop runs; the fields are written back at the end
   * of the chunk (and read again after calls that may change them).
   */
  private parse(buf: Uint8Array): void {
    const n = buf.length;
    const classes = this.classes;
    const delimiter = this.delimiter;
    let state = this.state;
    let line = this.line;
    let fieldIndex = this.fieldIndex;
    let fieldLine = this.fieldLine;
    let high = this.high;
    let start = 0;
    let i = 0;
    // A field read by the number fast path, and its value.
    let isNumber = false;
    let value = 0;
    const numbers = this.numbers;
    this.parseCalls++;
    while (i < n) {
      if (state === FIELD_START) {
        if (fieldIndex === 0 && line >= this.kernelLine && this.useKernel && this.header !== null) {
          const before = this.rowCount;
          const taken = this.readPlainLines(buf, i, n, line);
          if (taken > 0) {
            line += this.rowCount - before;
            i += taken;
            continue;
          }
        }
        const byte = buf[i];
        fieldLine = line;
        high = false;
        if (byte === QUOTE) {
          state = QUOTED;
          start = ++i;
          continue;
        }
        if (fieldIndex === 0 && (byte === LF || byte === CR)) {
          // A blank line.
          line++;
          i++;
          if (byte === CR) state = AFTER_RETURN;
          continue;
        }
        state = UNQUOTED;
        start = i;
        if (numbers && fieldIndex < this.columnCount) {
          // Fast path: a plain decimal number is parsed while it is scanned, so its bytes are read once.
          // Anything else (a + sign, an exponent, blanks, a field cut by the chunk's end) takes the general
          // path from the field's start.
          let j = byte === MINUS ? i + 1 : i;
          const digitsStart = j;
          let mantissa = 0;
          let digit = j < n ? buf[j]! - ZERO : -1;
          while (digit >= 0 && digit <= 9) {
            mantissa = mantissa * 10 + digit;
            digit = ++j < n ? buf[j]! - ZERO : -1;
          }
          let digits = j - digitsStart;
          let fraction = 0;
          if (digit === DOT - ZERO) {
            const fractionStart = ++j;
            digit = j < n ? buf[j]! - ZERO : -1;
            while (digit >= 0 && digit <= 9) {
              mantissa = mantissa * 10 + digit;
              digit = ++j < n ? buf[j]! - ZERO : -1;
            }
            fraction = j - fractionStart;
            digits += fraction;
          }
          if (
            j < n &&
            digits > 0 &&
            mantissa < EXACT_INTEGER_LIMIT &&
            fraction <= 22 &&
            classes[buf[j]!]! !== PLAIN &&
            classes[buf[j]!]! !== HIGH
          ) {
            // The arithmetic of parseNumberBytes, so both give the same value.
            value = exactDecimal(mantissa, -fraction);
            if (byte === MINUS) value = -value;
            isNumber = true;
            i = j;
          }
        }
      }
      if (state === UNQUOTED) {
        let kind = PLAIN;
        while (i < n) {
          kind = classes[buf[i]];
          if (kind === PLAIN) {
            i++;
          } else if (kind === HIGH) {
            high = true;
            i++;
          } else {
            break;
          }
        }
        if (i === n) break;
        if (isNumber) {
          isNumber = false;
          this.emitNumber(value, buf, start, i, fieldIndex, fieldLine);
        } else {
          this.emitField(buf, start, i, fieldIndex, fieldLine, high);
        }
        i++;
        if (kind === DELIMITER) {
          fieldIndex++;
        } else {
          this.endRow(fieldIndex + 1, line);
          line++;
          fieldIndex = 0;
          if (kind === RETURN) {
            state = AFTER_RETURN;
            continue;
          }
        }
        state = FIELD_START;
        continue;
      }
      if (state === QUOTED) {
        while (i < n) {
          const kind = QUOTED_CLASSES[buf[i]];
          if (kind === PLAIN) {
            i++;
          } else if (kind === HIGH) {
            high = true;
            i++;
          } else if (kind === NEWLINE) {
            line++;
            i++;
          } else {
            break;
          }
        }
        if (i === n) break;
        state = QUOTE_IN_QUOTED;
        i++;
        continue;
      }
      if (state === QUOTE_IN_QUOTED) {
        const byte = buf[i];
        if (byte === QUOTE) {
          // `""`: keep the first quote (the last byte of [start, i)), skip the second.
          this.append(buf, start, i, fieldIndex, fieldLine);
          start = ++i;
          state = QUOTED;
          continue;
        }
        let end = i - 1;
        if (end < start) {
          // The closing quote ended the previous chunk and was saved with the field: drop it.
          this.scratchLength--;
          end = start;
        }
        if (byte === delimiter) {
          this.emitField(buf, start, end, fieldIndex, fieldLine, high);
          fieldIndex++;
          state = FIELD_START;
          i++;
          continue;
        }
        if (byte === LF || byte === CR) {
          this.emitField(buf, start, end, fieldIndex, fieldLine, high);
          this.endRow(fieldIndex + 1, line);
          line++;
          fieldIndex = 0;
          state = byte === CR ? AFTER_RETURN : FIELD_START;
          i++;
          continue;
        }
        this.state = AFTER_RETURN;
        throw new InputError(
          this.location(line, fieldIndex),
          `unexpected character ${describeByte(byte)} after the closing quote of a quoted field`,
        );
      }
      // AFTER_RETURN: an LF completes a CRLF.
      if (buf[i] === LF) i++;
      state = FIELD_START;
    }
    if (state === UNQUOTED || state === QUOTED || state === QUOTE_IN_QUOTED) {
      // The field continues in the next chunk: keep what we have of it.
      this.append(buf, start, n, fieldIndex, fieldLine);
    }
    this.state = state;
    this.line = line;
    this.fieldIndex = fieldIndex;
    this.fieldLine = fieldLine;
    this.high = high;
  }

  /**
   * Reads the plain lines from `start` with the kernel and hands their fields to the sink; returns the bytes
   * taken (0 when the line at `start` is not plain, or is cut by the chunk's end: the state machine takes it,
   * and the kernel waits a while before it tries again).
   */
  private readPlainLines(buf: Uint8Array, start: number, end: number, line: number): number {
    const columns = this.columnCount;
    this.kernel ??= new CsvLinesKernel(columns, this.delimiter, this.skipped, this.labelCounts !== undefined);
    const kernel = this.kernel;
    if (this.kernelLoadedCall !== this.parseCalls) {
      kernel.load(buf, start, end);
      this.kernelLoadedCall = this.parseCalls;
      this.kernelLoadedFrom = start;
    }
    let at = start;
    for (;;) {
      const rows = kernel.scan(at - this.kernelLoadedFrom);
      this.handOverLines(buf, at, rows, line);
      line += rows;
      at += kernel.consumed;
      if (rows < KERNEL_ROWS) break;
    }
    const counts = this.labelCounts;
    if (counts !== undefined) {
      const ids = this.columnIds;
      kernel.takeLabelCounts((column, label, count) => counts(ids[column]!, label, count));
    }
    if (at === start) {
      this.kernelLine = line + this.kernelRetry;
      this.kernelRetry = Math.min(this.kernelRetry * 2, KERNEL_RETRY_MAX);
    } else {
      this.kernelRetry = 1;
    }
    return at - start;
  }

  /**
   * Hands the fields of `rows` lines the kernel read from `at` to the sink. A call per scan rather than one
   * loop over the chunk: V8 then optimizes it as a whole instead of leaving and re-entering its inner loops.
   */
  private handOverLines(buf: Uint8Array, at: number, rows: number, line: number): void {
    const kernel = this.kernel!;
    const { starts, ends, texts, kinds, labels } = kernel;
    const values = kernel.numbers;
    const columns = this.columnCount;
    const batch = this.batch;
    const { perField, skipKinds, skipped } = this;
    const counting = this.labelCounts;
    for (let done = 0; done < rows; ) {
      // Up to the end of the sink's batch (its endRow counts a full batch), so stored numbers fit in it.
      const count = batch === null ? rows - done : Math.min(rows - done, batch.size - batch.row);
      perField.length = 0;
      skipKinds.length = 0;
      for (let column = 0; column < columns; column++) {
        if (skipped[column]) continue;
        const id = this.columnIds[column]!;
        const stored = batch?.values[id];
        if (stored) {
          // A column of numbers goes to the batch as one run, NaN for its other fields, which follow; the
          // plainly written numbers of a column that labels them are marked, and its others follow too.
          const from = column * KERNEL_ROWS + done;
          stored.set(values.subarray(from, from + count), batch!.row);
          const plain = batch!.plain[id];
          if (plain) {
            for (let row = 0; row < count; row++)
              plain[batch!.row + row] = kinds[from + row] === KERNEL_PLAIN_WHOLE ? 1 : 0;
            perField.push(column);
            skipKinds.push(KERNEL_PLAIN_WHOLE);
          } else if (texts[column]! > 0) {
            perField.push(column);
            skipKinds.push(KERNEL_NUMBER);
          }
        } else {
          perField.push(column);
          skipKinds.push(NO_KIND);
        }
      }
      for (let row = done; row < done + count; row++) {
        for (let k = 0; k < perField.length; k++) {
          const column = perField[k]!;
          const field = column * KERNEL_ROWS + row;
          const kind = kinds[field]!;
          // Fields the batch already holds whole.
          if (kind >= skipKinds[k]!) continue;
          const isNumber = kind >= KERNEL_NUMBER;
          const fieldStart = at + starts[field]!;
          const fieldEnd = at + ends[field]!;
          if (isNumber && this.numbers) {
            this.emitNumber(values[field]!, buf, fieldStart, fieldEnd, column, line);
          } else if (!isNumber && labels[field]! >= 0) {
            // Counted by the kernel when the sink takes counts; a missing value is nothing to the sink.
            if (counting === undefined && labels[field] !== KERNEL_MISSING)
              this.emitLabel(labels[field]!, column, line);
          } else {
            this.emitField(buf, fieldStart, fieldEnd, column, line, false);
            // Text the sink took as a category or as missing: the kernel knows it next time.
            const label = this.textLabels ? this.sink.lastTextLabel!(this.columnIds[column]!) : -1;
            const offset = fieldStart - this.kernelLoadedFrom;
            if (label >= 0) kernel.register(column, offset, fieldEnd - fieldStart, label);
            else if (label === MISSING_TEXT) kernel.registerMissing(column, offset, fieldEnd - fieldStart);
          }
        }
        this.endRow(columns, line);
        line++;
      }
      done += count;
    }
  }

  /** Hands one complete field to the sink (or to the header), from the chunk or from the scratch buffer. */
  private emitField(
    buf: Uint8Array,
    start: number,
    end: number,
    fieldIndex: number,
    fieldLine: number,
    high: boolean,
  ): void {
    if (this.scratchActive) {
      this.append(buf, start, end, fieldIndex, fieldLine);
      buf = this.scratch;
      start = 0;
      end = this.scratchLength;
      this.scratchActive = false;
      this.scratchLength = 0;
    }
    if (high && !isUtf8(buf.subarray(start, end))) {
      throw new InputError(this.location(fieldLine, fieldIndex), 'the field is not valid UTF-8');
    }
    if (fieldIndex < this.columnCount) {
      try {
        this.sink.bytes(this.columnIds[fieldIndex], buf, start, end);
      } catch (error) {
        throw this.relocate(error, fieldLine, fieldIndex);
      }
    } else if (this.header === null) {
      this.headerNames.push(utf8.decode(buf.subarray(start, end)));
      this.headerLines.push(fieldLine);
    } else if (this.extraLine === 0) {
      this.extraLine = fieldLine;
    }
  }

  /** Hands a text field the kernel recognised as a label the sink gave earlier to the sink. */
  private emitLabel(label: number, fieldIndex: number, fieldLine: number): void {
    try {
      this.sink.textLabel!(this.columnIds[fieldIndex]!, label);
    } catch (error) {
      throw this.relocate(error, fieldLine, fieldIndex);
    }
  }

  /** Hands a field that the fast path read as a number to the sink. */
  private emitNumber(
    value: number,
    buf: Uint8Array,
    start: number,
    end: number,
    fieldIndex: number,
    fieldLine: number,
  ): void {
    const column = this.columnIds[fieldIndex]!;
    const batch = this.batch;
    if (batch !== null) {
      const values = batch.values[column];
      // A column that labels its numbers needs each one's text, in a call.
      if (values && !batch.plain[column]) {
        values[batch.row] = value;
        return;
      }
    }
    try {
      this.sink.number!(column, value, buf, start, end);
    } catch (error) {
      throw this.relocate(error, fieldLine, fieldIndex);
    }
  }

  /** Ends a record of `count` fields whose line break (or the end of the file) is on `line`. */
  private endRow(count: number, line: number): void {
    if (this.header === null) {
      this.declareHeader();
      return;
    }
    const expected = this.columnCount;
    if (count !== expected) {
      const extraLine = this.extraLine;
      this.extraLine = 0;
      const location =
        count < expected
          ? this.location(line, count)
          : { file: this.name, line: extraLine, column: expected + 1 };
      throw new InputError(location, `expected ${expected} fields, found ${count}`);
    }
    this.rowCount++;
    try {
      this.sink.endRow();
    } catch (error) {
      throw this.relocate(error, line, -1);
    }
  }

  private declareHeader(): void {
    const names = this.headerNames;
    const seen = new Map<string, number>();
    const ids = new Int32Array(names.length);
    for (let index = 0; index < names.length; index++) {
      const name = names[index];
      const location: InputLocation = { file: this.name, line: this.headerLines[index], column: index + 1 };
      if (name === '') throw new InputError(location, 'the header has an empty column name');
      const first = seen.get(name);
      if (first !== undefined) {
        throw new InputError(
          { ...location, field: name },
          `duplicate column name in the header (also column ${first + 1})`,
        );
      }
      seen.set(name, index);
      try {
        ids[index] = this.sink.column(name);
      } catch (error) {
        if (error instanceof ValueError) throw new InputError({ ...location, field: name }, error.message);
        throw error;
      }
    }
    this.header = names;
    this.columnIds = ids;
    this.skipped = [...ids].map((id) => this.sink.ignores?.(id) ?? false);
    this.columnCount = names.length;
  }

  /** Ends the use of the scratch buffer and returns the length of what it holds (still readable until reused). */
  private takeScratch(): number {
    const length = this.scratchLength;
    this.scratchActive = false;
    this.scratchLength = 0;
    return length;
  }

  /** Appends bytes [start, end) of `buf` to the scratch buffer, growing it as needed. */
  private append(buf: Uint8Array, start: number, end: number, fieldIndex: number, fieldLine: number): void {
    this.scratchActive = true;
    const length = this.scratchLength + (end - start);
    if (length > this.scratch.length) {
      if (length > this.maxFieldBytes) {
        throw new LimitExceededError(
          this.location(fieldLine, fieldIndex),
          `the field is longer than the limit of ${this.maxFieldBytes} bytes (is a quote not closed?)`,
          this.maxFieldBytes,
        );
      }
      const grown = new Uint8Array(Math.min(Math.max(length, this.scratch.length * 2), this.maxFieldBytes));
      grown.set(this.scratch.subarray(0, this.scratchLength));
      this.scratch = grown;
    }
    this.scratch.set(buf.subarray(start, end), this.scratchLength);
    this.scratchLength = length;
  }

  /** Where a field is: `fieldIndex` -1 for the row as a whole. */
  private location(line: number, fieldIndex: number): InputLocation {
    const location: InputLocation = { file: this.name, line };
    if (fieldIndex < 0) return location;
    location.column = fieldIndex + 1;
    const field = this.header?.[fieldIndex];
    if (field !== undefined) location.field = field;
    return location;
  }

  /** A sink's {@link ValueError} becomes an {@link InputError} saying where the value was. */
  private relocate(error: unknown, line: number, fieldIndex: number): unknown {
    this.state = AFTER_RETURN;
    return error instanceof ValueError
      ? new InputError(this.location(line, fieldIndex), error.message)
      : error;
  }
}

function describeByte(byte: number): string {
  return byte >= 0x20 && byte < 0x7f
    ? JSON.stringify(String.fromCharCode(byte))
    : `0x${byte.toString(16).padStart(2, '0')}`;
}
