import { open, readFile } from 'node:fs/promises';
import { constants, gunzipSync } from 'node:zlib';
import { profileFromJson } from '../../lambdas/core/drift/profile.ts';
import type { BaselineSource } from '../../lambdas/core/drift/run.ts';
import { InputError } from '../../lambdas/core/errors.ts';
import { fileInput } from '../../lambdas/core/readers/input.ts';

const PROFILE_PREFIX = '{"format":"driftwatch-profile"';

async function head(path: string, bytes: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** True when the file (gzip or not) starts the way `driftwatch profile` writes profiles. */
export async function isProfileFile(path: string): Promise<boolean> {
  let start = await head(path, 4096);
  if (isGzip(start)) {
    try {
      start = gunzipSync(start, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      return false;
    }
  }
  return start.subarray(0, PROFILE_PREFIX.length).toString('utf8') === PROFILE_PREFIX;
}

/** A baseline argument: a profile written by `driftwatch profile`, or a data file to profile now. */
export async function loadBaseline(path: string): Promise<BaselineSource> {
  if (!(await isProfileFile(path))) return { kind: 'data', input: fileInput(path) };
  let bytes = await readFile(path);
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new InputError({ file: path }, `corrupt gzip stream: ${(error as Error).message}`);
    }
  }
  const profile = profileFromJson(bytes.toString('utf8'), path);
  return { kind: 'profile', profile };
}
