import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Writes SageMaker Data Capture files, as an endpoint with Data Capture on would, for tests. */

export interface Payload {
  observedContentType: string;
  mode: 'INPUT' | 'OUTPUT';
  data: string;
  encoding: 'CSV' | 'JSON' | 'BASE64';
}

export interface CaptureRecord {
  captureData: { endpointInput?: Payload; endpointOutput?: Payload };
  eventMetadata: { eventId: string; inferenceId?: string; inferenceTime: string };
  eventVersion: '0';
}

export const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export function record(
  input: Payload | undefined,
  output: Payload | undefined,
  eventId: string,
  inferenceTime = '2026-12-07T00:00:00Z',
  inferenceId?: string,
): CaptureRecord {
  const captureData: CaptureRecord['captureData'] = {};
  if (input) captureData.endpointInput = input;
  if (output) captureData.endpointOutput = output;
  const eventMetadata: CaptureRecord['eventMetadata'] = { eventId, inferenceTime };
  if (inferenceId !== undefined) eventMetadata.inferenceId = inferenceId;
  return { captureData, eventMetadata, eventVersion: '0' };
}

export const csvInput = (rows: string[][]): Payload => ({
  observedContentType: 'text/csv',
  mode: 'INPUT',
  data: rows.map((row) => row.join(',')).join('\n'),
  encoding: 'CSV',
});

export const csvOutput = (scores: string[]): Payload => ({
  observedContentType: 'text/csv; charset=utf-8',
  mode: 'OUTPUT',
  data: scores.join('\n'),
  encoding: 'CSV',
});

export const jsonInput = (document: unknown, encoding: 'JSON' | 'BASE64' = 'JSON'): Payload => ({
  observedContentType: 'application/json',
  mode: 'INPUT',
  data: encoding === 'JSON' ? JSON.stringify(document) : base64(JSON.stringify(document)),
  encoding,
});

export const jsonOutput = (document: unknown, encoding: 'JSON' | 'BASE64' = 'JSON'): Payload => ({
  observedContentType: 'application/json',
  mode: 'OUTPUT',
  data: encoding === 'JSON' ? JSON.stringify(document) : base64(JSON.stringify(document)),
  encoding,
});

/** The text of a capture file of records, one JSON line each; lines may be raw text (bad records). */
export const captureText = (records: readonly (CaptureRecord | string)[]): string =>
  `${records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n')}\n`;

/** Writes records as one capture file (gzip-compressed when the name ends in .gz); lines may be raw text. */
export async function writeCaptureFile(path: string, records: (CaptureRecord | string)[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const text = captureText(records);
  await writeFile(path, path.endsWith('.gz') ? gzipSync(text) : text);
}

/** `<root>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<id>.jsonl`, SageMaker's layout. */
export function capturePath(
  root: string,
  endpoint: string,
  variant: string,
  time: Date,
  id: string,
  extension = 'jsonl',
): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return join(
    root,
    endpoint,
    variant,
    String(time.getUTCFullYear()),
    two(time.getUTCMonth() + 1),
    two(time.getUTCDate()),
    two(time.getUTCHours()),
    `${two(time.getUTCMinutes())}-${two(time.getUTCSeconds())}-${String(time.getUTCMilliseconds()).padStart(3, '0')}-${id}.${extension}`,
  );
}
