/**
 * Windows of SageMaker Data Capture files: which endpoint, variant and period a capture file belongs to, and
 * which part of that period when windows close early at a row count. Pure: the engine's storage is in
 * `lambdas/drift/capture.ts`.
 *
 * A file belongs to the window its capture time falls in: the `yyyy/mm/dd/hh` folders and the
 * `mm-ss-mmm-` start of the file name SageMaker gives it (when it opened the file), else the time S3 created
 * it. Windows are `windowMinutes` long and start at UTC midnight, so every variant's windows line up.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** Where a capture file sits under a capture prefix: `<endpoint>/<variant>/yyyy/mm/dd/hh/<file>`. */
export interface CaptureFileLocation {
  endpoint: string;
  variant: string;
  /** When SageMaker opened the file (from its path); null when the path has no time in it. */
  time: Date | null;
}

const LAYOUT = /^([^/]+)\/([^/]+)\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/(?:(\d{2})-(\d{2})-(\d{3})-)?[^/]*$/;

/**
 * The endpoint, variant and time of a capture file, from its key relative to the capture prefix; null when
 * the key is not in SageMaker's layout.
 */
export function locateCaptureFile(relativeKey: string): CaptureFileLocation | null {
  const match = LAYOUT.exec(relativeKey);
  if (match === null) return null;
  const [, endpoint, variant, year, month, day, hour, minute, second, milli] = match;
  const ms = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute ?? 0),
    Number(second ?? 0),
    Number(milli ?? 0),
  );
  const time = new Date(ms);
  // 2026/02/31 and 25 o'clock are not times: keep the file, but time it by its arrival.
  const valid =
    time.getUTCDate() === Number(day) && time.getUTCHours() === Number(hour) && Number(minute ?? 0) < 60;
  return { endpoint: endpoint!, variant: variant!, time: valid ? time : null };
}

/** The window holding `time`: `[start, end)`, `minutes` long, aligned on UTC midnight. */
export function windowOf(time: Date, minutes: number): { start: Date; end: Date } {
  if (!(Number.isInteger(minutes) && minutes > 0 && DAY_MS % (minutes * 60_000) === 0)) {
    throw new RangeError(`a window must be a whole number of minutes dividing a day, got ${minutes}`);
  }
  const length = minutes * 60_000;
  const start = Math.floor(time.getTime() / length) * length;
  return { start: new Date(start), end: new Date(start + length) };
}

/** `20261207T0100Z`: a window start as a key segment (sorts in time order, no `:`). */
export function compactTime(time: Date): string {
  return time
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/\d{2}Z$/, 'Z');
}

/**
 * The part of a window a file falls in when windows close at `maxRows`: the rows the window had received
 * before it, in whole `maxRows`. The file that takes its part to `maxRows` rows or more closes that part.
 */
export function windowPart(
  rowsBefore: number,
  rows: number,
  maxRows: number,
): { part: number; closesPart: boolean } {
  const part = Math.floor(rowsBefore / maxRows);
  return { part, closesPart: rowsBefore + rows >= (part + 1) * maxRows };
}
