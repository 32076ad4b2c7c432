import { InputError, type InputLocation, LimitExceededError, ValueError } from '../errors.ts';
import {
  JSONL_FALSE,
  JSONL_MISSING,
  JSONL_NUMBER,
  JSONL_PLAIN_WHOLE,
  JSONL_ROWS,
  JSONL_TEXT,
  JSONL_TRUE,
  JsonlLinesKernel,
} from './jsonl-kernel.ts';
import { MISSING_TEXT, type NumberBatch, type TableSink } from './types.ts';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LETTER_E = 0x65;
const LETTER_CAPITAL_E = 0x45;
const LETTER_T = 0x74;
const LETTER_F = 0x66;
const LETTER_N = 0x6e;
const encoder = new TextEncoder();
const TRUE = encoder.encode('true');
const FALSE = encoder.encode('false');
const NULL = encoder.encode('null');
const latin1 = new TextDecoder('latin1');
/** Exact powers of ten: 10^0 to 10^22. */
const POWERS = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Default of {@link JsonlOptions.maxLineBytes}. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

// `ignoreBOM` keeps a U+FEFF in the text: only the file's first line may start with a BOM, and that one is
// dropped as bytes before decoding.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface JsonlOptions {
  /** Name used in error messages. */
  name: string;
  /**
   * Longest line, in bytes, the parser will hold.
   * @default 64 MiB
   */
  maxLineBytes?: number;
  /**
   * Whether lines whose objects repeat the previous object's keys with plain values are read by the
   * WebAssembly loop ({@link JsonlLinesKernel}); the values and errors are the same either way.
   * @default true
   */
  kernel?: boolean;
}

/** After a line the kernel does not read, it is tried again this many lines on, doubling up to the most. */
const KERNEL_RETRY_MAX = 1024;
/** Objects with more keys than this are left to the parser (the kernel's arrays grow with the keys). */
const KERNEL_MAX_KEYS = 1024;
/** A `skipKinds` entry that skips no value. */
const NO_KIND = JSONL_PLAIN_WHOLE + 1;

/**
 * A streaming JSON Lines parser: push byte chunks of any size, then {@link JsonlParser.finish}. Each line
 * holds one JSON object; its keys are columns (declared on first sight, so later keys are missing in
 * earlier rows) and its values go to {@link TableSink.value}: numbers, strings, booleans and `null` as they
 * are, nested objects and arrays as their JSON text. Lines are found as LF bytes in the chunk and decoded
 * in place; only a line cut by a chunk boundary is copied. CRLF line ends, a leading UTF-8 BOM and blank
 * lines are accepted.
 *
 * @example
 * ```ts
 * const parser = new JsonlParser(sink, { name: 'current.jsonl' });
 * for await (const chunk of stream) parser.push(chunk);
 * parser.finish();
 * ```
 */
export class JsonlParser {
  private readonly sink: TableSink;
  private readonly name: string;
  private readonly maxLineBytes: number;
  private readonly columns = new Map<string, number>();

  /** Number of the next line to be completed. */
  private line = 1;
  private rowCount = 0;
  /** The line being parsed: its number and where it starts in its buffer (for byte positions in errors). */
  private lineNumber = 0;
  private lineStart = 0;
  /** Each column's key, and whether the sink ignores it (1). */
  private readonly names: string[] = [];
  private readonly ignored: number[] = [];
  /** The keys of the last object in order, to recognise the next object's keys by comparing bytes. */
  private readonly order: ({ bytes: Uint8Array; column: number } | undefined)[] = [];
  /** Per column, the last row that gave it a value (a key twice in one object is an error). */
  private seen = new Float64Array(64);
  private rowStamp = 0;
  /** Set by scanString: the string has backslash escapes. */
  private escaped = false;
  /** Set by scanNumber. */
  private parsed = 0;
  private readonly batch: NumberBatch | undefined;

  /** Bytes of a line cut by a chunk boundary. */
  private carry = new Uint8Array(0);
  private carryLength = 0;

