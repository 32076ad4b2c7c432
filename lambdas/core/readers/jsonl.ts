import { InputError, type InputLocation, LimitExceededError, ValueError } from '../errors.ts';
import type { TableSink } from './types.ts';

const LF = 0x0a;
const CR = 0x0d;

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
}

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

  /** Bytes of a line cut by a chunk boundary. */
  private carry = new Uint8Array(0);
  private carryLength = 0;

  constructor(sink: TableSink, options: JsonlOptions) {
    this.sink = sink;
    this.name = options.name;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** Data rows passed to the sink so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** Parses the next chunk. The chunk is not kept: the caller may reuse it once this returns. */
  push(chunk: Uint8Array): void {
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
    if (end === start) return;
    let text: string;
    try {
      text = utf8.decode(buf.subarray(start, end));
    } catch {
      const offset = firstInvalidUtf8(buf, start, end);
      this.fail(
        { file: this.name, line },
        `the line is not valid UTF-8 (byte ${offset - start + 1} of the line)`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      if (text.trim() === '') return;
      this.fail({ file: this.name, line }, `invalid JSON (${describeJsonError(error)})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      const found = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
      this.fail({ file: this.name, line }, `expected a JSON object (one per line), found ${found}`);
    }
    this.emitRow(parsed as Record<string, unknown>, line);
  }

  private emitRow(object: Record<string, unknown>, line: number): void {
    const { sink, columns } = this;
    for (const key in object) {
      let index = columns.get(key);
      try {
        if (index === undefined) {
          index = sink.column(key);
          columns.set(key, index);
        }
        const value = object[key];
        switch (typeof value) {
          case 'number':
          case 'string':
          case 'boolean':
            sink.value(index, value);
            break;
          default:
            sink.value(index, value === null ? null : JSON.stringify(value));
        }
      } catch (error) {
        this.relocate(error, { file: this.name, line, field: key });
      }
    }
    this.rowCount++;
    try {
      sink.endRow();
    } catch (error) {
      this.relocate(error, { file: this.name, line });
    }
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
