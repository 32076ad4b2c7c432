import { createReadStream, statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

/**
 * A table to read: a name for messages and a way to stream its bytes. CSV and JSON Lines need nothing more
 * than `open`; Parquet reads its footer and row groups through `readRange` when the source offers it (a
 * local file, an S3 object with ranged GETs) and otherwise spools the stream to a temporary file.
 *
 * @example
 * ```ts
 * const input: TableInput = { name: 'inline.csv', open: async function* () { yield Buffer.from('a\n1\n'); } };
 * ```
 */
export interface TableInput {
  /** Name used in messages and to guess the format from the extension (a path or an object key). */
  name: string;
  /** Streams the whole input from the start; each call starts a new stream. */
  open(): AsyncIterable<Uint8Array>;
  /** Size in bytes when known: used for progress and required for `readRange`. */
  size?: number;
  /** Bytes [start, end) of the input; used only together with `size`. */
  readRange?(start: number, end: number): Promise<Uint8Array>;
  /**
   * Optional, with `readRange`: reads bytes [start, end) into `into` from index `at` and returns how many it
   * read (fewer at the end of the input). Lets Parquet read every row group into one reused buffer rather
   * than a new one per read, which the garbage collector finds late (a local file's peak RSS).
   */
  readRangeInto?(start: number, end: number, into: Uint8Array, at: number): Promise<number>;
  /**
   * {@link open} with every chunk a view of a reused buffer that a later chunk overwrites, for a consumer
   * that is done with a chunk before it asks for the next (a parser of uncompressed text). It saves a buffer per
   * chunk that the garbage collector would otherwise have to find, which keeps memory flat on large files.
   */
  openReused?(): AsyncIterable<Uint8Array>;
}

/** Read size of local file streams: large reads keep the per-chunk overhead of the parsers negligible. */
export const FILE_CHUNK_BYTES = 1 << 20;

/**
 * A local file as a {@link TableInput}. The size is taken now (undefined when the file does not exist, in
 * which case `open` fails with the system's error); ranges are read through a file handle opened per call,
 * so nothing stays open between reads.
 *
 * @example
 * ```ts
 * const result = await readTable(fileInput('data/current.csv.gz'), sink);
 * ```
 */
export function fileInput(path: string): TableInput {
  const stats = statSync(path, { throwIfNoEntry: false });
  return {
    name: path,
    size: stats?.isFile() ? stats.size : undefined,
    open: () => createReadStream(path, { highWaterMark: FILE_CHUNK_BYTES }),
    readRange: (start, end) => readFileRange(path, start, end),
    readRangeInto: async (start, end, into, at) => {
      const handle = await open(path, 'r');
      try {
        return await readHandleInto(handle, start, end, into, at);
      } finally {
        await handle.close();
      }
    },
    openReused: () => readFileChunks(path, 0, Number.POSITIVE_INFINITY),
  };
}

/**
 * Bytes [start, end) of a local file (to its end at most) in chunks that are views of two reused buffers: the
 * next chunk is read into the other one while the consumer works on this one, and a chunk is overwritten
 * once the consumer has asked for the one after it.
 */
export async function* readFileChunks(path: string, start: number, end: number): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  const buffers = [new Uint8Array(FILE_CHUNK_BYTES), new Uint8Array(FILE_CHUNK_BYTES)];
  const read = async (buffer: Uint8Array, at: number) =>
    at >= end ? 0 : (await handle.read(buffer, 0, Math.min(FILE_CHUNK_BYTES, end - at), at)).bytesRead;
  let which = 0;
  let at = start;
  let pending = read(buffers[0]!, at);
  try {
    for (;;) {
      const bytesRead = await pending;
      if (bytesRead === 0) break;
      const chunk = buffers[which]!.subarray(0, bytesRead);
      at += bytesRead;
      which = 1 - which;
      pending = read(buffers[which]!, at);
      yield chunk;
    }
  } finally {
    // A read may still be under way when the consumer stops early: let it end before the file closes.
    await pending.catch(() => 0);
    await handle.close();
  }
}

/** Bytes [start, end) of a local file, fewer at its end. */
export async function readFileRange(path: string, start: number, end: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    return await readHandleRange(handle, start, end);
  } finally {
    await handle.close();
  }
}

/** Bytes [start, end) of an open file, fewer at its end. */
export async function readHandleRange(handle: FileHandle, start: number, end: number): Promise<Uint8Array> {
  // A buffer of exactly the range's size, so callers that need an ArrayBuffer can use its `.buffer`.
  const buffer = new Uint8Array(Math.max(0, end - start));
  const filled = await readHandleInto(handle, start, end, buffer, 0);
  return filled === buffer.length ? buffer : buffer.slice(0, filled);
}

/** Bytes [start, end) of an open file into `into` from index `at`; returns how many (fewer at its end). */
async function readHandleInto(
  handle: FileHandle,
  start: number,
  end: number,
  into: Uint8Array,
  at: number,
): Promise<number> {
  const length = Math.max(0, end - start);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(into, at + filled, length - filled, start + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}