  private readonly useKernel: boolean;
  private kernel: JsonlLinesKernel | null = null;
  /** Whether the sink labels text (lastTextLabel and textLabel), and its bulk form, which the kernel counts. */
  private readonly textLabels: boolean;
  private readonly labelCounts: ((column: number, label: number, count: number) => void) | undefined;
  /** The kernel is tried at the start of this line or a later one; how far it was put off the last time. */
  private kernelLine = 2;
  private kernelRetry = 1;
  /** Counts push calls, so a chunk is copied into the kernel once (the caller may reuse the same buffer). */
  private pushCalls = 0;
  private kernelLoadedCall = -1;
  private kernelLoadedFrom = 0;
  /** Keys of the last line the parser read ({@link order}), and whether the kernel has them. */
  private lastSlots = 0;
  private keysChanged = true;
  private kernelReady = false;
  /** Scratch of the kernel's hand-over: the slots whose values go one by one, and which kinds they skip. */
  private readonly perField: number[] = [];
  private readonly skipKinds: number[] = [];

  constructor(sink: TableSink, options: JsonlOptions) {
    this.sink = sink;
    this.name = options.name;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.batch = sink.numberBatch;
    this.useKernel = options.kernel ?? true;
    this.textLabels = sink.lastTextLabel !== undefined && sink.textLabel !== undefined;
    this.labelCounts = this.textLabels ? sink.textLabelCounts : undefined;
  }

  /** Data rows passed to the sink so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** Parses the next chunk. The chunk is not kept: the caller may reuse it once this returns. */
  push(chunk: Uint8Array): void {
    this.pushCalls++;
    let start = 0;
    if (this.carryLength > 0) {
      const end = chunk.indexOf(LF);
      if (end < 0) {
        this.keep(chunk, 0, chunk.length);
        return;
      }
      this.keep(chunk, 0, end);
      const length = this.carryLength;
      this.carryLength = 0;
      this.parseLine(this.carry, 0, length);
      start = end + 1;
    }
    const n = chunk.length;
    while (start < n) {
      if (this.useKernel && this.line >= this.kernelLine) {
        const taken = this.readPlainLines(chunk, start, n);
        if (taken > 0) {
          start += taken;
          continue;
        }
      }
      const end = chunk.indexOf(LF, start);
      if (end < 0) {
        this.keep(chunk, start, n);
        return;
      }
      this.parseLine(chunk, start, end);
      start = end + 1;
    }
  }

  /** Ends the input: parses a last line without a line break and checks that there was a row. */
  finish(): void {
    if (this.carryLength > 0) {
      const length = this.carryLength;
      this.carryLength = 0;
      this.parseLine(this.carry, 0, length);
    }
    if (this.rowCount === 0) {
      throw new InputError({ file: this.name }, 'the file is empty: JSON Lines needs at least one object');
    }
  }

  /** Parses bytes [start, end) of `buf`, one line without its LF. */
  private parseLine(buf: Uint8Array, start: number, end: number): void {
    const line = this.line++;
    if (end - start > this.maxLineBytes) this.tooLong(line);
    if (end > start && buf[end - 1] === CR) end--;
    if (
      line === 1 &&
      end - start >= 3 &&
      buf[start] === 0xef &&
      buf[start + 1] === 0xbb &&
      buf[start + 2] === 0xbf
    ) {
      start += 3;
    }
    let pos = skipSpace(buf, start, end);
    if (pos === end) return;
    this.lineStart = start;
    this.lineNumber = line;
    if (buf[pos] !== OPEN_BRACE) this.notAnObject(buf, pos, end);
    pos = skipSpace(buf, pos + 1, end);
    const { sink } = this;
    const row = ++this.rowStamp;
    let slot = 0;
    let changed = false;
    if (buf[pos] === CLOSE_BRACE) {
      pos++;
    } else {
      for (;;) {
        if (buf[pos] !== QUOTE) this.syntax(buf, pos, end, 'a key in double quotes');
        // Mostly the key at this place in the previous object: its bytes and the closing quote, checked once.
        const expected = this.order[slot];
        let keyEnd: number;
        let column: number;
        if (expected !== undefined && isKeyAt(buf, pos + 1, end, expected.bytes)) {
          keyEnd = pos + 1 + expected.bytes.length;
          column = expected.column;
          slot++;
        } else {
          keyEnd = this.scanString(buf, pos + 1, end);
          column = this.columnFor(buf, pos + 1, keyEnd, slot++);
          changed = true;
        }
        pos = skipSpace(buf, keyEnd + 1, end);
        if (buf[pos] !== COLON) this.syntax(buf, pos, end, '":" after a key');
        pos = skipSpace(buf, pos + 1, end);
        if (this.seen[column] === row) this.fail(this.at(column), 'the key appears twice in the object');
        this.seen[column] = row;
        try {
          pos = this.value(buf, pos, end, column);
        } catch (error) {
          this.relocate(error, this.at(column));
        }
        pos = skipSpace(buf, pos, end);
        const next = buf[pos];
        if (next === COMMA) {
          pos = skipSpace(buf, pos + 1, end);
          continue;
        }
        if (next === CLOSE_BRACE) {
          pos++;
          break;
        }
        this.syntax(buf, pos, end, '"," or "}" after a value');
      }
    }
    if (skipSpace(buf, pos, end) !== end)
      this.syntax(buf, skipSpace(buf, pos, end), end, 'the end of the line after the object');
    if (changed || slot !== this.lastSlots) {
      this.lastSlots = slot;
      this.keysChanged = true;
    }
    this.rowCount++;
    try {
      sink.endRow();
    } catch (error) {
      this.relocate(error, { file: this.name, line });
    }
  }

