import { constants, createGunzip } from 'node:zlib';
import { InputError, LimitExceededError } from '../errors.ts';
import { peek } from './peek.ts';

/** Default of {@link ReadOptions.maxDecompressedBytes}: 10 GiB. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 10 * 1024 ** 3;

/** Size of the chunks zlib hands out: large enough to keep per-chunk costs small, small enough to stop fast. */
const INFLATE_CHUNK_BYTES = 256 * 1024;

/** True when the bytes start with the gzip magic number (1f 8b), whatever the file is called. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

export interface DecompressOptions {
  /** Name used in error messages. */
  name: string;
  /** @default 10 GiB ({@link DEFAULT_MAX_DECOMPRESSED_BYTES}) */
  maxDecompressedBytes?: number;
}

/** A gunzipped stream whose consumer may let it hand out views of reused buffers (see {@link gunzip}). */
export interface Gunzipped extends AsyncIterable<Uint8Array> {
  /**
   * From the next chunk on, every chunk is a view of one of two reused buffers, overwritten once the consumer
   * has asked for the chunk after it: for a consumer that is done with a chunk before it asks for the next.
   */
  reuseBuffers(): void;
}

/**
 * Gunzips `source` when it starts with the gzip magic number and passes it through unchanged otherwise.
 *
 * @example
 * ```ts
 * const { compressed, stream } = await maybeGunzip(input.open(), { name: input.name });
 * for await (const chunk of stream) parser.push(chunk);
 * ```
 */
export async function maybeGunzip(
  source: AsyncIterable<Uint8Array>,
  options: DecompressOptions,
): Promise<{ compressed: boolean; stream: AsyncIterable<Uint8Array>; reuseBuffers(): void }> {
  const { head, stream } = await peek(source, 2);
  if (!isGzip(head)) return { compressed: false, stream, reuseBuffers: () => {} };
  const gunzipped = gunzip(stream, options);
  return { compressed: true, stream: gunzipped, reuseBuffers: () => gunzipped.reuseBuffers() };
}

/**
 * Decompresses a gzip stream (concatenated members included), counting the bytes it produces. Past
 * `maxDecompressedBytes` it stops at once with a {@link LimitExceededError}: zlib inflates into bounded
 * chunks as the consumer asks for them, so a small file that expands to gigabytes fails after at most the
 * limit's worth of work and never holds more than two chunks in memory. A truncated or corrupt stream is an
 * {@link InputError}.
 *
 * zlib is done with a chunk of `source` before the next is asked for, so `source` may hand out views of a
 * reused buffer (`TableInput.openReused`), and after {@link Gunzipped.reuseBuffers} it inflates into two
 * reused buffers too. A buffer per chunk is garbage that the collector finds late: on a 5M-row file that
 * was 100 MB of peak RSS. Inflating happens on the caller's thread, through the zlib handle Node's own
 * synchronous functions (`gunzipSync`) use; where that handle is missing, the zlib stream does it.
 */
export function gunzip(source: AsyncIterable<Uint8Array>, options: DecompressOptions): Gunzipped {
  const control = { reuse: false };
  const chunks = inflateChunks(source, options, control);
  return {
    [Symbol.asyncIterator]: () => chunks,
    reuseBuffers: () => {
      control.reuse = true;
    },
  };
}

/** The handle of a zlib stream, as `zlib.gunzipSync` drives it (`lib/zlib.js`, `processChunkSync`). */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void;
}

