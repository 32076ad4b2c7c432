import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
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
): Promise<{ compressed: boolean; stream: AsyncIterable<Uint8Array> }> {
  const { head, stream } = await peek(source, 2);
  if (!isGzip(head)) return { compressed: false, stream };
  return { compressed: true, stream: gunzip(stream, options) };
}

/**
 * Decompresses a gzip stream (concatenated members included), counting the bytes it produces. Past
 * `maxDecompressedBytes` it stops at once with a {@link LimitExceededError}: zlib hands out bounded chunks
 * under backpressure, so a small file that expands to gigabytes fails after at most the limit's worth of
 * work and never holds more than a chunk in memory. A truncated or corrupt stream is an {@link InputError}.
 */
export async function* gunzip(
  source: AsyncIterable<Uint8Array>,
  options: DecompressOptions,
): AsyncGenerator<Uint8Array> {
  const limit = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const input = Readable.from(source, { objectMode: false, highWaterMark: 1 });
  const inflate = createGunzip({ chunkSize: INFLATE_CHUNK_BYTES });
  // Errors of either side reach the loop below through `inflate`; the callback only keeps them handled.
  pipeline(input, inflate, () => {});
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
    if (isZlibError(error)) {
      const reason =
        error.code === 'Z_BUF_ERROR' ? 'the gzip stream is truncated' : 'the gzip stream is corrupt';
      throw new InputError({ file: options.name }, `${reason} (${error.message})`);
    }
    throw error;
  } finally {
    inflate.destroy();
    input.destroy();
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