  /**
   * Reads the lines from `start` that the kernel takes and hands their values to the sink; returns the bytes
   * taken (0 when it takes none: the parser reads the next line, and the kernel waits a while before it
   * tries again).
   */
  private readPlainLines(buf: Uint8Array, start: number, end: number): number {
    const kernel = this.kernelWithKeys();
    if (kernel === null) {
      this.putKernelOff();
      return 0;
    }
    if (this.kernelLoadedCall !== this.pushCalls) {
      // Whole lines only: a line cut by the chunk's end is the parser's.
      const last = buf.lastIndexOf(LF, end - 1);
      if (last < start) return 0;
      kernel.load(buf, start, last + 1);
      this.kernelLoadedCall = this.pushCalls;
      this.kernelLoadedFrom = start;
    }
    let at = start;
    for (;;) {
      const rows = kernel.scan(at - this.kernelLoadedFrom);
      this.handOverLines(buf, at, rows);
      at += kernel.consumed;
      if (rows < JSONL_ROWS) break;
    }
    const counts = this.labelCounts;
    if (counts !== undefined) kernel.takeLabelCounts(counts);
    if (at === start) this.putKernelOff();
    else this.kernelRetry = 1;
    return at - start;
  }

  private putKernelOff(): void {
    this.kernelLine = this.line + this.kernelRetry;
    this.kernelRetry = Math.min(this.kernelRetry * 2, KERNEL_RETRY_MAX);
  }

  /** The kernel, with the keys of the last line the parser read; null when it cannot take them. */
  private kernelWithKeys(): JsonlLinesKernel | null {
    if (!this.keysChanged) return this.kernelReady ? this.kernel : null;
    this.keysChanged = false;
    this.kernelReady = false;
    const slots = this.lastSlots;
    if (slots === 0 || slots > KERNEL_MAX_KEYS) return null;
    const keys: Uint8Array[] = [];
    const columns: number[] = [];
    const skipped: boolean[] = [];
    for (let slot = 0; slot < slots; slot++) {
      const entry = this.order[slot];
      // A key with escapes is not recognised by its bytes.
      if (entry === undefined) return null;
      keys.push(entry.bytes);
      columns.push(entry.column);
      skipped.push(this.ignored[entry.column] === 1);
    }
    if (this.kernel === null || this.kernel.capacity < slots) {
      this.kernel = new JsonlLinesKernel(
        Math.max(64, slots),
        this.maxLineBytes,
        this.labelCounts !== undefined,
      );
      this.kernelLoadedCall = -1;
    }
    this.kernelReady = this.kernel.setKeys(keys, columns, skipped);
    return this.kernelReady ? this.kernel : null;
  }

