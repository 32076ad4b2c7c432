import { statSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';
import { profileFromJson } from '../../lambdas/core/drift/profile.ts';
import type { BaselineSource } from '../../lambdas/core/drift/run.ts';
import { type CaptureAwareInput, localTableInput } from '../../lambdas/core/readers/capture.ts';
import { isGzip } from '../../lambdas/core/readers/decompress.ts';
import { readFileRange } from '../../lambdas/core/readers/input.ts';
import { type CaptureFlags, captureOptions } from './capture.ts';
import { readTextFile } from './output.ts';

const PROFILE_PREFIX = '{"format":"driftwatch-profile"';

/** True when the file (gzip or not) starts the way `driftwatch profile` writes profiles. */
export async function isProfileFile(path: string): Promise<boolean> {
  let start = await readFileRange(path, 0, 4096);
  if (isGzip(start)) {
    try {
      start = gunzipSync(start, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      return false;
    }
  }
  return Buffer.from(start.subarray(0, PROFILE_PREFIX.length)).toString('utf8') === PROFILE_PREFIX;
}

/** A baseline argument: a profile written by `driftwatch profile`, or a data file to profile now. */
export async function loadBaseline(
  path: string,
  flags: CaptureFlags = {},
): Promise<BaselineSource & { capture: boolean; captureInput: CaptureAwareInput | null }> {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory() || !(await isProfileFile(path))) {
    const { input, capture } = await localTableInput(path, captureOptions(flags));
    return { kind: 'data', input, capture, captureInput: input };
  }
  const profile = profileFromJson(await readTextFile(path), path);
  return { kind: 'profile', profile, capture: false, captureInput: null };
}
