import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError } from '../../lambdas/core/errors.ts';
import { isGzip } from '../../lambdas/core/readers/decompress.ts';

/**
 * Writes a whole file or nothing: the content goes to a temporary file beside the target, then is renamed
 * over it, so an interrupted run never leaves a partial report. A `.gz` target is gzip-compressed.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const bytes = path.endsWith('.gz') ? gzipSync(content) : content;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Writes to `--out` when given, else to stdout (with a trailing newline). */
export async function emit(content: string, out: string | undefined): Promise<void> {
  if (out) {
    await writeFileAtomic(out, content.endsWith('\n') ? content : `${content}\n`);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    process.stdout.write(content.endsWith('\n') ? content : `${content}\n`, (error) =>
      error ? reject(error) : resolve(),
    );
  });
}

/** A whole local file as text, gunzipped when it starts with the gzip magic number (a `.gz` profile or report). */
export async function readTextFile(path: string): Promise<string> {
  let bytes: Uint8Array = await readFile(path);
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new InputError({ file: path }, `corrupt gzip stream: ${(error as Error).message}`);
    }
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/**
 * Whether to colour output written to `stream`: only on a terminal, and never when NO_COLOR is set to
 * anything but the empty string (https://no-color.org) or the terminal is dumb.
 */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env['NO_COLOR'] && process.env['TERM'] !== 'dumb';
}

/**
 * A closed reader (`driftwatch drift ... | head`) is not an error: stop quietly, as command-line tools do,
 * instead of crashing with EPIPE.
 */
export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
}