  /**
   * Hands the values of `rows` lines the kernel read from `at` to the sink, as {@link parseLine} would. A
   * call per scan rather than one loop over the chunk: V8 then optimizes it as a whole.
   */
  private handOverLines(buf: Uint8Array, at: number, rows: number): void {
    const kernel = this.kernel!;
    const { starts, ends, texts, kinds, labels, columns, skipped } = kernel;
    const values = kernel.numbers;
    const { batch, perField, skipKinds, sink } = this;
    const counting = this.labelCounts;
    const slots = columns.length;
    for (let done = 0; done < rows; ) {
      // Up to the end of the sink's batch (its endRow counts a full batch), so stored numbers fit in it.
      const count = batch === undefined ? rows - done : Math.min(rows - done, batch.size - batch.row);
      perField.length = 0;
      skipKinds.length = 0;
      for (let slot = 0; slot < slots; slot++) {
        if (skipped[slot]) continue;
        const column = columns[slot]!;
        const stored = batch?.values[column];
        if (stored) {
          // A column of numbers goes to the batch as one run, NaN for its other values, which follow; the
          // plainly written numbers of a column that labels them are marked, and its others follow too.
          const from = slot * JSONL_ROWS + done;
          stored.set(values.subarray(from, from + count), batch!.row);
          const plain = batch!.plain[column];
          if (plain) {
            for (let row = 0; row < count; row++)
              plain[batch!.row + row] = kinds[from + row] === JSONL_PLAIN_WHOLE ? 1 : 0;
            perField.push(slot);
            skipKinds.push(JSONL_PLAIN_WHOLE);
          } else if (texts[slot]! > 0) {
            perField.push(slot);
            skipKinds.push(JSONL_NUMBER);
          }
        } else {
          perField.push(slot);
          skipKinds.push(NO_KIND);
        }
      }
      for (let row = done; row < done + count; row++) {
        const line = this.line++;
        this.lineNumber = line;
        for (let k = 0; k < perField.length; k++) {
          const slot = perField[k]!;
          const field = slot * JSONL_ROWS + row;
          const kind = kinds[field]!;
          // Values the batch already holds whole.
          if (kind !== JSONL_TEXT && kind <= JSONL_PLAIN_WHOLE && kind >= skipKinds[k]!) continue;
          const column = columns[slot]!;
          try {
            if (kind === JSONL_NUMBER || kind === JSONL_PLAIN_WHOLE) {
              this.number(column, values[field]!);
            } else if (kind !== JSONL_TEXT) {
              sink.value(column, kind === JSONL_TRUE ? true : kind === JSONL_FALSE ? false : null);
            } else if (labels[field]! >= 0) {
              // Counted by the kernel when the sink takes counts; a missing value is nothing to the sink.
              if (counting === undefined && labels[field] !== JSONL_MISSING)
                sink.textLabel!(column, labels[field]!);
            } else {
              const start = at + starts[field]!;
              const end = at + ends[field]!;
              sink.bytes(column, buf, start, end);
              // Text the sink took as a category or as missing: the kernel knows it next time.
              if (this.textLabels) {
                const label = sink.lastTextLabel!(column);
                const offset = start - this.kernelLoadedFrom;
                if (label >= 0) kernel.register(slot, offset, end - start, label);
                else if (label === MISSING_TEXT) kernel.registerMissing(slot, offset, end - start);
              }
            }
          } catch (error) {
            this.relocate(error, this.at(column));
          }
        }
        this.rowCount++;
        try {
          sink.endRow();
        } catch (error) {
          this.relocate(error, { file: this.name, line });
        }
      }
      done += count;
    }
  }