async function* inflateChunks(
  source: AsyncIterable<Uint8Array>,
  options: DecompressOptions,
  control: { reuse: boolean },
): AsyncGenerator<Uint8Array> {
  const inflate = createGunzip();
  const internals = inflate as unknown as { _handle?: Partial<ZlibHandle>; _writeState?: unknown };
  const handle = internals._handle;
  const state = internals._writeState;
  if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array)) {
    inflate.destroy();
    yield* inflateStream(source, options);
    return;
  }
  // zlib reports an error by destroying the stream with it (read below as `inflate.errored`).
  inflate.on('error', () => {});
  const limit = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const buffers = [Buffer.allocUnsafe(INFLATE_CHUNK_BYTES), Buffer.allocUnsafe(INFLATE_CHUNK_BYTES)];
  let which = 0;
  let total = 0;
  let ended = false;
  /** Inflates `input` whole (or up to the end of the gzip data), a chunk of output at a time. */
  function* inflateInput(input: Uint8Array, flush: number): Generator<Uint8Array> {
    let offset = 0;
    let left = input.length;
    for (;;) {
      const output = buffers[which]!;
      (handle as ZlibHandle).writeSync(flush, input, offset, left, output, 0, INFLATE_CHUNK_BYTES);
      if (inflate.errored) throw zlibInputError(inflate.errored, options.name);
      const outputLeft = (state as Uint32Array)[0]!;
      const inputLeft = (state as Uint32Array)[1]!;
      offset += left - inputLeft;
      left = inputLeft;
      const produced = INFLATE_CHUNK_BYTES - outputLeft;
      if (produced > 0) {
        total += produced;
        if (total > limit) {
          throw new LimitExceededError(
            { file: options.name },
            `expands past the limit of ${limit} bytes after decompression`,
            limit,
          );
        }
        if (control.reuse) which = 1 - which;
        else buffers[which] = Buffer.allocUnsafe(INFLATE_CHUNK_BYTES);
        yield output.subarray(0, produced);
      }
      if (outputLeft === 0) continue;
      // Room left in the output: the input is used up, or the gzip data ended before it (bytes after the
      // last member are ignored, as zlib's stream does).
      if (left > 0) ended = true;
      return;
    }
  }
  try {
    for await (const chunk of source) {
      yield* inflateInput(chunk, constants.Z_NO_FLUSH);
      if (ended) return;
    }
    yield* inflateInput(new Uint8Array(0), constants.Z_FINISH);
  } finally {
    inflate.destroy();
  }
}

function zlibInputError(error: Error & { code?: unknown }, name: string): InputError {
  const reason = error.code === 'Z_BUF_ERROR' ? 'the gzip stream is truncated' : 'the gzip stream is corrupt';
  return new InputError({ file: name }, `${reason} (${error.message})`);
}

/** {@link gunzip} through zlib's stream, for a runtime without the handle it uses (exported for its tests). */
export async function* inflateStream(
  source: AsyncIterable<Uint8Array>,
  options: DecompressOptions,
): AsyncGenerator<Uint8Array> {
  const limit = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const inflate = createGunzip({ chunkSize: INFLATE_CHUNK_BYTES });
  const iterator = source[Symbol.asyncIterator]();
  let stopped = false;
  // zlib is done with a chunk when its write calls back; a failing source destroys `inflate` with its error.
  const feed = (async () => {
    for (;;) {
      const next = await iterator.next();
      if (next.done || stopped) break;
      await new Promise<void>((resolve, reject) =>
        inflate.write(next.value, (error) => (error ? reject(error) : resolve())),
      );
    }
    if (!stopped) inflate.end();
  })().catch((error: unknown) => {
    if (!inflate.destroyed) inflate.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  let total = 0;
  try {
    for await (const chunk of inflate as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) {
        throw new LimitExceededError(
          { file: options.name },
          `expands past the limit of ${limit} bytes after decompression`,
          limit,
        );
      }
      yield chunk;
    }
  } catch (error) {
    if (isZlibError(error)) throw zlibInputError(error, options.name);
    throw error;
  } finally {
    stopped = true;
    inflate.destroy();
    // Not `await feed`: a write under way when zlib is destroyed may never call back. An async generator
    // queues `return` behind a `next` under way, so the source is closed once its last read is over.
    void feed;
    await iterator.return?.();
  }
}

function isZlibError(error: unknown): error is Error & { code: string } {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/**
 * The whole of a small input (a profile, a report) as text, gunzipped when it starts with the gzip magic
 * number, failing past `maxDecompressedBytes` like any gzip input.
 */
export async function readAllText(
  source: AsyncIterable<Uint8Array>,
  options: DecompressOptions,
): Promise<string> {
  const { stream } = await maybeGunzip(source, options);
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
