import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

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