  /** Reads the value at `pos` into `column`; returns the position after it. */
  private value(buf: Uint8Array, pos: number, end: number, column: number): number {
    const { sink } = this;
    const first = buf[pos];
    const ignored = this.ignored[column] === 1;
    if (first === QUOTE) {
      const close = this.scanString(buf, pos + 1, end);
      if (ignored) return close + 1;
      if (this.escaped) {
        const text = JSON.parse(latin1.decode(buf.subarray(pos, close + 1))) as string;
        const bytes = encoder.encode(text);
        sink.bytes(column, bytes, 0, bytes.length);
      } else {
        sink.bytes(column, buf, pos + 1, close);
      }
      return close + 1;
    }
    if (first === MINUS || (first !== undefined && first >= DIGIT_0 && first <= DIGIT_9)) {
      // A key another thread reads (or excluded) is checked, not converted.
      if (ignored) return this.skipNumber(buf, pos, end);
      const after = this.scanNumber(buf, pos, end);
      this.number(column, this.parsed);
      return after;
    }
    if (first === LETTER_T && matches(buf, pos, end, TRUE)) {
      if (!ignored) sink.value(column, true);
      return pos + 4;
    }
    if (first === LETTER_F && matches(buf, pos, end, FALSE)) {
      if (!ignored) sink.value(column, false);
      return pos + 5;
    }
    if (first === LETTER_N && matches(buf, pos, end, NULL)) {
      if (!ignored) sink.value(column, null);
      return pos + 4;
    }
    if (first === OPEN_BRACE || first === OPEN_BRACKET) {
      if (!ignored) {
        this.fail(
          this.at(column),
          `the value is a nested ${first === OPEN_BRACE ? 'object' : 'array'}; driftwatch reads flat ` +
            'records, so exclude the key (--exclude)',
        );
      }
      return this.skipNested(buf, pos, end);
    }
    return this.syntax(buf, pos, end, 'a value');
  }

  /** A number: stored in the sink's number batch when it keeps the column there, otherwise handed over. */
  private number(column: number, value: number): void {
    const batch = this.batch;
    const stored = batch?.values[column];
    if (stored && value - value === 0) {
      const plain = batch!.plain[column];
      if (!plain) {
        stored[batch!.row] = value;
        return;
      }
      // A column that still counts its numbers' text takes plain whole numbers here (their text is their
      // value's), others by value().
      if (Number.isInteger(value) && value >= 0 && value < 1e21) {
        stored[batch!.row] = value;
        plain[batch!.row] = 1;
        return;
      }
    }
    this.sink.value(column, value);
  }

  /**
   * The column of the key in bytes [start, end) (inside the quotes), found by comparing with the key at the
   * same place in the previous object (keys mostly come in the same order), else by its text.
   */
  private columnFor(buf: Uint8Array, start: number, end: number, slot: number): number {
    const key = this.escaped
      ? (JSON.parse(latin1.decode(buf.subarray(start - 1, end + 1))) as string)
      : utf8.decode(buf.subarray(start, end));
    let column = this.columns.get(key);
    if (column === undefined) {
      try {
        column = this.sink.column(key);
      } catch (error) {
        this.relocate(error, { file: this.name, line: this.lineNumber, field: key });
      }
      this.columns.set(key, column);
      this.names[column] = key;
      this.ignored[column] = this.sink.ignores?.(column) ? 1 : 0;
      if (this.seen.length <= column) {
        const grown = new Float64Array(Math.max(column + 1, this.seen.length * 2));
        grown.set(this.seen);
        this.seen = grown;
      }
    }
    // Only a key without escapes is recognised by its bytes: with escapes, its bytes are not its text.
    this.order[slot] = this.escaped ? undefined : { bytes: buf.slice(start, end), column };
    return column;
  }

  /**
   * The position of the closing quote of the string starting at `pos` (after its opening quote); sets
   * `escaped` when it has backslash escapes. Checks that its bytes are UTF-8 and free of control characters.
   */
  private scanString(buf: Uint8Array, pos: number, end: number): number {
    this.escaped = false;
    let high = false;
    for (let i = pos; i < end; i++) {
      const b = buf[i]!;
      if (b === QUOTE) {
        if (high) {
          const bad = firstInvalidUtf8(buf, pos, i);
          if (bad < i) {
            this.fail(
              { file: this.name, line: this.lineNumber },
              `the line is not valid UTF-8 (byte ${bad - this.lineStart + 1} of the line)`,
            );
          }
        }
        return i;
      }
      if (b === BACKSLASH) {
        this.escaped = true;
        i++;
      } else if (b < 0x20) {
        this.syntax(buf, i, end, 'no control character in a string');
      } else if (b >= 0x80) {
        high = true;
      }
    }
    return this.syntax(buf, end, end, 'a closing quote');
  }

