/**
 * Named errors of the core. Each carries what a person needs to act on it, and `message` is one line that
 * names the file and, where known, the line, column and field.
 */

/** Where in an input a problem was found. Lines and columns are 1-based. */
export interface InputLocation {
  /** File name or object key, as the user gave it. */
  file: string;
  /** Physical line of a text file (CSV, JSON Lines), or the row number of a Parquet file. */
  line?: number;
  /** 1-based field position in the row (CSV) when known. */
  column?: number;
  /** Column or field name when known. */
  field?: string;
}

function describe(location: InputLocation): string {
  let where = location.file;
  if (location.line !== undefined) where += `: line ${location.line}`;
  if (location.column !== undefined) where += `, column ${location.column}`;
  if (location.field !== undefined) where += ` (${JSON.stringify(location.field)})`;
  return where;
}

/**
 * A problem with the content of an input file: malformed syntax, bad encoding, an empty file, a value that
 * cannot be used. Never retried: the same bytes give the same error.
 */
export class InputError extends Error {
  override readonly name: string = 'InputError';
  readonly location: InputLocation;
  readonly reason: string;

  constructor(location: InputLocation, reason: string) {
    super(`${describe(location)}: ${reason}`);
    this.location = location;
    this.reason = reason;
  }
}

/**
 * A problem with a single value, thrown by a sink that does not know where the value came from. Readers
 * catch it and rethrow an {@link InputError} with the file, line and column.
 */
export class ValueError extends Error {
  override readonly name: string = 'ValueError';
}

/** An input grew past a configured limit (decompressed size, categories, segments). */
export class LimitExceededError extends InputError {
  override readonly name: string = 'LimitExceededError';
  readonly limit: number;

  constructor(location: InputLocation, reason: string, limit: number) {
    super(location, reason);
    this.limit = limit;
  }
}

/** Options or configuration that contradict the data or each other, e.g. a flag naming an unknown column. */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
  /** The option or config field at fault, e.g. `--numeric` or `models[0].drift.threshold`. */
  readonly field: string;

  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.field = field;
  }
}