  /** Scans the JSON number at `pos` into `parsed`; returns the position after it. */
  private scanNumber(buf: Uint8Array, pos: number, end: number): number {
    const start = pos;
    let negative = false;
    if (buf[pos] === MINUS) {
      negative = true;
      pos++;
    }
    let mantissa = 0;
    let digits = 0;
    const intStart = pos;
    while (pos < end && buf[pos]! >= DIGIT_0 && buf[pos]! <= DIGIT_9) {
      mantissa = mantissa * 10 + (buf[pos]! - DIGIT_0);
      pos++;
    }
    digits = pos - intStart;
    if (digits === 0 || (buf[intStart] === DIGIT_0 && digits > 1))
      this.syntax(buf, intStart, end, 'a number');
    let scale = 0;
    if (buf[pos] === DOT) {
      const fractionStart = ++pos;
      while (pos < end && buf[pos]! >= DIGIT_0 && buf[pos]! <= DIGIT_9) {
        mantissa = mantissa * 10 + (buf[pos]! - DIGIT_0);
        pos++;
      }
      scale = pos - fractionStart;
      if (scale === 0) this.syntax(buf, pos, end, 'digits after the decimal point');
      digits += scale;
    }
    let exponent = 0;
    if (buf[pos] === LETTER_E || buf[pos] === LETTER_CAPITAL_E) {
      pos++;
      let sign = 1;
      if (buf[pos] === MINUS || buf[pos] === PLUS) sign = buf[pos++] === MINUS ? -1 : 1;
      const exponentStart = pos;
      while (pos < end && buf[pos]! >= DIGIT_0 && buf[pos]! <= DIGIT_9) {
        exponent = Math.min(exponent * 10 + (buf[pos]! - DIGIT_0), 100_000);
        pos++;
      }
      if (pos === exponentStart) this.syntax(buf, pos, end, 'digits in the exponent');
      exponent *= sign;
    }
    const power = exponent - scale;
    // Clinger's fast path: an exact integer of at most 15 digits times an exact power of ten is correctly
    // rounded; anything else goes through the engine's own conversion.
    if (digits <= 15 && power >= -22 && power <= 22) {
      const magnitude = power < 0 ? mantissa / POWERS[-power]! : mantissa * POWERS[power]!;
      this.parsed = negative ? -magnitude : magnitude;
    } else {
      this.parsed = Number(latin1.decode(buf.subarray(start, pos)));
    }
    return pos;
  }

  /** Checks the JSON number at `pos` without converting it; returns the position after it. */
  private skipNumber(buf: Uint8Array, pos: number, end: number): number {
    if (buf[pos] === MINUS) pos++;
    const intStart = pos;
    while (pos < end && buf[pos]! >= DIGIT_0 && buf[pos]! <= DIGIT_9) pos++;
    if (pos === intStart || (buf[intStart] === DIGIT_0 && pos - intStart > 1))
      this.syntax(buf, intStart, end, 'a number');
    if (buf[pos] === DOT) {
      const fractionStart = ++pos;
      while (pos < end && buf[pos]! >= DIGIT_0 && buf[pos]! <= DIGIT_9) pos++;
      if (pos === fractionStart) this.syntax(buf, pos, end, 'digits after the decimal point');
    }
    if (buf[pos] === LETTER_E || buf[pos] === LETTER_CAPITAL_E) {
      pos++;
      if (buf[pos] === MINUS || buf[pos] === PLUS) pos++;
      const exponentStart = pos;
      while (pos < end && buf[pos]! >= DIGIT_0 && buf[pos]! <= DIGIT_9) pos++;
      if (pos === exponentStart) this.syntax(buf, pos, end, 'digits in the exponent');
    }
    return pos;
  }

  /** Passes over a nested object or array (of a key the sink ignores); returns the position after it. */
  private skipNested(buf: Uint8Array, pos: number, end: number): number {
    let depth = 0;
    for (; pos < end; pos++) {
      const b = buf[pos];
      if (b === QUOTE) pos = this.scanString(buf, pos + 1, end);
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
      else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        if (--depth === 0) return pos + 1;
      }
    }
    return this.syntax(buf, end, end, 'the end of the nested value');
  }

  /** Where a value of `column` is, for errors. */
  private at(column: number): InputLocation {
    return { file: this.name, line: this.lineNumber, field: this.names[column]! };
  }

  private syntax(buf: Uint8Array, pos: number, end: number, expected: string): never {
    const found = pos >= end ? 'the end of the line' : describeByte(buf[pos]!);
    this.fail(
      { file: this.name, line: this.lineNumber },
      `invalid JSON: expected ${expected} at byte ${pos - this.lineStart + 1} of the line, found ${found}`,
    );
  }

  /** A line that holds JSON but not an object: says what it holds (the old message, from JSON.parse). */
  private notAnObject(buf: Uint8Array, pos: number, end: number): never {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(buf.subarray(pos, end)));
    } catch (error) {
      this.fail({ file: this.name, line: this.lineNumber }, `invalid JSON (${describeJsonError(error)})`);
    }
    const found = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    this.fail(
      { file: this.name, line: this.lineNumber },
      `expected a JSON object (one per line), found ${found}`,
    );
  }

  /** Keeps bytes [start, end) of `chunk` as the start of a line continued in the next chunk. */
  private keep(chunk: Uint8Array, start: number, end: number): void {
    const length = this.carryLength + (end - start);
    if (length > this.maxLineBytes) this.tooLong(this.line);
    if (length > this.carry.length) {
      const grown = new Uint8Array(
        Math.min(Math.max(length, this.carry.length * 2, 64 * 1024), this.maxLineBytes),
      );
      grown.set(this.carry.subarray(0, this.carryLength));
      this.carry = grown;
    }
    this.carry.set(chunk.subarray(start, end), this.carryLength);
    this.carryLength = length;
  }

  private tooLong(line: number): never {
    throw new LimitExceededError(
      { file: this.name, line },
      `the line is longer than the limit of ${this.maxLineBytes} bytes`,
      this.maxLineBytes,
    );
  }

  private fail(location: InputLocation, reason: string): never {
    throw new InputError(location, reason);
  }

  /** A sink's {@link ValueError} becomes an {@link InputError} saying where the value was. */
  private relocate(error: unknown, location: InputLocation): never {
    throw error instanceof ValueError ? new InputError(location, error.message) : error;
  }
}

function skipSpace(buf: Uint8Array, pos: number, end: number): number {
  while (pos < end) {
    const b = buf[pos]!;
    if (b !== 0x20 && b !== 0x09 && b !== CR && b !== LF) break;
    pos++;
  }
  return pos;
}

function matches(buf: Uint8Array, pos: number, end: number, word: Uint8Array): boolean {
  if (pos + word.length > end) return false;
  for (let i = 0; i < word.length; i++) if (buf[pos + i] !== word[i]) return false;
  return true;
}

/** Whether `key` (bytes of a key without escapes, so without quotes) and then a closing quote are at `pos`. */
function isKeyAt(buf: Uint8Array, pos: number, end: number, key: Uint8Array): boolean {
  const length = key.length;
  if (pos + length >= end || buf[pos + length] !== QUOTE) return false;
  for (let i = 0; i < length; i++) if (key[i] !== buf[pos + i]) return false;
  return true;
}

/** A byte for an error message: JSON's punctuation quoted, anything else unnamed (data stays out of logs). */
function describeByte(byte: number): string {
  const text = String.fromCharCode(byte);
  return '{}[],:"'.includes(text) ? `'${text}'` : 'another character';
}

/**
 * V8's JSON.parse messages quote the start of the text (`"{"a": x}" is not valid JSON`); the quote is cut,
 * because errors end up in logs and data rows must not.
 */
function describeJsonError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/,? ".*" is not valid JSON$/s, '').trim() || 'not valid JSON';
}

/** Offset of the first byte in [start, end) that is not part of a valid UTF-8 sequence (end when none). */
export function firstInvalidUtf8(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) low = 0xa0;
      else if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) low = 0x90;
      else if (b === 0xf4) high = 0x8f;
    } else return i;
    if (i + need >= end) return i;
    const second = buf[i + 1]!;
    if (second < low || second > high) return i;
    for (let k = 2; k <= need; k++) {
      const next = buf[i + k]!;
      if (next < 0x80 || next > 0xbf) return i;
    }
    i += need + 1;
  }
  return end;
}
